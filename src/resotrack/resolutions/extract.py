"""Read the text out of the files users have: PDF (pypdfium2), Word .docx (python-docx), text.

What a file *is* is decided by its content (its first bytes), never by its name: a PDF
renamed ``.txt`` is still read as a PDF. Each reader returns the text page by page, as
printed, so the cleaning step (``clean.py``) can recognise page headers and footers; it does
no other repair, except for what only the PDF itself can tell (a lam-alef ligature that the
PDF library spells backwards, found by both letters sharing one glyph box).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from typing import Final, Literal

from resotrack.catalog import N_
from resotrack.resolutions.errors import Phrase, ResolutionParseError

Kind = Literal["pdf", "docx", "text"]


@dataclass(frozen=True, slots=True)
class Extracted:
    """The raw text of a file, one string per page (one page for Word and text files)."""

    kind: Kind
    pages: tuple[str, ...]


def sniff(data: bytes) -> Kind:
    """``pdf``, ``docx`` (any zip: the Word reader says what else it is) or ``text`` (the
    text decoder refuses other binary formats by name) from the first bytes."""
    if data.startswith(b"%PDF") or data[:1024].lstrip().startswith(b"%PDF"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return "docx"
    return "text"


def extract(data: bytes, *, source: str = "the file") -> Extracted:
    """The pages of a PDF or Word file; raises with a message saying what to do instead."""
    kind = sniff(data)
    if kind == "pdf":
        return Extracted("pdf", pdf_pages(data, source=source))
    if kind == "docx":
        return Extracted("docx", (docx_text(data, source=source),))
    raise AssertionError("text files are decoded by the parser")  # pragma: no cover


# --------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------

_LAM_ALEF_REVERSED: Final = re.compile("[اأإآ]ل")


def pdf_pages(data: bytes, *, source: str = "the file") -> tuple[str, ...]:
    """Each page's text layer; a PDF with no text at all is a scan and is refused clearly."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message:
            raise ResolutionParseError(
                "this is a password-protected PDF document. Remove the password (open it and "
                "save or print it to a new PDF without protection), then import that copy.",
                source=source,
            ) from None
        raise ResolutionParseError(
            "this is a PDF document that cannot be read: it is damaged or incomplete. Download "
            "or export it again, or save it as Word or plain text and import that.",
            source=source,
        ) from None
    try:
        pages = []
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            try:
                text = textpage.get_text_range()
                if "ل" in text:
                    text = _repair_lam_alef(text, textpage)
            finally:
                textpage.close()
                page.close()
            pages.append(text)
    finally:
        document.close()
    if not any(page.strip() for page in pages):
        count = len(pages)
        raise ResolutionParseError(
            "this PDF document ({n} page) has no text layer: "
            "it is a scanned image. Run it through OCR (for example 'ocrmypdf -l ara+eng+fra "
            "in.pdf out.pdf'), or import the text as a paragraph table "
            "('resotrack resolutions import paragraphs.xlsx').",
            source=source,
            plural="this PDF document ({n} pages) has no text layer: it is a scanned image. Run "
            "it through OCR (for example 'ocrmypdf -l ara+eng+fra in.pdf out.pdf'), or import "
            "the text as a paragraph table ('resotrack resolutions import paragraphs.xlsx').",
            n=count,
        )
    return tuple(pages)


def _repair_lam_alef(text: str, textpage: object) -> str:
    """PDFium spells the lam-alef ligature glyphs (لا لأ لإ لآ) backwards (ال أل …); the
    two letters then share one glyph box, which a genuine alef followed by lam never does."""
    get_box = textpage.get_charbox  # type: ignore[attr-defined]
    chars = list(text)
    changed = False
    for match in _LAM_ALEF_REVERSED.finditer(text):
        index = match.start()
        try:
            same = get_box(index) == get_box(index + 1)
        except Exception:
            continue
        if same:
            chars[index], chars[index + 1] = "ل", chars[index]
            changed = True
    return "".join(chars) if changed else text


# --------------------------------------------------------------------------------------------
# Word
# --------------------------------------------------------------------------------------------

_ROMAN: Final = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii")


def docx_text(data: bytes, *, source: str = "the file") -> str:
    """The body text of a .docx, paragraph by paragraph, tables row by row.

    Word's automatic numbering is not in the text; it is rebuilt from each paragraph's list
    level (``1.`` at the first level, ``(a)`` at the second, ``(i)`` at the third), so
    automatically numbered operative paragraphs read as the printed document does.
    """
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        names = set()
    if "word/document.xml" not in names:
        what = N_("an Excel workbook") if "xl/workbook.xml" in names else N_("a zip archive")
        if not names:
            what = N_("a damaged zipped document")
        raise ResolutionParseError(
            "this is {what}, not a Word document (.docx). Import a resolution as PDF, Word "
            "or text; a paragraph table goes through 'resotrack resolutions import' with a "
            ".xlsx or .csv name.",
            source=source,
            what=Phrase(what),
        )
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        raise ResolutionParseError(
            "this Word document cannot be read ({reason}). Open it in Word or LibreOffice, save "
            "it again as .docx, and import that copy.",
            source=source,
            reason=str(exc),
        ) from None
    counters: dict[tuple[str, int], int] = {}
    lines: list[str] = []
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(_numbered(child, counters))
        elif tag == "tbl":
            for row in child.iter(_w("tr")):
                cells = [
                    " ".join(
                        "".join(t.text or "" for t in p.iter(_w("t"))) for p in c.iter(_w("p"))
                    )
                    for c in row.iter(_w("tc"))
                ]
                lines.append("  ".join(cell.strip() for cell in cells if cell.strip()))
    return "\n".join(lines)


def _w(tag: str) -> str:
    return "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}" + tag


def _numbered(paragraph: object, counters: dict[tuple[str, int], int]) -> str:
    element = paragraph
    text = "".join(
        node.text or ("\n" if node.tag == _w("br") else "\t" if node.tag == _w("tab") else "")
        for node in element.iter(_w("t"), _w("br"), _w("tab"))  # type: ignore[attr-defined]
    )
    num = element.find(f"{_w('pPr')}/{_w('numPr')}")  # type: ignore[attr-defined]
    if num is None or not text.strip():
        return text
    num_id = num.find(_w("numId"))
    level_node = num.find(_w("ilvl"))
    ident = num_id.get(_w("val")) if num_id is not None else "0"
    if ident == "0":  # numbering switched off
        return text
    level = int(level_node.get(_w("val"))) if level_node is not None else 0
    counters[(ident, level)] = counters.get((ident, level), 0) + 1
    for deeper in [key for key in counters if key[0] == ident and key[1] > level]:
        del counters[deeper]
    count = counters[(ident, level)]
    if level == 0:
        marker = f"{count}."
    elif level == 1:
        marker = f"({chr(ord('a') + (count - 1) % 26)})"
    else:
        marker = f"({_ROMAN[(count - 1) % len(_ROMAN)]})"
    return f"{marker} {text}"
