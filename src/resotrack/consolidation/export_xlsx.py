"""The tables as one xlsx workbook (xlsxwriter): a sheet per table, frozen headers, filters,
colours on the matrix.

Returns come from outside the organisation, so no text reaches a cell as a formula: the
workbook is opened with ``strings_to_formulas`` (and URL and number guessing) off, every text
is written with ``write_string``, and any text starting with ``= + - @``, a tab or a carriage
return is neutralised with a leading apostrophe, so it stays inert when someone copies it into
another sheet or saves the sheet as CSV.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from resotrack.catalog import Language, Words
from resotrack.consolidation.labels import COLOURS, INK, kind_text, legend, status_text
from resotrack.consolidation.tables import STATUS_COLUMNS, Tables
from resotrack.textsafety import neutralise as _neutralise

WORKBOOK_OPTIONS: Final[dict[str, Any]] = {
    "in_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "remove_timezone": True,
}


@dataclass(frozen=True)
class BuildInfo:
    """What the About sheet says about the build."""

    cycle_id: int
    cycle_title: str
    deadline: date
    snapshot_sha256: str
    built_at: datetime
    resolutions: Sequence[str]
    #: When the questionnaires went out, and how many reminders were sent (None: unknown).
    opened_on: date | None = None
    reminders: int | None = None
    #: The theme the build is restricted to, by its name in the build's language.
    theme: str | None = None


class _Writer:
    """Cell writing with one set of formats, in one language; text is always neutralised."""

    def __init__(self, book: xlsxwriter.Workbook, language: Language) -> None:
        self.book = book
        self.language: Language = language
        self.w = Words(language, "report")
        self.yes, self.no = self.w("yes"), self.w("no")
        self.header = book.add_format(
            {"bold": True, "bg_color": "#DDE4EE", "border": 1, "text_wrap": True, "valign": "top"}
        )
        self.percent = book.add_format({"num_format": "0.0%"})
        self.when = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        self.day = book.add_format({"num_format": "yyyy-mm-dd"})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self.bold = book.add_format({"bold": True})
        self.title = book.add_format({"bold": True, "font_size": 14})

    def cell(
        self, ws: Worksheet, row: int, col: int, value: Any, fmt: Format | None = None
    ) -> None:
        if value is None or value is pd.NaT:
            return
        if isinstance(value, str):
            if value:
                ws.write_string(row, col, _neutralise(value), fmt)
        elif isinstance(value, bool):
            ws.write_string(row, col, self.yes if value else self.no, fmt)
        elif isinstance(value, datetime):
            ws.write_datetime(row, col, value, fmt or self.when)
        elif isinstance(value, date):
            ws.write_datetime(
                row, col, datetime.combine(value, datetime.min.time()), fmt or self.day
            )
        elif isinstance(value, int | float):
            if not (isinstance(value, float) and math.isnan(value)):
                ws.write_number(row, col, value, fmt)
        else:
            ws.write_string(row, col, _neutralise(str(value)), fmt)

    def _column(
        self, ws: Worksheet, col: int, first: int, series: pd.Series, fmt: Format | None
    ) -> None:
        dtype = series.dtype
        if isinstance(dtype, pd.DatetimeTZDtype):
            naive = series.dt.tz_convert("UTC").dt.tz_localize(None)
            for r, value in enumerate(naive.tolist(), start=first):
                if value is not None and value is not pd.NaT:
                    ws.write_datetime(r, col, value.to_pydatetime(), fmt or self.when)
        elif pd.api.types.is_bool_dtype(dtype):
            for r, flag in enumerate(series.tolist(), start=first):
                ws.write_string(r, col, self.yes if flag else self.no, fmt)
        elif pd.api.types.is_numeric_dtype(dtype):
            write_number = ws.write_number
            for r, number in enumerate(series.tolist(), start=first):
                if not _missing(number):
                    write_number(r, col, number, fmt)
        else:
            write_string = ws.write_string
            for r, value in enumerate(series.tolist(), start=first):
                if isinstance(value, str):
                    if value:
                        write_string(r, col, _neutralise(value), fmt)
                elif not _missing(value):
                    self.cell(ws, r, col, value, fmt)

    def table(
        self,
        ws: Worksheet,
        frame: pd.DataFrame,
        headers: Sequence[str],
        *,
        widths: Sequence[float] = (),
        formats: dict[str, Format] | None = None,
        first_row: int = 0,
        freeze_cols: int = 1,
    ) -> None:
        """A header row, the rows, frozen panes and a filter over the whole range."""
        formats = formats or {}
        for col, text in enumerate(headers):
            ws.write_string(first_row, col, text, self.header)
        # Column by column, with one writer per column's type: a quarter of a million rows
        # must not pay a type dispatch per cell.
        first = first_row + 1
        for c, name in enumerate(frame.columns):
            self._column(ws, c, first, frame[name], formats.get(name))
        last = first_row + max(len(frame), 1)
        ws.autofilter(first_row, 0, last, len(headers) - 1)
        ws.freeze_panes(first_row + 1, freeze_cols)
        for col, width in enumerate(widths):
            ws.set_column(col, col, width)
        _print_setup(ws, first_row, freeze_cols)


def _print_setup(ws: Worksheet, header_row: int, title_cols: int) -> None:
    """Landscape A4, one page wide, the header row (and key columns) on every page."""
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(header_row)
    if title_cols:
        ws.repeat_columns(0, title_cols - 1)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.set_footer("&C&P / &N")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _status_headers(language: Language) -> list[str]:
    return [label for _code, label, _colour in legend(language)]


#: Sheet names (catalog ids, domain ``report``), in the workbook's order.
SHEETS: Final = ("About", "Matrix", "Paragraphs", "Entities", "Sections", "Addressees", "Replies")
#: Addressee classes as a reader calls them (catalog ids, domain ``report``).
ADDRESSEES: Final[dict[str, str]] = {
    "MS": "Member states",
    "SG": "General Secretariat",
    "ORG": "Named institutions",
    "GRP": "Groups",
    "INTL": "International community",
    "ALL": "Everyone",
    "NONE": "Nobody named",
}


def sheet_names(language: Language) -> list[str]:
    w = Words(language, "report")
    return [w(name)[:31] for name in SHEETS]


def write_workbook(tables: Tables, info: BuildInfo, *, language: Language = "en") -> bytes:
    """The workbook's bytes, every word in ``language``."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
    w = _Writer(book, language)
    t = w.w
    book.set_properties(
        {
            "title": _title(t, info),
            "subject": t("Reporting cycle {id}", id=info.cycle_id),
            "author": "resotrack",
            "comments": info.snapshot_sha256,
        }
    )
    names = sheet_names(language)
    _about(book.add_worksheet(names[0]), w, tables, info)
    _matrix(book, book.add_worksheet(names[1]), w, tables)
    _paragraphs(book.add_worksheet(names[2]), w, tables)
    _entities(book.add_worksheet(names[3]), w, tables)
    _rollup(book.add_worksheet(names[4]), w, tables.sections, "sections")
    _rollup(book.add_worksheet(names[5]), w, tables.addressees, "addressees")
    _narrative(book.add_worksheet(names[6]), w, tables)
    if language == "ar":
        for ws in book.worksheets():
            ws.right_to_left()
    book.close()
    return buffer.getvalue()


