"""Real Word and PDF files made from a resolution text, as a Secretariat would publish them.

``make_docx`` writes a Word document with python-docx: A4, a running header (the symbol),
a footer with the page number field, automatic hyphenation on, the text's ``**bold**`` and
``^{sup}`` markup turned into real formatting. ``make_pdf`` converts it with LibreOffice
(``soffice --headless --convert-to pdf``), so the PDF has what real ones have: running
headers, page numbers, words hyphenated at line ends and paragraphs cut by page breaks.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

_MARKUP = re.compile(r"(\*\*|\^\{[^{}]*\})")


def _field(paragraph, instruction: str) -> None:  # type: ignore[no-untyped-def]
    run = paragraph.add_run()
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = instruction
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run._r.append(begin)
    run._r.append(text)
    run._r.append(end)


def make_docx(
    text: str, path: Path, *, header: str, language: str = "fr-FR", rtl: bool = False
) -> Path:
    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(25)
    section.header.paragraphs[0].text = header
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("- ")
    _field(footer, "PAGE")
    footer.add_run(" -")
    style = document.styles["Normal"]
    style.font.size = Pt(11)
    rpr = style.element.get_or_add_rPr()
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), language)
    lang.set(qn("w:bidi"), "ar-SA")
    rpr.append(lang)
    settings = document.settings.element
    hyphenation = OxmlElement("w:autoHyphenation")
    hyphenation.set(qn("w:val"), "true")
    settings.append(hyphenation)
    for line in text.split("\n"):
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        if rtl:
            ppr = paragraph._p.get_or_add_pPr()
            bidi = OxmlElement("w:bidi")
            ppr.append(bidi)
        bold = False
        for piece in _MARKUP.split(line):
            if piece == "**":
                bold = not bold
            elif piece.startswith("^{"):
                paragraph.add_run(piece[2:-1]).font.superscript = True
            elif piece:
                paragraph.add_run(piece).bold = bold
    document.save(str(path))
    return path


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def make_pdf(docx_path: Path) -> Path:
    """Convert with LibreOffice in a private profile (parallel tests never share one)."""
    office = soffice()
    assert office, "LibreOffice (soffice) is needed to make the PDF fixtures"
    profile = docx_path.parent / ".lo-profile"
    subprocess.run(
        [
            office,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(docx_path.parent),
            str(docx_path),
        ],
        check=True,
        capture_output=True,
        timeout=300,
        env={**os.environ, "HOME": str(docx_path.parent)},
    )
    pdf = docx_path.with_suffix(".pdf")
    assert pdf.exists(), f"LibreOffice made no PDF from {docx_path.name}"
    return pdf
