"""Decide a validated submission: answers, report, feedback email, in one transaction.

* accepted / accepted with warnings: the rows become the entity's current answers for the
  cycle, paragraph by paragraph; earlier answers stay as history (``current`` false). The
  newest accepted *upload* wins, by the time it was received, not by the time it happened
  to be validated: a late-validated older file is kept as history only.
* refused / unreadable: nothing from the file reaches the answers.

Whatever the outcome, the full report is written on ``Submission.report`` and a feedback
email is queued through the outbox under ``feedback:{submission_id}`` (sent at most once),
to the focal point who submitted, in their language. Everything commits together, guarded by
the claim taken when validation started, so a re-run after a crash changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from resotrack import audit, clock
from resotrack.store.models import (
    Answer,
    FocalPoint,
    ReportingCycle,
    ReportingEntity,
    Submission,
    UploadToken,
)
from resotrack.validation.report import (
    ACCEPTED,
    ACCEPTED_WITH_WARNINGS,
    VALIDATING,
    Problem,
    outcome_of,
    sort_key,
)

log = logging.getLogger(__name__)

ACTOR: Final = "validation"
XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_STORED_PROBLEMS: Final = 500  # a garbage file must not make a megabyte report
MAX_EMAILED_PROBLEMS: Final = 30  # the rest are in the attached workbook
ANSWER_FIELDS: Final = (
    "status",
    "measures",
    "start_date",
    "national_body",
    "challenges",
    "support_requested",
    "evidence",
)


ANSWER_TABLE: Final = cast(Table, Answer.__table__)


class ClaimLost(RuntimeError):
    """Another run took this submission over (ours was presumed dead): we change nothing."""


@dataclass(frozen=True)
class Recipient:
    """Who is told: the submitting focal point, or the address an email came from."""

    email: str
    language: str
    name: str | None = None
    focal_point_id: int | None = None


def recipient_for(session: Session, submission: Submission) -> Recipient | None:
    """The token's focal point, else (email) the sender; drop folder and CLI tell nobody."""
    if submission.token_id is not None:
        token = session.get(UploadToken, submission.token_id)
        person = session.get(FocalPoint, token.focal_point_id) if token else None
        if person is not None:
            return Recipient(person.email, person.language, person.name, person.id)
    if submission.channel == "email" and submission.sender:
        from resotrack.validation.identify import focal_points

        entity = submission.entity_code or ""
        people = focal_points(session, submission.sender, entity) if entity else []
        if people:
            p = people[0]
            return Recipient(p.email, p.language, p.name, p.id)
        known = session.get(ReportingEntity, entity) if entity else None
        return Recipient(submission.sender, known.language if known else "en")
    return None


def lock_submission(session: Session, submission_id: int) -> Submission | None:
    """The row, locked for this transaction (PostgreSQL: FOR UPDATE; SQLite: a write first,
    which takes the database's write lock before anything is read)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            update(Submission)
            .where(Submission.id == submission_id)
            .values(state=Submission.state)
            .execution_options(synchronize_session=False)
        )
        return session.get(Submission, submission_id, populate_existing=True)
    return session.scalars(
        select(Submission)
        .where(Submission.id == submission_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def _aware(value: dt.datetime | None) -> dt.datetime:
    if value is None:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def store_answers(
    session: Session, submission: Submission, rows: Sequence[Mapping[str, Any]]
) -> int:
    """Insert the return's rows; returns how many became current.

    Per paragraph, the current answer from an older upload is demoted to history; one from a
    newer upload stays current and this row joins the history.
    """
    assert submission.cycle_id is not None and submission.entity_code is not None
    ours = (_aware(submission.received_at), submission.id)
    current = session.execute(
        select(
            Answer.id,
            Answer.resolution_symbol,
            Answer.paragraph_number,
            Submission.received_at,
            Submission.id,
        )
        .join(Submission, Answer.submission_id == Submission.id, isouter=True)
        .where(
            Answer.cycle_id == submission.cycle_id,
            Answer.entity_code == submission.entity_code,
            # "= 1", not "IS 1": SQLite uses an index on (cycle, entity, current) only then.
            Answer.current == True,  # noqa: E712
        )
    ).all()
    keys = {(row["resolution"], row["paragraph"]) for row in rows}
    demote: list[int] = []
    newer: set[tuple[str, int]] = set()
    for answer_id, resolution, number, received_at, source in current:
        key = (resolution, number)
        if key not in keys:
            continue
        if (_aware(received_at), source or 0) > ours:
            newer.add(key)
        else:
            demote.append(answer_id)
    if demote:
        session.execute(
            update(Answer)
            .where(Answer.id.in_(demote))
            .values(current=False)
            .execution_options(synchronize_session=False)
        )
    now = clock.now()
    values = [
        {
            "cycle_id": submission.cycle_id,
            "entity_code": submission.entity_code,
            "resolution_symbol": row["resolution"],
            "paragraph_number": row["paragraph"],
            "submission_id": submission.id,
            "current": (row["resolution"], row["paragraph"]) not in newer,
            **{name: row.get(name) for name in ANSWER_FIELDS},
            "accepted_at": now,
        }
        for row in rows
    ]
    if values:  # Core executemany: one round trip for the whole return
        session.execute(insert(ANSWER_TABLE), values)
    return sum(1 for v in values if v["current"])


@dataclass
class Decision:
    """Everything validation found about one submission, ready to be recorded."""

    submission_id: int
    claim: str
    problems: list[Problem]
    unreadable: bool
    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    recipient: Recipient | None = None
    attachment: dict[str, str] | None = None
    stored: list[dict[str, Any]] | None = None

    @property
    def outcome(self) -> str:
        return outcome_of(self.problems, unreadable=self.unreadable)

    def stored_problems(self) -> list[dict[str, Any]]:
        """The report's problems, in workbook order, with their wording (computed once)."""
        if self.stored is None:
            self.problems.sort(key=sort_key)
            self.stored = [p.as_dict() for p in self.problems[:MAX_STORED_PROBLEMS]]
        return self.stored