def _title(t: Words, info: BuildInfo) -> str:
    if info.theme:
        return t(
            "Implementation tables: {cycle}, paragraphs on {theme}",
            cycle=info.cycle_title,
            theme=info.theme,
        )
    return t("Implementation tables: {cycle}", cycle=info.cycle_title)


def _name_column(language: Language) -> str:
    return {"fr": "name_fr", "ar": "name_ar"}.get(language, "name_en")


def _about(ws: Worksheet, w: _Writer, tables: Tables, info: BuildInfo) -> None:
    t = w.w
    ws.set_column(0, 0, 38)
    ws.set_column(1, 1, 70)
    ws.write_string(0, 0, _neutralise(_title(t, info)), w.title)
    s = tables.summary
    rows: list[tuple[str, Any, Format | None]] = [
        (t("Reporting cycle"), info.cycle_id, None),
        *([(t("Theme"), info.theme, None)] if info.theme else []),
        (t("Resolutions"), ", ".join(info.resolutions), None),
        (t("Deadline"), info.deadline, w.day),
        (t("Built at (UTC)"), info.built_at.replace(tzinfo=None), w.when),
        (t("Answers snapshot (SHA-256)"), info.snapshot_sha256, None),
        (t("Entities asked"), s["entities_asked"], None),
        (t("Entities that returned"), s["entities_returned"], None),
        (t("Response rate"), s["response_rate"], w.percent),
        (t("Returned on time"), s["entities_on_time"], None),
        (t("Paragraphs asked about"), s["paragraphs_asked"], None),
        (t("Paragraphs"), s["paragraphs"], None),
        (t("Answers expected"), s["cells_asked"], None),
        (t("Answers received"), s["cells_replied"], None),
    ]
    for r, (label, value, fmt) in enumerate(rows, start=2):
        ws.write_string(r, 0, label, w.bold)
        w.cell(ws, r, 1, value, fmt)
    r = len(rows) + 3
    ws.write_string(r, 0, t("Statuses (colours of the matrix)"), w.bold)
    for code, label, colour in legend(w.language):
        r += 1
        fill = w.book.add_format({"bg_color": colour, "font_color": INK[code]})
        ws.write_string(r, 0, label, fill)
    r += 2
    notes = (
        t("Counts include the entities that never replied."),
        t("A return sent back for correction counts as no reply until a new one is accepted."),
        t("On time: first validated return received by the end of the deadline day (UTC)."),
        t("Completeness: share of an entity's rows with a status other than no information."),
        t("Addressees: a paragraph addressed to several classes counts under each."),
        t("Text from returns is shown as written; text starting with = + - @ gets a leading '."),
    )
    for note in notes:
        ws.write_string(r, 0, note)
        r += 1
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)


