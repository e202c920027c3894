"""Build the workbook a focal point fills in: Instructions, Return, and a signed ``_meta``.

The workbook is the whole user interface for most focal points (Excel or LibreOffice, often
offline, in Arabic, English or French), so it explains itself, offers a dropdown rather than
free text where the answer is a choice, protects what must not move, and carries a signed
identity card so the returned file can be matched to its questionnaire without trusting it.

Pure function of a ``QuestionnaireSpec``: no database, no Airflow, bytes out.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Final, Literal

import xlsxwriter

from resotrack import clock
from resotrack.catalog import LANGUAGES, Language
from resotrack.questionnaires.dates import format_deadline
from resotrack.questionnaires.i18n import (
    STATUSES,
    status_from_label,
    status_label,
    status_labels,
    text,
)
from resotrack.questionnaires.meta import META_SHEET, SIGNATURE, sign_meta
from resotrack.questionnaires.spec import QuestionnaireSpec

INSTRUCTIONS_SHEET: Final = "Instructions"
RETURN_SHEET: Final = "Return"
#: Very hidden sheet holding the localised status list the dropdown points at.
LISTS_SHEET: Final = "_lists"

HEADER_ROW: Final = 0
FIRST_ANSWER_ROW: Final = 1
DATE_MIN: Final = date(1990, 1, 1)
DATE_MAX: Final = date(2100, 12, 31)
DATE_FORMAT: Final = "yyyy-mm-dd"

# Protection guards against slips, not attackers (the _meta signature does that): no password.
_NO_PASSWORD: Final = ""
_WORKBOOK_OPTIONS: Final = {
    "in_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
}


@dataclass(frozen=True)
class Column:
    """One column of the Return sheet; ``key`` is what the validation stage reads."""

    key: str
    header: Mapping[Language, str] = field(hash=False)
    width: float
    locked: bool


def _column(key: str, width: float, *, locked: bool) -> Column:
    headers = MappingProxyType({lang: text(f"column.{key}", lang) for lang in LANGUAGES})
    return Column(key=key, header=headers, width=width, locked=locked)


#: The Return sheet, left to right (right to left in Arabic). Changing it means a new
#: TEMPLATE_VERSION, since returned workbooks are read by position and checked by header.
COLUMNS: Final[tuple[Column, ...]] = (
    _column("resolution", 20, locked=True),
    _column("paragraph", 10, locked=True),
    _column("section", 9, locked=True),
    _column("verb", 18, locked=True),
    _column("text", 60, locked=True),
    _column("status", 26, locked=False),
    _column("measures", 45, locked=False),
    _column("start_date", 14, locked=False),
    _column("national_body", 28, locked=False),
    _column("challenges", 36, locked=False),
    _column("support_requested", 36, locked=False),
    _column("evidence", 32, locked=False),
)
COLUMN_INDEX: Final[Mapping[str, int]] = {column.key: i for i, column in enumerate(COLUMNS)}
ANSWER_KEYS: Final[tuple[str, ...]] = tuple(c.key for c in COLUMNS if not c.locked)
#: Resolution and paragraph stay on screen while scrolling to the answer columns.
FROZEN_COLUMNS: Final = 2


def questionnaire_filename(cycle_id: int, entity_code: str) -> str:
    """The attachment's name: cycle and entity, so a focal point's downloads don't collide."""
    return f"{cycle_id}-{entity_code}.xlsx"


def workbook_filename(spec: QuestionnaireSpec) -> str:
    return questionnaire_filename(spec.cycle_id, spec.entity_code)


def meta_fields(spec: QuestionnaireSpec) -> dict[str, str]:
    """The unsigned ``_meta`` fields of a questionnaire (see ``meta.META_KEYS``)."""
    return {
        "questionnaire_id": str(spec.questionnaire_id),
        "cycle_id": str(spec.cycle_id),
        "entity_code": spec.entity_code,
        "language": spec.language,
        "template_version": spec.template_version,
        "row_count": str(len(spec.rows)),
    }


@lru_cache(maxsize=256)
def _status_code(value: str) -> str | None:
    """``status_from_label``, remembered: prefills repeat a handful of codes across a cycle."""
    return status_from_label(value)


