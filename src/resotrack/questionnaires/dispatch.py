"""Dispatch: build every questionnaire of a waiting cycle and queue one email per focal point.

Each step is idempotent: a workbook is built once and kept in the blob store, an email is
queued under a key (cycle, entity, focal point, kind), and the outbox sends each at most
once. A crash anywhere is mended by running dispatch again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from resotrack import audit, catalog, clock
from resotrack.mail import enqueue
from resotrack.mail.config import mail_settings
from resotrack.questionnaires.dates import format_deadline
from resotrack.questionnaires.i18n import as_language
from resotrack.questionnaires.models import CycleResolution, Questionnaire, ReportingCycle
from resotrack.questionnaires.spec import ANSWER_FIELDS, QuestionnaireSpec, QuestionRow
from resotrack.questionnaires.template import build_cycle_workbook
from resotrack.questionnaires.workbook import questionnaire_filename
from resotrack.registry import grammar
from resotrack.registry.focal_points import active_focal_points
from resotrack.registry.models import FocalPoint
from resotrack.resolutions.models import OperativeParagraph, ResolutionVersion
from resotrack.settings import get_settings
from resotrack.store.blobs import blob_store

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class DispatchSummary:
    """What a dispatch did, and every registry problem the Secretariat must fix."""

    cycle_id: int
    questionnaires: int = 0
    queued: int = 0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "cycle_id": self.cycle_id,
            "questionnaires": self.questionnaires,
            "queued": self.queued,
            "problems": self.problems,
        }


def _paragraphs(cycle: ReportingCycle) -> dict[tuple[str, int], OperativeParagraph]:
    return {
        (link.version.resolution.symbol, p.number): p
        for link in cycle.resolutions
        for p in link.version.paragraphs
    }


#: The entity's newest accepted answer per paragraph from cycles before the given one, field by
#: field: (session, cycle id, entity code) → {(resolution symbol, paragraph number): values}.
#: Answers are validation's, a stage above this one: the caller hands its reader in
#: (``resotrack.validation.answers.earlier_answers``).
EarlierAnswers = Callable[[Session, int, str], Mapping[tuple[str, int], Mapping[str, Any]]]


def carried_forward(
    session: Session,
    cycle: ReportingCycle,
    questionnaire: Questionnaire,
    earlier: Mapping[tuple[str, int], Mapping[str, Any]],
) -> dict[tuple[str, int], tuple[Mapping[str, Any], str]]:
    """For paragraphs that renew an earlier one (lineage), the entity's last accepted answer
    to that predecessor and the note that says so, in the questionnaire's language."""
    from resotrack.catalog import Words, language
    from resotrack.resolutions.lineage import predecessors

    words = Words(language(questionnaire.language), "lineage")
    found: dict[tuple[str, int], tuple[Mapping[str, Any], str]] = {}
    for link in cycle.resolutions:
        symbol = link.version.resolution.symbol
        for number, predecessor in predecessors(session, link.version.id).items():
            answer = earlier.get(predecessor)
            if answer is not None:
                found[(symbol, number)] = (
                    answer,
                    words(
                        "Last cycle's answer to {resolution}, paragraph {number}, which this "
                        "paragraph renews: please confirm or update it.",
                        resolution=predecessor[0],
                        number=words.number(predecessor[1]),
                    ),
                )
    return found


def questionnaire_spec(
    session: Session,
    cycle: ReportingCycle,
    questionnaire: Questionnaire,
    *,
    earlier_answers: EarlierAnswers,
) -> QuestionnaireSpec:
    """Everything the workbook needs, read from the pinned resolution versions; prefilled
    with what ``earlier_answers`` gives."""
    paragraphs = _paragraphs(cycle)
    earlier = earlier_answers(session, cycle.id, questionnaire.entity_code)
    renewed = carried_forward(session, cycle, questionnaire, earlier)
    rows = []
    for row in questionnaire.rows:
        key = (row["resolution"], row["number"])
        paragraph = paragraphs[key]
        answer = earlier.get(key)
        note = None
        if answer is None and key in renewed:
            answer, note = renewed[key]
        prefill = {name: answer[name] for name in ANSWER_FIELDS} if answer is not None else {}
        rows.append(
            QuestionRow(
                resolution=row["resolution"],
                number=paragraph.number,
                section=paragraph.section_letter,
                verb=" | ".join(a.verb for a in paragraph.actions),
                text=paragraph.text,
                prefill=prefill,
                note=note,
            )
        )
    return QuestionnaireSpec(
        questionnaire_id=questionnaire.id,
        cycle_id=cycle.id,
        entity_code=questionnaire.entity_code,
        entity_name=questionnaire.entity.name(questionnaire.language),
        language=as_language(questionnaire.language),
        deadline=cycle.deadline,
        upload_url=None,
        reply_to=mail_settings().from_address,
        template_version=questionnaire.template_version,
        rows=tuple(rows),
    )


def build_questionnaire(
    session: Session,
    cycle: ReportingCycle,
    q: Questionnaire,
    *,
    earlier_answers: EarlierAnswers,
) -> bytes:
    """Build the workbook bytes (deterministic in content; not stored).

    Through the cycle's Return-rows template: a cycle's questionnaires are built one after
    another in one process, and entities of a language share their rows (see template.py).
    """
    key = get_settings().secret_key.get_secret_value().encode("utf-8")
    spec = questionnaire_spec(session, cycle, q, earlier_answers=earlier_answers)
    return build_cycle_workbook(spec, signing_key=key)


