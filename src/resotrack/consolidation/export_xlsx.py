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

from resotrack.consolidation.labels import COLOURS, INK, legend
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


class _Writer:
    """Cell writing with one set of formats; text is always neutralised."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.book = book
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
            ws.write_string(row, col, "yes" if value else "no", fmt)
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
                ws.write_string(r, col, "yes" if flag else "no", fmt)
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


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _status_headers() -> list[str]:
    return [label for _code, label, _colour in legend("en")]


def write_workbook(tables: Tables, info: BuildInfo) -> bytes:
    """The workbook's bytes."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
    book.set_properties(
        {
            "title": f"Implementation tables: {info.cycle_title}",
            "subject": f"Reporting cycle {info.cycle_id}",
            "author": "resotrack",
            "comments": f"answers snapshot {info.snapshot_sha256}",
        }
    )
    w = _Writer(book)
    _about(book.add_worksheet("About"), w, tables, info)
    _matrix(book, book.add_worksheet("Matrix"), w, tables)
    _paragraphs(book.add_worksheet("Paragraphs"), w, tables)
    _entities(book.add_worksheet("Entities"), w, tables)
    _rollup(book.add_worksheet("Sections"), w, tables.sections, "sections")
    _rollup(book.add_worksheet("Addressees"), w, tables.addressees, "addressees")
    _narrative(book.add_worksheet("Narrative"), w, tables)
    book.close()
    return buffer.getvalue()


def _about(ws: Worksheet, w: _Writer, tables: Tables, info: BuildInfo) -> None:
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 70)
    ws.write_string(0, 0, _neutralise(f"Implementation tables: {info.cycle_title}"), w.title)
    s = tables.summary
    rows: list[tuple[str, Any, Format | None]] = [
        ("Reporting cycle", info.cycle_id, None),
        ("Resolutions", ", ".join(info.resolutions), None),
        ("Deadline", info.deadline, w.day),
        ("Built at (UTC)", info.built_at.replace(tzinfo=None), w.when),
        ("Answers snapshot (SHA-256)", info.snapshot_sha256, None),
        ("Entities asked", s["entities_asked"], None),
        ("Entities that returned", s["entities_returned"], None),
        ("Response rate", s["response_rate"], w.percent),
        ("Returned on time", s["entities_on_time"], None),
        ("Paragraphs (asked / all)", f"{s['paragraphs_asked']} / {s['paragraphs']}", None),
        ("Answers expected / received", f"{s['cells_asked']} / {s['cells_replied']}", None),
    ]
    for r, (label, value, fmt) in enumerate(rows, start=2):
        ws.write_string(r, 0, label, w.bold)
        w.cell(ws, r, 1, value, fmt)
    r = len(rows) + 3
    ws.write_string(r, 0, "Status codes (Matrix sheet)", w.bold)
    for code, label, colour in legend("en"):
        r += 1
        fill = w.book.add_format({"bg_color": colour, "font_color": INK[code]})
        ws.write_string(r, 0, code, fill)
        ws.write_string(r, 1, label)
    r += 2
    notes = (
        "Counts include the entities that never replied (no_reply).",
        "A return sent back for correction counts as no reply until a new one is accepted.",
        "On time: first validated return received by the end of the deadline day (UTC).",
        "Completeness: share of an entity's rows with a status other than no information.",
        "Addressees: a paragraph addressed to several classes counts under each.",
        "Text from returns is shown as written; text starting with = + - @ gets a leading '.",
    )
    for note in notes:
        ws.write_string(r, 0, note)
        r += 1


def _matrix(book: xlsxwriter.Workbook, ws: Worksheet, w: _Writer, tables: Tables) -> None:
    matrix = tables.matrix
    codes = [str(c) for c in matrix.columns]
    headers = ["Resolution", "Paragraph", *codes]
    for col, text in enumerate(headers):
        ws.write_string(0, col, _neutralise(text), w.header)
    write_string, write_number = ws.write_string, ws.write_number
    index = list(matrix.index)
    for r, row in enumerate(matrix.itertuples(index=False, name=None), start=1):
        symbol, number = index[r - 1]
        write_string(r, 0, _neutralise(str(symbol)))
        write_number(r, 1, int(number))
        for c, value in enumerate(row, start=2):
            if value:
                write_string(r, c, value)  # a status code or no_reply: our own vocabulary
    last_row, last_col = max(len(matrix), 1), len(headers) - 1
    ws.freeze_panes(1, 2)
    ws.autofilter(0, 0, last_row, last_col)
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 10)
    if last_col >= 2:
        ws.set_column(2, last_col, 12)
        for code in STATUS_COLUMNS:
            fmt = book.add_format({"bg_color": COLOURS[code], "font_color": INK[code]})
            ws.conditional_format(
                1,
                2,
                last_row,
                last_col,
                {"type": "cell", "criteria": "==", "value": f'"{code}"', "format": fmt},
            )


def _paragraphs(ws: Worksheet, w: _Writer, tables: Tables) -> None:
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
    ]
    headers = [
        "Resolution",
        "Paragraph",
        "Section",
        "Addressees",
        "Entities asked",
        "Replied",
        "Response rate",
        *_status_headers(),
    ]
    w.table(
        ws,
        frame,
        headers,
        widths=[28, 10, 8, 14, 10, 9, 10],
        formats={"rate": w.percent},
        freeze_cols=2,
    )
    ws.conditional_format(1, 6, max(len(frame), 1), 6, {"type": "data_bar", "bar_color": "#6A9BD1"})


def _entities(ws: Worksheet, w: _Writer, tables: Tables) -> None:
    headers = [
        "Entity",
        "Name",
        "Kind",
        "Rows asked",
        "Rows answered",
        "Returned",
        "On time",
        "Completeness",
        "Versions",
        "First return (UTC)",
        "Last submission (UTC)",
    ]
    columns = [
        "entity",
        "name_en",
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
        tables.entities[columns],
        headers,
        widths=[8, 30, 14, 10, 10, 9, 9, 12, 9, 18, 18],
        formats={"completeness": w.percent},
        freeze_cols=2,
    )


def _rollup(ws: Worksheet, w: _Writer, frame: pd.DataFrame, kind: str) -> None:
    if kind == "sections":
        keys = ["resolution", "section", "title"]
        key_headers = ["Resolution", "Section", "Title"]
        widths = [28, 8, 40]
    else:
        keys = ["addressee"]
        key_headers = ["Addressee class"]
        widths = [16]
    columns = [*keys, "paragraphs", "cells", "replied", "rate", *STATUS_COLUMNS]
    headers = [
        *key_headers,
        "Paragraphs",
        "Answers expected",
        "Received",
        "Response rate",
        *_status_headers(),
    ]
    w.table(
        ws,
        frame[columns],
        headers,
        widths=[*widths, 11, 11, 10, 10],
        formats={"rate": w.percent},
        freeze_cols=len(keys),
    )


def _narrative(ws: Worksheet, w: _Writer, tables: Tables) -> None:
    frame = tables.narrative[
        [
            "resolution",
            "number",
            "section",
            "entity",
            "name_en",
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
        "Resolution",
        "Paragraph",
        "Section",
        "Entity",
        "Name",
        "Status",
        "Measures taken",
        "Start date",
        "Responsible national body",
        "Challenges",
        "Support requested",
        "Evidence",
    ]
    wrap = {name: w.wrap for name in ("measures", "challenges", "support_requested", "evidence")}
    w.table(
        ws,
        frame,
        headers,
        widths=[28, 10, 8, 8, 24, 20, 60, 11, 24, 40, 30, 30],
        formats=wrap,
        freeze_cols=4,
    )
