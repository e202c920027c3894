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
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from resotrack.validation.annotate import annotate_package  # the sandbox's side, re-exported

if TYPE_CHECKING:
    from resotrack.validation.report import Problem

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
