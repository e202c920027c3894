"""Neutralise text that a spreadsheet would take for a formula (CSV/formula injection).

Focal points may legitimately type ``=``, ``+``, ``-`` or ``@`` at the start of an answer
("- first measure", "+20 % budget"). resotrack stores such answers verbatim, as text. Every
export that a person opens in a spreadsheet (CSV, a workbook written cell by cell) must pass
each text cell through :func:`neutralise`, so that Excel or LibreOffice shows the text instead
of evaluating it: a leading apostrophe is the spreadsheet convention for "this is text", and
it is what OWASP recommends. Tab and carriage return are included because Excel strips them
and then reads the character after. Binary-safe, dependency-free, cheap: call it per cell.
"""

from __future__ import annotations

from typing import Final

#: Characters that make a spreadsheet read a cell as a formula (or DDE) when they come first.
FORMULA_TRIGGERS: Final = frozenset("=+-@\t\r")


def needs_neutralising(text: str) -> bool:
    """Whether a spreadsheet could evaluate ``text`` if it were written as a cell as is."""
    return bool(text) and text[0] in FORMULA_TRIGGERS


def neutralise(text: str) -> str:
    """``text`` made inert for a spreadsheet export: a leading ``'`` when it starts a formula.

    Idempotent on purpose is *not* promised: ``"'=1"`` does not start with a trigger and is
    returned unchanged, while ``"=1"`` becomes ``"'=1"``; call it once, at export time, on
    the stored value (which is never neutralised itself).
    """
    return "'" + text if needs_neutralising(text) else text


def neutralise_cell(value: object) -> object:
    """:func:`neutralise` for strings; any other cell value (number, date, None) unchanged."""
    return neutralise(value) if isinstance(value, str) else value


__all__ = ["FORMULA_TRIGGERS", "needs_neutralising", "neutralise", "neutralise_cell"]
