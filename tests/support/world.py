"""The steps every test world is built from, written once (helpers, no tests here).

A test world is a reporting cycle on the configured database: the registry's entities, a
seed resolution, focal points, a cycle that asks some entities about its paragraphs, the
questionnaires built as dispatch leaves them, and returns accepted with their answers.
:class:`World` holds those steps; each test area's world (``report_world``,
``reminders_world``, ``recovery_world``, ``return_fixtures``, ``intake_world``,
``consolidation_world`` and the worlds of a few test modules) subclasses it, adds the fields
its tests read, and scripts its own story with the steps here.

The steps that come before a cycle exists are static; those on a cycle are available both
with an explicit cycle id (while building) and on a world (``world.spec(entity)``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from resotrack.mail import enqueue
from resotrack.questionnaires.cycles import open_cycle
from resotrack.questionnaires.dispatch import ensure_built, load_cycle, questionnaire_spec
from resotrack.questionnaires.models import Questionnaire
from resotrack.questionnaires.spec import QuestionnaireSpec
from resotrack.registry import import_focal_points, sync_entities
from resotrack.registry.models import ReportingEntity
from resotrack.resolutions import import_file
from resotrack.store import session_scope
from resotrack.validation.answers import earlier_answers
from resotrack.validation.models import Answer, Submission

REPO: Final = Path(__file__).resolve().parents[2]
SEED_004: Final = REPO.parent / "shared" / "seeds" / "004_7627369674135aea.txt"
#: The symbol of seed 004.
SYMBOL: Final = "OIC/MCSD-2/2023/RES/FINAL"
#: The workbooks' creation date: the same arguments give the same bytes, whatever the time.
CREATED: Final = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
FOCAL_HEADER: Final = "entity,name,email,language,role"


def fp_email(code: str) -> str:
    """The focal point address the worlds give an entity."""
    return f"fp.{code.lower()}@gov.example.org"


@dataclass(frozen=True)
class Built:
    """A questionnaire built and stored."""

    questionnaire_id: int
    sha256: str
    spec: QuestionnaireSpec | None = None


class World:
    """A reporting cycle built for tests; subclasses are dataclasses with a ``cycle_id``."""

    cycle_id: int

    # --- entities and focal points ------------------------------------------------------

    @staticmethod
    def register_entities(session: Session | None = None) -> None:
        """The registry's reporting entities (member states and institutions)."""
        if session is not None:
            sync_entities(session)
            return
        with session_scope() as s:
            sync_entities(s)

    @staticmethod
    def member_states() -> dict[str, str]:
        """The member states' working languages, by code in code order."""
        with session_scope() as s:
            rows = s.execute(
                select(ReportingEntity.code, ReportingEntity.language)
                .where(ReportingEntity.kind == "member_state")
                .order_by(ReportingEntity.code)
            ).all()
        return {code: language for code, language in rows}

    @staticmethod
    def focal_line(
        code: str,
        language: str,
        *,
        name: str | None = None,
        email: str | None = None,
        role: str = "focal point",
    ) -> str:
        """One row of a focal points file: by default ``Focal CODE`` at :func:`fp_email`."""
        return f"{code},{name or f'Focal {code}'},{email or fp_email(code)},{language},{role}"

    @staticmethod
    def register_focal_points(folder: Path, lines: Iterable[str]) -> None:
        """Import ``lines`` (see :meth:`focal_line`) as the secretariat imports its file."""
        csv = folder / "focal.csv"
        csv.write_text("\n".join([FOCAL_HEADER, *lines]) + "\n", "utf-8")
        with session_scope() as s:
            import_focal_points(s, csv)

    # --- resolution and cycle -----------------------------------------------------------

    @staticmethod
    def import_resolution(seed: Path = SEED_004) -> None:
        import_file(seed)

    @staticmethod
    def open_cycle(
        entities: Sequence[str],
        deadline: date,
        *,
        symbols: Sequence[str] = (SYMBOL,),
        opened_at: datetime | None = None,
        dispatched_at: datetime | None = None,
        **options: Any,
    ) -> int:
        """Open a cycle asking ``entities``; with ``dispatched_at``, as if already sent (state
        ``open``) without sending anything."""
        with session_scope() as s:
            cycle = open_cycle(s, list(symbols), deadline, entities=list(entities), **options)
            if dispatched_at is not None:
                cycle.state = "open"
                if opened_at is not None:
                    cycle.opened_at = opened_at
                cycle.dispatched_at = dispatched_at
            return cycle.id

    @staticmethod
    def asked_in(cycle_id: int) -> dict[str, list[int]]:
        """The paragraph numbers each entity's questionnaire asks about, in its order."""
        with session_scope() as s:
            return {
                q.entity_code: [int(r["number"]) for r in q.rows]
                for q in s.scalars(select(Questionnaire).where(Questionnaire.cycle_id == cycle_id))
            }

    # --- questionnaires -----------------------------------------------------------------

    @staticmethod
    def build_questionnaires(cycle_id: int, *, specs: bool = False) -> dict[str, Built]:
        """Build and store every questionnaire as dispatch does (sending nothing), with what
        each workbook holds if ``specs``."""
        built: dict[str, Built] = {}
        with session_scope() as s:
            cycle = load_cycle(s, cycle_id)
            for q in cycle.questionnaires:
                sha = ensure_built(s, cycle, q, **_ANSWERS)
                spec = questionnaire_spec(s, cycle, q, **_ANSWERS) if specs else None
                built[q.entity_code] = Built(q.id, sha, spec)
        return built

    @staticmethod
    def spec_in(cycle_id: int, entity: str) -> QuestionnaireSpec:
        """What ``entity``'s workbook holds, as dispatch reads it."""
        with session_scope() as s:
            cycle = load_cycle(s, cycle_id)
            q = next(q for q in cycle.questionnaires if q.entity_code == entity)
            return questionnaire_spec(s, cycle, q, **_ANSWERS)

    def spec(self, entity: str) -> QuestionnaireSpec:
        return self.spec_in(self.cycle_id, entity)

    # --- accepted returns ---------------------------------------------------------------

    @staticmethod
    def add_return(
        session: Session,
        cycle_id: int,
        code: str,
        *,
        received_at: datetime,
        answers: Iterable[Mapping[str, Any]] = (),
        sha256: str,
        size: int,
        original_name: str | None = None,
        channel: str = "portal",
        state: str = "accepted",
        symbol: str = SYMBOL,
        **fields: Any,
    ) -> Submission:
        """A return as validation leaves it, without running validation: the submission
        (``state``) and, for each of ``answers`` (``paragraph_number`` and the answer's
        fields), an answer of ``symbol`` accepted when the return was received. ``fields``:
        more of the submission's columns (``sender``, ``report``, ``decided_at``…)."""
        sub = Submission(
            cycle_id=cycle_id,
            entity_code=code,
            sha256=sha256,
            size=size,
            original_name=original_name or f"{code}.xlsx",
            channel=channel,
            state=state,
            received_at=received_at,
            **fields,
        )
        session.add(sub)
        session.flush()
        World.add_answers(session, sub, answers, symbol=symbol)
        return sub

    @staticmethod
    def add_answers(
        session: Session,
        sub: Submission,
        answers: Iterable[Mapping[str, Any]],
        *,
        symbol: str = SYMBOL,
        accepted_at: datetime | None = None,
    ) -> None:
        """For each of ``answers`` (``paragraph_number`` and the answer's fields), an answer
        of ``symbol`` from ``sub``, accepted at ``accepted_at`` (default: when it was
        received)."""
        rows = [
            {
                "cycle_id": sub.cycle_id,
                "entity_code": sub.entity_code,
                "resolution_symbol": symbol,
                "submission_id": sub.id,
                "accepted_at": accepted_at or sub.received_at,
                **values,
            }
            for values in answers
        ]
        if rows:
            session.execute(insert(Answer), rows)


#: Questionnaires are prefilled with earlier accepted answers, as the application does.
_ANSWERS: Final = {"earlier_answers": earlier_answers}


def queue_notice(key: str) -> int:
    """One English notice to Senegal's focal point queued in the outbox under ``key``; its id."""
    with session_scope() as s:
        return enqueue(
            s,
            key=key,
            kind="notice",
            template="notice",
            language="en",
            context={"subject": "Hello", "paragraphs": ["A notice."]},
            to=["fp.sen@gov.example.org"],
        ).id
