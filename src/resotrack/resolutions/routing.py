"""Routing: which reporting entities must report on which operative paragraph.

The automatic rule reads the addressees the parser found; staff overrides (exported to a
workbook, edited, imported back) win over it and survive new versions of the text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from resotrack import audit
from resotrack.catalog import Words
from resotrack.registry.models import ReportingEntity
from resotrack.resolutions.confidence import describe, doubts
from resotrack.resolutions.models import OperativeParagraph, RoutingOverride
from resotrack.resolutions.queries import get_resolution

#: The code that stands for "every member state" in routing sheets.
ALL_MEMBER_STATES = "MS"
#: The Secretariat's own internal return.
SECRETARIAT = "SG"
#: The OIC Groups that a ``GRP`` addressee means when no group is named.
GROUPS = ("OIC-NY", "OIC-GENEVA")

ROUTING_COLUMNS = (
    "paragraph",
    "section",
    "verbs",
    "addressees",
    "institutions",
    "routed automatically",
    "include",
    "exclude",
    "note",
    "text",
)


class RoutingError(ValueError):
    """A routing sheet that cannot be applied; the message lists every bad row."""


@dataclass(frozen=True)
class Routing:
    """The routing table of one resolution version: paragraph number → entity codes."""

    symbol: str
    automatic: Mapping[int, frozenset[str]]
    overrides: Mapping[int, Mapping[str, bool]]
    notes: Mapping[int, str] = field(default_factory=dict)

    def entities_for(self, number: int) -> frozenset[str]:
        routed = set(self.automatic.get(number, frozenset()))
        for code, included in self.overrides.get(number, {}).items():
            (routed.add if included else routed.discard)(code)
        return frozenset(routed)

    def paragraphs_for(self, entity_code: str) -> list[int]:
        """The paragraphs an entity reports on, in order: its questionnaire's rows."""
        return [n for n in sorted(self.automatic) if entity_code in self.entities_for(n)]


def automatic_entities(
    paragraph: OperativeParagraph, member_states: Iterable[str], institutions: Iterable[str]
) -> frozenset[str]:
    """The rule: ``MS``/``ALL`` → every member state, named institution → itself, ``SG`` → SG."""
    codes = paragraph.addressees
    known_institutions = set(institutions)
    routed: set[str] = set()
    if codes & {"MS", "ALL"}:
        routed.update(member_states)
    if "SG" in codes:
        routed.add(SECRETARIAT)
    named = {code for code in paragraph.institutions if code in known_institutions}
    routed.update(named)
    if "GRP" in codes and not named & set(GROUPS):
        routed.update(code for code in GROUPS if code in known_institutions)
    return frozenset(routed)


def routing_for(session: Session, symbol: str) -> Routing:
    """Compute the current routing of a resolution's newest version, overrides applied."""
    resolution = get_resolution(session, symbol)
    entities = session.scalars(select(ReportingEntity).where(ReportingEntity.active)).all()
    states = [e.code for e in entities if e.kind == "member_state"]
    institutions = [e.code for e in entities if e.kind != "member_state"]
    automatic = {
        p.number: automatic_entities(p, states, institutions) for p in resolution.current.paragraphs
    }
    overrides: dict[int, dict[str, bool]] = {}
    notes: dict[int, str] = {}
    for row in session.scalars(
        select(RoutingOverride).where(RoutingOverride.resolution_id == resolution.id)
    ):
        overrides.setdefault(row.paragraph_number, {})[row.entity_code] = row.included
        if row.note:
            notes[row.paragraph_number] = row.note
    return Routing(symbol, automatic, overrides, notes)


def _describe(codes: Iterable[str], member_states: set[str]) -> str:
    codes = set(codes)
    parts = []
    if member_states and member_states <= codes:
        parts.append(ALL_MEMBER_STATES)
        codes -= member_states
    parts.extend(sorted(codes))
    return ", ".join(parts)