def answer_value(key: str, value: str | date | None, language: Language) -> str | date | None:
    """What to write in answer column ``key`` for a prefilled value.

    Statuses are stored as canonical codes and shown as the entity's label; ISO date strings
    become real dates so the cell's date format and validation apply.
    """
    if key not in ANSWER_KEYS:
        raise ValueError(f"prefill key {key!r} is not an answer column ({', '.join(ANSWER_KEYS)})")
    if value is None or value == "":
        return None
    if key == "status":
        code = _status_code(str(value))
        if code is None:
            raise ValueError(f"prefilled status {value!r} is not one of {', '.join(STATUSES)}")
        return status_label(code, language)
    if key == "start_date" and isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return value  # kept as typed last cycle; the validation stage will flag it
    return value


# -- the Instructions sheet, as content first (the openpyxl benchmark writes the same lines) --

LineKind = Literal[
    "title", "note", "field", "deadline", "heading", "bullet", "status", "link", "blank"
]


@dataclass(frozen=True)
class InstructionLine:
    """One row of the Instructions sheet: a label in column A and/or a value in column B."""

    kind: LineKind
    label: str = ""
    value: str = ""


def instruction_lines(spec: QuestionnaireSpec) -> tuple[InstructionLine, ...]:
    """What the Instructions sheet says, top to bottom, in the entity's language."""
    lang = spec.language
    line = InstructionLine
    blank = line("blank")

    def bullet(key: str, **values: object) -> InstructionLine:
        return line("bullet", value="• " + text(key, lang, **values))

    lines = [
        line("title", text("instructions.title", lang, entity=spec.entity_name)),
        line(
            "note",
            text(
                "instructions.reference",
                lang,
                questionnaire=spec.questionnaire_id,
                version=spec.template_version,
            ),
        ),
        blank,
        line(
            "field", text("instructions.entity", lang), f"{spec.entity_name} ({spec.entity_code})"
        ),
        line("field", text("instructions.cycle", lang), str(spec.cycle_id)),
        line("field", text("instructions.paragraphs", lang), str(len(spec.rows))),
        line("deadline", text("instructions.deadline", lang), format_deadline(spec.deadline, lang)),
        blank,
        line("heading", text("instructions.fill.heading", lang)),
        bullet("instructions.fill.rows", sheet=RETURN_SHEET),
        bullet("instructions.fill.locked"),
        bullet("instructions.fill.answers"),
    ]
    if any(row.prefill for row in spec.rows):
        lines.append(bullet("instructions.fill.prefill"))
    lines += [
        bullet("instructions.fill.dates"),
        bullet("instructions.fill.structure"),
        blank,
        line("heading", text("instructions.statuses.heading", lang)),
        *(
            line("status", status_label(code, lang), text(f"status.{code}.meaning", lang))
            for code in STATUSES
        ),
        blank,
        line("heading", text("instructions.return.heading", lang)),
    ]
    if spec.upload_url:
        lines += [bullet("instructions.return.upload"), line("link", value=spec.upload_url)]
        lines.append(bullet("instructions.return.reply_alternative"))
    else:
        lines.append(bullet("instructions.return.reply"))
    if spec.reply_to:
        lines.append(bullet("instructions.return.address", address=spec.reply_to))
    lines.append(bullet("instructions.return.format"))
    return tuple(lines)


# -- layout: row heights and cell values, shared by the writer and the openpyxl benchmark -----

#: Points per line of 11-point text (Excel's default row height) and Excel's maximum row height.
LINE_HEIGHT: Final = 15.0
MAX_ROW_HEIGHT: Final = 409.0
INSTRUCTION_WIDTHS: Final = (32, 95)
_TITLE_HEIGHT: Final = 24.0
_HEADING_HEIGHT: Final = 21.0
# Characters per unit of column width, pessimistic so text is not cut: a width unit is one
# "0" of Calibri 11, and LibreOffice without Calibri falls back to the wider DejaVu Sans.
_CHARS_PER_UNIT: Final = 1.1
_WORD_WRAP_SLACK: Final = 1.1  # whole words move to the next line, wasting the end of a line