def ensure_built(
    session: Session,
    cycle: ReportingCycle,
    q: Questionnaire,
    *,
    earlier_answers: EarlierAnswers,
) -> str:
    """The questionnaire's workbook in the blob store; built once, then reused as sent."""
    if q.workbook_sha256 and blob_store().exists(q.workbook_sha256):
        return q.workbook_sha256
    data = build_questionnaire(session, cycle, q, earlier_answers=earlier_answers)
    q.workbook_sha256 = blob_store().put(data)
    q.built_at = clock.now()
    return q.workbook_sha256


def load_cycle(session: Session, cycle_id: int) -> ReportingCycle:
    cycle = session.scalar(
        select(ReportingCycle)
        .where(ReportingCycle.id == cycle_id)
        .options(
            selectinload(ReportingCycle.questionnaires).selectinload(Questionnaire.entity),
            selectinload(ReportingCycle.resolutions)
            .selectinload(CycleResolution.version)
            .selectinload(ResolutionVersion.paragraphs)
            .selectinload(OperativeParagraph.actions),
        )
    )
    if cycle is None:
        raise LookupError(f"there is no cycle {cycle_id}")
    return cycle


def _good_address(address: str) -> bool:
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def dispatch_cycle(
    session: Session,
    cycle_id: int,
    *,
    earlier_answers: EarlierAnswers,
    actor: str = "dispatch",
) -> DispatchSummary:
    """Build and queue a cycle's questionnaires; the cycle becomes ``open``."""
    cycle = load_cycle(session, cycle_id)
    summary = DispatchSummary(cycle.id)
    people = active_focal_points(session, [q.entity_code for q in cycle.questionnaires])
    by_entity: dict[str, list[FocalPoint]] = {}
    for person in people:
        by_entity.setdefault(person.entity_code, []).append(person)

    for q in cycle.questionnaires:
        sha = ensure_built(session, cycle, q, earlier_answers=earlier_answers)
        summary.questionnaires += 1
        entity = q.entity
        contacts = by_entity.get(q.entity_code, [])
        cc = [p.email for p in contacts if p.role == "cc" and _good_address(p.email)]
        recipients = [p for p in contacts if p.role == "focal_point"]
        for bad in (p for p in contacts if not _good_address(p.email)):
            summary.problems.append(
                f"{entity.name_en} ({entity.code}): focal point {bad.name} has a bad "
                f"address {bad.email!r}; nothing was sent to it"
            )
        recipients = [p for p in recipients if _good_address(p.email)]
        if not recipients:
            summary.problems.append(
                f"{entity.name_en} ({entity.code}) has no active focal point with a valid "
                "address; its questionnaire was not sent"
            )
            continue
        for person in recipients:
            enqueue(
                session,
                key=f"questionnaire:{cycle.id}:{q.entity_code}:{person.id}",
                kind="questionnaire",
                template="questionnaire",
                language=person.language,
                context={
                    "name": person.name,
                    **grammar.words(entity, catalog.language(person.language)).fields(),
                    "cycle_title": cycle.title,
                    "deadline_text": format_deadline(cycle.deadline, as_language(person.language)),
                    "paragraphs": len(q.rows),
                    "upload_link": {"focal_point_id": person.id, "cycle_id": cycle.id},
                },
                to=[person.email],
                cc=cc,
                attachments=[
                    {
                        "filename": questionnaire_filename(cycle.id, q.entity_code),
                        "sha256": sha,
                        "content_type": XLSX,
                    }
                ],
                cycle_id=cycle.id,
                entity_code=q.entity_code,
                focal_point_id=person.id,
            )
            summary.queued += 1

    secretariat = mail_settings().secretariat
    if secretariat:
        enqueue(
            session,
            key=f"dispatch_summary:{cycle.id}",
            kind="dispatch_summary",
            template="dispatch_summary",
            language="en",
            context={"cycle_title": cycle.title, "cycle_id": cycle.id, **summary.as_dict()},
            to=list(secretariat),
            cycle_id=cycle.id,
        )
    if cycle.state == "waiting":
        cycle.state = "open"
        cycle.dispatched_at = clock.now()
        audit.record(session, actor, "cycle.dispatched", f"cycle {cycle.id}", **summary.as_dict())
    return summary


def waiting_cycles(session: Session) -> list[int]:
    return list(
        session.scalars(
            select(ReportingCycle.id)
            .where(ReportingCycle.state == "waiting")
            .order_by(ReportingCycle.id)
        )
    )


__all__ = [
    "DispatchSummary",
    "EarlierAnswers",
    "build_questionnaire",
    "dispatch_cycle",
    "dispatch_pending",
    "ensure_built",
    "questionnaire_spec",
    "waiting_cycles",
]


def dispatch_pending(
    *, earlier_answers: EarlierAnswers, only: int | None = None
) -> list[dict[str, Any]]:
    """Dispatch every waiting cycle (or just ``only``), then deliver the outbox.

    The DAG calls this on a trigger and on its sweep; each cycle commits on its own, so one
    bad cycle does not hold back the others, and a re-run resumes where a crash stopped.
    """
    from resotrack.mail import send_pending
    from resotrack.store import session_scope

    with session_scope() as session:
        cycle_ids = [only] if only is not None else waiting_cycles(session)
    summaries = []
    for cycle_id in cycle_ids:
        with session_scope() as session:
            summary = dispatch_cycle(session, cycle_id, earlier_answers=earlier_answers)
            summaries.append(summary.as_dict())
    send_pending()
    return summaries
