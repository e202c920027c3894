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
from resotrack.store.models import Submission
from test_intake_support import (  # noqa: F401
    World,
    far_meta_cell,
    run_python,
    world_fixture,
)

FAR = ["XFD1048576", "BL1000000"]


def _submissions() -> list[tuple[str, str, str]]:
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