@lru_cache(maxsize=8192)
def _lines(value: str, width: float) -> int:
    """How many lines ``value`` needs once wrapped in a column ``width`` units wide.

    Cached: a cycle's workbooks repeat the same paragraph texts for every entity.
    """
    per_line = max(1, int(width * _CHARS_PER_UNIT))
    return sum(
        -(-max(1, round(len(part) * _WORD_WRAP_SLACK)) // per_line) for part in value.split("\n")
    )


def row_height(cells: Iterable[tuple[str, float]], *, min_lines: int = 1) -> float:
    """Row height in points for wrapped ``(text, column width)`` cells.

    Written explicitly because LibreOffice keeps imported rows at one line, hiding wrapped
    text. The price: Excel no longer grows a row while an answer is typed, so answer rows
    start at two lines, and the paragraph text usually makes them taller.
    """
    lines = max([min_lines, *(_lines(value, width) for value, width in cells if value)])
    return min(MAX_ROW_HEIGHT, lines * LINE_HEIGHT)


Cell = str | int | date | None
_NO_ANSWERS: Final[tuple[Cell, ...]] = (None,) * len(ANSWER_KEYS)
_LOCKED_WIDTHS: Final = tuple(column.width for column in COLUMNS if column.locked)
_ANSWER_WIDTHS: Final = tuple(column.width for column in COLUMNS if not column.locked)
_MIN_ANSWER_LINES: Final = 2


def _text_lines(values: Iterable[Cell], widths: Iterable[float]) -> int:
    """The most lines any text among ``values`` needs in its column (0 when there is none)."""
    return max(
        (_lines(v, w) for v, w in zip(values, widths, strict=True) if isinstance(v, str) and v),
        default=0,
    )


@lru_cache(maxsize=8192)
def _question_cells(
    resolution: str, number: int, section: str, verb: str, paragraph: str
) -> tuple[tuple[Cell, ...], int]:
    """A row's locked cells and the lines they need, once per paragraph of a cycle.

    Every entity of a cycle gets the same paragraphs, so the 57 workbooks of a cycle share
    this work; only the answers (last cycle's prefill) differ between them.
    """
    cells: tuple[Cell, ...] = (resolution, number, section, verb, paragraph)
    return cells, _text_lines(cells, _LOCKED_WIDTHS)


def return_rows(spec: QuestionnaireSpec) -> Iterator[tuple[tuple[Cell, ...], float]]:
    """Each Return row as cell values in ``COLUMNS`` order, with its height in points.

    The height is ``row_height`` of the row's texts with two lines at least, computed as the
    larger of the cached paragraph part and the answers part.
    """
    lang = spec.language
    for question in spec.rows:
        locked, lines = _question_cells(
            question.resolution,
            question.number,
            question.section or "",
            question.verb,
            question.text,
        )
        answers = _NO_ANSWERS
        if question.prefill:
            for key in question.prefill:
                answer_value(key, None, lang)  # refuse unknown keys before writing anything
            answers = tuple(answer_value(k, question.prefill.get(k), lang) for k in ANSWER_KEYS)
            lines = max(lines, _text_lines(answers, _ANSWER_WIDTHS))
        height = min(MAX_ROW_HEIGHT, max(_MIN_ANSWER_LINES, lines) * LINE_HEIGHT)
        yield (*locked, *answers), height


def header_height(language: Language) -> float:
    """Height of the Return sheet's header row in ``language``."""
    return row_height((column.header[language], column.width) for column in COLUMNS)


def instruction_height(line: InstructionLine) -> float | None:
    """Height of an Instructions row in points; None leaves the default single line."""
    if line.kind == "title":
        return _TITLE_HEIGHT
    if line.kind == "heading":
        return _HEADING_HEIGHT
    label_width, value_width = INSTRUCTION_WIDTHS
    height = row_height(((line.label, label_width), (line.value, value_width)))
    return height if height > LINE_HEIGHT else None


# -- xlsxwriter ------------------------------------------------------------------------------


class _StructureLockedWorkbook(xlsxwriter.Workbook):  # type: ignore[misc]  # untyped library
    """An xlsxwriter workbook whose structure (add, delete, rename, move sheets) is locked.

    xlsxwriter has no API for workbook protection (its author declined one:
    jmcnamara/libxlsxwriter#516), but it is a single empty element that the schema places
    just before ``<bookViews>``. This hook writes it there; a test reads it back with openpyxl
    so that an xlsxwriter upgrade cannot drop it silently.
    """

    def _write_book_views(self) -> None:
        self._xml_empty_tag("workbookProtection", [("lockStructure", "1")])
        super()._write_book_views()


@dataclass(frozen=True)
class _Styles:
    """Every cell format, created once per workbook (xlsxwriter formats are per workbook)."""

    header: Any
    locked: Any
    locked_number: Any
    answer: Any
    answer_date: Any
    title: Any
    note: Any
    label: Any
    body: Any
    deadline: Any
    heading: Any
    heading_rule: Any
    status: Any
    link: Any


_BORDER: Final = {"border": 1, "border_color": "#BFBFBF"}
_CELL: Final = {"text_wrap": True, "valign": "top", **_BORDER}
_LOCKED_FILL: Final = "#F2F2F2"
_ACCENT: Final = "#1F4E79"


def style_specs(language: Language) -> dict[str, dict[str, Any]]:
    """Every cell format as xlsxwriter properties (the benchmark maps them to openpyxl).

    Arabic text gets a right-to-left reading order, so it aligns towards its label.
    """
    rtl = {"reading_order": 2} if language == "ar" else {}
    wrapped = {"valign": "top", "text_wrap": True, **rtl}
    rule = {"bottom": 2, "bottom_color": _ACCENT}
    return {
        "header": {**_CELL, **rtl, "bold": True, "font_color": "#FFFFFF", "bg_color": _ACCENT},
        "locked": {**_CELL, **rtl, "bg_color": _LOCKED_FILL},
        "locked_number": {**_CELL, "bg_color": _LOCKED_FILL, "align": "center"},
        "answer": {**_CELL, **rtl, "locked": False},
        "answer_date": {**_CELL, "locked": False, "num_format": DATE_FORMAT, "align": "center"},
        "title": {**rtl, "bold": True, "font_size": 16, "font_color": _ACCENT},
        "note": {**rtl, "italic": True, "font_color": "#7F7F7F"},
        "label": {**wrapped, "bold": True},
        "body": wrapped,
        "deadline": {**wrapped, "bold": True, "font_color": "#C00000"},
        "heading": {**rtl, "bold": True, "font_size": 13, "font_color": _ACCENT, **rule},
        "heading_rule": rule,
        "status": {**_BORDER, **rtl, "bold": True, "valign": "top", "bg_color": _LOCKED_FILL},
        "link": {"font_color": "#0563C1", "underline": 1, "valign": "top", "text_wrap": True},
    }


def _styles(book: Any, language: Language) -> _Styles:
    specs = style_specs(language)
    return _Styles(**{name: book.add_format(props) for name, props in specs.items()})


def _header_text(value: str) -> str:
    """Escape ``&``, the control character of Excel's page header and footer codes."""
    return value.replace("&", "&&")


def _write_link(sheet: Any, row: int, col: int, url: str, styles: _Styles) -> None:
    """A clickable link; write_url refuses what Excel cannot store (over 2079 characters)."""
    if sheet.write_url(row, col, url, styles.link, url) != 0:
        sheet.write_string(row, col, url, styles.body)


def _write_instructions(sheet: Any, spec: QuestionnaireSpec, styles: _Styles) -> None:
    for col, width in enumerate(INSTRUCTION_WIDTHS):
        sheet.set_column(col, col, width)
    sheet.hide_gridlines(2)
    for row, line in enumerate(instruction_lines(spec)):
        height = instruction_height(line)
        if height is not None:
            sheet.set_row(row, height)
        if line.kind == "title":
            sheet.write_string(row, 0, line.label, styles.title)
        elif line.kind == "note":
            sheet.write_string(row, 0, line.label, styles.note)
        elif line.kind == "field":
            sheet.write_string(row, 0, line.label, styles.label)
            sheet.write_string(row, 1, line.value, styles.body)
        elif line.kind == "deadline":
            sheet.write_string(row, 0, line.label, styles.label)
            sheet.write_string(row, 1, line.value, styles.deadline)
        elif line.kind == "heading":
            sheet.write_string(row, 0, line.label, styles.heading)
            sheet.write_blank(row, 1, None, styles.heading_rule)
        elif line.kind == "bullet":
            sheet.write_string(row, 1, line.value, styles.body)
        elif line.kind == "status":
            sheet.write_string(row, 0, line.label, styles.status)
            sheet.write_string(row, 1, line.value, styles.body)
        elif line.kind == "link":
            _write_link(sheet, row, 1, line.value, styles)
    _write_contents(sheet, spec, styles, len(instruction_lines(spec)) + 1)
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.protect(_NO_PASSWORD)


def contents(spec: QuestionnaireSpec) -> list[tuple[str, str, int, int]]:
    """The resolutions of the Return sheet in their order: (area, symbol, first Excel row,
    paragraph count); a resolution's rows are consecutive when the cycle lists them so."""
    from resotrack.resolutions.areas import area_of

    found: list[tuple[str, str, int, int]] = []
    for index, row in enumerate(spec.rows):
        excel_row = FIRST_ANSWER_ROW + 1 + index
        if found and found[-1][1] == row.resolution:
            area, symbol, first, count = found[-1]
            found[-1] = (area, symbol, first, count + 1)
        else:
            found.append((area_of(row.resolution), row.resolution, excel_row, 1))
    return found


def _write_contents(sheet: Any, spec: QuestionnaireSpec, styles: _Styles, start: int) -> None:
    """A session's questionnaire (several resolutions): its contents below the instructions,
    area by area, each resolution a link to its first row in the sheet "Return", so a focal
    point can see at a glance which rows to give to which ministry."""
    from resotrack.catalog import Words
    from resotrack.resolutions.areas import AREAS

    listed = contents(spec)
    if len({symbol for _, symbol, _, _ in listed}) < 2:
        return  # one resolution: the instructions say it all, as before
    words = Words(spec.language, "session")
    row = start
    sheet.write_string(row, 0, words("Contents"), styles.heading)
    sheet.write_blank(row, 1, None, styles.heading_rule)
    shown_area: str | None = None
    for area, symbol, first, count in listed:
        row += 1
        if area != shown_area:
            name = AREAS.get(area)
            sheet.write_string(
                row, 0, words(name) if name else words("Other resolutions"), styles.label
            )
            shown_area = area
        label = words.n(
            "Resolution {resolution}: {n} paragraph, from row {row}",
            "Resolution {resolution}: {n} paragraphs, from row {row}",
            count,
            # an isolate keeps the symbol whole inside Arabic text
            resolution=f"\u2066{symbol}\u2069" if spec.language == "ar" else symbol,
            row=first,
        )
        sheet.write_url(row, 1, f"internal:'{RETURN_SHEET}'!A{first}", styles.link, label)


def _column_styles(styles: _Styles) -> list[Any]:
    """The format of each Return column's cells: grey and locked, or white and editable."""
    special = {
        "paragraph": styles.locked_number,
        "section": styles.locked_number,
        "start_date": styles.answer_date,
    }
    return [special.get(c.key, styles.locked if c.locked else styles.answer) for c in COLUMNS]


def _write_return(sheet: Any, spec: QuestionnaireSpec, styles: _Styles) -> None:
    lang = spec.language
    last_row = len(spec.rows)
    for col, column in enumerate(COLUMNS):
        sheet.set_column(col, col, column.width)
        sheet.write_string(HEADER_ROW, col, column.header[lang], styles.header)

    sheet.set_row(HEADER_ROW, header_height(lang))

    if last_row >= FIRST_ANSWER_ROW:
        status_col = COLUMN_INDEX["status"]
        sheet.data_validation(
            FIRST_ANSWER_ROW,
            status_col,
            last_row,
            status_col,
            {
                "validate": "list",
                # A range, not an inline "a,b,c" list: French labels hold commas and accents,
                # and Excel caps inline lists at 255 characters.
                "source": f"={LISTS_SHEET}!$A$1:$A${len(STATUSES)}",
                "input_title": text("input.status.title", lang),
                "input_message": text("input.status.message", lang),
                "error_title": text("error.title", lang),
                "error_message": text("error.status.message", lang),
            },
        )
        date_col = COLUMN_INDEX["start_date"]
        sheet.data_validation(
            FIRST_ANSWER_ROW,
            date_col,
            last_row,
            date_col,
            {
                "validate": "date",
                "criteria": "between",
                "minimum": DATE_MIN,
                "maximum": DATE_MAX,
                "input_title": text("input.date.title", lang),
                "input_message": text("input.date.message", lang),
                "error_title": text("error.title", lang),
                "error_message": text("error.date.message", lang),
            },
        )
        sheet.autofilter(HEADER_ROW, 0, last_row, len(COLUMNS) - 1)

    sheet.freeze_panes(FIRST_ANSWER_ROW, FROZEN_COLUMNS)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)  # one page wide, as many tall as needed
    sheet.repeat_rows(HEADER_ROW)
    sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    sheet.set_header(f"&L{_header_text(spec.entity_name)}&R{_header_text(workbook_filename(spec))}")
    sheet.set_footer("&C&P / &N")
    # Defaults forbid inserting, deleting and formatting rows and columns; the filter stays usable.
    sheet.protect(_NO_PASSWORD, {"autofilter": True})


