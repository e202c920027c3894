"""History and idempotency: resubmissions, corrections, late validation, crashes, races."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from resotrack import clock
from resotrack.mail.models import OutboxMessage
from resotrack.settings import get_settings
from resotrack.store import session_scope
from resotrack.validation.entry import ingest_pending
from resotrack.validation.ingest import claim, run
from resotrack.validation.models import Answer, Submission
from support.return_fixtures import (
    KEY,
    World,
    current_answers,
    filled,
    make_world,
    number_at,
    rows_of,
    submission,
    submit,
)


@pytest.fixture
def world(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("RESOTRACK_SECRET_KEY", KEY)
    monkeypatch.setenv("RESOTRACK_MAIL_RUN_RETRIES", "0")
    monkeypatch.setenv("RESOTRACK_SMTP_PORT", "9")  # nothing listens: mail stays queued
    get_settings.cache_clear()
    return make_world(tmp_path)


def _answers(world: World, entity: str = "SEN") -> list[Answer]:
    with session_scope() as session:
        return list(
            session.scalars(
                select(Answer)
                .where(Answer.cycle_id == world.cycle_id, Answer.entity_code == entity)
                .order_by(Answer.id)
            )
        )


def _one_current_per_paragraph(world: World) -> None:
    counts: dict[int, int] = {}
    for answer in _answers(world):
        counts[answer.paragraph_number] = counts.get(answer.paragraph_number, 0) + answer.current
    assert set(counts.values()) == {1}, "exactly one current answer per paragraph"


def _measures(text: str):  # type: ignore[no-untyped-def]
    return lambda row: {"measures": f"{text} ({row.number})"}


def test_resubmission_after_refusal_then_a_correction_keep_full_history(world: World) -> None:
    n = rows_of(world)
    first = number_at(world, 2)
    refused = submit(world, filled(world, per_row=lambda r: {"measures": None}))
    accepted = submit(world, filled(world, per_row=_measures("v1")))
    corrected = submit(world, filled(world, per_row=_measures("v2")))

    outcomes = {r["submission_id"]: r["outcome"] for r in ingest_pending()}
    assert outcomes == {refused: "refused", accepted: "accepted", corrected: "accepted"}

    answers = _answers(world)
    assert len(answers) == 2 * n  # v1 kept as history, v2 current; nothing from the refusal
    assert {a.submission_id for a in answers} == {accepted, corrected}
    assert all(not a.current for a in answers if a.submission_id == accepted)
    assert current_answers(world)[first].measures == f"v2 ({first})"
    _one_current_per_paragraph(world)
    # Every file keeps its own report, and every sender was told once.
    assert [submission(s).state for s in (refused, accepted, corrected)] == [
        "refused",
        "accepted",
        "accepted",
    ]
    with session_scope() as session:
        keys = set(session.scalars(select(OutboxMessage.idempotency_key)))
    assert keys == {f"feedback:{s}" for s in (refused, accepted, corrected)}


def test_the_newest_upload_wins_even_when_validated_last(world: World) -> None:
    first = number_at(world, 2)
    newer = submit(world, filled(world, per_row=_measures("newer")))
    run(newer, send=False)
    older = submit(
        world,
        filled(world, per_row=_measures("older")),
        received_at=clock.now() - timedelta(hours=2),
    )
    (result,) = run(older, send=False)
    assert result["outcome"] == "accepted" and result["answers_changed"] == 0
    assert current_answers(world)[first].measures == f"newer ({first})"
    assert len(_answers(world)) == 2 * rows_of(world)
    _one_current_per_paragraph(world)


def test_a_rerun_changes_nothing(world: World) -> None:
    sid = submit(world, filled(world))
    ingest_pending()
    with session_scope() as session:
        before = (
            session.scalar(select(func.count()).select_from(Answer)),
            session.scalar(select(func.count()).select_from(OutboxMessage)),
            dict(session.get(Submission, sid).report),  # type: ignore[union-attr]
        )
    assert ingest_pending() == []
    assert ingest_pending(only=sid) == [{"submission_id": sid, "skipped": "state is accepted"}]
    with session_scope() as session:
        after = (
            session.scalar(select(func.count()).select_from(Answer)),
            session.scalar(select(func.count()).select_from(OutboxMessage)),
            dict(session.get(Submission, sid).report),  # type: ignore[union-attr]
        )
    assert after == before


def test_a_claim_left_by_a_dead_run_is_recovered_and_a_live_one_is_not(world: World) -> None:
    dead = submit(world, filled(world, per_row=_measures("dead")))
    live = submit(world, filled(world, "PAK"), "PAK")
    assert claim(dead) and claim(live)
    stale = (clock.now() - timedelta(hours=1)).isoformat()
    with session_scope() as session:
        row = session.get(Submission, dead)
        assert row is not None
        row.report = {"claim": {**row.report["claim"], "at": stale}}
    results = ingest_pending()
    assert [r["submission_id"] for r in results] == [dead]
    assert submission(dead).state == "accepted"
    assert submission(live).state == "validating"  # another run is still on it


def test_two_runs_racing_for_one_upload_decide_it_once(world: World) -> None:
    sid = submit(world, filled(world))
    results: list[list[dict[str, object]]] = []
    barrier = threading.Barrier(2)

    def go() -> None:
        barrier.wait()
        results.append(run(sid, send=False, docs=False))

    threads = [threading.Thread(target=go) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    flat = [r for batch in results for r in batch]
    assert sum("outcome" in r for r in flat) == 1
    assert sum("skipped" in r for r in flat) == 1
    assert len(_answers(world)) == rows_of(world)


def test_a_decision_whose_claim_was_taken_over_is_dropped(world: World) -> None:
    from resotrack.validation.config import settings
    from resotrack.validation.decide import ClaimLost, record
    from resotrack.validation.ingest import load, prepare

    sid = submit(world, filled(world))
    token = claim(sid)
    assert token
    work = prepare(load(sid, token, settings()), settings())
    with session_scope() as session:  # presumed dead, recovered and claimed by another run
        session.execute(update(Submission).where(Submission.id == sid).values(state="received"))
    assert claim(sid)
    with pytest.raises(ClaimLost), session_scope() as session:
        record(session, work.decision)
    assert _answers(world) == []


def test_a_decision_lost_in_a_shared_transaction_does_not_take_the_others_with_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decisions commit a few dozen at a time; one whose claim another run took over makes
    the group roll back whole, and the rest are recorded one by one (nothing of the lost one)."""
    from resotrack.validation import ingest

    first, stolen, last = (submit(world, filled(world, per_row=_measures(t))) for t in "abc")
    real = ingest._record_group
    groups: list[list[int]] = []

    def take_over_then_record(decisions):  # type: ignore[no-untyped-def]
        groups.append([d.submission_id for d in decisions])
        if len(decisions) > 1:  # another run recovers and claims it meanwhile
            with session_scope() as session:
                session.execute(
                    update(Submission).where(Submission.id == stolen).values(state="received")
                )
            assert claim(stolen)
        return real(decisions)

    monkeypatch.setattr(ingest, "_record_group", take_over_then_record)
    results = {r["submission_id"]: r for r in run(send=False, docs=False)}

    assert groups == [[first, stolen, last]], "the three were decided together"
    assert results[first]["outcome"] == results[last]["outcome"] == "accepted"
    assert "no longer ours" in results[stolen]["skipped"]
    assert submission(stolen).state == "validating"  # the other run's, untouched
    assert {a.submission_id for a in _answers(world) if a.current} == {last}
    assert {a.submission_id for a in _answers(world)} == {first, last}
    with session_scope() as session:
        keys = set(session.scalars(select(OutboxMessage.idempotency_key)))
    assert keys == {f"feedback:{first}", f"feedback:{last}"}
    _one_current_per_paragraph(world)


