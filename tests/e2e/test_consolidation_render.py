"""The outputs in the programs people open them with.

- The xlsx workbook through a real LibreOffice (headless): converted, then re-read; a return
  that held ``=HYPERLINK(...)`` (or any text starting ``= + - @``, a tab or a CR) arrives as
  text, never as a formula, and the matrix keeps its frozen panes, filter and colours.
- The HTML report in Chromium (Playwright, Debian's /usr/bin/chromium): every chart loads
  and its screenshot is not blank (pixel variance).
- The Word draft (French and Arabic) through LibreOffice to PDF, then ``pdftoppm`` to PNG:
  the three charts are in the PDF and the rendered pages that hold them are not blank.

These need no database: the outputs are rendered from a hand-made snapshot. LibreOffice
(Calc and Writer), Chromium and poppler-utils are hard requirements: the tests fail without
them (scripts/system-deps.sh installs them).
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from PIL import Image, ImageStat
from playwright.sync_api import Browser

from resotrack.consolidation.builds import Rendered, render_outputs, slug
from resotrack.consolidation.labels import status_text
from resotrack.questionnaires import STATUSES
from support.rendering import CONVERT_TIMEOUT, NASTY, RESOLUTIONS, _snapshot, convert

pytestmark = pytest.mark.slow

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Rendered, Path]:
    out = tmp_path_factory.mktemp("outputs")
    result = render_outputs(_snapshot(), datetime(2030, 7, 1, 8, 30, tzinfo=UTC), language="en")
    for name, data in result.files.items():
        (out / name).write_bytes(data)
    return result, out


@pytest.fixture(scope="module")
def drafts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The build in each resolution's language (every output of a build speaks one)."""
    folders = {}
    for _symbol, language in RESOLUTIONS:
        out = tmp_path_factory.mktemp(f"outputs-{language}")
        result = render_outputs(
            _snapshot(), datetime(2030, 7, 1, 8, 30, tzinfo=UTC), language=language
        )
        for name, data in result.files.items():
            (out / name).write_bytes(data)
        folders[language] = out
    return folders


@pytest.fixture(scope="module")
def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        pytest.fail("LibreOffice is not installed: run scripts/system-deps.sh")
    return found


def _formula_cells(path: Path) -> list[str]:
    book = openpyxl.load_workbook(path)
    return [
        f"{ws.title}!{cell.coordinate}"
        for ws in book.worksheets
        for row in ws.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]


def _narrative_texts(path: Path, column_name: str = "Measures taken") -> list[str]:
    book = openpyxl.load_workbook(path, read_only=True)
    ws = book["Replies"]
    header = [c.value for c in next(ws.iter_rows(max_row=1))]
    column = header.index(column_name)
    # OOXML escapes a carriage return as _x000D_; Excel decodes it, openpyxl does not.
    return [
        str(r[column]).replace("_x000D_", "\r")
        for r in ws.iter_rows(min_row=2, values_only=True)
        if r[column]
    ]


def test_xlsx_structure_and_no_formula(rendered: tuple[Rendered, Path]) -> None:
    _result, out = rendered
    path = out / "tables.xlsx"
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [
        "About",
        "Matrix",
        "Paragraphs",
        "Entities",
        "Sections",
        "Addressees",
        "Replies",
    ]
    matrix = book["Matrix"]
    assert matrix.freeze_panes == "C2"
    assert matrix.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(32)}49"
    rules = [r for cf in matrix.conditional_formatting for r in cf.rules]
    assert len(rules) == 7  # one colour per status and one for no reply
    for name in book.sheetnames[2:]:
        assert book[name].auto_filter.ref, name
        assert book[name].freeze_panes, name
    assert _formula_cells(path) == []
    texts = _narrative_texts(path)
    challenges = _narrative_texts(path, "Challenges")
    for value in NASTY.values():
        # Quotes are trimmed (a stray tab or CR is gone), then neutralised; other columns
        # are kept exactly as written, tab and carriage return included.
        assert "'" + value.strip() in texts
        assert "'" + value in challenges
    with zipfile.ZipFile(path) as z:
        assert not [n for n in z.namelist() if "calcChain" in n]