def _write_return_rows(sheet: Any, spec: QuestionnaireSpec, styles: _Styles) -> None:
    """The Return sheet's data rows, written after every other string of the workbook.

    Last, so that the shared-string table is the rest of the workbook's strings followed by
    the rows' own: ``template.py`` relies on it to splice the rows of a cycle's template
    into a workbook built without them.
    """
    # The innermost loop of a cycle's dispatch (57 workbooks x 137 rows x 12 cells), so the
    # methods are looked up once. Blank answer cells are written too, each with its unlocked
    # format: a column format would be cheaper but would also unlock the rows below the table.
    cell_styles = tuple(enumerate(_column_styles(styles)))
    set_row = sheet.set_row
    write_string = sheet.write_string  # never write(): text like "=..." must stay text
    write_blank = sheet.write_blank
    write_datetime = sheet.write_datetime
    write_number = sheet.write_number
    answer_date = styles.answer_date
    for row, (values, height) in enumerate(return_rows(spec), start=FIRST_ANSWER_ROW):
        set_row(row, height)
        for (col, style), value in zip(cell_styles, values, strict=True):
            if isinstance(value, str):
                write_string(row, col, value, style)
            elif value is None:
                write_blank(row, col, None, style)
            elif isinstance(value, date):
                write_datetime(row, col, value, answer_date)
            else:
                write_number(row, col, value, style)
    for row, question in enumerate(spec.rows, start=FIRST_ANSWER_ROW):
        if question.note:  # e.g. last cycle's answer to the paragraph this one renews
            sheet.write_comment(row, COLUMN_INDEX["status"], question.note, {"x_scale": 2})


