"""A report build's speed-ups give the same files as the plain way.

- Long docx tables: a row like one already built is a copy of its XML with the words put in
  (:mod:`resotrack.consolidation.docx_rows`); the document is the same as when python-docx
  builds every cell.
- Many resolutions: their reports are drawn in worker processes; the files are the same as
  drawn one after another in the building process.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from typing import Any

import pytest

from resotrack.consolidation import builds, docx_rows
from resotrack.consolidation.report_docx import _Doc
from support.rendering import _snapshot

ROWS = [
    ["Sénégal", "12", "3 %"],
    ["Mali", "7", "1 %"],
    ["", "0", ""],  # empty cells have no text element
    ["مصر", "5", "2 %"],  # Arabic: a right-to-left run
    ["الأردن", "4", "1 %"],
    ["  spaced ", "1", "0 %"],  # spaces at an end must be kept
    ["a\ttab", "2", "1\nline"],  # python-docx makes elements of these: built, never copied
    ["bell\x07", "3", "x"],  # a control character Word cannot store is dropped
    ["Tchad", "9", "4 %"],
]

ADD = docx_rows.RowCopier.add


def _document(language: str, copy: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[str, int]:
    copied = 0

    def counting(self: Any, key: Any, values: Any) -> bool:
        nonlocal copied
        done = copy and ADD(self, key, values)
        copied += done
        return done

    monkeypatch.setattr(docx_rows.RowCopier, "add", counting)
    d = _Doc(language)  # type: ignore[arg-type]
    d.table(["Entity", "Rows", "Share"], ROWS, [6.0, 2.0, 2.0], caption="Replies")
    d.table(["A", "B"], [["x", "1"], ["y", "2"]], [3.0, 3.0], numeric_from=2)
    return d.doc.element.xml, copied


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_copied_rows_make_the_same_document(language: str, monkeypatch: pytest.MonkeyPatch) -> None:
    built, none = _document(language, False, monkeypatch)
    fast, copied = _document(language, True, monkeypatch)
    assert none == 0 and copied == 5  # Mali, الأردن, bell, Tchad; y
    assert fast == built
    assert "\u0007" not in fast and "<w:rtl/>" in fast and 'xml:space="preserve"' in fast


def test_reports_drawn_by_workers_are_the_files_drawn_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(builds, "PARALLEL_FROM", 2)
    monkeypatch.setattr(builds, "start_method", lambda: "fork")  # spawn: same code, slower
    snapshot = _snapshot()
    built_at = datetime(2030, 7, 1, 8, 30, tzinfo=UTC)
    here = builds.render_outputs(snapshot, built_at, language="fr", workers=1).files
    workers = builds.render_outputs(snapshot, built_at, language="fr", workers=2).files
    drafts = [name for name in here if name.startswith("report-")]
    assert len(drafts) == len(snapshot.resolutions) == 2
    assert list(workers) == list(here)
    for name in here:
        assert _parts(workers[name], name) == _parts(here[name], name), name


def _parts(data: bytes, name: str) -> dict[str, bytes]:
    """A file's content: a zip's members (not their times, nor the workbook's creation time,
    both the clock's), else its bytes."""
    if not name.endswith((".docx", ".xlsx")):
        return {"": data}
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}
