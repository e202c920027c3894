"""Reporting cycles: which entities report on which paragraphs of which resolutions, by when.

Opening a cycle pins each resolution to its current version and fixes every entity's
questionnaire rows from the routing at that moment, so later edits never change what an
entity was asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from resotrack import audit, clock
from resotrack.catalog import NP_, ValueNames
from resotrack.questionnaires.models import CycleResolution, Questionnaire, ReportingCycle
from resotrack.questionnaires.spec import TEMPLATE_VERSION
from resotrack.registry.models import ReportingEntity
from resotrack.resolutions.areas import session_order
from resotrack.resolutions.models import Resolution, ResolutionVersion
from resotrack.resolutions.queries import get_resolution
from resotrack.resolutions.routing import routing_for

#: What a reporting cycle's state is called.
CYCLE_STATES: Final = ValueNames(
    "cycle state",
    {
        "waiting": NP_("cycle state", "waiting to be dispatched"),
        "open": NP_("cycle state", "open"),
        "closed": NP_("cycle state", "closed"),
    },
)

if TYPE_CHECKING:
    pass

#: The default reminder ladder: days relative to the deadline and what is sent then.
DEFAULT_LADDER: tuple[dict[str, Any], ...] = (
    {"offset": -14, "kind": "reminder"},
    {"offset": -7, "kind": "reminder"},
    {"offset": -1, "kind": "reminder"},
    {"offset": 3, "kind": "overdue"},
    {"offset": 10, "kind": "escalation"},
    {"offset": 30, "kind": "final"},
)


class CycleError(ValueError):
    """A cycle that cannot be opened or found; the message says what to change."""


def open_cycle(
    session: Session,
    symbols: Sequence[str],
    deadline: date,
    *,
    entities: Iterable[str] | None = None,
    title: str | None = None,
    actor: str = "staff",
    require_complete: bool = False,
) -> ReportingCycle:
    """Create a waiting cycle with one questionnaire per entity that has paragraphs to report.

    ``entities`` None means every active entity that routing gives at least one paragraph.
    ``require_complete``: every return must answer every paragraph asked; otherwise a return
    may answer part of them (a ministry's share) and the rest stays owed.
    """
    if not symbols:
        raise CycleError("name at least one resolution (--resolution SYMBOL)")
    if deadline <= clock.today():
        raise CycleError(f"the deadline {deadline:%Y-%m-%d} is not in the future")
    if len(set(symbols)) != len(symbols):
        raise CycleError("a resolution is named twice")
    resolutions = [get_resolution(session, symbol) for symbol in symbols]
    routings = [routing_for(session, symbol) for symbol in symbols]

    active = {
        e.code: e for e in session.scalars(select(ReportingEntity).where(ReportingEntity.active))
    }
    if entities is None:
        wanted = sorted(active)
    else:
        # codes are kept as registered (``IsDB``); staff may type them in any case
        registered = {code.upper(): code for code in active}
        typed = {code.strip() for code in entities if code.strip()}
        wanted = sorted({registered.get(code.upper(), code.upper()) for code in typed})
        unknown = [code for code in wanted if code not in active]
        if unknown:
            raise CycleError(f"unknown or inactive entities: {', '.join(unknown)}")

    rows_by_entity: dict[str, list[dict[str, Any]]] = {}
    for routing in routings:
        for code in wanted:
            rows_by_entity.setdefault(code, []).extend(
                {"resolution": routing.symbol, "number": number}
                for number in routing.paragraphs_for(code)
            )
    if entities is not None:
        idle = [code for code in wanted if not rows_by_entity.get(code)]
        if idle:
            raise CycleError(
                f"no paragraph of {', '.join(symbols)} is routed to {', '.join(idle)}; "
                "adjust the routing (resotrack routing export/import) or leave them out"
            )
    cycle = ReportingCycle(
        title=cycle_title(symbols, title),
        deadline=deadline,
        state="waiting",
        ladder=[dict(rung) for rung in DEFAULT_LADDER],
        opened_by=actor,
        require_complete=require_complete,
        resolutions=[CycleResolution(resolution_version_id=r.current.id) for r in resolutions],
    )
    session.add(cycle)
    session.flush()
    for code, rows in sorted(rows_by_entity.items()):
        if rows:
            session.add(
                Questionnaire(
                    cycle_id=cycle.id,
                    entity_code=code,
                    language=active[code].language,
                    template_version=TEMPLATE_VERSION,
                    rows=rows,
                )
            )
    session.flush()
    audit.record(
        session,
        actor,
        "cycle.opened",
        f"cycle {cycle.id}",
        resolutions=list(symbols),
        deadline=deadline.isoformat(),
        entities=sum(1 for rows in rows_by_entity.values() if rows),
        require_complete=require_complete,
    )
    return cycle


def cycle_title(symbols: Sequence[str], title: str | None = None) -> str:
    """The title a cycle gets: the one given, else its resolutions' symbols (for a session's
    worth, the first and last symbols and a count)."""
    given = (title or "").strip()
    if given:
        return given
    listed = " + ".join(symbols)
    if len(listed) > 300:
        return f"{symbols[0]} … {symbols[-1]} ({len(symbols)})"
    return listed


def find_cycle(
    session: Session, symbols: Sequence[str], deadline: date, *, title: str | None = None
) -> ReportingCycle | None:
    """The earliest cycle on exactly these resolutions with this deadline and title, if any.

    ``resotrack cycles open`` repeated after a crash (or by a second click) finds the cycle the
    first run committed instead of opening an identical second one.
    """
    from resotrack.resolutions.models import Resolution, ResolutionVersion

    wanted = set(symbols)
    candidates = session.scalars(
        select(ReportingCycle)
        .where(
            ReportingCycle.title == cycle_title(symbols, title),
            ReportingCycle.deadline == deadline,
        )
        .order_by(ReportingCycle.id)
    ).all()
    for cycle in candidates:
        linked = set(
            session.scalars(
                select(Resolution.symbol)
                .join(ResolutionVersion, ResolutionVersion.resolution_id == Resolution.id)
                .join(
                    CycleResolution, CycleResolution.resolution_version_id == ResolutionVersion.id
                )
                .where(CycleResolution.cycle_id == cycle.id)
            )
        )
        if linked == wanted:
            return cycle
    return None


def session_symbols(session: Session, name: str) -> list[str]:
    """The symbols of every resolution whose current version was adopted at session ``name``
    (matched whatever its case or spacing), area by area (:func:`session_order`); a clear
    error when none is."""
    wanted = " ".join(name.split()).casefold()
    if not wanted:
        raise CycleError("name a session (--session NAME)")
    rows = session.execute(
        select(Resolution.symbol, ResolutionVersion.session, ResolutionVersion.version)
        .join(ResolutionVersion, ResolutionVersion.resolution_id == Resolution.id)
        .order_by(Resolution.symbol, ResolutionVersion.version)
    )
    latest: dict[str, str | None] = {}
    for symbol, held, _version in rows:
        latest[symbol] = held  # ordered by version: the last one is the current one
    sessions = {" ".join(held.split()) for held in latest.values() if held}
    found = [
        symbol
        for symbol, held in latest.items()
        if held and " ".join(held.split()).casefold() == wanted
    ]
    if not found:
        known = "; ".join(sorted(sessions)) or "none recorded"
        raise CycleError(f"no resolution was adopted at the session {name!r}; sessions: {known}")
    return sorted(found, key=session_order)


def get_cycle(session: Session, cycle_id: int) -> ReportingCycle:
    cycle = session.scalar(
        select(ReportingCycle)
        .where(ReportingCycle.id == cycle_id)
        .options(
            selectinload(ReportingCycle.questionnaires),
            selectinload(ReportingCycle.resolutions).selectinload(CycleResolution.version),
        )
    )
    if cycle is None:
        raise CycleError(f"there is no cycle {cycle_id}; `resotrack cycles list` shows them")
    return cycle


def list_cycles(session: Session) -> list[ReportingCycle]:
    return list(
        session.scalars(
            select(ReportingCycle)
            .options(selectinload(ReportingCycle.questionnaires))
            .order_by(ReportingCycle.id)
        )
    )