def _feedback_context(
    session: Session, submission: Submission, decision: Decision, language: str
) -> dict[str, Any]:
    from resotrack.validation.feedback import table
    from resotrack.validation.messages import feedback_text

    stored = decision.stored_problems()
    cycle = session.get(ReportingCycle, submission.cycle_id) if submission.cycle_id else None
    entity = (
        session.get(ReportingEntity, submission.entity_code) if submission.entity_code else None
    )
    lines = table(stored[:MAX_EMAILED_PROBLEMS], language)
    severities = [p.severity for p in decision.problems[: len(lines)]]
    received = _aware(submission.received_at).strftime("%Y-%m-%d %H:%M UTC")
    return {
        "name": decision.recipient.name if decision.recipient else None,
        "entity_name": entity.name(language) if entity else (submission.entity_code or ""),
        "cycle_title": cycle.title if cycle else "",
        "file_name": submission.original_name,
        "received_text": received,
        "outcome": decision.outcome,
        "outcome_label": feedback_text(f"subject.{decision.outcome}", language),
        "answers": decision.summary.get("answers_changed", 0),
        "problems": [
            {
                "row": row,
                "paragraph": paragraph,
                "column": column,
                "message": message,
                "fix": fix,
                "severity": severity,
                "severity_label": feedback_text(f"severity.{severity}", language),
            }
            for (row, paragraph, column, message, fix), severity in zip(
                lines, severities, strict=True
            )
        ],
        "more": max(0, len(decision.problems) - len(lines)),
        "has_annotated_copy": decision.attachment is not None,
    }


def record(session: Session, decision: Decision) -> dict[str, Any]:
    """Write the decision (caller's transaction); raise :class:`ClaimLost` if not ours."""
    submission = lock_submission(session, decision.submission_id)
    claim = (submission.report or {}).get("claim", {}) if submission is not None else {}
    if submission is None or submission.state != VALIDATING or claim.get("token") != decision.claim:
        raise ClaimLost(f"submission {decision.submission_id} is no longer ours to decide")
    outcome = decision.outcome
    answers = 0
    if outcome in (ACCEPTED, ACCEPTED_WITH_WARNINGS):
        answers = store_answers(session, submission, decision.rows)
    stored = decision.stored_problems()
    decision.summary.update(
        {
            "answers_changed": answers,
            "blockers": sum(p.severity == "blocker" for p in decision.problems),
            "warnings": sum(p.severity == "warning" for p in decision.problems),
            "problems_not_listed": max(0, len(decision.problems) - len(stored)),
            "decided_at": clock.now().isoformat(),
        }
    )
    feedback: dict[str, Any] = {"sent_to": None}
    if decision.recipient is not None:
        feedback = _queue_feedback(session, submission, decision)
    decision.summary["feedback"] = feedback
    submission.report = {"outcome": outcome, "problems": stored, "summary": decision.summary}
    submission.state = outcome
    submission.decided_at = clock.now()
    audit.record(
        session,
        ACTOR,
        f"submission.{outcome}",
        f"submission:{submission.id}",
        blockers=decision.summary["blockers"],
        warnings=decision.summary["warnings"],
        answers=answers,
    )
    return {
        "submission_id": submission.id,
        "cycle_id": submission.cycle_id,
        "entity_code": submission.entity_code,
        "outcome": outcome,
        "blockers": decision.summary["blockers"],
        "warnings": decision.summary["warnings"],
        "answers_changed": answers,
    }


def _queue_feedback(session: Session, submission: Submission, decision: Decision) -> dict[str, Any]:
    from resotrack.mail import enqueue

    recipient = decision.recipient
    assert recipient is not None
    language = recipient.language if recipient.language in ("ar", "en", "fr") else "en"
    try:
        message = enqueue(
            session,
            key=f"feedback:{submission.id}",
            kind="feedback",
            template="feedback",
            language=language,
            context=_feedback_context(session, submission, decision, language),
            to=[recipient.email],
            attachments=[decision.attachment] if decision.attachment else [],
            cycle_id=submission.cycle_id,
            entity_code=submission.entity_code,
            focal_point_id=recipient.focal_point_id,
        )
    except ValueError as exc:  # a bad address: the decision stands, staff see why
        log.warning("feedback for submission %s not queued: %s", submission.id, exc)
        return {"sent_to": None, "error": str(exc)[:300]}
    return {"sent_to": recipient.email, "language": language, "outbox_id": message.id}


__all__ = [
    "ClaimLost",
    "Decision",
    "Recipient",
    "lock_submission",
    "recipient_for",
    "record",
    "store_answers",
]
