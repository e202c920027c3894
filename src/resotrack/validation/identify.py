"""Which questionnaire does a returned workbook answer? Its signed ``_meta`` sheet says.

The signature (HMAC with ``settings.secret_key``, see ``questionnaires.meta``) is what makes
the claim trustworthy; the template version says how to read the Return sheet; and the
entity and cycle must be those the upload came with: the personal link's, or for an email
reply, an entity the sender is a registered focal point of. A focal point who uploads another
entity's workbook with their own link is refused, without being told whose it is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from resotrack.questionnaires.meta import META_KEYS, SIGNATURE, verify_meta
from resotrack.questionnaires.models import Questionnaire, ReportingCycle
from resotrack.questionnaires.spec import TEMPLATE_VERSION
from resotrack.registry.focal_points import active_focal_points
from resotrack.registry.models import FocalPoint, ReportingEntity
from resotrack.tokens.models import UploadToken
from resotrack.validation.models import Submission
from resotrack.validation.report import Problem

#: Template versions this code can read. A new version adds a contract, then its number here.
KNOWN_TEMPLATES: Final = frozenset({TEMPLATE_VERSION})


@dataclass(frozen=True)
class Asked:
    """What a questionnaire asked, as validation needs it: fixed once its cycle is open."""

    questionnaire_id: int
    language: str
    #: The paragraphs, in the order of the Return sheet.
    sent: tuple[tuple[str, int], ...]
    #: The workbook as sent (None until it is built).
    workbook_sha256: str | None
    #: A return may answer part of the paragraphs (the cycle does not require a whole one).
    partial: bool = False


def asked(session: Session, cycle_id: int, entity_code: str) -> Asked | None:
    """The questionnaire of ``entity_code`` in ``cycle_id``, if there is one (one query)."""
    found = session.execute(
        select(
            Questionnaire.id,
            Questionnaire.language,
            Questionnaire.rows,
            Questionnaire.workbook_sha256,
            ReportingCycle.require_complete,
        )
        .join(ReportingCycle, ReportingCycle.id == Questionnaire.cycle_id)
        .where(Questionnaire.cycle_id == cycle_id, Questionnaire.entity_code == entity_code)
    ).one_or_none()
    if found is None:
        return None
    qid, language, rows, sha, complete = found
    sent = tuple((str(r["resolution"]), int(r["number"])) for r in rows)
    return Asked(qid, language, sent, sha, partial=not complete)


#: How :func:`match` looks a questionnaire up (the ingest remembers them for a run).
FindQuestionnaire = Callable[[Session, int, str], Asked | None]


class NotIdentified(Exception):
    """The workbook cannot be trusted to be the questionnaire it claims; ``problem`` says why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.rule)
        self.problem = problem


@dataclass(frozen=True)
class Identity:
    """What a verified ``_meta`` says."""

    questionnaire_id: int
    cycle_id: int
    entity_code: str
    language: str
    template_version: str
    row_count: int


