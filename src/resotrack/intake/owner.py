"""Whose return is it? For channels without a personal link (email, drop folder, CLI).

(``validation.identify`` is another question: which questionnaire a return answers.)

A workbook carries a signed identity card, the ``_meta`` sheet written by the questionnaires
stage; a mail also has a sender address that must belong to a focal point of that entity.

The card is read the way the portal and the ingest read a return: in a sandboxed reader
process (``validation.sandbox``), after the package checks of ``validation.read`` (extent,
cells, inflation ratio, active content) and under the same time and memory limits. A file
that would make a reader allocate half a terabyte is refused before any parser sees it, and
one that kills or stalls a reader costs that disposable process, never the poll.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from resotrack.questionnaires.models import Questionnaire, ReportingCycle
from resotrack.registry.focal_points import active_focal_points
from resotrack.registry.models import FocalPoint
from resotrack.settings import get_settings
from resotrack.validation.report import Problem


class Unidentified(ValueError):
    """The workbook does not say, credibly, which questionnaire it answers."""


class Refused(Unidentified):
    """The sandboxed reader refused the workbook (size, extent, active content) or gave up on
    it (time, memory); ``problem`` is the validation stage's, worded in three languages."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        detail = problem.values.get("detail")
        super().__init__(self.words("en") + (f" ({detail})" if detail else ""))

    @property
    def rule(self) -> str:
        return self.problem.rule

    def words(self, language: str) -> str:
        """What is wrong and how to fix it, in ``language`` (ar, en or fr)."""
        from resotrack.validation.messages import describe

        message, fix = describe(self.problem)
        lang = language if language in message else "en"
        return f"{message[lang]} {fix[lang]}"


class ReaderGaveUp(Refused):
    """The reader died or ran out of time on this workbook: it may stop the intake again."""


@dataclass(frozen=True)
class Identity:
    """What a workbook's signed ``_meta`` sheet says it answers."""

    entity_code: str
    cycle_id: int
    questionnaire_id: int | None
    language: str | None


def identify_workbook(data: bytes) -> Identity:
    """The entity and cycle of a returned workbook, from its ``_meta`` sheet, signature checked.

    Raises :class:`Refused` (or :class:`ReaderGaveUp`) when the sandboxed reader will not
    read it, :class:`Unidentified` with a reason staff can read when it is not ours.
    """
    from resotrack.questionnaires.meta import verify_meta
    from resotrack.validation.identify import NotIdentified, meta_fields

    try:
        fields = meta_fields(read_guarded(data))
    except NotIdentified as exc:
        reason = (
            "it has no _meta sheet"
            if exc.problem.rule == "identify.meta_missing"
            else "its _meta sheet lists a key twice"
        )
        raise Unidentified(f"not one of our questionnaires: {reason}") from exc
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


def read_guarded(data: bytes) -> list[list[Any]] | None:
    """The ``_meta`` rows of an untrusted workbook, read in a sandboxed reader with the
    validation limits; raise :class:`Refused` or :class:`ReaderGaveUp`."""
    from resotrack.validation.config import settings
    from resotrack.validation.read import decode_rows
    from resotrack.validation.sandbox import ReaderLost, shared_sandbox
    from resotrack.validation.steps import request

    try:
        answer = shared_sandbox().call("read", data, request(None, settings()))
    except ReaderLost as lost:
        raise ReaderGaveUp(Problem("read.too_slow", values={"detail": lost.reason})) from lost
    if not answer.get("ok"):
        rule = str(answer.get("rule") or "read.damaged")
        problem = Problem(rule, values=answer.get("values") or {})
        raise ReaderGaveUp(problem) if answer.get("recycle") else Refused(problem)
    return decode_rows(answer.get("meta_rows"))


def focal_points_for(session: Session, email: str) -> list[FocalPoint]:
    """Active focal points (any role) with this address, case-insensitively."""
    return active_focal_points(session, email=email)


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
