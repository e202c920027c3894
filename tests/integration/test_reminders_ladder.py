"""Staff write a cycle's ladder in a compact form; anything the daily run could not follow is
refused with a message that says what to change."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from resotrack.questionnaires.cycles import DEFAULT_LADDER
from resotrack.questionnaires.models import ReportingCycle
from resotrack.reminders import cli as reminders_cli
from resotrack.reminders.ladder import (
    Fatigue,
    LadderError,
    Rung,
    compact,
    default_ladder,
    describe,
    from_stored,
    ladder_of,
    parse_ladder,
    set_ladder,
    validate_fatigue,
    warnings,
)
from resotrack.store import session_scope
from resotrack.store.models import AuditLog
from support.reminders_world import build_world, mail_env  # noqa: F401  (fixture)
from support.smtp_server import SmtpServer


def test_the_compact_form_reads_the_way_staff_write_it() -> None:
    expected = (
        Rung(-14, "reminder"),
        Rung(-7, "reminder"),
        Rung(3, "overdue"),
        Rung(10, "escalation"),
        Rung(30, "final"),
    )
    assert parse_ladder("-14:reminder,-7:reminder,+3:overdue,+10:escalation,+30:final") == expected
    assert parse_ladder(
        "D+30=final_notice; D-7 : Reminder  D-14:reminder 3:overdue 10:escalate"
    ) == (expected)
    assert parse_ladder(
        ["-7:reminder", "-14:reminder", "+3:overdue,10:escalation", "30:final"]
    ) == (expected)
    assert from_stored(DEFAULT_LADDER) == default_ladder()
    assert parse_ladder(compact(default_ladder())) == default_ladder()
    assert describe(default_ladder()).startswith("D-14 reminder, D-7 reminder, D-1 reminder")
    assert Rung(0, "reminder").label == "D0 reminder" and Rung(3, "overdue").key == "+3.overdue"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the ladder is empty"),
        ("-7", "is not OFFSET:KIND"),
        ("minus7:reminder", "is not OFFSET:KIND"),
        ("-7:nudge", "unknown rung kind 'nudge'"),
        ("+3:reminder", "use +3:overdue"),
        ("-2:overdue", "comes after the deadline"),
        ("0:final", "comes after the deadline"),
        ("-7:reminder,-7:reminder", "fall on the same day"),
        ("+3:overdue,+3:escalation", "fall on the same day"),
        ("+10:final,+20:final", "only one final"),
        ("+10:final,+20:overdue", "must be the last rung"),
        ("-400:reminder", "within 180 days"),
        (",".join(f"-{n}:reminder" for n in range(1, 14)), "at most 12"),
    ],
)
def test_a_ladder_the_run_could_not_follow_is_refused(text: str, message: str) -> None:
    with pytest.raises(LadderError, match=re.escape(message)):
        parse_ladder(text)


def test_fatigue_limits_and_what_they_do_to_a_ladder() -> None:
    with pytest.raises(LadderError, match="between 1 and 20"):
        validate_fatigue(0, 3)
    with pytest.raises(LadderError, match="between 0 and 30 days"):
        validate_fatigue(6, -1)
    assert warnings(default_ladder(), Fatigue(6, 3)) == []
    notes = warnings(default_ladder(), Fatigue(4, 5))
    assert any("D+30 final will not reach" in n for n in notes)
    assert any("D+3 overdue comes 4 days after D-1 reminder" in n for n in notes)


@pytest.fixture
def world_cycle(mail_env: SmtpServer, tmp_path: Path) -> int:  # noqa: F811
    return build_world(mail_env, tmp_path, entities=["SEN"]).cycle_id


def test_staff_change_a_cycle_ladder_and_it_is_audited(world_cycle: int) -> None:
    with session_scope() as s:
        info = set_ladder(
            s, world_cycle, rungs=parse_ladder("-10:reminder,+2:overdue"), actor="aisha"
        )
        assert info.ladder == (Rung(-10, "reminder"), Rung(2, "overdue"))
        assert info.fatigue == Fatigue(6, 3)
    with session_scope() as s:
        info = set_ladder(s, world_cycle, max_messages=3, min_gap_days=5, actor="aisha")
        assert info.ladder == (Rung(-10, "reminder"), Rung(2, "overdue"))  # kept
        assert info.fatigue == Fatigue(3, 5)
        changes = list(s.scalars(select(AuditLog).where(AuditLog.action == "cycle.ladder_changed")))
        assert [c.actor for c in changes] == ["aisha", "aisha"]
        assert changes[0].detail["after"]["ladder"] == [
            {"offset": -10, "kind": "reminder"},
            {"offset": 2, "kind": "overdue"},
        ]
    with session_scope() as s, pytest.raises(LadderError, match="nothing to change"):
        set_ladder(s, world_cycle)
    with session_scope() as s, pytest.raises(LadderError, match="there is no cycle 999"):
        ladder_of(s, 999)
    with session_scope() as s:
        cycle = s.get(ReportingCycle, world_cycle)
        assert cycle is not None
        cycle.state = "closed"
    with session_scope() as s, pytest.raises(LadderError, match="is closed"):
        set_ladder(s, world_cycle, max_messages=2)


def _cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """resotrack (just the reminders part)."""

    reminders_cli.register(app)
    return app


def test_ladder_show_and_set_from_the_command_line(
    world_cycle: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reminders_cli.out, "width", 200)
    monkeypatch.setattr(reminders_cli.err, "width", 200)
    app, runner = _cli(), CliRunner()

    shown = runner.invoke(app, ["reminders", "ladder", "show", "--cycle", str(world_cycle)])
    assert shown.exit_code == 0, shown.output
    assert "D-14 reminder" in shown.output and "2026-03-18" in shown.output
    assert "permanent mission (cc: the Secretariat)" in shown.output
    assert "-14:reminder,-7:reminder,-1:reminder,+3:overdue,+10:escalation,+30:final" in (
        shown.output
    )

    args = ["reminders", "ladder", "set", "--cycle", str(world_cycle)]
    done = runner.invoke(
        app, [*args, "--rung", "-10:reminder", "--rung=+2:overdue", "--min-gap-days", "13"]
    )
    assert done.exit_code == 0, done.output
    assert "ladder saved" in done.output and "D+2 overdue" in done.output
    assert "under the minimum gap of 13" in done.output  # a warning, not an error
    with session_scope() as s:
        assert ladder_of(s, world_cycle).ladder == (Rung(-10, "reminder"), Rung(2, "overdue"))

    bad = runner.invoke(app, [*args, "--ladder", "-7:reminder,+1:reminder"])
    assert bad.exit_code == 1 and "use +1:overdue" in bad.output
    both = runner.invoke(app, [*args, "--default", "--none"])
    assert both.exit_code == 1 and "one way only" in both.output
    cap = runner.invoke(app, [*args, "--max-messages", "0"])
    assert cap.exit_code == 1 and "between 1 and 20" in cap.output
    assert runner.invoke(app, [*args, "--none"]).exit_code == 0
    with session_scope() as s:
        assert ladder_of(s, world_cycle).ladder == ()
    assert runner.invoke(app, [*args, "--default"]).exit_code == 0
    with session_scope() as s:
        assert ladder_of(s, world_cycle).ladder == default_ladder()


def test_the_reminders_command_speaks_the_terminal_language(
    world_cycle: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``LANG=fr_FR.UTF-8``: the dry run and the ladder are told in French, counted right."""
    monkeypatch.setattr(reminders_cli.out, "width", 200)
    monkeypatch.setattr(reminders_cli.err, "width", 200)
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    app, runner = _cli(), CliRunner()
    args = ["reminders", "run", "--dry-run", "--cycle", str(world_cycle)]

    dry = runner.invoke(app, [*args, "--today", "2026-03-18"])  # D-14: SEN's first reminder
    assert dry.exit_code == 0, dry.output
    assert "2026-03-18\u00a0: 1 message serait envoyé (essai à blanc" in dry.output
    assert "dernier palier J-14 rappel" in dry.output and "message(s)" not in dry.output
    shown = runner.invoke(app, ["reminders", "ladder", "show", "--cycle", str(world_cycle)])
    assert shown.exit_code == 0, shown.output
    assert "échéance le 2026-04-01" in shown.output and "échelle en abrégé" in shown.output
    bad = runner.invoke(app, [*args, "--today", "18/03/2026"])
    assert bad.exit_code == 1 and "n’est pas une date" in bad.output
