"""Read what a reminder plan needs from the database: a handful of queries per cycle.

Every query covers the whole cycle (all entities at once), so a daily run costs the same few
round trips whether a cycle has 5 entities or 57: no per-entity queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from resotrack.catalog import LANGUAGES
from resotrack.mail.models import OutboxMessage
from resotrack.questionnaires.models import Questionnaire, ReportingCycle
from resotrack.registry.focal_points import active_focal_points
from resotrack.registry.models import ReportingEntity
from resotrack.reminders import ladder as ladders
from resotrack.reminders.plan import (
    MESSAGE_KINDS,
    Contact,
    CycleFacts,
    EntityFacts,
    EntityStanding,
    Sent,
    SubmissionFact,
    standing_of,
)
from resotrack.store.blobs import blob_store
from resotrack.store.models import AuditLog
from resotrack.validation.models import Answer, Submission

PROBLEM_ACTION = "reminders.problem"


class ReminderError(LookupError):
    """A cycle that cannot be reminded about; the message says what to do."""


def cycles_to_remind(session: Session, only: int | None) -> tuple[list[int], list[str]]:
    """Ids of the cycles to work on, and notes on the ones left out (for the report)."""
    if only is None:
        ids = session.scalars(
            select(ReportingCycle.id)
            .where(ReportingCycle.state == "open")
            .order_by(ReportingCycle.id)
        )
        return list(ids), []
    cycle = session.get(ReportingCycle, only)
    if cycle is None:
        raise ReminderError(f"there is no cycle {only}; `resotrack cycles list` shows them")
    if cycle.state != "open":
        why = {
            "waiting": "its questionnaires have not been sent yet",
            "closed": "it is closed",
        }.get(cycle.state, f"it is {cycle.state}")
        return [], [f"cycle {only}: no reminders, {why}"]
    return [only], []


def _valid(address: str) -> bool:
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def _language(value: str | None, fallback: str) -> str:
    if value in LANGUAGES:
        return str(value)
    return fallback if fallback in LANGUAGES else "en"


def standings(
    session: Session, cycle_id: int, codes: Iterable[str], *, details: bool = True
) -> dict[str, EntityStanding]:
    """Every entity's standing in one query; with ``details``, a second one reads the
    problems and annotated copies of the returns that need correction."""
    wanted = list(codes)
    rows = session.execute(
        select(
            Submission.id,
            Submission.entity_code,
            Submission.state,
            Submission.received_at,
            Submission.original_name,
        ).where(Submission.cycle_id == cycle_id, Submission.entity_code.in_(wanted))
    )
    by_entity: dict[str, list[SubmissionFact]] = {}
    for sid, code, state, received_at, name in rows:
        if code is None:  # excluded by the query; says so to the type checker
            continue
        by_entity.setdefault(code, []).append(SubmissionFact(sid, state, received_at, name))
    found = {code: standing_of(by_entity.get(code, ())) for code in wanted}

    to_correct = {
        s.submission.id: code
        for code, s in found.items()
        if s.standing == "needs_correction" and s.submission is not None
    }
    if to_correct and details:
        reports = session.execute(
            select(Submission.id, Submission.report).where(Submission.id.in_(to_correct))
        )
        for sid, report in reports:
            code = to_correct[sid]
            found[code] = _with_report(found[code], report or {})
    return found


def _with_report(standing: EntityStanding, report: dict[str, Any]) -> EntityStanding:
    problems = report.get("problems") or []
    summary = report.get("summary") if isinstance(report.get("summary"), dict) else {}
    sha = report.get("annotated_sha256") or (summary or {}).get("annotated_sha256")
    annotated = sha if isinstance(sha, str) and blob_store().exists(sha) else None
    return EntityStanding(
        standing.standing,
        standing.submission,
        tuple(p if isinstance(p, dict) else {"message": str(p)} for p in problems),
        annotated,
    )


def history(session: Session, cycle_id: int) -> dict[int, tuple[Sent, ...]]:
    """What each person was already sent in the cycle: the questionnaire and ladder rungs.

    A rung's day is the ladder day it was planned for (``context["ladder"]["day"]``), not
    when the outbox delivered it, so a delivery delayed by a mail outage does not shift the
    fatigue gap. The questionnaire's day is when it was queued.
    """
    rows = session.execute(
        select(
            OutboxMessage.focal_point_id,
            OutboxMessage.kind,
            OutboxMessage.context,
            OutboxMessage.created_at,
        ).where(
            OutboxMessage.cycle_id == cycle_id,
            OutboxMessage.focal_point_id.is_not(None),
            OutboxMessage.kind.in_(("questionnaire", *MESSAGE_KINDS)),
        )
    )
    sent: dict[int, list[Sent]] = {}
    for person, kind, context, created_at in rows:
        if kind == "questionnaire":
            sent.setdefault(person, []).append(Sent(created_at.date()))
            continue
        step = (context or {}).get("ladder") or {}
        try:
            rung = ladders.Rung(int(step["offset"]), ladders.parse_kind(str(step["kind"])))
            day = date.fromisoformat(step["day"])
        except (KeyError, TypeError, ValueError):  # not ours, or hand-made: still a message
            rung, day = None, created_at.date()
        sent.setdefault(person, []).append(Sent(day, rung))
    return {person: tuple(items) for person, items in sent.items()}


def load_facts(session: Session, cycle_id: int, *, secretariat: Sequence[str] = ()) -> CycleFacts:
    """The cycle as :func:`resotrack.reminders.plan.plan_cycle` sees it."""
    cycle = session.get(ReportingCycle, cycle_id)
    if cycle is None:
        raise ReminderError(f"there is no cycle {cycle_id}")
    try:
        ladder = ladders.from_stored(cycle.ladder)
        fatigue = ladders.validate_fatigue(cycle.fatigue_max_messages, cycle.fatigue_min_gap_days)
    except ladders.LadderError as exc:
        raise ladders.LadderError(
            f"cycle {cycle_id}: {exc}; fix it with `resotrack reminders ladder set`"
        ) from exc

    asked = session.execute(
        select(
            Questionnaire.entity_code,
            Questionnaire.language,
            Questionnaire.rows,
            ReportingEntity,
        )
        .join(ReportingEntity, ReportingEntity.code == Questionnaire.entity_code)
        .where(Questionnaire.cycle_id == cycle_id)
        .order_by(Questionnaire.entity_code)
    ).all()
    codes = [code for code, *_ in asked]
    contacts: dict[str, list[Contact]] = {}
    people = active_focal_points(session, codes)
    languages = {code: language for code, language, *_ in asked}
    for p in people:
        contacts.setdefault(p.entity_code, []).append(
            Contact(
                p.id,
                p.name,
                p.email,
                _language(p.language, languages[p.entity_code]),
                p.role,
                _valid(p.email),
            )
        )
    found = standings(session, cycle_id, codes)
    answered = answered_paragraphs(
        session, cycle_id, [c for c, s in found.items() if s.standing == "returned"]
    )
    entities = tuple(
        EntityFacts(
            code=code,
            names={"ar": entity.name_ar, "en": entity.name_en, "fr": entity.name_fr},
            language=_language(language, "en"),
            paragraphs=len(rows or ()),
            contacts=tuple(contacts.get(code, ())),
            standing=found[code],
            # per paragraph, from the answers stored; a return taken with none stored (made
            # by hand, not by validation) is taken at its word
            owed=owed_paragraphs(rows or (), answered[code]) if answered.get(code) else {},
            kind=entity.kind,
        )
        for code, language, rows, entity in asked
    )
    return CycleFacts(
        id=cycle.id,
        title=cycle.title,
        deadline=cycle.deadline,
        ladder=ladder,
        fatigue=fatigue,
        entities=entities,
        sent=history(session, cycle_id),
        secretariat=tuple(secretariat),
    )


def answered_paragraphs(
    session: Session, cycle_id: int, codes: Sequence[str]
) -> dict[str, set[tuple[str, int]]]:
    """Each entity's paragraphs with a current answer in the cycle, in one query."""
    found: dict[str, set[tuple[str, int]]] = {code: set() for code in codes}
    if not codes:
        return found
    rows = session.execute(
        select(Answer.entity_code, Answer.resolution_symbol, Answer.paragraph_number).where(
            Answer.cycle_id == cycle_id,
            Answer.entity_code.in_(list(codes)),
            Answer.current.is_(True),
        )
    )
    for code, symbol, number in rows:
        found[code].add((symbol, number))
    return found