def _matrix(book: xlsxwriter.Workbook, ws: Worksheet, w: _Writer, tables: Tables) -> None:
    t = w.w
    matrix = tables.matrix
    names = dict(
        zip(tables.entities["entity"], tables.entities[_name_column(w.language)], strict=True)
    )
    codes = [str(c) for c in matrix.columns]
    headers = [t("Resolution"), t("Paragraph"), *[str(names.get(c) or c) for c in codes]]
    for col, text in enumerate(headers):
        ws.write_string(0, col, _neutralise(text), w.header)
    labels = {code: status_text(code, w.language) for code in STATUS_COLUMNS}
    write_string, write_number = ws.write_string, ws.write_number
    index = list(matrix.index)
    for r, row in enumerate(matrix.itertuples(index=False, name=None), start=1):
        symbol, number = index[r - 1]
        write_string(r, 0, _neutralise(str(symbol)))
        write_number(r, 1, int(number))
        for c, value in enumerate(row, start=2):
            if value:
                write_string(r, c, labels[value])
    last_row, last_col = max(len(matrix), 1), len(headers) - 1
    ws.freeze_panes(1, 2)
    ws.autofilter(0, 0, last_row, last_col)
    ws.set_column(0, 0, 26)
    ws.set_column(1, 1, 10)
    ws.set_row(0, 60)
    if last_col >= 2:
        ws.set_column(2, last_col, 14)
        for code in STATUS_COLUMNS:
            fmt = book.add_format({"bg_color": COLOURS[code], "font_color": INK[code]})
            ws.conditional_format(
                1,
                2,
                last_row,
                last_col,
                {"type": "cell", "criteria": "==", "value": f'"{labels[code]}"', "format": fmt},
            )
    _print_setup(ws, 0, 2)
    ws.fit_to_pages(0, 0)  # a matrix wider than a page is printed on as many as it needs


