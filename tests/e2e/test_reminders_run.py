"""The reminder run against a database and a real SMTP server: dry runs, ladder edits,
fatigue, problems for the Secretariat, the command line and the Airflow DAG."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from resotrack.mail.models import OutboxMessage
from resotrack.questionnaires.models import ReportingCycle
from resotrack.registry import import_focal_points
from resotrack.reminders import ReminderError, run_reminders
from resotrack.reminders import cli as reminders_cli
from resotrack.reminders.ladder import parse_ladder, set_ladder
from resotrack.reminders.run import today_for_run
from resotrack.store import session_scope
from resotrack.store.models import AuditLog
from support.airflow_env import AirflowHome
from support.reminders_world import (
    DEADLINE,
    SECRETARIAT,
    World,
    build_world,
    fp,
    mail_env,  # noqa: F401  (fixture)
    on,
    plain,
    pm,
)
from support.smtp_server import SmtpServer

ENTITIES = ["CMR", "EGY", "IDN", "SEN", "TCD"]  # TCD has no permanent mission


def D(offset: int) -> datetime:
    return datetime.combine(DEADLINE + timedelta(days=offset), datetime.min.time(), UTC)


@pytest.fixture
def world(mail_env: SmtpServer, tmp_path: Path) -> World:  # noqa: F811
    return build_world(mail_env, tmp_path, entities=ENTITIES)


def reminder_rows() -> list[OutboxMessage]:
    with session_scope() as s:
        rows = list(
            s.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.kind.not_in(("questionnaire", "dispatch_summary")))
                .order_by(OutboxMessage.id)
            )
        )
        s.expunge_all()
    return rows


def cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """resotrack (just the reminders part)."""

    reminders_cli.register(app)
    return app


def test_a_dry_run_sends_nothing_and_lists_exactly_what_the_real_run_sends(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reminders_cli.out, "width", 250)
    world.reply("EGY", "accepted")
    before = len(world.server.received())
    with on(D(-14).date()):
        dry = run_reminders(dry_run=True)
        shown = CliRunner().invoke(cli(), ["reminders", "run", "--dry-run"])
    assert shown.exit_code == 0, shown.output
    assert reminder_rows() == [] and len(world.server.received()) == before
    planned = {(m.entity.code, m.to.email, m.rung.label, m.kind) for m in dry.messages}
    assert planned == {
        ("CMR", fp("CMR"), "D-14 reminder", "reminder"),
        ("CMR", "fp2.cmr@gov.example.org", "D-14 reminder", "reminder"),
        ("IDN", fp("IDN"), "D-14 reminder", "reminder"),
        ("SEN", fp("SEN"), "D-14 reminder", "reminder"),
        ("TCD", fp("TCD"), "D-14 reminder", "reminder"),
    }
    assert "5 messages would be sent (dry run: nothing queued)" in shown.output
    for code, email, _, _ in planned:
        assert code in shown.output and email in shown.output
    assert "cc.sen@gov.example.org" in shown.output and "no return yet (" in shown.output
    assert "nothing for: 1 returned" in shown.output

    with on(D(-14).date()):
        real = run_reminders()
    assert {m.key for m in real.messages} == {m.key for m in dry.messages}
    rows = reminder_rows()
    assert {r.idempotency_key for r in rows} == {m.key for m in dry.messages}
    assert {r.state for r in rows} == {"sent"}
    sent = world.messages_since(before)
    assert sorted(m.rcpt_tos[0] for m in sent) == sorted(email for _, email, _, _ in planned)
    senegal = next(m for m in sent if m.rcpt_tos[0] == fp("SEN"))
    assert senegal.message["Cc"] == "cc.sen@gov.example.org"
    assert "Rappel" in str(senegal.message["Subject"])  # Senegal works in French

    # The same day again, from the command line: nothing to send.
    with on(D(-14).date()):
        again = CliRunner().invoke(cli(), ["reminders", "run"])
    assert again.exit_code == 0 and "0 messages queued: nothing to send" in again.output
    assert len(world.server.received()) == before + 5


def test_a_ladder_edit_takes_effect_on_the_next_run(world: World) -> None:
    with session_scope() as s:
        set_ladder(s, world.cycle_id, rungs=parse_ladder("-10:reminder,+2:overdue"))
    kinds: Counter[tuple[int, str]] = Counter()
    for offset in range(-16, 6):
        with on(D(offset).date()):
            for m in run_reminders().messages:
                kinds[(offset, m.rung.label)] += 1
    assert kinds == {(-10, "D-10 reminder"): 6, (2, "D+2 overdue"): 6}

    # A rung added for a day already past goes out once, as the latest rung due.
    with session_scope() as s:
        set_ladder(s, world.cycle_id, rungs=parse_ladder("-10:reminder,+2:overdue,+4:overdue"))
    with on(D(6).date()):
        assert {m.rung.label for m in run_reminders().messages} == {"D+4 overdue"}
    with on(D(7).date()):
        assert run_reminders().messages == []


def test_the_fatigue_cap_and_the_minimum_gap_hold_whatever_the_ladder(world: World) -> None:
    with session_scope() as s:
        set_ladder(
            s,
            world.cycle_id,
            rungs=parse_ladder(",".join(f"{d}:reminder" for d in range(-6, 1))),  # daily
            max_messages=2,
            min_gap_days=2,
        )
    held: list[str] = []
    for offset in range(-6, 3):
        with on(D(offset).date()):
            run = run_reminders(cycle_id=world.cycle_id)
            held += [w.reason for plan in run.plans for w in plan.withheld]
    days: Counter[tuple[str, str]] = Counter()
    for row in reminder_rows():
        days[(row.to_addrs[0], row.context["ladder"]["day"])] += 1
    for code in ENTITIES:
        person = fp(code)
        assert sorted(day for (who, day) in days if who == person) == [
            f"{D(-6).date()}",  # D-6
            f"{D(-4).date()}",  # D-5 held by the gap; D-4 is then the latest rung due
        ]
    assert any(r.startswith("deferred: last message on") for r in held)
    assert any(r == "dropped: cap of 2 messages reached" for r in held)


def test_no_permanent_mission_at_escalation_is_reported_to_the_secretariat_once(
    world: World, tmp_path: Path
) -> None:
    before = len(world.server.received())
    with on(D(10).date()):  # the scheduler was off until D+10
        run = run_reminders()
    assert {(m.entity.code, m.to.email) for m in run.messages} == {
        (code, pm(code)) for code in ENTITIES if code != "TCD"
    }
    ((problem),) = run.reported
    assert problem.kind == "no_permanent_mission" and problem.entity_code == "TCD"
    new = world.messages_since(before)
    (summary,) = [m for m in new if m.rcpt_tos == (SECRETARIAT,)]
    assert "TCD" in plain(summary) and "no permanent mission" in plain(summary)
    for message in new:
        if message.rcpt_tos[0].startswith("pm."):
            assert message.rcpt_tos == (message.rcpt_tos[0], SECRETARIAT)
    with session_scope() as s:
        assert s.scalar(select(func.count()).where(AuditLog.action == "reminders.problem")) == 1

    with on(D(11).date()):  # still no mission: not reported again
        again = run_reminders()
    assert again.messages == [] and again.reported == []
    assert [p.kind for plan in again.plans for p in plan.problems] == ["no_permanent_mission"]

    # Staff add the mission contact: the escalation, still due, goes out the next day.
    csv = tmp_path / "mission.csv"
    csv.write_text(
        f"entity,name,email,language,role\nTCD,Mission TCD,{pm('TCD')},fr,permanent mission\n"
    )
    with session_scope() as s:
        import_focal_points(s, csv)
    with on(D(12).date()):
        late = run_reminders()
    assert [(m.entity.code, m.to.email, m.kind) for m in late.messages] == [
        ("TCD", pm("TCD"), "escalation")
    ]


def test_the_run_says_why_it_cannot_work(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reminders_cli.err, "width", 250)
    with pytest.raises(ReminderError, match="there is no cycle 999"):
        run_reminders(cycle_id=999)
    with session_scope() as s:
        cycle = s.get(ReportingCycle, world.cycle_id)
        assert cycle is not None
        cycle.state = "waiting"
    with on(D(-7).date()):
        run = run_reminders(cycle_id=world.cycle_id)
    assert run.messages == [] and "questionnaires have not been sent yet" in run.notes[0]
    runner = CliRunner()
    bad_day = runner.invoke(cli(), ["reminders", "run", "--today", "30/06/2026"])
    assert bad_day.exit_code == 1 and "not a date like 2026-06-30" in bad_day.output
    missing = runner.invoke(cli(), ["reminders", "run", "--cycle", "999"])
    assert missing.exit_code == 1 and "there is no cycle 999" in missing.output
    with session_scope() as s:
        cycle = s.get(ReportingCycle, world.cycle_id)
        assert cycle is not None
        cycle.state, cycle.ladder = "open", [{"offset": 3, "kind": "reminder"}]  # by hand
    broken = runner.invoke(cli(), ["reminders", "run", "--today", f"{D(-7).date()}"])
    assert broken.exit_code == 1 and "ladder set" in broken.output


def test_today_comes_from_conf_then_the_logical_date_then_the_clock() -> None:
    logical = datetime(2026, 5, 4, 6, tzinfo=UTC)
    assert str(today_for_run({"today": "2026-05-01"}, logical)) == "2026-05-01"
    assert str(today_for_run({}, logical)) == "2026-05-04"
    assert today_for_run(None, None) is None
    with pytest.raises(ValueError, match="not a date"):
        today_for_run({"today": "May 1st"}, None)


@pytest.mark.airflow
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # production's database
def test_the_dag_runs_the_day_it_is_given(world: World, airflow_home: AirflowHome) -> None:
    before = len(world.server.received())
    airflow_home.dags_test("send_reminders", {"today": f"{D(-14).date()}"})
    sent = world.messages_since(before)
    assert sorted(m.rcpt_tos[0] for m in sent) == sorted(
        [fp(c) for c in ENTITIES] + ["fp2.cmr@gov.example.org"]
    )
    airflow_home.dags_test("send_reminders", {"today": f"{D(-14).date()}"})
    assert len(world.server.received()) == before + len(sent)
    assert airflow_home.task_states("send_reminders", "remind")[-2:] == ["success", "success"]