@pytest.mark.libreoffice
def test_xlsx_survives_libreoffice(
    soffice: str, rendered: tuple[Rendered, Path], tmp_path: Path
) -> None:
    _result, out = rendered
    resaved = convert(soffice, out / "tables.xlsx", "xlsx:Calc MS Excel 2007 XML", tmp_path)
    assert resaved.read_bytes() != (out / "tables.xlsx").read_bytes()
    assert _formula_cells(resaved) == []  # LibreOffice made nothing into a formula
    texts = _narrative_texts(resaved)
    assert "'" + NASTY["hyperlink"] in texts
    book = openpyxl.load_workbook(resaved)
    assert not any(ws._hyperlinks for ws in book.worksheets)  # no live link either
    labels = {status_text(code, "en") for code in (*STATUSES, "no_reply")}
    assert book["Matrix"]["C2"].value in labels  # a label, never a code
    # Saved as CSV (what people do next), every sheet: no field starts like a formula.
    every_sheet = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    convert(soffice, out / "tables.xlsx", every_sheet, tmp_path, produced="tables-Replies")
    sheets = sorted(tmp_path.glob("tables-*.csv"))
    assert len(sheets) == 7, sheets
    for sheet in sheets:
        with sheet.open(newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                live = [f for f in row if f[:1] in ("=", "+", "@") or f.startswith("-")]
                assert not [f for f in live if not _number(f)], (sheet.name, live)
    with (tmp_path / "tables-Replies.csv").open(newline="", encoding="utf-8") as handle:
        assert "'" + NASTY["hyperlink"] in [f for row in csv.reader(handle) for f in row]


def _number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def _variance(image: Image.Image) -> float:
    return float(ImageStat.Stat(image.convert("L")).var[0])


def _coloured_share(image: Image.Image) -> float:
    """Share of clearly coloured pixels (charts), as against black text on white."""
    hsv = image.convert("RGB").convert("HSV")
    saturation = hsv.getchannel("S").point(lambda s: 255 if s > 20 else 0)
    return float(ImageStat.Stat(saturation).mean[0]) / 255


@pytest.mark.browser
def test_html_report_charts_render_in_chromium(
    browser: Browser, rendered: tuple[Rendered, Path], tmp_path: Path
) -> None:
    _result, out = rendered
    page = browser.new_page(java_script_enabled=True, viewport={"width": 1200, "height": 900})
    try:
        page.goto((out / "report.html").as_uri())
        page.wait_for_load_state("load")
        figures = page.locator("figure img")
        assert figures.count() == 3
        for i in range(3):
            image = figures.nth(i)
            assert image.evaluate("img => img.complete && img.naturalWidth > 0")
            shot = Image.open(io.BytesIO(image.screenshot()))
            assert shot.width > 300 and shot.height > 150
            assert _variance(shot) > 200, f"chart {i} looks blank"
            assert _coloured_share(shot) > 0.02, f"chart {i} has no colour"
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        assert "State E04" in page.locator("body").inner_text()  # a non-reporting entity
    finally:
        page.close()


@pytest.mark.libreoffice
@pytest.mark.parametrize(("symbol", "language"), RESOLUTIONS)
def test_draft_report_renders_with_its_charts(
    soffice: str, drafts: dict[str, Path], tmp_path: Path, symbol: str, language: str
) -> None:
    import docx

    out = drafts[language]
    source = out / f"report-{slug(symbol)}.docx"
    document = docx.Document(str(source))
    assert len(document.inline_shapes) == 3
    text = "\n".join(p.text for p in document.paragraphs)
    assert symbol in text
    if language == "fr":
        assert "Rapport du Secrétaire général" in text and "«\u00a0" in text
        assert "État E04" in text and "(E04)" not in text  # entities by name, not code
    else:
        assert "تقرير الأمين العام" in text
        normal = document.styles["Normal"].element  # every paragraph inherits its direction
        assert normal.pPr.find(f"{{{W_NS}}}bidi") is not None

    pdf = convert(soffice, source, "pdf", tmp_path)
    listing = subprocess.run(
        ["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    images = [line.split() for line in listing if line.strip()]
    big = [row for row in images if int(row[3]) >= 300 and row[2] == "image"]
    assert len(big) >= 3, listing
    subprocess.run(
        ["pdftoppm", "-r", "50", "-png", str(pdf), str(tmp_path / "page")],
        check=True,
        timeout=CONVERT_TIMEOUT,
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    assert pages
    coloured = [p for p in pages if _coloured_share(Image.open(p)) > 0.01]
    assert len(coloured) >= 2, "the chart pages came out without their charts"
    for page in coloured:
        assert _variance(Image.open(page)) > 200