def _write_row_formats(sheet: Any, spec: QuestionnaireSpec, styles: _Styles) -> None:
    """In place of the data rows: the first row as blank cells, each with its column's format.

    xlsxwriter numbers formats in the order cells use them, so this keeps every format's
    number (and ``styles.xml``) as in the full build; the splice replaces this row.
    """
    if spec.rows:
        for col, style in enumerate(_column_styles(styles)):
            sheet.write_blank(FIRST_ANSWER_ROW, col, None, style)


RowsWriter = Callable[[Any, QuestionnaireSpec, _Styles], None]


def _write_key_values(sheet: Any, pairs: Mapping[str, str]) -> None:
    for row, (key, value) in enumerate(pairs.items()):
        sheet.write_string(row, 0, key)
        sheet.write_string(row, 1, value)


def build_workbook(
    spec: QuestionnaireSpec, *, signing_key: bytes, created: datetime | None = None
) -> bytes:
    """The questionnaire as ``.xlsx`` bytes, its ``_meta`` signed with ``signing_key``.

    Pass ``created`` to get byte-identical output for the same spec (the zip entries already
    carry a fixed timestamp; only the document's creation date varies otherwise).
    """
    return _build(spec, signing_key, created, _write_return_rows)


def build_workbook_without_rows(
    spec: QuestionnaireSpec, *, signing_key: bytes, created: datetime | None = None
) -> bytes:
    """``build_workbook`` up to the Return sheet's data rows, for ``template.py`` to splice.

    Everything else (the dropdown and filter ranges included) is as in the full build; the
    first data row holds blank formatted cells, see ``_write_row_formats``.
    """
    return _build(spec, signing_key, created, _write_row_formats)