def owed_paragraphs(
    rows: Sequence[Mapping[str, Any]], answered: set[tuple[str, int]]
) -> dict[str, tuple[int, ...]]:
    """The questionnaire's paragraphs without a current answer, by resolution, in its order."""
    owed: dict[str, list[int]] = {}
    for row in rows:
        key = (str(row["resolution"]), int(row["number"]))
        if key not in answered:
            owed.setdefault(key[0], []).append(key[1])
    return {symbol: tuple(numbers) for symbol, numbers in owed.items()}


def reported_problems(session: Session, cycle_id: int) -> set[str]:
    """Keys of the problems already reported to the Secretariat (each is reported once)."""
    return set(
        session.scalars(
            select(AuditLog.subject).where(
                AuditLog.action == PROBLEM_ACTION, AuditLog.subject.like(f"cycle:{cycle_id}:%")
            )
        )
    )


def non_reporting_entities(session: Session, cycle_id: int) -> list[str]:
    """Codes of the cycle's entities that have no accepted return, sorted.

    For the consolidated report's list of entities that have not reported. "Accepted" is
    the reminders' own test (:func:`resotrack.reminders.plan.standing_of`): a return refused,
    sent back for correction or still being checked does not count, so this is exactly the
    set of entities the ladder is still writing to (or has given up on after the final
    notice, which the audit log records as ``reminders.final_notice``).
    """
    codes = list(
        session.scalars(select(Questionnaire.entity_code).where(Questionnaire.cycle_id == cycle_id))
    )
    found = standings(session, cycle_id, codes, details=False)
    return sorted(code for code, s in found.items() if s.standing != "returned")
