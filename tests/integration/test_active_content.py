"""Content, not names: active and outside-reaching parts are found whatever they are called
and however their content types are spelt, and refused in the sender's language, on the
portal's quick check, the ingest's reader, the drop folder, ``returns submit`` and email."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from resotrack import intake
from resotrack.intake import collect_returns
from resotrack.intake.cli import register
from resotrack.intake.imap import poll_mailbox
from resotrack.mail.models import OutboxMessage
from resotrack.questionnaires.meta import META_SHEET
from resotrack.questionnaires.workbook import RETURN_SHEET
from resotrack.store import session_scope
from resotrack.validation.config import settings
from resotrack.validation.messages import describe
from resotrack.validation.models import Submission
from resotrack.validation.quick import quick_check
from resotrack.validation.read import read_package
from resotrack.validation.report import Problem
from resotrack.validation.steps import request
from support.hostile_workbooks import HOSTILE
from support.imap_server import Mailbox, imap_server_fixture, mailbox_fixture  # noqa: F401
from support.intake_world import World, make_workbook, world_fixture  # noqa: F401
from support.mailbox_world import reply

VARIANTS = sorted(HOSTILE)


def _read(data: bytes) -> dict[str, object]:
    header = request(None, settings())
    assert header["return_sheet"] == RETURN_SHEET and header["meta_sheet"] == META_SHEET
    return read_package(data, header)


def test_the_clean_workbook_reads() -> None:
    assert _read(make_workbook(1, "SEN"))["ok"] is True


@pytest.mark.parametrize("name", VARIANTS)
def test_the_reader_refuses_hostile_content_by_what_it_is(name: str) -> None:
    variant, rule = HOSTILE[name]
    answer = _read(variant(make_workbook(1, "SEN")))
    assert answer["ok"] is False
    assert answer["rule"] == rule


# --- on every channel ----------------------------------------------------------------------

CHANNEL_VARIANTS = ["vba_disguised", "external_link", "dde_link"]


@pytest.mark.parametrize("name", CHANNEL_VARIANTS)
def test_the_portal_quick_check_refuses_it_in_the_focal_points_language(
    world: World, name: str
) -> None:
    variant, rule = HOSTILE[name]
    data = variant(world.workbook("SEN", name))  # Senegal's focal point reads French
    report = quick_check(data, expected_entity="SEN", expected_cycle=world.cycle_id)
    assert report.outcome == "unreadable"
    assert [p["rule"] for p in report.problems] == [rule]
    (line,) = report.messages(world.people["SEN"].language)
    message, fix = describe(Problem(rule))
    assert line == f"{message['fr']} {fix['fr']}"


@pytest.mark.parametrize("name", CHANNEL_VARIANTS)
def test_the_drop_folder_and_returns_submit_refuse_it(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str
) -> None:
    variant, rule = HOSTILE[name]
    monkeypatch.setenv("RESOTRACK_RETURNS_SETTLE_SECONDS", "0")
    inbox = intake.IntakeSettings().returns_inbox
    inbox.mkdir(parents=True)
    (inbox / "hostile.xlsx").write_bytes(variant(world.workbook("SEN", name)))
    (outcome,) = collect_returns()
    assert outcome["error"].startswith(describe(Problem(rule))[0]["en"])

    file = tmp_path / "hostile.xlsx"
    file.write_bytes(variant(world.workbook("SEN", name + " by hand")))
    app = typer.Typer()
    app.callback()(lambda: None)
    register(app)
    result = CliRunner().invoke(app, ["returns", "submit", str(file), "--entity", "SEN"])
    assert result.exit_code == 1
    assert describe(Problem(rule))[0]["en"][:40] in " ".join(result.output.split())
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 0


@pytest.mark.parametrize("name", CHANNEL_VARIANTS)
def test_an_email_return_is_refused_and_the_sender_told_in_their_language(
    mailbox: Mailbox, world: World, name: str
) -> None:
    variant, rule = HOSTILE[name]
    sen = world.people["SEN"]
    mailbox.deliver(reply(sen.email, ("reponse.xlsx", variant(world.workbook("SEN", name)))))
    (outcome,) = poll_mailbox(mailbox.settings())
    assert outcome["state"] == "quarantined"
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 0
        (notice,) = session.scalars(select(OutboxMessage)).all()
        assert notice.to_addrs == [sen.email] and notice.language == "fr"
        message, fix = describe(Problem(rule))
        assert notice.context["paragraphs"] == [f"reponse.xlsx\u00a0: {message['fr']} {fix['fr']}"]
