"""The answers snapshot: every input of a consolidation, read once, kept as canonical JSON.

A build is computed from a :class:`Snapshot`, never from live tables, so that a report can
always be traced to (and re-made from) exactly what the database held when it was built. The
snapshot is plain data (strings, numbers, ISO dates) sorted in Python, not by the database:
SQLite and PostgreSQL collate differently, and the same answers must hash the same on both.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from resotrack.questionnaires.models import CycleResolution, Questionnaire, ReportingCycle
from resotrack.registry.models import ReportingEntity
from resotrack.resolutions.models import OperativeParagraph, ResolutionVersion
from resotrack.validation.models import Answer, Submission

if TYPE_CHECKING:
    import pandas as pd

FORMAT = "resotrack.consolidation.snapshot/1"
#: Outbox kinds of the reminder ladder's emails (resotrack.reminders.ladder.RungKind).
REMINDER_KINDS: Final = ("reminder", "overdue", "escalation", "final")

PARAGRAPH_COLUMNS = ("resolution", "number", "section", "text", "addressees", "verbs")
ENTITY_COLUMNS = ("entity", "kind", "name_en", "name_fr", "name_ar", "language")
ASKED_COLUMNS = ("entity", "resolution", "number")
SUBMISSION_COLUMNS = ("submission_id", "entity", "state", "received_at")
ANSWER_COLUMNS = (
    "entity",
    "resolution",
    "number",
    "status",
    "measures",
    "start_date",
    "national_body",
    "challenges",
    "support_requested",
    "evidence",
    "submission_id",
)
#: How a paragraph fared in earlier cycles: the paragraph itself, or one it renews (lineage,
#: links not rejected), asked in an earlier cycle; ``n`` entities per status (or no_reply).
TREND_COLUMNS = (
    "resolution",
    "number",
    "earlier_resolution",
    "earlier_number",
    "cycle",
    "cycle_title",
    "deadline",
    "status",
    "n",
)
#: How far back lineage is followed (a mandate renewed session after session).
TREND_DEPTH: Final = 6

Row = tuple[Any, ...]


@dataclass(frozen=True)
class Table:
    """Rows of primitives under named columns: what JSON holds and pandas reads."""

    columns: tuple[str, ...]
    rows: list[Row]

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame.from_records(self.rows, columns=list(self.columns))

    def as_json(self) -> dict[str, Any]:
        return {"columns": list(self.columns), "data": [list(r) for r in self.rows]}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Table:
        return cls(tuple(value["columns"]), [tuple(r) for r in value["data"]])


@dataclass(frozen=True)
class Snapshot:
    """A cycle as the consolidation sees it.

    ``cycle`` holds id, title, deadline, state, opened_at, dispatched_at and non_reporting
    (the reminders' list of entities owing a return; absent in hand-made ones); ``resolutions``
    one dict per resolution in the cycle's order with its references and its sections
    (``[[letter, title], ...]``). The tables hold paragraphs, the entities asked, what each
    was asked, their submissions (any state) and the current answers.
    """

    cycle: dict[str, Any]
    resolutions: list[dict[str, Any]]
    paragraphs: Table
    entities: Table
    asked: Table
    submissions: Table
    answers: Table
    #: Earlier cycles of the same mandates (empty when none): see :data:`TREND_COLUMNS`.
    trend: Table = field(default_factory=lambda: Table(TREND_COLUMNS, []))
    _bytes: list[bytes] = field(default_factory=list, repr=False, compare=False)

    @property
    def cycle_id(self) -> int:
        return int(self.cycle["id"])

    @property
    def deadline(self) -> date:
        return date.fromisoformat(self.cycle["deadline"])

    def to_bytes(self) -> bytes:
        """Canonical JSON: the same inputs always give the same bytes (and hash)."""
        if not self._bytes:
            document = {
                "format": FORMAT,
                "cycle": self.cycle,
                "resolutions": self.resolutions,
                "paragraphs": self.paragraphs.as_json(),
                "entities": self.entities.as_json(),
                "asked": self.asked.as_json(),
                "submissions": self.submissions.as_json(),
                "answers": self.answers.as_json(),
            }
            if self.trend.rows:  # absent when empty: older snapshots hash as they did
                document["trend"] = self.trend.as_json()
            self._bytes.append(_canonical(document))
        return self._bytes[0]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.to_bytes()).hexdigest()

    @property
    def answers_sha256(self) -> str:
        """The answers alone: equal for two builds that saw the same answers."""
        return hashlib.sha256(_canonical(self.answers.as_json())).hexdigest()

    @classmethod
    def from_bytes(cls, data: bytes) -> Snapshot:
        document = json.loads(data)
        if document.get("format") != FORMAT:
            raise ValueError(f"not a consolidation snapshot ({document.get('format')!r})")
        return cls(
            cycle=document["cycle"],
            resolutions=document["resolutions"],
            paragraphs=Table.from_json(document["paragraphs"]),
            entities=Table.from_json(document["entities"]),
            asked=Table.from_json(document["asked"]),
            submissions=Table.from_json(document["submissions"]),
            answers=Table.from_json(document["answers"]),
            trend=Table.from_json(document["trend"])
            if "trend" in document
            else Table(TREND_COLUMNS, []),
        )

    @property
    def theme(self) -> str | None:
        """The theme code the snapshot is restricted to (None: every paragraph)."""
        value = self.cycle.get("theme")
        return str(value) if value else None


def _canonical(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def _iso(value: datetime | date | None) -> str | None:
    """ISO text; naive datetimes (SQLite gives them back naive) are UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    return value.isoformat()


#: Answers are unique per (entity, resolution, paragraph) among current ones: sort by that.
_KEY: Final = itemgetter(0, 1, 2)


def load_snapshot(session: Session, cycle_id: int, theme: str | None = None) -> Snapshot:
    """Read everything a build of ``cycle_id`` needs; raises LookupError for an unknown cycle.

    ``theme`` (a theme code): only the paragraphs tagged with it (tags staff rejected do not
    count), the resolutions that have some, and what entities were asked and answered about
    them; ValueError when no paragraph of the cycle has the theme."""
    cycle = session.scalar(
        select(ReportingCycle)
        .where(ReportingCycle.id == cycle_id)
        .options(
            selectinload(ReportingCycle.resolutions)
            .selectinload(CycleResolution.version)
            .selectinload(ResolutionVersion.paragraphs)
            .selectinload(OperativeParagraph.actions),
            selectinload(ReportingCycle.resolutions)
            .selectinload(CycleResolution.version)
            .selectinload(ResolutionVersion.sections),
            selectinload(ReportingCycle.resolutions)
            .selectinload(CycleResolution.version)
            .selectinload(ResolutionVersion.resolution),
        )
    )
    if cycle is None:
        raise LookupError(f"there is no cycle {cycle_id}")

    links = sorted(cycle.resolutions, key=lambda link: link.id)
    keep = None if theme is None else _themed(session, cycle_id, links, theme)
    resolutions: list[dict[str, Any]] = []
    paragraphs: list[Row] = []
    for link in links:
        v = link.version
        symbol = v.resolution.symbol
        if keep is not None and not any(key[0] == symbol for key in keep):
            continue
        resolutions.append(
            {
                "symbol": symbol,
                "version": v.version,
                "title": v.title,
                "body": v.body,
                "session": v.session,
                "place": v.place,
                "adopted_gregorian": v.adopted_gregorian,
                "adopted_on": _iso(v.adopted_on),
                "adopted_hijri": v.adopted_hijri,
                "language": v.language,
                "sections": [[s.letter, s.title] for s in v.sections],
            }
        )
        for p in v.paragraphs:
            if keep is not None and (symbol, p.number) not in keep:
                continue
            paragraphs.append(
                (
                    symbol,
                    p.number,
                    p.section_letter,
                    p.text,
                    ",".join(sorted(p.addressees)),
                    " | ".join(a.verb for a in p.actions),
                )
            )

    asked: list[Row] = []
    codes: set[str] = set()
    for q in session.scalars(select(Questionnaire).where(Questionnaire.cycle_id == cycle_id)):
        rows = [(q.entity_code, r["resolution"], int(r["number"])) for r in q.rows]
        rows = [r for r in rows if keep is None or (r[1], r[2]) in keep]
        if rows:
            codes.add(q.entity_code)
            asked.extend(rows)

    submissions: list[Row] = [
        (sid, code, state, _iso(at))
        for sid, code, state, at in session.execute(
            select(
                Submission.id, Submission.entity_code, Submission.state, Submission.received_at
            ).where(Submission.cycle_id == cycle_id, Submission.entity_code.is_not(None))
        )
    ]
    # Core rows (no ORM loading): this is the big read, a quarter of a million rows at scale.
    connection = session.connection()
    answers: list[Row] = [
        (*row[:5], _iso(row[5]), *row[6:])
        for row in connection.execute(
            select(
                Answer.entity_code,
                Answer.resolution_symbol,
                Answer.paragraph_number,
                Answer.status,
                Answer.measures,
                Answer.start_date,
                Answer.national_body,
                Answer.challenges,
                Answer.support_requested,
                Answer.evidence,
                Answer.submission_id,
            ).where(Answer.cycle_id == cycle_id, Answer.current.is_(True))
        )
    ]
    if keep is not None:
        answers = [a for a in answers if (a[1], a[2]) in keep]
        submissions = [r for r in submissions if r[1] in codes]
    codes.update(r[1] for r in submissions)
    codes.update(r[0] for r in answers)
    entities: list[Row] = [
        (e.code, e.kind, e.name_en, e.name_fr, e.name_ar, e.language)
        for e in session.scalars(select(ReportingEntity).where(ReportingEntity.code.in_(codes)))
    ]
    from resotrack.mail.models import OutboxMessage
    from resotrack.reminders import non_reporting_entities

    reminders = session.scalar(
        select(func.count(OutboxMessage.id)).where(
            OutboxMessage.cycle_id == cycle_id,
            OutboxMessage.kind.in_(REMINDER_KINDS),
            OutboxMessage.state == "sent",
        )
    )

    return Snapshot(
        cycle={
            "id": cycle.id,
            "title": cycle.title,
            "deadline": _iso(cycle.deadline),
            "state": cycle.state,
            "opened_at": _iso(cycle.opened_at),
            "dispatched_at": _iso(cycle.dispatched_at),
            # Who owes a return, by the reminders' rule: the report must say the same.
            "non_reporting": non_reporting_entities(session, cycle_id),
            # Reminder emails sent so far (every rung of the ladder), for the report's method.
            "reminders": int(reminders or 0),
            **({"theme": theme} if theme is not None else {}),
        },
        resolutions=resolutions,
        paragraphs=Table(PARAGRAPH_COLUMNS, paragraphs),
        entities=Table(ENTITY_COLUMNS, sorted(entities)),
        asked=Table(ASKED_COLUMNS, sorted(asked)),
        submissions=Table(SUBMISSION_COLUMNS, sorted(submissions)),
        answers=Table(ANSWER_COLUMNS, sorted(answers, key=_KEY)),
        trend=Table(TREND_COLUMNS, sorted(_trend(session, cycle, paragraphs))),
    )


def _themed(
    session: Session, cycle_id: int, links: Sequence[CycleResolution], theme: str
) -> set[tuple[str, int]]:
    """(symbol, number) of the cycle's paragraphs tagged ``theme`` and not rejected."""
    from resotrack.resolutions.models import ParagraphTheme
    from resotrack.resolutions.themes import REJECTED, ThemeError, themes

    if theme not in themes():
        raise ThemeError(f"no theme has the code {theme!r}; known: {', '.join(themes())}")
    ids = {
        p.id: (link.version.resolution.symbol, p.number)
        for link in links
        for p in link.version.paragraphs
    }
    found = {
        ids[pid]
        for pid in session.scalars(
            select(ParagraphTheme.paragraph_id).where(
                ParagraphTheme.paragraph_id.in_(list(ids)),
                ParagraphTheme.code == theme,
                ParagraphTheme.state != REJECTED,
            )
        )
    }
    if not found:
        raise ThemeError(f"no paragraph of cycle {cycle_id} is tagged with the theme {theme}")
    return found


def cycle_themes(session: Session, cycle_id: int, language: str = "en") -> list[dict[str, Any]]:
    """The themes the cycle's paragraphs are tagged with (rejected tags left out): code, name
    in ``language``, kind and how many paragraphs, subjects first, then goals, by name."""
    from resotrack.resolutions.models import ParagraphTheme
    from resotrack.resolutions.themes import REJECTED, themes

    rows = session.execute(
        select(ParagraphTheme.code, func.count(func.distinct(ParagraphTheme.paragraph_id)))
        .join(OperativeParagraph, OperativeParagraph.id == ParagraphTheme.paragraph_id)
        .join(
            CycleResolution,
            CycleResolution.resolution_version_id == OperativeParagraph.version_id,
        )
        .where(CycleResolution.cycle_id == cycle_id, ParagraphTheme.state != REJECTED)
        .group_by(ParagraphTheme.code)
    ).all()
    known = themes()
    found = [
        {"code": code, "name": known[code].name(language), "kind": known[code].kind, "n": n}
        for code, n in rows
        if code in known
    ]
    return sorted(found, key=lambda t: (t["kind"] != "subject", t["name"]))


def _trend(session: Session, cycle: ReportingCycle, paragraphs: Sequence[Row]) -> list[Row]:
    """Per paragraph of ``cycle``: entities per status in each earlier cycle that asked about
    it or about a paragraph it renews (lineage links rejected by staff are not followed)."""
    from resotrack.resolutions.lineage import WITH_PREDECESSOR
    from resotrack.resolutions.models import ParagraphLineage, Resolution

    wanted = {(str(r[0]), int(r[1])) for r in paragraphs}
    # Every ancestor of every paragraph, the paragraph itself first: paragraph id -> (symbol,
    # number) of the cycle's paragraph it stands for (one ancestor renews one paragraph).
    roots = {
        p.id: (link.version.resolution.symbol, p.number)
        for link in cycle.resolutions
        for p in link.version.paragraphs
        if (link.version.resolution.symbol, p.number) in wanted
    }
    owner = dict(roots)
    frontier = set(roots)
    for _ in range(TREND_DEPTH):
        if not frontier:
            break
        step = session.execute(
            select(ParagraphLineage.paragraph_id, ParagraphLineage.predecessor_id).where(
                ParagraphLineage.paragraph_id.in_(list(frontier)),
                ParagraphLineage.state.in_(WITH_PREDECESSOR),
                ParagraphLineage.predecessor_id.is_not(None),
            )
        ).all()
        frontier = set()
        for pid, predecessor in step:
            if predecessor is not None and predecessor not in owner:
                owner[predecessor] = owner[pid]
                frontier.add(predecessor)
    if not owner:
        return []
    where = session.execute(
        select(
            OperativeParagraph.id,
            OperativeParagraph.version_id,
            Resolution.symbol,
            OperativeParagraph.number,
        )
        .join(ResolutionVersion, ResolutionVersion.id == OperativeParagraph.version_id)
        .join(Resolution, Resolution.id == ResolutionVersion.resolution_id)
        .where(OperativeParagraph.id.in_(list(owner)))
    ).all()
    # (version id, symbol, number) of an ancestor -> the cycle paragraph it stands for.
    ancestors = {(v, s, n): owner[pid] for pid, v, s, n in where}
    versions = {v for v, _, _ in ancestors}
    earlier = session.execute(
        select(
            ReportingCycle.id,
            ReportingCycle.title,
            ReportingCycle.deadline,
            CycleResolution.resolution_version_id,
        )
        .join(CycleResolution, CycleResolution.cycle_id == ReportingCycle.id)
        .where(
            CycleResolution.resolution_version_id.in_(versions),
            ReportingCycle.id != cycle.id,
            (ReportingCycle.deadline < cycle.deadline)
            | ((ReportingCycle.deadline == cycle.deadline) & (ReportingCycle.id < cycle.id)),
        )
    ).all()
    out: list[Row] = []
    by_cycle: dict[int, tuple[str, Any, set[int]]] = {}
    for cid, title, deadline, version_id in earlier:
        by_cycle.setdefault(cid, (title, deadline, set()))[2].add(version_id)
    for cid, (title, deadline, pinned) in sorted(by_cycle.items()):
        here = {(s, n): key for (v, s, n), key in ancestors.items() if v in pinned}
        asked: dict[tuple[str, int], int] = {}
        for rows in session.scalars(
            select(Questionnaire.rows).where(Questionnaire.cycle_id == cid)
        ):
            for r in rows:
                key = (str(r["resolution"]), int(r["number"]))
                if key in here:
                    asked[key] = asked.get(key, 0) + 1
        reopened = select(Submission.id).where(
            Submission.cycle_id == cid, Submission.state == "correction_requested"
        )
        counts: dict[tuple[tuple[str, int], str], int] = {}
        for symbol, number, status in session.execute(
            select(Answer.resolution_symbol, Answer.paragraph_number, Answer.status).where(
                Answer.cycle_id == cid,
                Answer.current.is_(True),
                Answer.resolution_symbol.in_({s for s, _ in here}),
                Answer.submission_id.not_in(reopened) | Answer.submission_id.is_(None),
            )
        ):
            key = (str(symbol), int(number))
            if key in asked:
                counts[(key, str(status))] = counts.get((key, str(status)), 0) + 1
        for key, n_asked in asked.items():
            replied = 0
            target = here[key]
            for (k, status), n in counts.items():
                if k == key:
                    replied += n
                    out.append((*target, *key, cid, title, _iso(deadline), status, n))
            if n_asked > replied:
                out.append(
                    (*target, *key, cid, title, _iso(deadline), "no_reply", n_asked - replied)
                )
    return out


def snapshot_from_rows(
    *,
    cycle: dict[str, Any],
    resolutions: Sequence[dict[str, Any]],
    paragraphs: Sequence[Row],
    entities: Sequence[Row],
    asked: Sequence[Row],
    submissions: Sequence[Row] = (),
    answers: Sequence[Row] = (),
    trend: Sequence[Row] = (),
) -> Snapshot:
    """A snapshot made by hand (tests, benchmarks): rows in the column orders above."""
    return Snapshot(
        cycle=dict(cycle),
        resolutions=[dict(r) for r in resolutions],
        paragraphs=Table(PARAGRAPH_COLUMNS, [tuple(r) for r in paragraphs]),
        entities=Table(ENTITY_COLUMNS, sorted(tuple(r) for r in entities)),
        asked=Table(ASKED_COLUMNS, sorted(tuple(r) for r in asked)),
        submissions=Table(SUBMISSION_COLUMNS, sorted(tuple(r) for r in submissions)),
        answers=Table(ANSWER_COLUMNS, sorted((tuple(r) for r in answers), key=_KEY)),
        trend=Table(TREND_COLUMNS, sorted(tuple(r) for r in trend)),
    )
