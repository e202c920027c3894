"""A submission's life: its states, the sets other stages ask about, and which upload wins.

States, in the order a submission moves through them::

    received → validating → accepted | accepted_with_warnings | refused | unreadable
    accepted | accepted_with_warnings → correction_requested (staff review)

Every stage that asks "has this entity returned?" or "which return counts?" asks here, and
``Submission.state`` and ``Submission.report`` are written only by the validation stage's
functions (``ingest``, ``decide``, ``quick`` and :func:`request_correction` below).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from sqlalchemy import ColumnElement, and_, or_, select

from resotrack.catalog import NP_, ValueNames
from resotrack.validation.models import Submission

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class SubmissionState(StrEnum):
    """``Submission.state``; the members compare equal to the strings stored."""

    RECEIVED = "received"  # stored by intake, waiting for validation
    VALIDATING = "validating"  # claimed by one ingest run (report carries the claim)
    ACCEPTED = "accepted"  # answers stored, nothing to say
    ACCEPTED_WITH_WARNINGS = "accepted_with_warnings"  # answers stored, sender told why
    REFUSED = "refused"  # readable, but not an acceptable return: nothing stored
    UNREADABLE = "unreadable"  # not a workbook we can safely open: nothing stored
    CORRECTION_REQUESTED = "correction_requested"  # accepted, then sent back by staff


S = SubmissionState

#: What a submission's state is called (``superseded``, ``rejected`` and ``failed`` are states
#: older rows may still carry); validation's outcomes are the decided states among them.
SUBMISSION_STATES: Final = ValueNames(
    "submission state",
    {
        S.RECEIVED: NP_("submission state", "received"),
        S.VALIDATING: NP_("submission state", "being checked"),
        S.ACCEPTED: NP_("submission state", "accepted"),
        S.ACCEPTED_WITH_WARNINGS: NP_("submission state", "accepted with warnings"),
        S.REFUSED: NP_("submission state", "refused"),
        S.UNREADABLE: NP_("submission state", "unreadable"),
        S.CORRECTION_REQUESTED: NP_("submission state", "correction requested"),
        "superseded": NP_("submission state", "superseded"),
        "rejected": NP_("submission state", "rejected"),
        "failed": NP_("submission state", "check failed"),
    },
)
#: What each channel a return comes by is called (``Submission.channel``).
CHANNELS: Final = ValueNames(
    "channel",
    {
        "portal": NP_("channel", "portal"),
        "email": NP_("channel", "email"),
        "dropfolder": NP_("channel", "drop folder"),
        "cli": NP_("channel", "command line"),
    },
)

#: Not decided yet: intake stored it, validation has not finished with it.
PENDING: Final = frozenset({S.RECEIVED, S.VALIDATING})
#: What validation itself decides, in this order.
FINAL: Final = (S.ACCEPTED, S.ACCEPTED_WITH_WARNINGS, S.REFUSED, S.UNREADABLE)
#: The answers were stored and stand: the entity has returned.
ANSWERS_STORED: Final = frozenset({S.ACCEPTED, S.ACCEPTED_WITH_WARNINGS})
#: The answers were stored, even if staff sent the return back since.
VALIDATED: Final = ANSWERS_STORED | {S.CORRECTION_REQUESTED}
#: Sent back (staff) or refused (validation): the entity owes a corrected return.
NEEDS_CORRECTION: Final = frozenset({S.REFUSED, S.UNREADABLE, S.CORRECTION_REQUESTED})
#: Sent back by staff after being validated.
REOPENED: Final = frozenset({S.CORRECTION_REQUESTED})


def upload_order(submission: Submission) -> tuple[datetime, int]:
    """Where an upload stands among its entity's: the newest upload wins, by the time it was
    received (not by the time it was validated), then by id."""
    return (submission.received_at, submission.id)


def received_after(submission: Submission) -> ColumnElement[bool]:
    """SQL: a submission that comes after ``submission`` in :func:`upload_order`."""
    return or_(
        Submission.received_at > submission.received_at,
        and_(Submission.received_at == submission.received_at, Submission.id > submission.id),
    )


def newer_validated(session: Session, submission: Submission) -> int | None:
    """The newest validated return of the same entity and cycle that beats ``submission``."""
    return session.scalar(
        select(Submission.id)
        .where(
            Submission.cycle_id == submission.cycle_id,
            Submission.entity_code == submission.entity_code,
            Submission.state.in_(VALIDATED),
            received_after(submission),
        )
        .order_by(Submission.received_at.desc(), Submission.id.desc())
        .limit(1)
    )


def request_correction(submission: Submission) -> None:
    """Staff send a validated return back: its answers stay, the entity owes a new one."""
    if submission.state not in ANSWERS_STORED:
        raise ValueError(f"submission {submission.id} is {submission.state}, not validated")
    submission.state = S.CORRECTION_REQUESTED
