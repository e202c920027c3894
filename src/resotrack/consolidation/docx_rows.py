"""Long tables of the draft report without python-docx's per-cell cost: the same XML.

python-docx builds a cell through its object API (a run, its font size, paragraph spacing,
each a search for the right child element); for tables of hundreds of rows that is most of a
report's build. A row whose cells differ from an already built row only in their words is
made by copying that row's XML and putting the words in: the same elements, attributes and
order as building it cell by cell (tests/test_docx_rows.py compares the two).

A row is copied only when it is *like* a built one: same number of cells, and in each cell
the same kind of text (none, plain, or with spaces at its ends, which Word must be told to
keep) and the same direction (Arabic text gets ``w:rtl``). Words with a tab or a line break
(python-docx makes elements of them) are always built by python-docx.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

from docx.oxml.ns import qn

from resotrack.consolidation.synthesis import is_arabic

_TC, _P, _R, _T = qn("w:tc"), qn("w:p"), qn("w:r"), qn("w:t")

#: A cell's kind: (Arabic, "" empty / "t" plain / "s" spaces at an end).
Key = tuple[tuple[bool, str], ...]


def _kind(text: str) -> str | None:
    if not text:
        return ""
    if "\t" in text or "\r" in text or "\n" in text:
        return None
    return "s" if len(text.strip()) < len(text) else "t"


class RowCopier:
    """Rows appended to a ``w:tbl`` by copying a remembered row of the same kind."""

    def __init__(self, tbl: Any, safe: Callable[[str], str]) -> None:
        self._tbl = tbl
        self._safe = safe
        self._made: dict[Key, Any] = {}

    def key(self, values: Sequence[str]) -> Key | None:
        """The row's kind, or None when it must be built cell by cell."""
        cells = []
        for text in values:
            kind = _kind(self._safe(text))
            if kind is None:
                return None
            cells.append((is_arabic(text), kind))
        return tuple(cells)

    def add(self, key: Key | None, values: Sequence[str]) -> bool:
        """Append a copy of the row remembered under ``key`` with ``values`` in it; False
        (nothing appended) when no such row was remembered."""
        model = self._made.get(key) if key is not None else None
        if model is None:
            return False
        tr = copy.deepcopy(model)
        for tc, text in zip(tr.iterchildren(_TC), values, strict=True):
            safe = self._safe(text)
            if safe:
                tc.find(_P).find(_R).find(_T).text = safe
        self._tbl.append(tr)
        return True

    def remember(self, key: Key | None, tr: Any) -> None:
        """``tr``, a finished row built by python-docx, is the model for rows of ``key``."""
        if key is not None:
            self._made.setdefault(key, tr)
