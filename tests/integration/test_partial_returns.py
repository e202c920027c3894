"""A session's worth in one cycle, shared among ministries: partial returns.

Twenty synthetic resolutions (seed 000 varied by symbol and subject area, labelled synthetic
in their titles) in one cycle opened by session. Two ministries of Senegal each answer their
own resolutions in their own upload; both parts end up stored and current, the feedback of the
first names what is still owed, and reminders ask only for that. A blank questionnaire is
still refused, and a cycle that requires whole returns still refuses a part.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import select

from resotrack import clock, tokens
from resotrack.consolidation.snapshot import load_snapshot
from resotrack.consolidation.tables import compute
from resotrack.questionnaires.cycles import open_cycle, session_symbols
from resotrack.questionnaires.dispatch import ensure_built, load_cycle
from resotrack.questionnaires.workbook import build_workbook
from resotrack.registry import import_focal_points, sync_entities
from resotrack.registry.models import FocalPoint
from resotrack.reminders.facts import load_facts
from resotrack.reminders.messages import context
from resotrack.reminders.plan import plan_cycle
from resotrack.resolutions import import_file
from resotrack.resolutions.synthetic import write_session
from resotrack.settings import get_settings
from resotrack.store import session_scope
from resotrack.store.blobs import blob_store
from resotrack.tokens.models import UploadToken
from resotrack.validation import ingest_pending
from resotrack.validation.answers import earlier_answers
from resotrack.validation.quick import quick_check
from support.return_fixtures import (
    KEY,
    REPO,
    World,
    answers_for,
    current_answers,
    submission,
    submit,
    with_openpyxl,
)

SEED_000 = REPO.parent / "shared" / "seeds" / "000_538a0b500d10359b.txt"
SESSION = "quarante-neuvième session"
COUNT = 20


def _session_world(tmp_path: Path, *, require_complete: bool = False, count: int = COUNT) -> World:
    with session_scope() as session:
        sync_entities(session)
    for path in write_session(SEED_000, tmp_path / "session", count):
        import_file(path)
    csv = tmp_path / "focal.csv"
    csv.write_text(
        "entity,name,email,language,role\nSEN,Focal SEN,fp.sen@gov.example.org,fr,focal point\n"
    )
    with session_scope() as session:
        import_focal_points(session, csv)
    with session_scope() as session:
        symbols = session_symbols(session, "  Quarante-neuvième  SESSION ")
        assert len(symbols) == count
        cycle = open_cycle(
            session,
            symbols,
            clock.today() + timedelta(days=60),
            entities=["SEN"],
            title="CFM-49 (synthetic)",
            require_complete=require_complete,
        )
        cycle_id = cycle.id
    world = World(cycle_id, {}, {}, {}, {"SEN": "fr"}, {})
    with session_scope() as session:
        cycle = load_cycle(session, cycle_id)
        (q,) = cycle.questionnaires
        world.questionnaires["SEN"] = q.id
        world.workbooks["SEN"] = blob_store().get(
            ensure_built(session, cycle, q, earlier_answers=earlier_answers)
        )
        person = session.scalars(select(FocalPoint).where(FocalPoint.entity_code == "SEN")).one()
        world.focal_points["SEN"] = person.id
        world.emails["SEN"] = person.email
        tokens.issue(session, person, cycle_id)
        session.flush()
        token = session.scalars(select(UploadToken).where(UploadToken.cycle_id == cycle_id)).one()
        world.token_ids["SEN"] = token.id
    return world


def _part(world: World, symbols: set[str], **changes: str) -> bytes:
    """The questionnaire with only the rows of ``symbols`` answered (a ministry's part)."""
    spec = world.spec("SEN")
    rows = tuple(
        replace(row, prefill={**answers_for(row.number, "fr"), **changes})
        if row.resolution in symbols
        else row
        for row in spec.rows
    )
    return build_workbook(replace(spec, rows=rows), signing_key=KEY.encode())


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESOTRACK_SECRET_KEY", KEY)
    monkeypatch.setenv("RESOTRACK_MAIL_RUN_RETRIES", "0")
    get_settings.cache_clear()


def _current(world: World) -> dict[tuple[str, int], tuple[int | None, str]]:
    from resotrack.validation.models import Answer

    with session_scope() as session:
        rows = session.scalars(
            select(Answer).where(Answer.cycle_id == world.cycle_id, Answer.current.is_(True))
        ).all()
        return {
            (a.resolution_symbol, a.paragraph_number): (a.submission_id, a.status) for a in rows
        }


def _entity_row(world: World) -> dict[str, object]:
    with session_scope() as session:
        snapshot = load_snapshot(session, world.cycle_id)
    (row,) = compute(snapshot).entities.to_dict("records")
    return cast(dict[str, object], row)


def test_two_ministries_share_a_session_questionnaire(env: None, tmp_path: Path) -> None:
    world = _session_world(tmp_path)
    spec = world.spec("SEN")
    symbols = sorted({row.resolution for row in spec.rows})
    assert len(symbols) == COUNT and len(spec.rows) >= 300
    asked = {(row.resolution, row.number) for row in spec.rows}
    foreign = set(symbols[:10])  # the ministry of foreign affairs' part
    planning = set(symbols[10:])  # the ministry of planning's part
    part_a = {key for key in asked if key[0] in foreign}

    # A blank questionnaire (as sent) is still refused, and changes nothing.
    blank = submit(world, world.workbooks["SEN"], name="blank.xlsx")
    (result,) = ingest_pending()
    assert result["outcome"] == "refused"
    assert [p["rule"] for p in submission(blank).report["problems"]] == ["quality.not_a_reply"]
    assert current_answers(world) == {}

    # Ministry A answers its ten resolutions: stored; the other ten stay owed, and said so.
    first = submit(world, _part(world, foreign), name="foreign-affairs.xlsx")
    (result,) = ingest_pending()
    assert result["outcome"] == "accepted_with_warnings"
    current = _current(world)
    assert set(current) == part_a and {sid for sid, _ in current.values()} == {first}
    report = submission(first).report
    owed = [p for p in report["problems"] if p["rule"] == "partial.still_owed"]
    assert sorted(p["resolution"] for p in owed) == sorted(planning)
    assert all(p["severity"] == "warning" for p in report["problems"])
    assert set(report["summary"]["owed"]) == planning

    # Reminders ask only for what is owed: the planning ministry's resolutions.
    with session_scope() as session:
        facts = load_facts(session, world.cycle_id)
    day = facts.deadline - timedelta(days=7)
    plan = plan_cycle(facts, day)
    (message,) = plan.messages
    assert message.kind == "reminder" and "still owed" in message.reason
    ctx = context(facts, message, day)
    assert ctx["paragraphs"] == len(asked) - len(part_a)
    named = {line.split("\u00a0: ")[0].removeprefix("Résolution ") for line in ctx["owed"]}
    assert named == planning

    # Completeness and timeliness count per paragraph: half the rows, answered on time.
    row = _entity_row(world)
    assert (row["returned"], row["rows"], row["replied"]) == (True, len(asked), len(part_a))
    assert row["timeliness"] == pytest.approx(len(part_a) / len(asked))

    # Ministry B answers the other ten, after the deadline: it wipes nothing of A's.
    clock_later = datetime.combine(facts.deadline + timedelta(days=2), time(9), tzinfo=UTC)
    second = submit(world, _part(world, planning), name="planning.xlsx", received_at=clock_later)
    (result,) = ingest_pending()
    assert result["outcome"] == "accepted"
    current = _current(world)
    assert set(current) == asked
    assert {k for k, (sid, _) in current.items() if sid == first} == part_a
    assert {k for k, (sid, _) in current.items() if sid == second} == asked - part_a
    with session_scope() as session:
        facts = load_facts(session, world.cycle_id)
    plan = plan_cycle(facts, day)
    assert plan.messages == [] and plan.quiet["returned"] == 1
    row = _entity_row(world)  # every paragraph replied, half of them late
    assert row["replied"] == len(asked)
    assert row["timeliness"] == pytest.approx(len(part_a) / len(asked))

    # A later correction of one resolution wins for its paragraphs only (newest per paragraph).
    corrected = symbols[0]
    third = submit(
        world,
        _part(world, {corrected}, status="not_started", measures=""),
        name="correction.xlsx",
        received_at=clock_later + timedelta(minutes=5),
    )
    (result,) = ingest_pending()
    assert result["outcome"] == "accepted"
    current = _current(world)
    assert set(current) == asked
    for key, (sid, status) in current.items():
        if key[0] == corrected:
            assert (sid, status) == (third, "not_started")
        else:
            assert sid == (first if key in part_a else second)


def test_a_cycle_requiring_whole_returns_refuses_a_part(env: None, tmp_path: Path) -> None:
    world = _session_world(tmp_path, require_complete=True)
    symbols = sorted({row.resolution for row in world.spec("SEN").rows})
    sid = submit(world, _part(world, set(symbols[:10])))
    (result,) = ingest_pending()
    assert result["outcome"] == "refused"
    rules = {p["rule"] for p in submission(sid).report["problems"]}
    assert rules == {"quality.status_required"} and current_answers(world) == {}


def _without(world: World, symbols: set[str], answered: set[str]) -> bytes:
    """SEN's questionnaire with the rows of ``answered`` answered, then the rows of
    ``symbols`` deleted in the spreadsheet (a ministry that kept only its share)."""
    gone = [i for i, row in enumerate(world.spec("SEN").rows) if row.resolution in symbols]

    def delete(book: Any) -> None:
        for index in reversed(gone):  # from the bottom, so the rows above keep their numbers
            book["Return"].delete_rows(index + 2)  # row 1 is the header

    return with_openpyxl(_part(world, answered), delete)


def test_the_quick_check_of_a_partial_cycle_lists_deleted_rows_as_still_owed(
    env: None, tmp_path: Path
) -> None:
    world = _session_world(tmp_path, count=4)
    symbols = sorted({row.resolution for row in world.spec("SEN").rows})
    foreign, planning = set(symbols[:2]), set(symbols[2:])

    # The planning ministry deleted the foreign ministry's rows: not an error, still owed.
    data = _without(world, foreign, planning)
    report = quick_check(data, expected_entity="SEN", expected_cycle=world.cycle_id)
    rules = [p["rule"] for p in report.problems]
    assert report.outcome == "ok", rules
    assert rules == ["partial.still_owed"] * len(foreign)
    assert sorted(p["resolution"] for p in report.problems) == sorted(foreign)
    assert all(p["severity"] == "warning" for p in report.problems)

    # Once the foreign ministry's part is stored, the same deletion owes nothing more.
    submit(world, _part(world, foreign), name="foreign-affairs.xlsx")
    (result,) = ingest_pending()
    assert result["outcome"] == "accepted_with_warnings"
    report = quick_check(data, expected_entity="SEN", expected_cycle=world.cycle_id)
    assert report.outcome == "ok" and report.problems == []


def test_the_quick_check_of_a_whole_return_cycle_still_wants_every_row(
    env: None, tmp_path: Path
) -> None:
    world = _session_world(tmp_path, require_complete=True, count=2)
    symbols = sorted({row.resolution for row in world.spec("SEN").rows})
    data = _without(world, set(symbols[:1]), set(symbols))
    report = quick_check(data, expected_entity="SEN", expected_cycle=world.cycle_id)
    rules = {p["rule"] for p in report.problems}
    assert report.outcome == "invalid" and rules == {"contract.paragraph_missing"}
