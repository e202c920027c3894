"""The annotated copy of a sender's workbook: only the touched parts change, byte for byte,
and Excel's reader (openpyxl) and LibreOffice both open it."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from resotrack.settings import get_settings
from resotrack.store.blobs import blob_store
from resotrack.validation.feedback import annotate_package
from resotrack.validation.ingest import run
from resotrack.validation.steps import check_workbook
from resotrack.validation.xlsxpatch import annotate_zip
from support.return_fixtures import (
    KEY,
    World,
    filled,
    make_world,
    submission,
    submit,
    with_openpyxl,
)

SUMMARY = {
    "title": "Feedback",
    "heading": "Our reading of your return",
    "outcome": "Accepted, with remarks.",
    "details": [["File", "=cmd|' /C calc'!A0"]],
    "columns": ["Row", "Paragraph", "Column", "What is wrong", "How to fix it"],
    "rows": [["3", "2", "Measures taken", "Missing & <odd>", "Describe it"]],
    "severities": ["blocker"],
}


@pytest.fixture
def world(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("RESOTRACK_SECRET_KEY", KEY)
    monkeypatch.setenv("RESOTRACK_MAIL_RUN_RETRIES", "0")
    monkeypatch.setenv("RESOTRACK_SMTP_PORT", "9")
    get_settings.cache_clear()
    return make_world(tmp_path)


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _annotated(world: World, data: bytes) -> bytes:
    sid = submit(world, data, "SEN")
    run(sid, send=False, docs=False)
    sha = submission(sid).report["summary"]["annotated_sha256"]
    return blob_store().get(sha)


@pytest.mark.parametrize("edited_by", ["xlsxwriter", "openpyxl"])
def test_only_the_touched_parts_change(world: World, edited_by: str) -> None:
    data = filled(world, per_row=lambda r: {"evidence": "voir annexe"} if r.number % 5 == 0 else {})
    if edited_by == "openpyxl":  # as saved by another program than the one that wrote it
        data = with_openpyxl(data, lambda book: None)
    annotated = _annotated(world, data)
    before, after = _parts(data), _parts(annotated)
    touched = {
        "[Content_Types].xml",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/styles.xml",
    }
    changed = {name for name in before if before[name] != after[name]}
    added = set(after) - set(before)
    sheets = {name for name in changed if name.startswith("xl/worksheets/sheet")}
    assert changed - sheets <= touched, changed
    # The Return sheet (styles of problem cells, the comments' anchor) and the sheet that
    # was selected (its tab no longer is); every other sheet as sent, _meta included.
    assert len(sheets) <= 2
    assert {n for n in added if not n.endswith(".rels")} >= {"xl/comments1.xml"}
    assert set(before) <= set(after)
    # Still a return we can read, identified by the same signed _meta.
    checked = check_workbook(annotated, None)
    assert checked.contract.usable and checked.meta_rows == check_workbook(data, None).meta_rows


def test_summary_text_is_escaped_and_neutralised(world: World) -> None:
    data = filled(world)
    header = {"return_sheet": "Return", "rtl": False, "notes": [], "summary": SUMMARY}
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(annotate_zip(data, header)))
    sheet = book["Feedback"]
    assert sheet["B3"].value == "'=cmd|' /C calc'!A0" and sheet["B3"].data_type == "s"
    assert sheet["D6"].value == "Missing & <odd>"
    assert book.active.title == "Feedback"
    assert [ws.sheet_view.tabSelected for ws in book.worksheets].count(True) == 1


def test_an_unexpected_package_falls_back_to_openpyxl(world: World) -> None:
    data = with_openpyxl(
        filled(world), lambda book: setattr(book["Return"]["A1"], "comment", _comment())
    )
    header = {
        "return_sheet": "Return",
        "rtl": False,
        "notes": [{"cell": "G3", "severity": "blocker", "text": "Missing"}],
        "summary": SUMMARY,
    }
    assert annotate_package(data, header)["how"] == "openpyxl"
    assert annotate_package(filled(world), header)["how"] == "patch"


def _comment() -> object:
    from openpyxl.comments import Comment

    return Comment("a note of their own", "them")


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_opens_the_annotated_copy(world: World, tmp_path: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.fail("LibreOffice (soffice) is needed for this test: make test installs it")
    source = tmp_path / "annotated.xlsx"
    source.write_bytes(
        _annotated(
            world, filled(world, per_row=lambda r: {"measures": None} if r.number < 5 else {})
        )
    )
    out = tmp_path / "out"
    subprocess.run(
        [
            soffice,
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            "ods",
            "--outdir",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    content = zipfile.ZipFile(out / "annotated.ods").read("content.xml").decode()
    assert "office:annotation" in content  # the comments survived
    assert "Remarques" in content  # and the summary sheet
