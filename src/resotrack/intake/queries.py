"""What staff and focal points read about returns: submissions and the mail quarantine."""

from __future__ import annotations

from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from resotrack.catalog import NP_, ValueNames
from resotrack.intake.models import InboundMail
from resotrack.validation.models import Submission

#: What an inbound message's state is called.
INBOUND_MAIL_STATES: Final = ValueNames(
    "inbound mail state",
    {
        "processed": NP_("inbound mail state", "processed"),
        "quarantined": NP_("inbound mail state", "quarantined"),
    },
)


def list_submissions(
    session: Session, cycle_id: int, entity_code: str | None = None
) -> list[Submission]:
    """A cycle's submissions (one entity's if given), newest first."""
    query = select(Submission).where(Submission.cycle_id == cycle_id)
    if entity_code is not None:
        query = query.where(Submission.entity_code == entity_code)
    return list(session.scalars(query.order_by(Submission.id.desc())))


def list_quarantine(session: Session, *, include_all: bool = False) -> list[InboundMail]:
    """Quarantined mail (or every inbound message with ``include_all``), newest first."""
    query = select(InboundMail)
    if not include_all:
        query = query.where(InboundMail.state == "quarantined")
    return list(session.scalars(query.order_by(InboundMail.id.desc())))


def get_inbound_mail(session: Session, mail_id: int) -> InboundMail:
    row = session.get(InboundMail, mail_id)
    if row is None:
        raise LookupError(f"there is no inbound mail #{mail_id}")
    return row


def get_submission(session: Session, submission_id: int) -> Submission:
    row = session.get(Submission, submission_id)
    if row is None:
        raise LookupError(f"there is no submission #{submission_id}")
    return row
