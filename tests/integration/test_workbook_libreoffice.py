"""Questionnaires survive a real LibreOffice, since many focal points fill them in there.

Each workbook (fr, en, ar) is converted by ``soffice --headless`` to xlsx, ods and pdf. The
re-saved xlsx must still carry the status dropdown and a ``_meta`` whose signature verifies:
that is what the validation stage receives when a focal point saves from LibreOffice.

LibreOffice is a hard requirement: without it these tests fail (they never skip), and
``scripts/system-deps.sh`` installs it.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import range_boundaries
from python_calamine import CalamineWorkbook

from resotrack.catalog import LANGUAGES, Language
from resotrack.questionnaires import (
    COLUMNS,
    META_SHEET,
    RETURN_SHEET,
    build_workbook,
    read_meta,
    status_label,
    status_labels,
    verify_meta,
    workbook_filename,
)
from support.rendering import convert_timed
from support.workbook_spec import (  # no tests package: pytest imports it by name
    KEY,
    ROWS,
    make_spec,
)

pytestmark = [pytest.mark.slow, pytest.mark.libreoffice]

XLSX = "xlsx:Calc MS Excel 2007 XML"


@pytest.fixture(scope="module")
def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        pytest.fail(
            "LibreOffice is not installed (no `soffice` on PATH): "
            "run scripts/system-deps.sh, then rerun the tests."
        )
    return found


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[Language, Path]:
    folder = tmp_path_factory.mktemp("questionnaires")
    paths: dict[Language, Path] = {}
    for language in LANGUAGES:
        spec = make_spec(language, entity_code=f"E{language.upper()}")
        path = folder / workbook_filename(spec)
        path.write_bytes(build_workbook(spec, signing_key=KEY))
        paths[language] = path
    return paths


@pytest.mark.parametrize("language", LANGUAGES)
def test_libreoffice_resaves_xlsx_with_dropdown_and_signed_meta(
    soffice: str, sources: dict[Language, Path], tmp_path: Path, language: Language
) -> None:
    original = sources[language].read_bytes()
    converted, seconds = convert_timed(soffice, sources[language], XLSX, tmp_path / "out-xlsx")
    print(f"LibreOffice xlsx round trip ({language}): {seconds:.2f} s")
    data = converted.read_bytes()
    assert data != original  # it really is LibreOffice's file, not a copy

    book = openpyxl.load_workbook(io.BytesIO(data))
    assert META_SHEET in book.sheetnames
    assert book[META_SHEET].sheet_state in ("hidden", "veryHidden")

    # The status dropdown survived and still offers the localised scale.
    sheet = book[RETURN_SHEET]
    status_col = "ABCDEFGHIJKL"[[c.key for c in COLUMNS].index("status")]
    (dropdown,) = [dv for dv in sheet.data_validations.dataValidation if dv.type == "list"]
    assert str(dropdown.sqref) == f"{status_col}2:{status_col}{ROWS + 1}"
    source_sheet, source_range = dropdown.formula1.lstrip("=").split("!")
    min_col, min_row, max_col, max_row = range_boundaries(source_range.replace("$", ""))
    lists = book[source_sheet.strip("'")]
    offered = [
        lists.cell(row=r, column=c).value
        for r in range(min_row, max_row + 1)
        for c in range(min_col, max_col + 1)
    ]
    assert offered == list(status_labels(language))
    assert any(dv.type == "date" for dv in sheet.data_validations.dataValidation)
    assert sheet.protection.sheet

    # The identity card reads back identically and its signature still verifies.
    meta = read_meta(data)
    assert meta == read_meta(original)
    assert verify_meta(meta, meta["signature"], KEY)

    # And the answers the validation stage will read are intact.
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name(RETURN_SHEET)
    values = rows.to_python()
    assert [row[1] for row in values[1:]] == list(range(1, ROWS + 1))
    assert values[5][5] == status_label("partially_implemented", language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_libreoffice_converts_to_ods_and_pdf(
    soffice: str, sources: dict[Language, Path], tmp_path: Path, language: Language
) -> None:
    ods, ods_seconds = convert_timed(soffice, sources[language], "ods", tmp_path / "out-ods")
    pdf, pdf_seconds = convert_timed(soffice, sources[language], "pdf", tmp_path / "out-pdf")
    print(f"LibreOffice ({language}): ods {ods_seconds:.2f} s, pdf {pdf_seconds:.2f} s")
    assert pdf.read_bytes().startswith(b"%PDF")
    # calamine reads OpenDocument too: a workbook saved as .ods is still recognisable.
    meta = read_meta(ods.read_bytes())
    assert meta["language"] == language
    assert verify_meta(meta, meta["signature"], KEY)
