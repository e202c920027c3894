"""What runs in the sandboxed readers to annotate a sender's workbook (op ``annotate``).

Moved out of :mod:`.feedback` so that the sandbox imports what it runs without importing the
parent's side (which itself calls the sandbox): the two no longer import each other.
:mod:`.feedback` re-exports :func:`annotate_package`. Every string written goes through
:func:`resotrack.textsafety.neutralise` (openpyxl would take ``"=..."`` for a formula).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from typing import Any, Final

from resotrack.textsafety import neutralise

FILLS: Final = {"blocker": "FFC7CE", "warning": "FFEB9C"}
_SUMMARY_WIDTHS: Final = (9, 12, 26, 60, 60)


def _unique_title(existing: Sequence[str], wanted: str) -> str:
    title, n = wanted[:31], 2
    while title in existing:
        title = f"{wanted[:28]} {n}"
        n += 1
    return title


def _annotate_cells(book: Any, header: Mapping[str, Any]) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    name = header["return_sheet"]
    if name not in book.sheetnames:
        return
    sheet = book[name]
    for note in header["notes"]:
        try:
            cell = sheet[note["cell"]]
        except (ValueError, IndexError, KeyError):
            continue
        if not hasattr(cell, "column_letter") or type(cell).__name__ == "MergedCell":
            continue  # inside a merged range: the summary sheet still lists it
        cell.fill = PatternFill("solid", fgColor=FILLS.get(note["severity"], FILLS["warning"]))
        lines = note["text"].count("\n") + 1 + len(note["text"]) // 48
        comment = Comment(neutralise(note["text"]), "resotrack")
        comment.width = 360
        comment.height = min(600, 20 + 16 * lines)
        cell.comment = comment


def _summary(book: Any, header: Mapping[str, Any]) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    summary = header["summary"]
    sheet = book.create_sheet(_unique_title(book.sheetnames, summary["title"]), 0)
    sheet.sheet_view.rightToLeft = bool(header.get("rtl"))
    wrap = Alignment(wrap_text=True, vertical="top")
    sheet.append([neutralise(summary["heading"])])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([neutralise(summary["outcome"])])
    sheet["A2"].alignment = Alignment(wrap_text=False, vertical="top")
    for label, value in summary["details"]:
        sheet.append([neutralise(label), neutralise(value)])
    sheet.append([])
    sheet.append([neutralise(c) for c in summary["columns"]])
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="1F4E79")
    for severity, row in zip(summary["severities"], summary["rows"], strict=True):
        sheet.append([neutralise(v) for v in row])
        fill = PatternFill("solid", fgColor=FILLS.get(severity, FILLS["warning"]))
        for cell in sheet[sheet.max_row]:
            cell.alignment = wrap
            cell.fill = fill
    for index, width in enumerate(_SUMMARY_WIDTHS):
        sheet.column_dimensions[chr(65 + index)].width = width
    book.active = 0
    for other in book.worksheets[1:]:
        other.sheet_view.tabSelected = False
    sheet.sheet_view.tabSelected = True


def annotate_package(payload: bytes, header: Mapping[str, Any]) -> dict[str, Any]:
    """The sandbox op: the sender's workbook with notes and a summary sheet, as base64.

    By patching the package (:mod:`.xlsxpatch`: every other part byte-for-byte as sent,
    milliseconds); with openpyxl when the package is not shaped as the patcher expects.
    """
    from resotrack.validation.xlsxpatch import CannotPatch, annotate_zip

    try:
        patched = annotate_zip(payload, header)
        return {"ok": True, "how": "patch", "data": base64.b64encode(patched).decode("ascii")}
    except CannotPatch:
        pass
    return annotate_with_openpyxl(payload, header)


def annotate_with_openpyxl(payload: bytes, header: Mapping[str, Any]) -> dict[str, Any]:
    """The fallback: openpyxl rewrites the whole package (values kept, bytes not)."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(payload), rich_text=True, keep_links=False)
    _annotate_cells(book, header)
    _summary(book, header)
    out = io.BytesIO()
    book.save(out)
    return {"ok": True, "how": "openpyxl", "data": base64.b64encode(out.getvalue()).decode("ascii")}
