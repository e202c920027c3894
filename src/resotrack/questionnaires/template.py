"""A cycle's questionnaires, their Return rows serialised once per cycle instead of per entity.

Most of a workbook's build is xlsxwriter writing the Return sheet's 1,644 cells, and on a
first cycle (no prefill) those rows are the same for every entity of a language: same
paragraphs, same heights, same formats. So the rows are built once, as a *template*, and each
entity's workbook is built without them (``build_workbook_without_rows``) and gets them
spliced in: the template's strings appended to ``sharedStrings.xml`` (deduplicated as
xlsxwriter does, first occurrence wins), its ``<v>`` string indices and ``s`` format numbers
renumbered, the rows put in ``<sheetData>`` and ``<dimension>`` widened.

The result is ``build_workbook``'s, part for part (the tests compare every part byte for
byte); anything else (prefill, no rows, a package shaped otherwise) is built directly.
Standard library only: no xlsxwriter internals.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Final

from resotrack.catalog import Language
from resotrack.questionnaires.spec import QuestionnaireSpec, QuestionRow
from resotrack.questionnaires.workbook import (
    FIRST_ANSWER_ROW,
    build_workbook,
    build_workbook_without_rows,
)

#: The Return sheet is the second sheet ``build_workbook`` adds.
RETURN_PART: Final = "xl/worksheets/sheet2.xml"
STRINGS_PART: Final = "xl/sharedStrings.xml"
#: xlsxwriter's zip entries: deflated, dated 1980-01-01.
_ZIP_DATE: Final = (1980, 1, 1, 0, 0, 0)
#: Enough for the languages of one cycle, and of the one before while it is re-dispatched.
TEMPLATES_KEPT: Final = 8

#: A paragraph's locked cells as written: resolution, number, section, verb, text.
Paragraph = tuple[str, int, str, str, str]

_FIRST_ROW: Final = re.compile(rf'<row r="{FIRST_ANSWER_ROW + 1}"[^>]*>(.*?)</row>', re.S)
_BLANK_CELL: Final = re.compile(rf'<c r="([A-Z]+){FIRST_ANSWER_ROW + 1}" s="(\d+)"/>')
_DIMENSION: Final = re.compile(r'<dimension ref="[^"]*"/>')
_SST: Final = re.compile(r'(.*?<sst [^>]*?count=")(\d+)(" uniqueCount=")(\d+)(">)(.*)</sst>$', re.S)
_SI: Final = re.compile(r"<si>.*?</si>", re.S)
# In a template row: a cell's column and format number, or a shared string's index.
_SLOT: Final = re.compile(r'<c r="([A-Z]+)\d+" s="(\d+)"|t="s"><v>(\d+)</v>')


class CannotSplice(Exception):
    """The workbook is not shaped as the splice expects: build it directly instead."""


@dataclass(frozen=True)
class RowsTemplate:
    """The Return rows of one (language, paragraphs), with their numbers left as slots.

    ``literals`` and ``slots`` alternate (one more literal than slots). A slot below
    ``len(strings)`` is a string of the rows (an ``<si>`` element); slot
    ``len(strings) + i`` is the format number of column ``columns[i]``.
    """

    literals: tuple[str, ...]
    slots: tuple[int, ...]
    strings: tuple[str, ...]
    columns: tuple[str, ...]
    string_cells: int
    dimension: str


def paragraphs(spec: QuestionnaireSpec) -> tuple[Paragraph, ...]:
    """The template key's content: what the Return rows show, not just paragraph ids."""
    return tuple((r.resolution, r.number, r.section or "", r.verb, r.text) for r in spec.rows)


def build_cycle_workbook(
    spec: QuestionnaireSpec, *, signing_key: bytes, created: datetime | None = None
) -> bytes:
    """``build_workbook(spec)``, with the Return rows taken from the cycle's template.

    Rows with last cycle's answers differ between entities, so those workbooks (and any
    that the splice does not recognise) are built whole.
    """
    if not spec.rows or any(row.prefill for row in spec.rows):
        return build_workbook(spec, signing_key=signing_key, created=created)
    without_rows = build_workbook_without_rows(spec, signing_key=signing_key, created=created)
    try:
        return splice(without_rows, rows_template(spec.language, paragraphs(spec)))
    except CannotSplice:
        return build_workbook(spec, signing_key=signing_key, created=created)


