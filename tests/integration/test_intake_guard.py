"""One guarded door: every channel reads an untrusted workbook only in the sandboxed readers.

A workbook whose ``_meta`` sheet has one cell far away (``XFD1048576``: 28 KB on disk, half a
terabyte to a reader that allocates by extent) must be refused with a reason, on the drop
folder, ``returns submit`` and the returns mailbox, and the good return behind it processed
in the same sweep. Each sweep runs in its own interpreter, as Airflow runs it: a crash there
must fail the test, not take pytest with it.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from resotrack import intake
from resotrack.store import session_scope
from resotrack.validation.models import Submission
from support.imap_server import Mailbox, imap_server_fixture, mailbox_fixture  # noqa: F401
from support.intake_world import (  # noqa: F401
    World,
    far_meta_cell,
    run_python,
    world_fixture,
)
from support.mailbox_world import poll_in_a_new_process, reply

FAR = ["XFD1048576", "BL1000000"]


def _submissions() -> list[tuple[str, str | None, str]]:
    with session_scope() as session:
        rows = session.scalars(select(Submission).order_by(Submission.id))
        return [(r.channel, r.entity_code, r.original_name) for r in rows]


@pytest.mark.parametrize("ref", FAR)
def test_drop_folder_quarantines_a_far_meta_cell_and_takes_the_next_file(
    world: World, monkeypatch: pytest.MonkeyPatch, ref: str
) -> None:
    monkeypatch.setenv("RESOTRACK_RETURNS_SETTLE_SECONDS", "0")
    inbox = intake.IntakeSettings().returns_inbox
    inbox.mkdir(parents=True)
    (inbox / "a-poisoned.xlsx").write_bytes(far_meta_cell(world.workbook("EGY"), ref))
    (inbox / "b-senegal.xlsx").write_bytes(world.workbook("SEN", "after the poison"))

    result = run_python(
        "import json; from resotrack.intake import collect_returns; "
        "print(json.dumps(collect_returns()))"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outcomes = {r["file"]: r for r in json.loads(result.stdout.strip().splitlines()[-1])}
    assert "submission_id" in outcomes["b-senegal.xlsx"]
    assert "_meta" in outcomes["a-poisoned.xlsx"]["error"]
    assert _submissions() == [("dropfolder", "SEN", "b-senegal.xlsx")]
    reasons = [p for p in (inbox / "failed").iterdir() if p.name.endswith(".reason.txt")]
    assert len(reasons) == 1 and "_meta" in reasons[0].read_text(encoding="utf-8")


@pytest.mark.parametrize("ref", FAR)
def test_cli_submit_refuses_a_far_meta_cell_with_a_reason(
    world: World, tmp_path: pytest.TempPathFactory, ref: str
) -> None:
    poisoned = tmp_path / "poisoned.xlsx"  # type: ignore[operator]
    poisoned.write_bytes(far_meta_cell(world.workbook("SEN"), ref))
    command = (
        "import sys, typer; from resotrack.intake.cli import register; "
        "app = typer.Typer(); app.callback()(lambda: None); register(app); "
        f"sys.argv = ['resotrack', 'returns', 'submit', {str(poisoned)!r}, '--entity', 'SEN']; "
        "app()"
    )
    result = run_python(command)
    assert result.returncode == 1, (result.returncode, result.stderr[-3000:])
    assert "_meta" in result.stderr and "poisoned.xlsx" in result.stderr
    assert _submissions() == []


@pytest.mark.parametrize("ref", FAR)
def test_mailbox_quarantines_a_far_meta_cell_and_takes_the_next_mail(
    mailbox: Mailbox, world: World, ref: str
) -> None:
    sen = world.people["SEN"]
    poisoned = far_meta_cell(world.workbook("SEN", "poisoned"), ref)
    first = mailbox.deliver(reply(sen.email, ("poisoned.xlsx", poisoned)))
    second = mailbox.deliver(reply(sen.email, ("reponse.xlsx", world.workbook("SEN", "good"))))

    outcomes = {o["uid"]: o for o in poll_in_a_new_process(mailbox)}
    assert outcomes[first]["state"] == "quarantined"
    assert "_meta" in str(outcomes[first]["reason"])
    assert outcomes[second]["state"] == "processed"
    assert _submissions() == [("email", "SEN", "reponse.xlsx")]


def test_a_file_that_kills_the_sweep_is_quarantined_after_three_tries(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the sandbox cannot catch (the sweep itself killed while on one file, by a crash
    or the system) is counted: the fourth sweep moves the file to ``failed/`` and goes on."""
    monkeypatch.setenv("RESOTRACK_RETURNS_SETTLE_SECONDS", "0")
    inbox = intake.IntakeSettings().returns_inbox
    inbox.mkdir(parents=True)
    killer = inbox / "a-killer.xlsx"
    killer.write_bytes(world.workbook("EGY", "kills the sweep"))
    (inbox / "b-senegal.xlsx").write_bytes(world.workbook("SEN", "behind it"))
    # The sweep dies (abort, as the OOM killer would) whenever it reads the first file.
    sweep = (
        "import json, os; import resotrack.intake.dropfolder as d; "
        f"bad = open({str(killer)!r}, 'rb').read(); real = d.identify_workbook; "
        "d.identify_workbook = lambda data: os.abort() if data == bad else real(data); "
        "print(json.dumps(d.collect_returns()))"
    )
    for _ in range(3):
        assert run_python(sweep).returncode == -6
        assert _submissions() == []
    result = run_python(sweep)
    assert result.returncode == 0, result.stderr[-3000:]
    outcomes = {r["file"]: r for r in json.loads(result.stdout.strip().splitlines()[-1])}
    assert "given up after 3 tries" in outcomes["a-killer.xlsx"]["error"]
    assert "submission_id" in outcomes["b-senegal.xlsx"]
    assert _submissions() == [("dropfolder", "SEN", "b-senegal.xlsx")]


def test_a_mail_that_kills_the_poll_is_quarantined_after_three_tries(
    mailbox: Mailbox, world: World
) -> None:
    sen = world.people["SEN"]
    first = mailbox.deliver(reply(sen.email, ("a.xlsx", world.workbook("SEN", "kills"))))
    second = mailbox.deliver(reply(sen.email, ("b.xlsx", world.workbook("SEN", "good"))))
    poll = (
        "import json, os; import resotrack.intake.imap as m; real = m.process_message; "
        f"m.process_message = lambda raw, box, v, uid, s: os.abort() if uid == {first} "
        "else real(raw, box, v, uid, s); print(json.dumps(m.poll_mailbox()))"
    )
    for _ in range(3):
        assert run_python(poll, mailbox.environment()).returncode == -6
    result = run_python(poll, mailbox.environment())
    assert result.returncode == 0, result.stderr[-3000:]
    outcomes = {o["uid"]: o for o in json.loads(result.stdout.strip().splitlines()[-1])}
    assert outcomes[first]["state"] == "quarantined"
    assert "given up after 3 tries" in outcomes[first]["reason"]
    assert outcomes[second]["state"] == "processed"
    assert _submissions() == [("email", "SEN", "b.xlsx")]
