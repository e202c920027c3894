"""Whose return is it? For channels without a personal link (email, drop folder, CLI).

A workbook carries a signed identity card, the ``_meta`` sheet written by the questionnaires
stage; a mail also has a sender address that must belong to a focal point of that entity.
Reading and checking the card goes through the questionnaires stage's own functions.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from resotrack.settings import get_settings
from resotrack.store.models import FocalPoint, Questionnaire, ReportingCycle


class Unidentified(ValueError):
    """The workbook does not say, credibly, which questionnaire it answers."""


@dataclass(frozen=True)
class Identity:
    """What a workbook's signed ``_meta`` sheet says it answers."""

    entity_code: str
    cycle_id: int
    questionnaire_id: int | None
    language: str | None


def identify_workbook(data: bytes) -> Identity:
    """The entity and cycle of a returned workbook, from its ``_meta`` sheet, signature checked.

    Raises :class:`Unidentified` with a reason staff can read.
    """
    from resotrack.questionnaires.meta import MetaError, read_meta, verify_meta

    try:
        fields = read_meta(data)
    except MetaError as exc:
        raise Unidentified(f"not one of our questionnaires: {exc}") from exc
    signature = fields.get("signature", "")
    keys = [k.encode("utf-8") for k in get_settings().verification_keys]
    if not signature or not verify_meta(fields, signature, keys):
        raise Unidentified("the workbook's _meta sheet was altered (its signature does not match)")
    entity = fields.get("entity_code", "").strip()  # signed: as registered (IsDB)
    try:
        cycle_id = int(fields.get("cycle_id", ""))
    except ValueError as exc:
        raise Unidentified("the workbook's _meta sheet has no cycle_id") from exc
    if not entity:
        raise Unidentified("the workbook's _meta sheet has no entity_code")
    questionnaire = fields.get("questionnaire_id", "")
    return Identity(
        entity_code=entity,
        cycle_id=cycle_id,
        questionnaire_id=int(questionnaire) if questionnaire.isdigit() else None,
        language=fields.get("language") or None,
    )


def focal_points_for(session: Session, email: str) -> list[FocalPoint]:
    """Active focal points (any role) with this address, case-insensitively."""
    address = email.strip().lower()
    if not address:
        return []
    return list(
        session.scalars(
            select(FocalPoint)
            .where(func.lower(FocalPoint.email) == address, FocalPoint.active.is_(True))
            .order_by(FocalPoint.id)
        )
    )


def has_questionnaire(session: Session, entity_code: str, cycle_id: int) -> bool:
    """Whether the entity was asked to report in that cycle (and the cycle is not closed)."""
    found = session.scalar(
        select(Questionnaire.id)
        .join(ReportingCycle, ReportingCycle.id == Questionnaire.cycle_id)
        .where(
            Questionnaire.entity_code == entity_code,
            Questionnaire.cycle_id == cycle_id,
            ReportingCycle.state != "closed",
        )
    )
    return found is not None


def open_cycles_for(session: Session, entity_code: str) -> list[int]:
    """Cycles, not closed, in which the entity has a questionnaire; newest first."""
    return list(
        session.scalars(
            select(ReportingCycle.id)
            .join(Questionnaire, Questionnaire.cycle_id == ReportingCycle.id)
            .where(Questionnaire.entity_code == entity_code, ReportingCycle.state != "closed")
            .order_by(ReportingCycle.id.desc())
        )
    )
