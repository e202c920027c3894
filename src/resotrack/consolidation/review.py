"""Staff review of a validated return: accept it, or send it back with a comment.

Sending a return back reopens it: the submission becomes ``correction_requested``, its
answers stop counting in the tables (the entity owes a return again, so reminders and the
non-reporting list pick it up), and each focal point of the entity gets the comment by email
through the outbox, with a fresh personal upload link. Only the entity's newest validated
return (by reception time, as the validation stage orders them) can be sent back: an older one
is already superseded.

The emails use the mail module's ``notice`` template (subject and paragraphs written here in
the focal point's language), as the intake's receipts do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from resotrack import audit, catalog
from resotrack.catalog import N_
from resotrack.consolidation.models import SubmissionReview
from resotrack.questionnaires.models import ReportingCycle
from resotrack.registry import grammar
from resotrack.registry.focal_points import active_focal_points
from resotrack.registry.models import ReportingEntity
from resotrack.validation import lifecycle
from resotrack.validation.models import Submission

ACCEPTED: Final = lifecycle.ANSWERS_STORED
CORRECTION_REQUESTED: Final = lifecycle.SubmissionState.CORRECTION_REQUESTED
MAX_COMMENT: Final = 4000


class ReviewError(ValueError):
    """A review that cannot be made; the message says why and what to do. ``message`` is a
    message id of the ``staff`` domain (the dashboard shows it in the page's language) and
    ``values`` its fields; ``str()`` is the English sentence."""

    def __init__(self, message: str, **values: Any) -> None:
        super().__init__(message.format(**values))
        self.message = message
        self.values = values


@dataclass
class ReviewResult:
    """What a review did (JSON-ready)."""

    submission_id: int
    cycle_id: int | None
    entity_code: str | None
    decision: str
    state: str
    messages: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "submission_id": self.submission_id,
            "cycle_id": self.cycle_id,
            "entity_code": self.entity_code,
            "decision": self.decision,
            "state": self.state,
            "messages": self.messages,
            "warnings": self.warnings,
        }


# The ``mail`` catalog domain's words for this email (``make catalogs`` extracts them).
_SUBJECT: Final = N_("Correction requested: your return for {cycle}")
_INTRO: Final = N_(
    "The Secretariat has reviewed the return of {entity} for “{cycle}” (file {file}, received "
    "on {received}) and asks you to correct it. The reviewer's comment:"
)
_OUTRO: Final = N_(
    "Please send the corrected workbook through your personal link below, or reply to this "
    "message with it attached. Until a corrected return is accepted, {entity} is counted as "
    "not having reported."
)


def correction_message(
    language: str,
    *,
    entity: str,
    cycle: str,
    file: str,
    received: str,
    comment: str,
    entity_words: Mapping[str, str] | None = None,
) -> tuple[str, list[str]]:
    """Subject and paragraphs of the correction request, in ``language`` (English if unknown).

    ``entity_words``: the entity named in every form (``registry.grammar``), so that French
    reads "le rapport du Bénin"; without them, ``entity`` is used as it is.
    """
    lang = catalog.language(language)
    names = dict(entity_words or grammar.fields("", "institution", {lang: entity}, lang))
    values = {**names, "cycle": cycle, "file": file, "received": received}
    quoted = [part.strip() for part in comment.replace("\r\n", "\n").split("\n\n") if part.strip()]
    words = catalog.Words(lang, "mail")
    return words(_SUBJECT, **values), [words(_INTRO, **values), *quoted, words(_OUTRO, **values)]


def _good_address(address: str) -> bool:
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def _submission(session: Session, submission_id: int) -> Submission:
    submission = session.get(Submission, submission_id, with_for_update=True)
    if submission is None:
        raise ReviewError("there is no submission {id}", id=submission_id)
    return submission


def _record(
    session: Session, submission: Submission, decision: str, reviewer: str, comment: str | None
) -> None:
    session.add(
        SubmissionReview(
            submission_id=submission.id,
            decision=decision,
            comment=comment,
            reviewer=reviewer,
            previous_state=submission.state,
        )
    )


def _clean(comment: str | None) -> str | None:
    if comment is None or not comment.strip():
        return None
    text = comment.strip()
    if len(text) > MAX_COMMENT:
        raise ReviewError(
            "the comment is {length} characters long; at most {limit}",
            length=len(text),
            limit=MAX_COMMENT,
        )
    return text


def accept_submission(
    session: Session, submission_id: int, *, reviewer: str, comment: str | None = None
) -> ReviewResult:
    """Record that staff accept a validated return as it is (its state does not change)."""
    submission = _submission(session, submission_id)
    if submission.state not in ACCEPTED:
        raise ReviewError(
            "submission {id} is {state}; only a validated return (accepted or accepted with "
            "warnings) can be accepted by staff",
            id=submission_id,
            state=submission.state,
        )
    text = _clean(comment)
    _record(session, submission, "accepted", reviewer, text)
    audit.record(
        session,
        reviewer,
        "submission.review_accepted",
        f"submission:{submission.id}",
        entity=submission.entity_code,
        cycle_id=submission.cycle_id,
        comment=text,
    )
    return ReviewResult(
        submission.id, submission.cycle_id, submission.entity_code, "accepted", submission.state
    )


def request_correction(
    session: Session, submission_id: int, *, reviewer: str, comment: str
) -> ReviewResult:
    """Send a return back with ``comment``: reopen it and email the entity's focal points.

    Asking again for a return already sent back changes nothing (no second email).
    """
    from resotrack.mail import enqueue

    text = _clean(comment)
    if text is None:
        raise ReviewError("say what must be corrected: the comment is sent to the focal point")
    submission = _submission(session, submission_id)
    if submission.state == CORRECTION_REQUESTED:
        return ReviewResult(
            submission.id,
            submission.cycle_id,
            submission.entity_code,
            CORRECTION_REQUESTED,
            submission.state,
            warnings=["a correction was already requested for this return; nothing was sent"],
        )
    if submission.state not in ACCEPTED:
        raise ReviewError(
            "submission {id} is {state}; only a validated return (accepted or accepted with "
            "warnings) can be sent back for correction",
            id=submission_id,
            state=submission.state,
        )
    if submission.cycle_id is None or submission.entity_code is None:
        raise ReviewError(
            "submission {id} was never matched to a cycle and entity", id=submission_id
        )
    newer = lifecycle.newer_validated(session, submission)
    if newer is not None:
        raise ReviewError(
            "submission {id} has been superseded by submission {newer}; review that one instead",
            id=submission_id,
            newer=newer,
        )

    _record(session, submission, CORRECTION_REQUESTED, reviewer, text)
    lifecycle.request_correction(submission)
    audit.record(
        session,
        reviewer,
        "submission.correction_requested",
        f"submission:{submission.id}",
        entity=submission.entity_code,
        cycle_id=submission.cycle_id,
        comment=text,
    )

    cycle = session.get(ReportingCycle, submission.cycle_id)
    entity = session.get(ReportingEntity, submission.entity_code)
    assert cycle is not None and entity is not None  # foreign keys
    people = active_focal_points(session, entity.code)
    cc = [p.email for p in people if p.role == "cc" and _good_address(p.email)]
    result = ReviewResult(
        submission.id, cycle.id, entity.code, CORRECTION_REQUESTED, submission.state
    )
    recipients = [p for p in people if p.role == "focal_point" and _good_address(p.email)]
    if not recipients:
        result.warnings.append(
            f"{entity.name_en} ({entity.code}) has no active focal point with a valid address: "
            "nobody was emailed; contact them another way"
        )
    for person in recipients:
        subject, paragraphs = correction_message(
            person.language,
            entity=entity.name(person.language),
            entity_words=grammar.words(entity, catalog.language(person.language)).fields(),
            cycle=cycle.title,
            file=submission.original_name,
            received=f"{submission.received_at:%Y-%m-%d %H:%M} UTC",
            comment=text,
        )
        row = enqueue(
            session,
            key=f"correction_request:{submission.id}:{person.id}",
            kind="correction_request",
            template="notice",
            language=person.language,
            context={
                "name": person.name,
                "subject": subject,
                "paragraphs": paragraphs,
                "upload_link": {"focal_point_id": person.id, "cycle_id": cycle.id},
            },
            to=[person.email],
            cc=cc,
            cycle_id=cycle.id,
            entity_code=entity.code,
            focal_point_id=person.id,
        )
        result.messages.append(row.id)
    return result


def reviews_of(session: Session, submission_id: int) -> list[SubmissionReview]:
    return list(
        session.scalars(
            select(SubmissionReview)
            .where(SubmissionReview.submission_id == submission_id)
            .order_by(SubmissionReview.id)
        )
    )