def _as_text(value: Any) -> str:
    """A cell back as the string that was written (a spreadsheet may turn ``"12"`` into 12.0)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def meta_fields(rows: Sequence[Sequence[Any]] | None) -> dict[str, str]:
    """The ``_meta`` key/value pairs; a key written twice is tampering (which one to believe?)."""
    if rows is None:
        raise NotIdentified(Problem("identify.meta_missing"))
    fields: dict[str, str] = {}
    for row in rows:
        if len(row) < 2 or row[0] in ("", None):
            continue
        key = _as_text(row[0]).strip()
        if key in fields:
            raise NotIdentified(Problem("identify.meta_altered"))
        fields[key] = _as_text(row[1]).strip()
    return fields


def verify(fields: dict[str, str], key: bytes | Sequence[bytes]) -> Identity:
    """Check the signature (any accepted key) and the template version; raise
    :class:`NotIdentified`."""
    signature = fields.get(SIGNATURE, "")
    if not fields or not signature:
        raise NotIdentified(Problem("identify.meta_missing"))
    if any(k not in fields for k in META_KEYS) or not verify_meta(fields, signature, key):
        raise NotIdentified(Problem("identify.meta_altered"))
    version = fields["template_version"]
    if version not in KNOWN_TEMPLATES:
        raise NotIdentified(
            Problem(
                "identify.template_version",
                values={"found": version, "expected": ", ".join(sorted(KNOWN_TEMPLATES))},
            )
        )
    try:
        return Identity(
            questionnaire_id=int(fields["questionnaire_id"]),
            cycle_id=int(fields["cycle_id"]),
            entity_code=fields["entity_code"].strip(),  # signed: as registered (IsDB)
            language=fields["language"],
            template_version=version,
            row_count=int(fields["row_count"]),
        )
    except ValueError as exc:  # signed by us, so this is a bug, but never crash on it
        raise NotIdentified(Problem("identify.meta_altered")) from exc


def _entity_names(session: Session, code: str) -> dict[str, str] | str:
    entity = session.get(ReportingEntity, code)
    if entity is None:
        return code
    return {lang: entity.name(lang) for lang in ("ar", "en", "fr")}


@dataclass(frozen=True)
class Upload:
    """What a workbook came with: the entity and cycle it should answer (its personal link's,
    or as intake decided from the sender), and how it came."""

    entity_code: str | None
    cycle_id: int | None
    channel: str
    sender: str | None
    by_link: bool


def upload_of(session: Session, submission: Submission) -> Upload:
    """The submission's :class:`Upload`; a link's grant is read again (it names the entity)."""
    entity, cycle = submission.entity_code, submission.cycle_id
    if submission.token_id is not None:
        token = session.get(UploadToken, submission.token_id)
        if token is not None:
            entity, cycle = token.entity_code, token.cycle_id
    return Upload(
        entity_code=entity,
        cycle_id=cycle,
        channel=submission.channel,
        sender=submission.sender,
        by_link=submission.token_id is not None,
    )


def match(
    session: Session, upload: Upload, identity: Identity, *, find: FindQuestionnaire = asked
) -> Asked:
    """The questionnaire this upload answers, if the upload may answer it.

    The entity and cycle must be the upload's (see :func:`upload_of`), and an email's sender
    must be a focal point of the workbook's entity. Reads the database only when it must
    (an email's sender, a refusal's wording, a questionnaire ``find`` does not know).
    """
    expected_entity, expected_cycle = upload.entity_code, upload.cycle_id
    if expected_entity is not None and identity.entity_code != expected_entity:
        raise NotIdentified(
            Problem(
                "identify.wrong_entity", values={"entity": _entity_names(session, expected_entity)}
            )
        )
    if expected_cycle is not None and identity.cycle_id != expected_cycle:
        raise NotIdentified(
            Problem(
                "identify.wrong_cycle",
                values={"found": identity.cycle_id, "expected": expected_cycle},
            )
        )
    if upload.channel == "email" and upload.sender and not upload.by_link:
        senders = focal_points(session, upload.sender, identity.entity_code)
        if not senders:
            raise NotIdentified(
                Problem(
                    "identify.sender",
                    values={"entity": _entity_names(session, identity.entity_code)},
                )
            )
    questionnaire = find(session, identity.cycle_id, identity.entity_code)
    if (
        questionnaire is None
        or questionnaire.questionnaire_id != identity.questionnaire_id
        or len(questionnaire.sent) != identity.row_count
    ):
        raise NotIdentified(
            Problem("identify.unknown_questionnaire", values={"found": identity.questionnaire_id})
        )
    return questionnaire


def focal_points(session: Session, address: str, entity_code: str) -> list[FocalPoint]:
    """Active focal points of ``entity_code`` with this address (case-insensitive)."""
    return active_focal_points(session, entity_code, email=address)


__all__ = [
    "KNOWN_TEMPLATES",
    "Asked",
    "Identity",
    "NotIdentified",
    "Upload",
    "asked",
    "match",
    "meta_fields",
    "upload_of",
    "verify",
]