def _build(
    spec: QuestionnaireSpec,
    signing_key: bytes,
    created: datetime | None,
    write_rows: RowsWriter,
) -> bytes:
    fields = meta_fields(spec)
    fields[SIGNATURE] = sign_meta(fields, signing_key)

    output = io.BytesIO()
    book = _StructureLockedWorkbook(output, _WORKBOOK_OPTIONS)
    book.set_properties(
        {
            "title": text("instructions.title", spec.language, entity=spec.entity_name),
            "subject": workbook_filename(spec),
            "author": "resotrack",
            # xlsxwriter would read the wall clock itself: the creation date is resotrack's
            # clock's (tests and trials move it), or the caller's for byte-identical output
            "created": created if created is not None else clock.now(),
        }
    )
    styles = _styles(book, spec.language)
    instructions = book.add_worksheet(INSTRUCTIONS_SHEET)
    answers = book.add_worksheet(RETURN_SHEET)
    lists = book.add_worksheet(LISTS_SHEET)
    meta = book.add_worksheet(META_SHEET)

    _write_instructions(instructions, spec, styles)
    _write_return(answers, spec, styles)
    for row, label in enumerate(status_labels(spec.language)):
        lists.write_string(row, 0, label)
    _write_key_values(meta, fields)
    write_rows(answers, spec, styles)  # last: see _write_return_rows
    for hidden in (lists, meta):
        hidden.protect(_NO_PASSWORD)
        hidden.very_hidden()
    if spec.language == "ar":
        for sheet in (instructions, answers, lists, meta):
            sheet.right_to_left()
    instructions.activate()

    book.close()
    return output.getvalue()