@lru_cache(maxsize=TEMPLATES_KEPT)
def rows_template(language: Language, rows: tuple[Paragraph, ...]) -> RowsTemplate:
    """The rows, cut out of a whole workbook built for no entity (so none can leak)."""
    spec = QuestionnaireSpec(
        questionnaire_id=0,
        cycle_id=0,
        entity_code="template",
        entity_name="",
        language=language,
        deadline=date(2000, 1, 1),
        rows=tuple(QuestionRow(*row) for row in rows),
    )
    parts = _read(build_workbook(spec, signing_key=b"template"))
    sheet, strings = parts[RETURN_PART].decode(), _strings(parts[STRINGS_PART].decode())[1]
    start, end = sheet.find("</row>", sheet.find("<sheetData>")), sheet.find("</sheetData>")
    if not 0 <= start < end:
        raise CannotSplice("the template's Return sheet has no header row")
    start += len("</row>")  # the data rows follow the header row
    literals: list[str] = []
    slots: list[int] = []
    columns: list[str] = []
    own: dict[int, int] = {}  # the workbook's string index -> the template's
    at, string_cells = start, 0
    for slot in _SLOT.finditer(sheet, start, end):
        if slot[1] is not None:
            literals.append(sheet[at : slot.start(2)])
            at = slot.end(2)
            if slot[1] not in columns:
                columns.append(slot[1])
            slots.append(-1 - columns.index(slot[1]))  # made positive below
        else:
            literals.append(sheet[at : slot.start(3)])
            at = slot.end(3)
            slots.append(own.setdefault(int(slot[3]), len(own)))
            string_cells += 1
    literals.append(sheet[at:end])
    dimension = _DIMENSION.search(sheet)
    if dimension is None or sheet.count("<c ", start, end) != len(slots) - string_cells:
        raise CannotSplice("template rows are not shaped as expected")
    return RowsTemplate(
        literals=tuple(literals),
        slots=tuple(s if s >= 0 else len(own) - 1 - s for s in slots),
        strings=tuple(strings[i] for i in own),
        columns=tuple(columns),
        string_cells=string_cells,
        dimension=dimension[0],
    )


def splice(without_rows: bytes, template: RowsTemplate) -> bytes:
    """``without_rows`` (see ``build_workbook_without_rows``) with the template's rows in it."""
    parts = _read(without_rows)
    sheet = parts[RETURN_PART].decode()
    head, strings, count = _strings(parts[STRINGS_PART].decode())

    first_row = _FIRST_ROW.search(sheet)
    if first_row is None or f'<row r="{FIRST_ANSWER_ROW + 2}"' in sheet:
        raise CannotSplice("the Return sheet does not end with one blank formatted row")
    formats = dict(_BLANK_CELL.findall(first_row[1]))
    if _BLANK_CELL.sub("", first_row[1]) or set(formats) != set(template.columns):
        raise CannotSplice("the first Return row is not the columns' blank formatted cells")

    index = {si: i for i, si in enumerate(strings)}
    if len(index) != len(strings):
        raise CannotSplice("sharedStrings.xml repeats a string")
    numbers = []
    for si in template.strings:  # the rows' strings come last, as build_workbook writes them
        if si not in index:
            index[si] = len(strings)
            strings.append(si)
        numbers.append(str(index[si]))
    numbers += (formats[column] for column in template.columns)

    pieces = [template.literals[0]]
    for slot, literal in zip(template.slots, template.literals[1:], strict=True):
        pieces += (numbers[slot], literal)
    sheet = sheet[: first_row.start()] + "".join(pieces) + sheet[first_row.end() :]
    sheet, widened = _DIMENSION.subn(template.dimension, sheet, count=1)
    if not widened:
        raise CannotSplice("the Return sheet has no <dimension>")
    parts[RETURN_PART] = sheet.encode()
    total = count + template.string_cells
    parts[STRINGS_PART] = (
        f'{head}{total}" uniqueCount="{len(strings)}">{"".join(strings)}</sst>'
    ).encode()
    return _write(parts)


def _strings(xml: str) -> tuple[str, list[str], int]:
    """``sharedStrings.xml`` as (text before the count, ``<si>`` elements, count)."""
    found = _SST.fullmatch(xml)
    if found is None:
        raise CannotSplice("sharedStrings.xml is not shaped as xlsxwriter writes it")
    strings = _SI.findall(found[6])
    if "".join(strings) != found[6] or len(strings) != int(found[4]):
        raise CannotSplice("sharedStrings.xml has strings the splice cannot separate")
    return found[1], strings, int(found[2])


def _read(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return {name: package.read(name) for name in package.namelist()}


def _write(parts: dict[str, bytes]) -> bytes:
    """The parts zipped as xlsxwriter zips them, in the same order."""
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as package:
        for name, data in parts.items():
            package.writestr(zipfile.ZipInfo(name, _ZIP_DATE), data, zipfile.ZIP_DEFLATED)
    return output.getvalue()
