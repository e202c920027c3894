"""Resolutions as they are published: PDF made by LibreOffice and Word, parsed like the text.

Seed 004 is turned into a Word document (A4, running header, page-number footer, automatic
hyphenation) and that into a PDF by LibreOffice; the PDF must parse as well as the text:
137/137 paragraphs and verbs, the same symbol and date, addressees within one of the text's
score against the ground truth.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from conftest import GROUNDTRUTH_004, SEED_004
from resotrack.catalog import Words
from resotrack.resolutions import ParsedResolution, ResolutionParseError, parse_file
from resotrack.resolutions.document import read_document
from support.office_documents import make_docx, make_pdf, soffice

pytestmark = pytest.mark.skipif(soffice() is None, reason="LibreOffice is not installed")

SYMBOL = "OIC/MCSD-2/2023/RES/FINAL"


@pytest.fixture(scope="module")
def seed_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("seed004")
    docx = make_docx(SEED_004.read_text("utf-8"), folder / "seed004.docx", header=SYMBOL)
    return {"docx": docx, "pdf": make_pdf(docx)}


def _truth() -> list[dict[str, str]]:
    with GROUNDTRUTH_004.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _scores(parsed: ParsedResolution) -> tuple[int, int, int]:
    """(paragraphs, verbs, addressee sets) right against the ground truth."""
    by_number = {p.number: p for p in parsed.paragraphs}
    verbs = addressees = 0
    for row in _truth():
        paragraph = by_number.get(int(row["paragraph"]))
        if paragraph is None:
            continue
        verbs += " | ".join(paragraph.verbs) == row["verbs"]
        if row["addressees"] and row["addressees"] != "?":
            expected = tuple(sorted(row["addressees"].split(",")))
            addressees += paragraph.addressees == expected
    return len(parsed.paragraphs), verbs, addressees


@pytest.mark.libreoffice
def test_the_pdf_looks_like_a_published_one(seed_files: dict[str, Path]) -> None:
    document = pdfium.PdfDocument(seed_files["pdf"])
    try:
        assert len(document) > 10
        width, height = document[0].get_size()
        assert (round(width), round(height)) == (595, 842)  # A4
        text = document[3].get_textpage().get_text_range()
    finally:
        document.close()
    assert text.startswith(SYMBOL) and "- 4 -" in text  # running header, page number
    assert "\ufffe" in text  # LibreOffice hyphenated words at line ends


@pytest.mark.libreoffice
@pytest.mark.parametrize("kind", ["pdf", "docx"])
def test_seed_004_parses_as_well_as_the_text(seed_files: dict[str, Path], kind: str) -> None:
    text = parse_file(SEED_004)
    parsed = parse_file(seed_files[kind])
    paragraphs, verbs, addressees = _scores(parsed)
    assert (paragraphs, verbs) == (137, 137)
    assert addressees >= _scores(text)[2] - 1
    assert parsed.symbol == SYMBOL and parsed.adopted_on == text.adopted_on
    assert parsed.title == text.title
    assert [s.letter for s in parsed.sections] == list("ABCDEF")


@pytest.mark.libreoffice
def test_pdf_paragraphs_have_no_page_furniture_or_hyphenation(
    seed_files: dict[str, Path],
) -> None:
    parsed = parse_file(seed_files["pdf"])
    text = parse_file(SEED_004)
    for ours, theirs in zip(parsed.paragraphs, text.paragraphs, strict=True):
        assert ours.text == theirs.text.replace("**", "")
    joined = " ".join(p.text for p in parsed.paragraphs)
    assert SYMBOL not in joined and "- 7 -" not in joined
    assert "COVID-19" in joined and "main-d'œuvre" in joined  # real hyphens kept


def test_a_scanned_pdf_is_refused_clearly(tmp_path: Path) -> None:
    document = pdfium.PdfDocument.new()
    document.new_page(595, 842)
    document.new_page(595, 842)
    path = tmp_path / "scan.pdf"
    document.save(str(path))
    document.close()
    with pytest.raises(ResolutionParseError) as caught:
        read_document(path)
    message = str(caught.value)
    assert message.startswith("scan.pdf: this PDF document (2 pages) has no text layer")
    assert "OCR" in message and "paragraphs.xlsx" in message


@pytest.mark.libreoffice
def test_a_damaged_pdf_is_refused_clearly(tmp_path: Path, seed_files: dict[str, Path]) -> None:
    path = tmp_path / "cut.pdf"
    path.write_bytes(seed_files["pdf"].read_bytes()[:3000])
    with pytest.raises(ResolutionParseError, match="PDF document that cannot be read"):
        read_document(path)


ARABIC = """القرار رقم 2/ 7 - أق
بشأن اجتماع رؤساء الغرف التجارية والصناعية للدول الأعضاء في اسطنبول