def _paragraphs(ws: Worksheet, w: _Writer, tables: Tables) -> None:
    t = w.w
    frame = tables.paragraphs[
        [
            "resolution",
            "number",
            "section",
            "addressees",
            "asked",
            "replied",
            "rate",
            *STATUS_COLUMNS,
        ]
    ].copy()
    frame["addressees"] = [
        ", ".join(t(ADDRESSEES.get(c, "Nobody named")) for c in str(a).split(",") if c)
        for a in frame["addressees"]
    ]
    headers = [
        t("Resolution"),
        t("Paragraph"),
        t("Section"),
        t("Addressees"),
        t("Entities asked"),
        t("Replied"),
        t("Response rate"),
        *_status_headers(w.language),
    ]
    w.table(
        ws,
        frame,
        headers,
        widths=[26, 10, 8, 26, 10, 9, 10, *[13] * len(STATUS_COLUMNS)],
        formats={"rate": w.percent},
        freeze_cols=2,
    )
    ws.set_row(0, 45)
    ws.conditional_format(1, 6, max(len(frame), 1), 6, {"type": "data_bar", "bar_color": "#6A9BD1"})


def _entities(ws: Worksheet, w: _Writer, tables: Tables) -> None:
    t = w.w
    headers = [
        t("Entity"),
        t("Kind"),
        t("Rows asked"),
        t("Rows answered"),
        t("Returned"),
        t("On time"),
        t("Completeness"),
        t("Versions"),
        t("First return (UTC)"),
        t("Last submission (UTC)"),
    ]
    frame = tables.entities.copy()
    frame["name"] = frame[_name_column(w.language)].fillna(frame["name_en"])
    frame["kind"] = [kind_text(str(k), w.language) for k in frame["kind"]]
    columns = [
        "name",
        "kind",
        "rows",
        "replied",
        "returned",
        "on_time",
        "completeness",
        "versions",
        "first_return_at",
        "last_submission_at",
    ]
    w.table(
        ws,
        frame[columns],
        headers,
        widths=[34, 22, 10, 10, 10, 10, 12, 9, 18, 18],
        formats={"completeness": w.percent},
        freeze_cols=1,
    )
    ws.set_row(0, 30)


def _rollup(ws: Worksheet, w: _Writer, frame: pd.DataFrame, kind: str) -> None:
    t = w.w
    frame = frame.copy()
    if kind == "sections":
        keys = ["resolution", "section", "title"]
        key_headers = [t("Resolution"), t("Section"), t("Title")]
        widths = [26, 8, 40]
    else:
        frame["addressee"] = [t(ADDRESSEES.get(str(c), "Nobody named")) for c in frame["addressee"]]
        keys = ["addressee"]
        key_headers = [t("Addressees")]
        widths = [26]
    columns = [*keys, "paragraphs", "cells", "replied", "rate", *STATUS_COLUMNS]
    headers = [
        *key_headers,
        t("Paragraphs"),
        t("Answers expected"),
        t("Answers received"),
        t("Response rate"),
        *_status_headers(w.language),
    ]
    w.table(
        ws,
        frame[columns],
        headers,
        widths=[*widths, 11, 11, 10, 10, *[13] * len(STATUS_COLUMNS)],
        formats={"rate": w.percent},
        freeze_cols=len(keys),
    )
    ws.set_row(0, 45)


def _narrative(ws: Worksheet, w: _Writer, tables: Tables) -> None:
    t = w.w
    frame = tables.narrative.copy()
    frame["name"] = frame[_name_column(w.language)].fillna(frame["name_en"])
    frame["status"] = [status_text(str(c), w.language) for c in frame["status"]]
    frame = frame[
        [
            "resolution",
            "number",
            "section",
            "name",
            "status",
            "measures",
            "start_date",
            "national_body",
            "challenges",
            "support_requested",
            "evidence",
        ]
    ]
    headers = [
        t("Resolution"),
        t("Paragraph"),
        t("Section"),
        t("Entity"),
        t("Status"),
        t("Measures taken"),
        t("Start date"),
        t("Responsible national body"),
        t("Challenges"),
        t("Support requested"),
        t("Evidence"),
    ]
    wrap = {name: w.wrap for name in ("measures", "challenges", "support_requested", "evidence")}
    w.table(
        ws,
        frame,
        headers,
        widths=[26, 10, 8, 24, 20, 60, 11, 24, 40, 30, 30],
        formats=wrap,
        freeze_cols=4,
    )
    ws.set_row(0, 30)
