"""The Secretary-General's report as its readers get it: seed 004 answered by the 57 member
states, built in French, Arabic and English, the Word report rendered by LibreOffice to PDF.

Checked on the PDF: A4, page numbers printed in the footer, the body (before annex I) within
one page per five operative paragraphs plus two pages of charts. Checked in the files: a TOC
field, the document's language in its styles, right to left for Arabic (docx, HTML, xlsx), and
no code or enum value, nor an English sentence of the catalog in a French or Arabic build,
anywhere a person reads: docx, HTML, xlsx and the charts' SVG text.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pypdfium2 as pdfium
import pytest
from babel.messages.pofile import read_po

from resotrack import catalog
from resotrack.catalog import Words
from resotrack.consolidation.builds import Rendered, render_outputs, slug
from resotrack.consolidation.charts import shaped
from resotrack.consolidation.snapshot import Snapshot, load_snapshot
from resotrack.questionnaires import STATUSES
from resotrack.settings import get_settings
from resotrack.store import migrate, reset_engines, session_scope
from support.rendering import convert
from support.report_world import SYMBOL, make_world

pytestmark = pytest.mark.slow

BUILT_AT = datetime(2030, 7, 1, 9, 0, tzinfo=UTC)
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
#: Values of our own vocabulary that must never reach a reader.
ENUMS = (*STATUSES, "no_reply", "member_state", "accepted_with_warnings", "correction_requested")
CLASSES = re.compile(r"\b(MS|SG|ORG|GRP|INTL|NONE)\b")
LANGS = ("fr", "ar", "en")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Snapshot, list[str]]]:
    """The 57-state world in its own SQLite database (built once for the module)."""
    tmp = tmp_path_factory.mktemp("world")
    saved = {k: os.environ.get(k) for k in ("RESOTRACK_HOME", "RESOTRACK_DATABASE_URL")}
    url = f"sqlite:///{tmp / 'world.db'}"
    os.environ["RESOTRACK_HOME"] = str(tmp / "var")
    os.environ["RESOTRACK_DATABASE_URL"] = url
    get_settings.cache_clear()
    reset_engines()
    try:
        migrate.upgrade(url)
        made = make_world()
        with session_scope() as session:
            snapshot = load_snapshot(session, made.cycle_id)
        yield snapshot, made.states
    finally:
        reset_engines()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()


@pytest.fixture(scope="module")
def builds(
    world: tuple[Snapshot, list[str]], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[Rendered, Path]]:
    snapshot, _states = world
    out: dict[str, tuple[Rendered, Path]] = {}
    for lang in LANGS:
        folder = tmp_path_factory.mktemp(f"build-{lang}")
        rendered = render_outputs(snapshot, BUILT_AT, language=lang)
        for name, data in rendered.files.items():
            (folder / name).write_bytes(data)
        out[lang] = (rendered, folder)
    return out


@pytest.fixture(scope="module")
def pdfs(
    builds: dict[str, tuple[Rendered, Path]], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    found = subprocess.run(["which", "soffice"], capture_output=True, text=True).stdout.strip()
    if not found:
        pytest.fail("LibreOffice is not installed: run scripts/system-deps.sh")
    made = {}
    for lang in ("fr", "ar"):
        _rendered, folder = builds[lang]
        out = tmp_path_factory.mktemp(f"pdf-{lang}")
        made[lang] = convert(found, folder / f"report-{slug(SYMBOL)}.docx", "pdf", out)
    return made


def _pages(pdf: Path) -> list[str]:
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def _plain(line: str) -> str:
    """A line of pdftotext without the bidi marks it puts around right-to-left text."""
    return re.sub("[\u200e\u200f\u202a-\u202e]", "", line).strip()


def _docx_xml(path: Path, part: str) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(part).decode("utf-8")


def _docx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        parts = [n for n in z.namelist() if re.match(r"word/(document|footer\d*)\.xml", n)]
        xml = "".join(z.read(n).decode("utf-8") for n in parts)
    return " ".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", xml))


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.parts.extend(v or "" for k, v in attrs if k in ("alt", "title"))


def _html_text(path: Path) -> str:
    parser = _Text()
    parser.feed(path.read_text("utf-8"))
    return " ".join(parser.parts)


def _xlsx_text(path: Path) -> str:
    book = openpyxl.load_workbook(path, read_only=True)
    parts = list(book.sheetnames)
    for ws in book.worksheets:
        for row in ws.iter_rows(values_only=True):
            parts.extend(str(v) for v in row if isinstance(v, str))
    return " ".join(parts)


def _svg_text(folder: Path) -> str:
    return " ".join(
        " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", p.read_text("utf-8")))
        for p in sorted(folder.glob("chart-*.svg"))
    )


def _texts(folder: Path) -> dict[str, str]:
    return {
        "docx": _docx_text(folder / f"report-{slug(SYMBOL)}.docx"),
        "html": _html_text(folder / "report.html"),
        "xlsx": _xlsx_text(folder / "tables.xlsx"),
        "svg": _svg_text(folder),
    }


@pytest.mark.libreoffice
def test_pdf_is_a4_with_page_numbers_and_a_short_body(
    pdfs: dict[str, Path], world: tuple[Snapshot, list[str]]
) -> None:
    snapshot, _states = world
    paragraphs = len(snapshot.paragraphs.rows)
    assert paragraphs == 137
    for lang, pdf in pdfs.items():
        info = subprocess.run(
            ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True
        ).stdout
        size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info)
        assert size is not None and round(float(size[1])) == 595 and round(float(size[2])) == 842
        pages = _pages(pdf)
        # Page numbers: the last line of each page is its number.
        for number in (2, 5, len(pages) // 2):
            lines = [_plain(line) for line in pages[number - 1].splitlines() if _plain(line)]
            assert lines[-1] == str(number), (lang, number, lines[-1])
        # Where annex I starts, from the PDF's outline (LibreOffice exports the headings).
        annex = Words(lang, "report")("Annex I. Replies received, by entity")  # type: ignore[arg-type]
        outline = {
            b.get_title(): b.get_dest().get_index()
            for b in pdfium.PdfDocument(pdf).get_toc(max_depth=1)
        }
        body = outline[annex]  # pages before it (0-based index of its page)
        assert body <= math.ceil(paragraphs / 5) + 2, (lang, body)
        assert len(pages) > body + 20  # the replies are all in annex I


@pytest.mark.parametrize("lang", LANGS)
def test_docx_has_toc_footer_page_field_and_language(
    builds: dict[str, tuple[Rendered, Path]], lang: str
) -> None:
    _rendered, folder = builds[lang]
    path = folder / f"report-{slug(SYMBOL)}.docx"
    document = _docx_xml(path, "word/document.xml")
    assert re.search(r"<w:instrText[^>]*> TOC \\o", document)
    with zipfile.ZipFile(path) as z:
        footers = [z.read(n).decode() for n in z.namelist() if n.startswith("word/footer")]
    assert any("> PAGE <" in f for f in footers)
    styles = _docx_xml(path, "word/styles.xml")
    tag = {"fr": "fr-FR", "ar": "ar-SA", "en": "en-GB"}[lang]
    defaults = styles[styles.index("<w:docDefaults>") : styles.index("</w:docDefaults>")]
    assert f'w:val="{tag}"' in defaults
    assert "…" not in _docx_text(path)  # nothing cut
    assert 'w:w="11906"' in document and 'w:h="16838"' in document  # A4 in twips


def test_arabic_build_reads_right_to_left(builds: dict[str, tuple[Rendered, Path]]) -> None:
    _rendered, folder = builds["ar"]
    path = folder / f"report-{slug(SYMBOL)}.docx"
    styles = _docx_xml(path, "word/styles.xml")
    normal = re.search(r'<w:style [^>]*w:styleId="Normal".*?</w:style>', styles, re.S)
    assert normal is not None and "<w:bidi/>" in normal[0]
    document = _docx_xml(path, "word/document.xml")
    assert "<w:bidi/>" in document.split("<w:body>")[1].rsplit("<w:sectPr", 1)[1]
    assert "<w:rtl/>" in document
    assert "تقرير الأمين العام" in _docx_text(path)
    assert '<html lang="ar" dir="rtl">' in (folder / "report.html").read_text("utf-8")
    book = openpyxl.load_workbook(folder / "tables.xlsx")
    assert all(ws.sheet_view.rightToLeft for ws in book.worksheets)


@pytest.mark.parametrize("lang", LANGS)
def test_no_code_or_enum_value_is_shown(
    builds: dict[str, tuple[Rendered, Path]], world: tuple[Snapshot, list[str]], lang: str
) -> None:
    _snapshot, states = world
    _rendered, folder = builds[lang]
    codes = re.compile(r"\b(" + "|".join(states) + r")\b")
    for kind, text in _texts(folder).items():
        assert text.strip(), kind
        for value in ENUMS:
            assert value not in text, (lang, kind, value)
        assert not CLASSES.search(text), (lang, kind, CLASSES.search(text))
        assert not codes.search(text), (lang, kind, codes.search(text))


def _english_sentences(lang: str) -> list[str]:
    """Catalog messages whose translation differs from the English, without placeholders."""
    path = catalog.locales_dir() / lang / "LC_MESSAGES" / "report.po"
    with path.open("rb") as handle:
        messages = read_po(handle, locale=lang)
    found = []
    for m in messages:
        if not m.id or not isinstance(m.id, str) or "{" in m.id or len(m.id) < 9:
            continue
        if m.string and m.string != m.id and " " in m.id:
            found.append(m.id)
    return found


@pytest.mark.parametrize("lang", ["fr", "ar"])
def test_one_language_everywhere(builds: dict[str, tuple[Rendered, Path]], lang: str) -> None:
    _rendered, folder = builds[lang]
    english = _english_sentences(lang)
    assert len(english) > 40
    status_en = ("Fully implemented", "Partially implemented", "Not started", "No reply")
    for kind, text in _texts(folder).items():
        leaked = [s for s in (*english, *status_en) if s in text]
        assert not leaked, (lang, kind, leaked[:5])
    chart = _svg_text(folder)
    axis = Words(lang, "report")("share of the answers expected (%)")  # type: ignore[arg-type]
    assert shaped(axis) in chart  # Arabic is drawn joined, in visual order


def test_heatmap_shows_only_the_entities_asked() -> None:
    import pandas as pd

    from resotrack.consolidation.charts import status_matrix

    matrix = pd.DataFrame(
        {"DZA": ["fully_implemented", "no_reply"], "SESRIC": ["", ""]},
        index=pd.MultiIndex.from_tuples([("R/1", 1), ("R/1", 2)]),
    )
    svg = status_matrix(matrix, {"DZA": "Algérie", "SESRIC": "Centre d'Ankara"}, language="fr")
    text = " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", svg.svg.decode()))
    assert "Algérie" in text and "Ankara" not in text
    # "no reply", "not applicable" and "no information" are three colours.
    from resotrack.consolidation.labels import COLOURS

    assert len({COLOURS["no_reply"], COLOURS["not_applicable"], COLOURS["no_information"]}) == 3


def test_the_response_curve_stops_at_the_build_date() -> None:
    from datetime import date

    import pandas as pd

    from resotrack.consolidation.charts import known_curve, response_rate

    days = pd.date_range("2030-05-01", "2030-06-30", freq="D").date
    curve = pd.DataFrame({"day": days, "returned": range(len(days))})
    curve["rate"] = curve["returned"] / 100
    known = known_curve(curve, date(2030, 6, 1))
    assert known["day"].max() == date(2030, 6, 1) and len(known) == 32
    # Drawn with a deadline still ahead: the chart says where the report stands.
    chart = response_rate(curve, date(2030, 6, 30), date(2030, 6, 1), language="fr")
    assert "date du présent rapport" in chart.svg.decode()