def export_routing(session: Session, symbol: str, path: Path) -> int:
    """Write the routing table as a workbook staff can edit; returns the number of rows."""
    import xlsxwriter

    resolution = get_resolution(session, symbol)
    routing = routing_for(session, symbol)
    states = set(
        session.scalars(select(ReportingEntity.code).where(ReportingEntity.kind == "member_state"))
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False})
    try:
        sheet = workbook.add_worksheet("Routing")
        header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "text_wrap": True})
        locked = workbook.add_format({"text_wrap": True, "valign": "top", "locked": True})
        editable = workbook.add_format(
            {"text_wrap": True, "valign": "top", "locked": False, "bg_color": "#FFF2CC"}
        )
        sheet.write_row(0, 0, ROUTING_COLUMNS, header)
        # After the columns the import reads: how sure the parser is, doubtful rows first
        # when staff sort or filter on it.
        sheet.write(0, len(ROUTING_COLUMNS), Words("en", "resolutions")("confidence"), header)
        widths = (10, 8, 24, 16, 18, 30, 24, 24, 30, 80, 40)
        for col, width in enumerate(widths):
            sheet.set_column(col, col, width)
        for row, paragraph in enumerate(resolution.current.paragraphs, start=1):
            overrides = routing.overrides.get(paragraph.number, {})
            values = (
                paragraph.number,
                paragraph.section_letter or "",
                " | ".join(a.verb for a in paragraph.actions),
                ", ".join(sorted(paragraph.addressees)),
                ", ".join(sorted(paragraph.institutions)),
                _describe(routing.automatic[paragraph.number], states),
            )
            sheet.write_row(row, 0, values, locked)
            sheet.write(row, 6, _describe((c for c, i in overrides.items() if i), states), editable)
            sheet.write(
                row, 7, _describe((c for c, i in overrides.items() if not i), states), editable
            )
            sheet.write(row, 8, routing.notes.get(paragraph.number, ""), editable)
            sheet.write(row, 9, paragraph.text, locked)
            found = doubts((a.verb, a.canonical, a.addressees) for a in paragraph.actions)
            sheet.write(row, 10, describe(found), locked)
        sheet.freeze_panes(1, 1)
        sheet.autofilter(0, 0, len(resolution.current.paragraphs), len(ROUTING_COLUMNS))
    finally:
        workbook.close()
    return len(resolution.current.paragraphs)


def _split_codes(value: object) -> list[str]:
    if value is None:
        return []
    return [c.strip().upper() for c in str(value).replace(";", ",").split(",") if c.strip()]


def import_routing(session: Session, symbol: str, path: Path, *, actor: str = "staff") -> int:
    """Replace the resolution's overrides with those in the sheet; all rows or none.

    ``MS`` in a cell means every member state. Returns the number of overrides stored.
    """
    from python_calamine import CalamineWorkbook

    resolution = get_resolution(session, symbol)
    try:
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Routing").to_python()
    except Exception as exc:
        raise RoutingError(
            f"{path.name} is not a routing workbook with a 'Routing' sheet: {exc}"
        ) from exc
    if (
        not rows
        or tuple(str(c).strip() for c in rows[0][: len(ROUTING_COLUMNS)]) != ROUTING_COLUMNS
    ):
        raise RoutingError(
            f"{path.name}: the first row must hold the columns {', '.join(ROUTING_COLUMNS)}; "
            "export a fresh sheet with `resotrack routing export`"
        )
    entities = set(session.scalars(select(ReportingEntity.code)))
    states = set(
        session.scalars(select(ReportingEntity.code).where(ReportingEntity.kind == "member_state"))
    )
    numbers = {p.number for p in resolution.current.paragraphs}
    wanted: dict[tuple[int, str], tuple[bool, str | None]] = {}
    problems: list[str] = []
    seen: set[int] = set()
    for line, row in enumerate(rows[1:], start=2):
        cells = list(row) + [""] * (len(ROUTING_COLUMNS) - len(row))
        if all(str(c).strip() == "" for c in cells):
            continue
        try:
            number = int(float(str(cells[0])))
        except (TypeError, ValueError):
            problems.append(f"row {line}: paragraph {cells[0]!r} is not a number")
            continue
        if number not in numbers:
            problems.append(f"row {line}: {symbol} has no operative paragraph {number}")
            continue
        if number in seen:
            problems.append(f"row {line}: paragraph {number} appears twice")
            continue
        seen.add(number)
        note = str(cells[8]).strip() or None
        for column, included in ((6, True), (7, False)):
            for code in _split_codes(cells[column]):
                targets = states if code == ALL_MEMBER_STATES else {code}
                if code != ALL_MEMBER_STATES and code not in entities:
                    problems.append(
                        f"row {line}: {ROUTING_COLUMNS[column]} names unknown entity {code!r}"
                    )
                    continue
                for target in targets:
                    if wanted.get((number, target), (included,))[0] != included:
                        problems.append(
                            f"row {line}: {target} is both included and excluded "
                            f"for paragraph {number}"
                        )
                    wanted[(number, target)] = (included, note)
    if problems:
        raise RoutingError(f"{path.name} was not applied:\n  " + "\n  ".join(problems))
    session.execute(delete(RoutingOverride).where(RoutingOverride.resolution_id == resolution.id))
    session.add_all(
        RoutingOverride(
            resolution_id=resolution.id,
            paragraph_number=number,
            entity_code=code,
            included=included,
            note=note,
            created_by=actor,
        )
        for (number, code), (included, note) in sorted(wanted.items())
    )
    audit.record(session, actor, "routing.imported", symbol, overrides=len(wanted))
    return len(wanted)
