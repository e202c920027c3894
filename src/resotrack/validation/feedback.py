"""The annotated copy of the sender's own workbook: problem cells highlighted and commented,
a summary sheet first, everything else as they sent it.

Made with openpyxl, which rewrites the package: "everything else unchanged" means every other
cell value, every sheet (names, order, visibility), the data validations and the signed
``_meta`` sheet, which is what the tests compare. The one cell style that changes is the fill
of a problem cell; a comment is added on it.

openpyxl parses the sender's file, so the work runs in the sandboxed reader processes (op
``annotate``), after the package checks of :mod:`.read` have passed; the parent only sends
the notes to write and gets bytes back. Every string written goes through
:func:`resotrack.textsafety.neutralise` (openpyxl would take ``"=..."`` for a formula).
"""

from __future__ import annotations

import base64
import contextlib
import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from resotrack.textsafety import neutralise

if TYPE_CHECKING:
    from resotrack.validation.report import Problem

FILLS: Final = {"blocker": "FFC7CE", "warning": "FFEB9C"}
_SUMMARY_WIDTHS: Final = (9, 12, 26, 60, 60)


# --- in the parent: what to write --------------------------------------------------------


def _cell_of(problem: Problem, names: Sequence[str] | None) -> str | None:
    """Where a problem sits in the sheet as sent (``names``: its columns, left to right)."""
    from resotrack.validation.read import column_letter

    if problem.cell and problem.cell != "?":
        return problem.cell
    if problem.row is None or names is None:
        return None
    if problem.column and problem.column in names:
        return f"{column_letter(names.index(problem.column) + 1)}{problem.row}"
    if "paragraph" in names:  # a row-level problem: point at its paragraph number
        return f"{column_letter(names.index('paragraph') + 1)}{problem.row}"
    return f"A{problem.row}"


def table(problems: Sequence[Mapping[str, Any]], language: str) -> list[list[str]]:
    """The problem table (as stored in the report) in ``language``, for sheet and email."""
    from resotrack.questionnaires.i18n import LANGUAGES, as_language, text

    rows = []
    for p in problems:
        column = p.get("column") or ""
        if column and language in LANGUAGES:
            with contextlib.suppress(KeyError):
                column = text(f"column.{column}", as_language(language))
        rows.append(
            [
                str(p.get("row") or ""),
                str(p.get("paragraph") or ""),
                column,
                p["message"][language],
                p["fix"][language],
            ]
        )
    return rows


def notes(
    problems: Sequence[Problem],
    stored: Sequence[Mapping[str, Any]],
    names: Sequence[str] | None,
    language: str,
) -> list[dict[str, str]]:
    """One note per problem cell: its severity and the words to put in its comment."""
    by_cell: dict[str, dict[str, str]] = {}
    for problem, entry in zip(problems, stored, strict=True):
        cell = _cell_of(problem, names)
        if cell is None:
            continue
        words = f"{entry['message'][language]}\n→ {entry['fix'][language]}"
        note = by_cell.setdefault(cell, {"cell": cell, "severity": "warning", "text": ""})
        note["text"] = f"{note['text']}\n\n{words}" if note["text"] else words
        if problem.severity == "blocker":
            note["severity"] = "blocker"
    return list(by_cell.values())


def request(
    *,
    problems: Sequence[Problem],
    stored: Sequence[Mapping[str, Any]],
    names: Sequence[str] | None,
    outcome: str,
    language: str,
    return_sheet: str,
    details: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """The header of an ``annotate`` call: notes for cells and the summary sheet's content."""
    from resotrack.validation.messages import feedback_text

    words = {
        key: feedback_text(key, language)
        for key in (
            "sheet_title",
            "heading",
            f"outcome.{outcome}",
            "col.row",
            "col.paragraph",
            "col.column",
            "col.problem",
            "col.fix",
        )
    }
    return {
        "return_sheet": return_sheet,
        "rtl": language == "ar",
        "notes": notes(problems, stored, names, language),
        "summary": {
            "title": words["sheet_title"],
            "heading": words["heading"],
            "outcome": words[f"outcome.{outcome}"],
            "details": [list(pair) for pair in details],
            "columns": [
                words[k]
                for k in ("col.row", "col.paragraph", "col.column", "col.problem", "col.fix")
            ],
            "rows": table(stored, language),
            "severities": [p.severity for p in problems],
        },
    }


# --- in the sandbox: openpyxl ------------------------------------------------------------


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


def annotate(data: bytes, header: Mapping[str, Any]) -> bytes | None:
    """Run :func:`annotate_package` in the sandbox; ``None`` if it cannot be done safely."""
    from resotrack.validation.sandbox import ReaderLost, shared_sandbox

    try:
        answer = shared_sandbox().call("annotate", data, header)
    except ReaderLost:
        return None
    if not answer.get("ok"):
        return None
    return base64.b64decode(answer["data"])


__all__ = ["annotate", "annotate_package", "notes", "request", "table"]
