"""Turn the corpus texts kept only as text into PDFs laid out the way resolutions are printed.

Each ``pdf_sources/<id>.txt`` becomes ``docs/<id>.pdf``: a Word document is written with
python-docx (A4, a running page header, a page-number footer, justified paragraphs with
automatic hyphenation, the language set on every run so LibreOffice picks the right
hyphenation dictionary, right-to-left, right-aligned paragraphs for Arabic) and
LibreOffice converts it.
So the parser meets what a PDF extractor really gives: headers and page numbers in the
middle of the text, words split at line ends ("indépen-\\ndante"), Arabic in visual runs.

Run from anywhere: ``python tests/corpus/make_pdfs.py`` (needs ``soffice``; the
hyphenation patterns come from Debian's ``hyphen-en-us`` and ``hyphen-fr``).
The committed PDFs are what the tests read; rerun this only when a source text changes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.text.run import CT_R
from docx.shared import Cm, Pt

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "pdf_sources"
OUT = HERE / "docs"

#: The running header printed on every page, as the publisher's own layout has one.
HEADERS: dict[str, str] = {
    "en01_a-res-80-4": "A/RES/80/4 — Resolution adopted by the General Assembly",
    "en03_a-res-80-2": "A/RES/80/2 — Resolution adopted by the General Assembly",
    "ar01_oic-2-7-aq": "منظمة المؤتمر الإسلامي — القرارات الاقتصادية والاجتماعية",
    "ar03_las-5421": "جامعة الدول العربية — قرارات مجلس الجامعة، الدورة العادية 102",
    "ar07_las-session60-1973": "جامعة الدول العربية — قرارات مجلس الجامعة، الدورة 60",
    "fr03_s-res-57-1948": "Résolutions et décisions du Conseil de sécurité, 1948",
    "en11_oic-10-15-c": (
        "Resolutions of the Fifteenth Islamic Conference of Foreign Ministers — Cultural Affairs"
    ),
    "en13_e-res-1972-1664-lii": "Economic and Social Council — Resolutions, fifty-second session",
}

LANG_TAGS = {"en": "en-US", "fr": "fr-FR", "ar": "ar-SA"}


def _language(doc_id: str) -> str:
    return doc_id[:2]


def _set_run_language(run_element: CT_R, lang: str) -> None:
    rpr = run_element.get_or_add_rPr()
    tag = OxmlElement("w:lang")
    if lang == "ar":
        tag.set(qn("w:bidi"), LANG_TAGS[lang])
        rtl = OxmlElement("w:rtl")
        rpr.append(rtl)
    else:
        tag.set(qn("w:val"), LANG_TAGS[lang])
    rpr.append(tag)


def _rtl_paragraph(paragraph: object) -> None:
    ppr = paragraph._p.get_or_add_pPr()  # type: ignore[attr-defined]
    ppr.append(OxmlElement("w:bidi"))


def _field(paragraph: object, instruction: str, lang: str) -> None:
    """Append a Word field (PAGE, NUMPAGES) so LibreOffice fills in the page number."""
    run = paragraph.add_run()  # type: ignore[attr-defined]
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = instruction
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    shown = OxmlElement("w:t")
    shown.text = "1"
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    for element in (begin, text, separate, shown, end):
        run._r.append(element)
    _set_run_language(run._r, lang)


def _enable_hyphenation(document: DocxDocument) -> None:
    settings = document.settings.element
    auto = OxmlElement("w:autoHyphenation")
    auto.set(qn("w:val"), "true")
    settings.append(auto)


def build_docx(doc_id: str, text: str, target: Path) -> None:
    lang = _language(doc_id)
    document = Document()
    _enable_hyphenation(document)
    style = document.styles["Normal"]
    style.font.name = "DejaVu Sans"
    style.font.size = Pt(11)
    section = document.sections[0]
    section.start_type = WD_SECTION.NEW_PAGE
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(3.0)
    section.top_margin = section.bottom_margin = Cm(2.5)

    header = section.header.paragraphs[0]
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _set_run_language(header.add_run(HEADERS[doc_id])._r, lang)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if lang == "ar":
        _rtl_paragraph(header)
        _rtl_paragraph(footer)
        _set_run_language(footer.add_run("- ")._r, lang)
        _field(footer, "PAGE", lang)
        _set_run_language(footer.add_run(" -")._r, lang)
    else:
        _set_run_language(footer.add_run("Page ")._r, lang)
        _field(footer, "PAGE", lang)
        _set_run_language(footer.add_run(" / ")._r, lang)
        _field(footer, "NUMPAGES", lang)

    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.space_after = Pt(6)
        if lang == "ar":
            # Right-aligned, not justified: LibreOffice justifies Arabic with kashida
            # glyphs that PDF extractors read back as stray digits inside words.
            paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            _rtl_paragraph(paragraph)
        else:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        _set_run_language(paragraph.add_run(line)._r, lang)
    document.save(str(target))


def convert(docx_path: Path, out_dir: Path) -> Path:
    """LibreOffice, headless, with a private profile so parallel runs don't collide."""
    soffice = shutil.which("soffice")
    if soffice is None:
        raise SystemExit("LibreOffice (soffice) is needed to make the corpus PDFs")
    with tempfile.TemporaryDirectory(prefix="corpus-lo-") as profile:
        subprocess.run(
            [
                soffice,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(out_dir),
                str(docx_path),
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
    return out_dir / f"{docx_path.stem}.pdf"


def main(argv: list[str]) -> int:
    wanted = set(argv[1:])
    sources = sorted(SOURCES.glob("*.txt"))
    missing = [s.stem for s in sources if s.stem not in HEADERS]
    if missing:
        raise SystemExit(f"no page header defined for {', '.join(missing)}")
    with tempfile.TemporaryDirectory(prefix="corpus-docx-") as work:
        for source in sources:
            if wanted and source.stem not in wanted:
                continue
            docx_path = Path(work) / f"{source.stem}.docx"
            build_docx(source.stem, source.read_text(encoding="utf-8"), docx_path)
            pdf = convert(docx_path, Path(work))
            shutil.move(str(pdf), OUT / pdf.name)
            print(f"{OUT.name}/{pdf.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
