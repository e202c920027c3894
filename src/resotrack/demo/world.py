"""The demo's world, made with the real domain functions: the database, the seed resolutions,
the simulated focal points and the demo's reporting cycle.

Each step is safe to repeat: the migration and the entity sync change nothing the second time,
re-importing a resolution or a focal-point file changes nothing, and an open demo cycle is
reused rather than duplicated.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final

from resotrack import clock
from resotrack.catalog import Said
from resotrack.demo.stack import DemoError

if TYPE_CHECKING:
    from resotrack.registry.models import ReportingEntity

DEMO_TITLE: Final = "resotrack demo"
#: ``--session N``: the most resolutions a generated session may have.
MAX_SESSION: Final = 300
DEADLINE_DAYS: Final = 30
FOCAL_POINT: Final = {"en": "Focal point", "fr": "Point focal", "ar": "نقطة الاتصال"}
MISSION: Final = {
    "en": "Permanent mission of",
    "fr": "Mission permanente de",
    "ar": "البعثة الدائمة لـ",
}
#: An institution's escalation contact (the reminders escalate to the "permanent mission" role).
HEAD_OFFICE: Final = {
    "en": "Office of the head of",
    "fr": "Cabinet du chef de",
    "ar": "مكتب رئيس",
}


@dataclass(frozen=True)
class Registry:
    """What ``resotrack init`` left in the database."""

    member_states: int
    institutions: int
    changed: int

    def describe(self) -> str:
        return Said(
            "{member_states} member states and {institutions} institutions ({changed} added "
            "or updated)",
            member_states=self.member_states,
            institutions=self.institutions,
            changed=self.changed,
        )


def initialise(home: Path) -> Registry:
    """``resotrack init``: create or upgrade the database and load the shipped entities."""
    from resotrack.registry import list_entities, sync_entities
    from resotrack.settings import get_settings
    from resotrack.store import migrate, session_scope

    home.mkdir(parents=True, exist_ok=True)
    get_settings().resolutions_inbox.mkdir(parents=True, exist_ok=True)
    migrate.upgrade()
    with session_scope() as session:
        changed = sync_entities(session, actor="demo")
    with session_scope() as session:
        kinds = Counter(e.kind for e in list_entities(session))
    return Registry(kinds["member_state"], sum(kinds.values()) - kinds["member_state"], changed)


@dataclass(frozen=True)
class Imported:
    symbol: str
    version: int
    paragraphs: int
    created: bool

    def describe(self) -> str:
        said = {"symbol": self.symbol, "version": self.version, "paragraphs": self.paragraphs}
        if self.created:
            return Said("{symbol} v{version} ({paragraphs} §, new)", **said)
        return Said("{symbol} v{version} ({paragraphs} §, unchanged)", **said)


def import_seeds(seeds: Path) -> list[Imported]:
    """Both seed resolutions, through the same function as ``resotrack resolutions import``."""
    files = sorted(seeds.glob("*.txt"))
    if not files:
        raise DemoError(
            f"no seed resolution in {seeds}: the shared material (seeds/*.txt) is expected in "
            "../shared beside the repository"
        )
    return _import(files)


def session_title(count: int) -> str:
    """The cycle title of ``--session``: it says the resolutions are synthetic, and is shown
    on every questionnaire, in the report and on the dashboard."""
    return f"{DEMO_TITLE} — SYNTHETIC session of {count} resolutions (not adopted texts)"


def import_session(seeds: Path, folder: Path, count: int) -> list[Imported]:
    """``count`` synthetic resolutions made from the real resolution 1/49-IT (seed 000,
    :mod:`resotrack.resolutions.synthetic`: each title says ``SYNTHÉTIQUE``), written to
    ``folder`` and imported as ``resotrack resolutions import`` would."""
    from resotrack.resolutions.synthetic import SyntheticError, synthetic_text, write_session

    if not 1 <= count <= MAX_SESSION:
        raise DemoError(f"a session has 1 to {MAX_SESSION} resolutions, not {count}")
    for path in sorted(seeds.glob("*.txt")):
        try:
            synthetic_text(path.read_text("utf-8"), 1, "IT")
        except SyntheticError:
            continue
        written = write_session(path, folder, count)
        break
    else:
        raise DemoError(
            f"no seed in {seeds} is resolution 1/49-IT (seed 000), which --session varies"
        )
    return _import(written)


def _import(files: list[Path]) -> list[Imported]:
    from resotrack.resolutions import import_file

    found = []
    for path in files:
        try:
            result = import_file(path, actor="demo")
        except (ValueError, LookupError) as exc:
            raise DemoError(f"{path.name} could not be imported: {exc}") from exc
        if result.error or result.symbol is None or result.version is None:
            raise DemoError(result.describe())
        found.append(Imported(result.symbol, result.version, result.paragraphs, result.created))
    return found


def focal_point_csv(path: Path) -> Path:
    """Write the Secretariat's focal-point file: one focal point per entity in its working
    language, and the contact each escalation goes to (a member state's permanent mission,
    an institution's head office)."""
    from resotrack.registry import list_entities
    from resotrack.registry.focal_points import COLUMNS
    from resotrack.store import session_scope

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    with session_scope() as session:
        for entity in list_entities(session):
            if entity.active:
                writer.writerows(_contacts(entity))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(out.getvalue(), "utf-8")
    return path


def _contacts(entity: ReportingEntity) -> list[tuple[str, str, str, str, str]]:
    """The two simulated people of one entity, as rows of the focal-point file."""
    language, name, code = entity.language, entity.name(entity.language), entity.code
    state = entity.kind == "member_state"
    escalation, prefix = (MISSION, "pm") if state else (HEAD_OFFICE, "head")
    return [
        (
            code,
            f"{FOCAL_POINT[language]} {name}",
            f"fp.{code.lower()}@example.org",
            language,
            "focal point",
        ),
        (
            code,
            f"{escalation[language]} {name}",
            f"{prefix}.{code.lower()}@example.org",
            language,
            "permanent mission",
        ),
    ]


def import_focal_points(path: Path) -> str:
    """The real import (all rows or none); a second run reports everything unchanged."""
    from resotrack.registry import FocalPointImportError
    from resotrack.registry import import_focal_points as import_file
    from resotrack.store import session_scope

    try:
        with session_scope() as session:
            done = import_file(session, path, actor="demo")
            return Said(
                "{added} added, {updated} updated, {unchanged} unchanged, {deactivated} "
                "deactivated",
                added=done.added,
                updated=done.updated,
                unchanged=done.unchanged,
                deactivated=done.deactivated,
            )
    except FocalPointImportError as exc:
        raise DemoError(str(exc)) from exc


@dataclass(frozen=True)
class Cycle:
    id: int
    deadline: date
    state: str
    questionnaires: int
    reused: bool
    ladder_offsets: tuple[int, ...]
    title: str = DEMO_TITLE

    def describe(self) -> str:
        from resotrack.questionnaires.cycles import CYCLE_STATES

        said = {"cycle": self.id, "n": self.questionnaires, "deadline": self.deadline}
        if self.reused:
            return Said(
                "cycle {cycle}, {n} questionnaires, deadline {deadline} (reused: already {state})",
                state=CYCLE_STATES.said(self.state),
                **said,
            )
        return Said("cycle {cycle}, {n} questionnaires, deadline {deadline} (new)", **said)

    @property
    def deadline_day(self) -> int:
        """The deadline as a simulated day (day 0 is today)."""
        return (self.deadline - clock.today()).days


def open_demo_cycle(symbols: list[str], title: str = DEMO_TITLE) -> Cycle:
    """The demo's cycle on ``symbols``, deadline in 30 days; an open one of the same title is
    reused."""
    from resotrack.questionnaires.cycles import CycleError, list_cycles, open_cycle
    from resotrack.store import session_scope

    with session_scope() as session:
        mine = [
            c for c in list_cycles(session) if c.title == title and c.state in ("waiting", "open")
        ]
        if mine:
            cycle, reused = mine[-1], True
        else:
            deadline = clock.today() + timedelta(days=DEADLINE_DAYS)
            try:
                cycle = open_cycle(session, symbols, deadline, title=title, actor="demo")
            except (CycleError, LookupError) as exc:
                raise DemoError(f"the demo cycle could not be opened: {exc}") from exc
            reused = False
        return Cycle(
            id=cycle.id,
            deadline=cycle.deadline,
            state=cycle.state,
            questionnaires=len(cycle.questionnaires),
            reused=reused,
            ladder_offsets=tuple(int(rung["offset"]) for rung in cycle.ladder),
            title=cycle.title,
        )


def cycle_state(cycle_id: int) -> str:
    from resotrack.questionnaires.cycles import get_cycle
    from resotrack.store import session_scope

    with session_scope() as session:
        return get_cycle(session, cycle_id).state


def people(cycle_id: int) -> list[tuple[str, str, str]]:
    """(entity, email, language) of every active focal point asked to report in the cycle."""
    from resotrack.questionnaires.cycles import get_cycle
    from resotrack.registry import list_entities
    from resotrack.store import session_scope

    with session_scope() as session:
        asked = {q.entity_code for q in get_cycle(session, cycle_id).questionnaires}
        return sorted(
            (entity.code, person.email, person.language)
            for entity in list_entities(session)
            if entity.code in asked
            for person in entity.focal_points
            if person.active and person.role == "focal_point"
        )