إن مؤتمر وزراء خارجية الدول الإسلامية المنعقد في دورته السابعة العادية في اسطنبول في الفترة من 13 إلى 16 جمادى الأولى 1396 هـ الموافق من 12 إلى 15 مايو 1976 م،

إذ يدرك الحاجة إلى المزيد من التعاون الاقتصادي بين البلدان الإسلامية،

1 - يقرر عقد اجتماع لرؤساء الغرف التجارية والصناعية للدول الأعضاء من أجل مناقشة الشؤون الخاصة بالتعاون التجاري والصناعي بين البلدان الإسلامية.

2 - یطلب من الأمين العام متابعة تنفيذ هذا القرار ورفع تقرير بشأنه إلى الدورة القادمة.

3 - يدعو الدول الأعضاء إلى المشاركة الفعالة في هذا الاجتماع.
"""  # noqa: E501 - paragraph 2 has the Persian yeh (ی) a PDF often carries


@pytest.mark.libreoffice
def test_an_arabic_pdf(tmp_path: Path) -> None:
    docx = make_docx(ARABIC, tmp_path / "ar.docx", header="OIC", language="ar-SA", rtl=True)
    parsed = parse_file(make_pdf(docx))
    assert parsed.language == "ar"
    assert parsed.symbol == "2/7-أق"
    assert [p.number for p in parsed.paragraphs] == [1, 2, 3]
    assert [p.verbs for p in parsed.paragraphs] == [("يقرر",), ("يطلب",), ("يدعو",)]
    assert parsed.paragraph(2).addressees == ("SG",)
    assert parsed.paragraph(3).addressees == ("MS",)
    assert "الإسلامية" in parsed.paragraph(1).text  # lam-alef read in the right order
    assert parsed.adopted_on is not None and parsed.adopted_on.isoformat() == "1976-05-15"


@pytest.mark.parametrize(
    ("pages", "english", "french", "arabic"),
    [
        (1, "(1 page) has", "ce document PDF (1 page) n’a pas", "وثيقة PDF هذه (صفحة واحدة)"),
        (2, "(2 pages) has", "ce document PDF (2 pages) n’a pas", "وثيقة PDF هذه (صفحتان)"),
        (3, "(3 pages) has", "ce document PDF (3 pages) n’a pas", "وثيقة PDF هذه (3 صفحات)"),
    ],
)
def test_a_scanned_pdf_refusal_counts_its_pages_in_each_language(
    tmp_path: Path, pages: int, english: str, french: str, arabic: str
) -> None:
    document = pdfium.PdfDocument.new()
    for _ in range(pages):
        document.new_page(595, 842)
    path = tmp_path / "scan.pdf"
    document.save(str(path))
    document.close()
    with pytest.raises(ResolutionParseError) as caught:
        read_document(path)
    assert english in str(caught.value)
    assert caught.value.said_in(Words("fr", "resolutions")).startswith(f"scan.pdf: {french}")
    assert caught.value.said_in(Words("ar", "resolutions")).startswith(f"scan.pdf: {arabic}")