def test_returns_decided_together_end_as_if_recorded_one_by_one(world: World) -> None:
    """A group of decisions stores its answers in a few statements for all of them: per
    entity, the newest upload wins whatever its place in the group, every other row is
    history, and each return counts the answers it changed when its turn came."""
    from resotrack.validation.decide import lock_submissions, store_returns

    first = number_at(world, 2)
    late = submit(
        world,
        filled(world, per_row=_measures("late")),
        received_at=clock.now() - timedelta(hours=2),
    )
    v1 = submit(world, filled(world, per_row=_measures("v1")))
    other = submit(world, filled(world, "PAK", per_row=_measures("pak")), "PAK")
    v2 = submit(world, filled(world, per_row=_measures("v2")))

    results = {r["submission_id"]: r for r in run(send=False, docs=False)}
    assert {r["outcome"] for r in results.values()} == {"accepted"}
    n, pak = rows_of(world), rows_of(world, "PAK")
    assert [results[s]["answers_changed"] for s in (late, v1, other, v2)] == [n, n, pak, n]
    assert current_answers(world)[first].measures == f"v2 ({first})"
    assert {a.submission_id for a in _answers(world) if a.current} == {v2}
    assert {a.submission_id for a in _answers(world)} == {late, v1, v2}
    assert {a.submission_id for a in _answers(world, "PAK") if a.current} == {other}
    _one_current_per_paragraph(world)

    # Stored directly in the other order: the newer first, then an older one, in one group.
    newer = submit(world, filled(world, per_row=_measures("v3")))
    older = submit(
        world,
        filled(world, per_row=_measures("v0")),
        received_at=clock.now() - timedelta(hours=1),
    )
    labels = {newer: "v3", older: "v0"}
    with session_scope() as session:
        locked = lock_submissions(session, [newer, older])
        changed = store_returns(
            session,
            [
                (
                    locked[sid],
                    [
                        {"resolution": a.resolution_symbol, "paragraph": a.paragraph_number}
                        | {"status": a.status, "measures": f"{labels[sid]} ({a.paragraph_number})"}
                        for a in current_answers(world).values()
                    ],
                )
                for sid in (newer, older)
            ],
        )
    assert changed == [n, 0]
    assert current_answers(world)[first].measures == f"v3 ({first})"
    assert {a.submission_id for a in _answers(world) if a.current} == {newer}
    assert len(_answers(world)) == 5 * n
    _one_current_per_paragraph(world)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_workers_storing_one_entitys_answers_take_turns(world: World) -> None:
    """PostgreSQL: a second transaction storing answers of the same entity waits for the
    first (an advisory lock per cycle and entity), so it reads what the first wrote and
    demotes it. Without the lock both returns ended current, two answers per paragraph."""
    from resotrack.store.db import get_engine
    from resotrack.validation.decide import store_returns

    run(submit(world, filled(world, per_row=_measures("v0"))), send=False, docs=False)
    asked = list(current_answers(world).values())
    first, second = (submit(world, filled(world, per_row=_measures(t))) for t in ("v1", "v2"))

    def store(session: Any, sid: int, label: str) -> None:
        rows = [
            {"resolution": a.resolution_symbol, "paragraph": a.paragraph_number}
            | {"status": a.status, "measures": f"{label} ({a.paragraph_number})"}
            for a in asked
        ]
        store_returns(session, [(session.get(Submission, sid), rows)])

    engine = get_engine(get_settings().db_url)
    errors: list[BaseException] = []

    def second_worker() -> None:
        try:
            with Session(engine) as waiter:
                store(waiter, second, "v2")
                waiter.commit()
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    with Session(engine) as holder:
        store(holder, first, "v1")
        waiting = threading.Thread(target=second_worker)
        waiting.start()
        waiting.join(timeout=1.0)
        assert waiting.is_alive(), "the second worker waits while the first is undecided"
        holder.commit()
    waiting.join(timeout=30)
    assert not errors and not waiting.is_alive()
    current = {a.submission_id for a in _answers(world) if a.current}
    assert current == {second}
    _one_current_per_paragraph(world)
