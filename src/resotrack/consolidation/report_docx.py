"""The report of the Secretary-General on one resolution, as a Word document staff edit.

Word (python-docx) rather than PDF: the report is a starting point that Secretariat staff edit,
comment and pass around in Word before it becomes a session document. Its parts:

- **body**: title block (symbol, session, the mandate paragraph quoted whole), introduction,
  method (questionnaire, deadline, reminders, response rate by kind of entity and by region,
  late and missing returns), overview by section with one chart, then a synthesis per
  operative paragraph: how many entities reported each status and which ones, and the main
  measures reported, grouped by similarity (:mod:`resotrack.consolidation.synthesis`), each
  group with its size and one verbatim quote; paragraphs asked of the Secretariat or of an
  institution are reported from their own returns, quoted. Conclusions and recommendations are
  marked placeholders for staff, prefilled with facts. The introduction, each paragraph's
  synthesis, the conclusions and the recommendations are blocks staff may rewrite
  (:mod:`resotrack.consolidation.drafts`): the next build keeps their text.
- **annexes** (each on a new page): the replies per entity, verbatim, each in its own language
  and direction and marked with it; the entities that did not reply; statistical tables.

Typography: A4, built-in styles (Title, Heading 1–3, kept with the next paragraph), a table of
contents field, page numbers in the footer, tables with set widths and a header row repeated on
each page, captions kept with their figure. The document's language is set in its styles;
an Arabic report is right to left. Every word comes from the catalog (domain ``report``).
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import pandas as pd
from docx import Document
from docx.document import Document as DocumentType
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_COLOR_INDEX
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph

from resotrack.catalog import Language, Words
from resotrack.consolidation.charts import Chart
from resotrack.consolidation.docx_rows import RowCopier
from resotrack.consolidation.drafts import (
    TAG_PREFIX,
    Block,
    StaffText,
    block_paragraphs,
    bookmark_name,
    plain,
    same,
)
from resotrack.consolidation.export_xlsx import BuildInfo
from resotrack.consolidation.labels import kind_text, status_text
from resotrack.consolidation.regions import ORDER as REGION_ORDER
from resotrack.consolidation.regions import region_of
from resotrack.consolidation.synthesis import (
    group_measures,
    is_arabic,
    mandate_paragraph,
    reply_language,
)
from resotrack.consolidation.tables import NO_REPLY, NOT_ASKED, STATUS_COLUMNS, Tables
from resotrack.questionnaires.i18n import STATUSES
from resotrack.registry.grammar import display_name

FONT: Final = "DejaVu Sans"
#: BCP 47 tags Word wants in w:lang.
LANG_TAGS: Final[dict[str, str]] = {"ar": "ar-SA", "en": "en-GB", "fr": "fr-FR"}
#: Measure groups shown per paragraph in the body (the rest are in annex I).
GROUPS_SHOWN: Final = 2
#: A status reported by at most this many entities names them in the body (the matrix in
#: annex III names every one).
NAMED_MAX: Final = 6
#: Lowest-implemented paragraphs named in the conclusions.
LOWEST: Final = 5
TEXT_WIDTH_CM: Final = 16.0
#: Statuses whose entities are named in the body (the others are counted).
NAMED: Final = ("fully_implemented", "partially_implemented", "in_progress", "not_started")

# Qualified tag names, computed once (an annex builds tens of thousands of them).
_PPR, _PSTYLE, _VAL = qn("w:pPr"), qn("w:pStyle"), qn("w:val")
_R, _RPR, _T, _SPACE = qn("w:r"), qn("w:rPr"), qn("w:t"), qn("xml:space")
_B, _BCS, _I, _ICS, _COLOR = qn("w:b"), qn("w:bCs"), qn("w:i"), qn("w:iCs"), qn("w:color")
_RTL, _LANG, _BIDI_LANG = qn("w:rtl"), qn("w:lang"), qn("w:bidi")
_XML_UNSAFE: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_LANGUAGE_NAME: Final = {"ar": "in Arabic", "en": "in English", "fr": "in French"}


def xml_safe(text: str) -> str:
    """Text Word can store: XML 1.0 forbids most control characters, which returns can hold."""
    return _XML_UNSAFE.sub("", text)


def report_language(value: str | None) -> Language:
    """The resolution's language when resotrack speaks it, else English."""
    if value in ("fr", "ar", "en"):
        return value  # type: ignore[return-value]
    return "en"


def _el(tag: str, **attrs: str) -> Any:
    element = OxmlElement(tag)
    for key, value in attrs.items():
        element.set(qn(key), value)
    return element


class _Doc:
    """A document in one language, with the styles and helpers the report uses.

    ``edits`` is staff's text for some blocks (:mod:`resotrack.consolidation.drafts`): a block
    opened with :meth:`begin_block` is generated as usual, then replaced by staff's text when
    there is one; ``blocks`` keeps, per key, what was generated and what the draft shows.
    """

    def __init__(self, language: Language, edits: Mapping[str, StaffText] | None = None) -> None:
        self.language = language
        self.edits = dict(edits or {})
        self.blocks: dict[str, Block] = {}
        self._block: Any = None
        self._block_key = ""
        self.built_on: date | None = None
        self.rtl = language == "ar"
        self.w = Words(language, "report")
        self.doc: DocumentType = Document()
        self._figures = 0
        self._tables = 0
        self._headings: list[tuple[int, str]] = []
        self._style_ids: dict[str, str] = {}
        self._sect: Any = None
        self._toc: Paragraph | None = None
        self._setup()

    # -- set-up ---------------------------------------------------------------------------

    def _setup(self) -> None:
        doc = self.doc
        section = doc.sections[0]
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.left_margin = section.right_margin = Cm(2.5)
        section.top_margin, section.bottom_margin = Cm(2.2), Cm(2.2)
        if self.rtl:
            section._sectPr.append(_el("w:bidi"))
        tag = LANG_TAGS[self.language]
        # The document's language, in the defaults every style inherits.
        defaults = doc.styles.element.find(qn("w:docDefaults"))
        rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
        for old in rpr.findall(qn("w:lang")):
            rpr.remove(old)
        rpr.append(_el("w:lang", **{"w:val": tag, "w:eastAsia": tag, "w:bidi": "ar-SA"}))
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = _el("w:rFonts")
            rpr.insert(0, fonts)
        for key in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
            fonts.set(qn(key), FONT)
        for key in ("w:asciiTheme", "w:hAnsiTheme", "w:cstheme", "w:eastAsiaTheme"):
            fonts.attrib.pop(qn(key), None)
        settings = doc.settings.element
        settings.append(_el("w:updateFields", **{"w:val": "true"}))
        lang = settings.find(qn("w:themeFontLang"))
        if lang is not None:
            lang.set(qn("w:val"), tag)
            lang.set(qn("w:bidi"), "ar-SA")

        normal = doc.styles["Normal"]
        normal.font.name = FONT
        normal.font.size = Pt(10)
        self._cs_size(normal, 10)
        normal.paragraph_format.space_after = Pt(4)
        normal.paragraph_format.line_spacing = 1.1
        if self.rtl:
            normal.element.get_or_add_pPr().append(_el("w:bidi"))
        for name, size, before in (
            ("Title", 17, 0),
            ("Heading 1", 13, 14),
            ("Heading 2", 11.5, 10),
            ("Heading 3", 10, 8),
        ):
            style = doc.styles[name]
            style.font.name = FONT
            style.font.size = Pt(size)
            style.font.color.rgb = RGBColor(0x1F, 0x3A, 0x5F)
            style.font.bold = True
            style.font.italic = False
            self._cs_size(style, size)
            rfonts = style.element.get_or_add_rPr().find(qn("w:rFonts"))
            if rfonts is not None:
                for key in ("w:asciiTheme", "w:hAnsiTheme", "w:cstheme", "w:eastAsiaTheme"):
                    rfonts.attrib.pop(qn(key), None)
                for key in ("w:ascii", "w:hAnsi", "w:cs"):
                    rfonts.set(qn(key), FONT)
            fmt = style.paragraph_format
            fmt.keep_with_next = True
            fmt.space_before = Pt(before)
            fmt.space_after = Pt(4)
        title = doc.styles["Title"]
        title.paragraph_format.space_after = Pt(8)
        ppr = title.element.get_or_add_pPr()
        for border in ppr.findall(qn("w:pBdr")):
            ppr.remove(border)
        for name in ("Quote", "Caption", "List Bullet"):
            style = doc.styles[name]
            style.font.name = FONT
            style.font.size = Pt(9 if name != "List Bullet" else 10)
            self._cs_size(style, 9 if name != "List Bullet" else 10)
        quote = doc.styles["Quote"]
        quote.font.italic = False
        quote.font.color.rgb = RGBColor(0x26, 0x26, 0x26)
        quote.paragraph_format.left_indent = Cm(0.8)
        quote.paragraph_format.right_indent = Cm(0.8)
        quote.paragraph_format.space_before = Pt(0)
        quote.paragraph_format.space_after = Pt(4)
        caption = doc.styles["Caption"]
        caption.font.color.rgb = RGBColor(0x44, 0x44, 0x44)
        caption.font.bold = False
        caption.font.italic = True
        self._footer()

    @staticmethod
    def _cs_size(style: Any, size: float) -> None:
        rpr = style.element.get_or_add_rPr()
        for old in rpr.findall(qn("w:szCs")):
            rpr.remove(old)
        rpr.append(_el("w:szCs", **{"w:val": str(int(size * 2))}))

    def _footer(self) -> None:
        footer = self.doc.sections[0].footer
        p = footer.paragraphs[0]
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        self._field(p, "PAGE", "1")

    @staticmethod
    def _field(paragraph: Paragraph, instruction: str, shown: str) -> None:
        """A complex field (PAGE, TOC...) with ``shown`` as its last computed result."""
        p = paragraph._p
        for kind, text in (
            ("begin", None),
            ("instr", instruction),
            ("separate", None),
            ("text", shown),
            ("end", None),
        ):
            run = _el("w:r")
            if kind == "instr":
                t = _el("w:instrText")
                t.set(qn("xml:space"), "preserve")
                t.text = f" {text} "
                run.append(t)
            elif kind == "text":
                t = _el("w:t")
                t.set(qn("xml:space"), "preserve")
                t.text = text
                run.append(t)
            else:
                run.append(_el("w:fldChar", **{"w:fldCharType": kind}))
            p.append(run)

    # -- text -----------------------------------------------------------------------------

    def _mark(self, paragraph: Paragraph, rtl: bool) -> None:
        ppr = paragraph._p.get_or_add_pPr()
        for old in ppr.findall(qn("w:bidi")):
            ppr.remove(old)
        ppr.append(_el("w:bidi", **{"w:val": "1" if rtl else "0"}))

    def run(
        self,
        paragraph: Paragraph,
        text: str,
        *,
        bold: bool = False,
        italic: bool = False,
        grey: bool = False,
        lang: str | None = None,
    ) -> None:
        """A run built as XML directly (python-docx's run API costs a millisecond a run,
        which an annex of thousands of replies cannot afford). Arabic runs are marked right
        to left; a run in another language than the document's carries its language."""
        p = paragraph._p
        run = p.makeelement(_R, {})
        rpr = run.makeelement(_RPR, {})
        if bold:
            rpr.append(rpr.makeelement(_B, {}))
            rpr.append(rpr.makeelement(_BCS, {}))
        if italic:
            rpr.append(rpr.makeelement(_I, {}))
            rpr.append(rpr.makeelement(_ICS, {}))
        if grey:
            rpr.append(rpr.makeelement(_COLOR, {_VAL: "555555"}))
        if is_arabic(text):
            rpr.append(rpr.makeelement(_RTL, {}))
            rpr.append(rpr.makeelement(_LANG, {_BIDI_LANG: "ar-SA"}))
        elif lang is not None and lang != self.language:
            rpr.append(rpr.makeelement(_LANG, {_VAL: LANG_TAGS.get(lang, lang)}))
        if len(rpr):
            run.append(rpr)
        t = run.makeelement(_T, {_SPACE: "preserve"})
        t.text = xml_safe(text)
        run.append(t)
        p.append(run)

    def _new_paragraph(self, style: str | None) -> Paragraph:
        """``add_paragraph`` without its scan for the section properties and its style
        lookup by name at every call (both linear in the document: quadratic overall)."""
        body = self.doc.element.body
        if self._sect is None:
            self._sect = body.sectPr
        p = OxmlElement("w:p")
        if self._block is not None:
            self._block.append(p)
        else:
            self._sect.addprevious(p)
        if style is not None:
            if style not in self._style_ids:
                self._style_ids[style] = self.doc.styles[style].style_id
            ppr = p.makeelement(_PPR, {})
            ppr.append(ppr.makeelement(_PSTYLE, {_VAL: self._style_ids[style]}))
            p.append(ppr)
        return Paragraph(p, self.doc._body)

    def para(
        self, *parts: tuple[str, str], style: str | None = None, rtl: bool | None = None
    ) -> Paragraph:
        """A paragraph of runs; each part is (text, flags: "b" bold, "i" italic, "g" grey)."""
        p = self._new_paragraph(style)
        if rtl is not None and rtl != self.rtl:
            self._mark(p, rtl)
        for text, how in parts:
            self.run(p, text, bold="b" in how, italic="i" in how, grey="g" in how)
        return p

    def quote(self, text: str, lang: str) -> Paragraph:
        """A reply quoted verbatim, in its own direction, marked with its language."""
        flat = " ".join(xml_safe(text).split())
        p = self._new_paragraph("Quote")
        rtl = lang == "ar"
        if rtl != self.rtl:
            self._mark(p, rtl)
        open_, close = ("«\u00a0", "\u00a0»") if lang == "fr" else ("«", "»") if rtl else ("“", "”")
        self.run(p, f"{open_}{flat}{close}", lang=lang)
        return p

    def lead_and_quote(self, lead: str, text: str, lang: str) -> None:
        """``lead`` then the reply verbatim: in one paragraph when the reply reads in the
        document's direction, else the reply in a paragraph of its own direction."""
        if (lang == "ar") == self.rtl:
            p = self.para((lead + " ", "i"))
            flat = " ".join(xml_safe(text).split())
            open_, close = (
                ("«\u00a0", "\u00a0»")
                if lang == "fr"
                else ("«", "»")
                if lang == "ar"
                else ("“", "”")
            )
            self.run(p, f"{open_}{flat}{close}", lang=lang)
            p.paragraph_format.left_indent = Cm(0.5)
        else:
            self.para((lead, "i")).paragraph_format.keep_with_next = True
            self.quote(text, lang)

    # -- blocks staff may rewrite -----------------------------------------------------------

    def begin_block(self, key: str, title: str) -> None:
        """What follows, until :meth:`end_block`, is one block: a content control tagged
        ``resotrack:<key>`` that cannot be deleted but whose words can be rewritten."""
        body = self.doc.element.body
        if self._sect is None:
            self._sect = body.sectPr
        sdt = _el("w:sdt")
        props = _el("w:sdtPr")
        props.append(_el("w:alias", **{"w:val": xml_safe(title)}))
        props.append(_el("w:tag", **{"w:val": TAG_PREFIX + key}))
        props.append(_el("w:id", **{"w:val": str(1000 + len(self.blocks))}))
        props.append(_el("w:lock", **{"w:val": "sdtLocked"}))
        sdt.append(props)
        content = _el("w:sdtContent")
        sdt.append(content)
        self._sect.addprevious(sdt)
        self._block, self._block_key = content, key

    def end_block(self) -> None:
        """Close the block; staff's text replaces the generated one when there is some, and
        is flagged with a comment when the generated text has changed since they edited."""
        content, key = self._block, self._block_key
        generated = plain(block_paragraphs(content))
        staff = self.edits.get(key)
        stale = False
        if staff is not None:
            for child in list(content):
                content.remove(child)
            for para in staff.paragraphs:
                p = self._new_paragraph(para.style)
                for run in para.runs:
                    self.run(p, run.text, bold=run.bold, italic=run.italic)
            if not len(content):
                self._new_paragraph(None)
            stale = not same(
                self._undated(staff.replaced, staff.replaced_on),
                self._undated(generated, self.built_on),
            )
            if stale:
                self._flag(content, staff, generated)
        self._block, self._block_key = None, ""
        self._bookmark(content, key)
        shown = plain(block_paragraphs(content))
        self.blocks[key] = Block(key, generated, shown, staff is not None, stale)

    def _bookmark(self, content: Any, key: str) -> None:
        """The block's hidden bookmark, from its first paragraph to its last."""
        paragraphs = content.findall(qn("w:p"))
        if not paragraphs:
            return
        mark = str(2000 + len(self.blocks))
        start = _el("w:bookmarkStart", **{"w:id": mark, "w:name": bookmark_name(key)})
        first = paragraphs[0]
        ppr = first.find(qn("w:pPr"))
        if ppr is not None:
            ppr.addnext(start)
        else:
            first.insert(0, start)
        paragraphs[-1].append(_el("w:bookmarkEnd", **{"w:id": mark}))

    def _undated(self, text: str, on: date | None) -> str:
        """``text`` without the build's date in it (the facts, not the day they were read)."""
        return text.replace(self.w.date(on, "long"), "{date}") if on is not None else text

    def _flag(self, content: Any, staff: StaffText, generated: str) -> None:
        """A comment on staff's text: the facts under it changed; the new generated text."""
        from docx.text.run import Run as DocxRun

        first = content.find(qn("w:p"))
        runs = first.findall(qn("w:r")) if first is not None else []
        if not runs:
            return
        paragraph = Paragraph(first, self.doc._body)
        self.doc.add_comment(
            [DocxRun(runs[0], paragraph), DocxRun(runs[-1], paragraph)],
            text=self.w(
                "The facts under this passage have changed since {who} edited it on {date}. "
                "Check it; the text generated now reads: {text}",
                who=staff.edited_by,
                date=self.w.date(staff.edited_on, "long"),
                text=generated,
            ),
            author="resotrack",
            initials="RT",
        )

    def heading(self, text: str, level: int) -> Paragraph:
        p = self._new_paragraph("Title" if level == 0 else f"Heading {level}")
        self.run(p, text)
        if 1 <= level <= 2:
            self._headings.append((level, text))
        return p

    def page_break(self) -> None:
        p = self.doc.add_paragraph()
        p.add_run().add_break(WD_BREAK.PAGE)

    def placeholder(self, facts: Sequence[str]) -> None:
        """A marked place for staff to write, with the facts it should start from."""
        p = self.para()
        r = p.add_run(xml_safe(self.w("[To be written by the Secretariat]")))
        r.bold = True
        r.font.highlight_color = WD_COLOR_INDEX.YELLOW
        self.para((self.w("Facts to start from:"), "i"))
        for fact in facts:
            self.para((fact, ""), style="List Bullet")

    # -- tables and figures ---------------------------------------------------------------

    def table(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[str]],
        widths_cm: Sequence[float],
        *,
        caption: str | None = None,
        numeric_from: int = 1,
    ) -> None:
        """A grid with set column widths and a header row repeated on each page."""
        if caption:
            self._tables += 1
            cap = self.para(
                (self.w("Table {n}. {title}", n=self._tables, title=caption), ""),
                style="Caption",
            )
            cap.paragraph_format.keep_with_next = True
        table = self.doc.add_table(rows=1, cols=len(headers))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        tbl_pr = table._tbl.tblPr
        tbl_pr.append(_el("w:tblLayout", **{"w:type": "fixed"}))
        if self.rtl:
            tbl_pr.append(_el("w:bidiVisual"))
        grid = table._tbl.tblGrid
        for col, width in zip(grid.findall(qn("w:gridCol")), widths_cm, strict=True):
            col.set(qn("w:w"), str(int(Cm(width).twips)))
        header = table.rows[0]
        header._tr.get_or_add_trPr().append(_el("w:tblHeader"))
        header._tr.get_or_add_trPr().append(_el("w:cantSplit"))
        for cell, text in zip(header.cells, headers, strict=True):
            self._cell(cell, text, bold=True, shade="DDE4EE")
        for cell, width in zip(header.cells, widths_cm, strict=True):
            cell.width = Cm(width)
        copier = RowCopier(table._tbl, xml_safe)  # a row like one built: copied, same XML
        for values in rows:
            key = copier.key(values)
            if copier.add(key, values):
                continue
            row = table.add_row()
            row._tr.get_or_add_trPr().append(_el("w:cantSplit"))
            for i, (cell, text) in enumerate(zip(row.cells, values, strict=True)):
                self._cell(cell, text, align_end=i >= numeric_from)
            for cell, width in zip(row.cells, widths_cm, strict=True):
                cell.width = Cm(width)
            copier.remember(key, row._tr)
        self.doc.add_paragraph().paragraph_format.space_after = Pt(2)

    def _cell(
        self,
        cell: Any,
        text: str,
        *,
        bold: bool = False,
        shade: str | None = None,
        align_end: bool = False,
    ) -> None:
        p = cell.paragraphs[0]
        p.paragraph_format.space_after = Pt(0)
        p.paragraph_format.line_spacing = 1.0
        if align_end and not bold:
            p.alignment = WD_ALIGN_PARAGRAPH.LEFT if self.rtl else WD_ALIGN_PARAGRAPH.RIGHT
        r = p.add_run(xml_safe(text))
        size = 7 if bold else 8
        r.font.size = Pt(size)
        r.bold = bold or None
        rpr = r._r.get_or_add_rPr()
        rpr.append(_el("w:szCs", **{"w:val": str(size * 2)}))
        if is_arabic(text):
            rpr.append(_el("w:rtl"))
        if shade:
            tc_pr = cell._tc.get_or_add_tcPr()
            tc_pr.append(_el("w:shd", **{"w:val": "clear", "w:color": "auto", "w:fill": shade}))

    def figure(
        self, chart: Chart, width_cm: float = TEXT_WIDTH_CM, max_height_cm: float = 22.0
    ) -> None:
        """The chart, then its caption, kept on the same page."""
        from PIL import Image

        with Image.open(io.BytesIO(chart.png)) as image:
            w, h = image.size
        width = min(width_cm, max_height_cm * w / h)
        self.doc.add_picture(io.BytesIO(chart.png), width=Cm(width))
        picture = self.doc.paragraphs[-1]
        picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
        picture.paragraph_format.keep_with_next = True
        self._figures += 1
        self.para(
            (self.w("Figure {n}. {title}", n=self._figures, title=chart.title), ""),
            style="Caption",
        ).alignment = WD_ALIGN_PARAGRAPH.CENTER

    def toc(self) -> None:
        """A TOC field; its shown result lists the headings (Word and LibreOffice add the
        page numbers when the field is updated, which Word offers on opening)."""
        p = self.para((self.w("Contents"), "b"))
        p.paragraph_format.keep_with_next = True
        self._toc = self.doc.add_paragraph()

    def _fill_toc(self) -> None:
        if self._toc is None:
            return
        first = self._toc
        entries = self._headings or [(1, self.w("Update the table of contents"))]
        p = first
        for i, (level, text) in enumerate(entries):
            if i:
                new = OxmlElement("w:p")
                p._p.addnext(new)
                p = Paragraph(new, first._parent)
            p.paragraph_format.left_indent = Cm(0.6 * (level - 1))
            p.paragraph_format.space_after = Pt(1)
            if i == 0:
                for kind, instr in (
                    ("begin", None),
                    ("instr", 'TOC \\o "1-2" \\h \\z \\u'),
                    ("separate", None),
                ):
                    run = _el("w:r")
                    if instr:
                        t = _el("w:instrText")
                        t.set(qn("xml:space"), "preserve")
                        t.text = f" {instr} "
                        run.append(t)
                    else:
                        run.append(_el("w:fldChar", **{"w:fldCharType": kind}))
                    p._p.append(run)
            self.run(p, text, bold=level == 1)
        end = _el("w:r")
        end.append(_el("w:fldChar", **{"w:fldCharType": "end"}))
        p._p.append(end)

    def bytes(self) -> bytes:
        self._fill_toc()
        out = io.BytesIO()
        self.doc.save(out)
        return out.getvalue()


# -- facts ----------------------------------------------------------------------------------


def _names(tables: Tables, language: Language) -> dict[str, str]:
    """Entity code → its name as a sentence shows it (``République islamique d'Iran``)."""
    e = tables.entities
    column = {"fr": "name_fr", "ar": "name_ar"}.get(language, "name_en")
    return {
        str(code): display_name(str(name or fallback or code))
        for code, name, fallback in zip(e["entity"], e[column], e["name_en"], strict=True)
    }


def _listing(items: Sequence[str], w: Words) -> str:
    """ "A, B and C" in the report's language."""
    items = list(items)
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return w("{first} and {last}", first=w(", ").join(items[:-1]), last=items[-1])


def _pct(w: Words, value: Any) -> str:
    if value is None or pd.isna(value):
        return w("no answer expected")
    return w.percent(float(value))


def _day(w: Words, value: Any) -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return "–"
    return w.date(pd.Timestamp(value).date(), "long")


@dataclass(frozen=True)
class ReportDocx:
    """A rendered Word report and its blocks (what was generated, what it shows)."""

    data: bytes
    blocks: dict[str, Block]


def render_docx(
    tables: Tables,
    resolution: dict[str, Any],
    info: BuildInfo,
    charts: dict[str, Chart],
    *,
    language: Language | None = None,
) -> bytes:
    """The report on ``resolution``; ``tables`` already narrowed to it
    (:func:`resotrack.consolidation.tables.for_resolution`). ``charts`` by name: heatmap,
    response_rate, status_by_section (drawn for this resolution, in ``language``)."""
    return render_report(tables, resolution, info, charts, language=language).data


def render_report(
    tables: Tables,
    resolution: dict[str, Any],
    info: BuildInfo,
    charts: dict[str, Chart],
    *,
    language: Language | None = None,
    edits: Mapping[str, StaffText] | None = None,
    identifier: str = "",
) -> ReportDocx:
    """:func:`render_docx` with staff's text for the blocks they edited (block key → text)
    and the draft's ``identifier`` in its core properties; the document and its blocks."""
    lang = language or report_language(resolution.get("language"))
    d = _Doc(lang, edits)
    if identifier:
        d.doc.core_properties.identifier = identifier
    w = d.w
    names = _names(tables, lang)
    symbol = str(resolution["symbol"])
    built_on: date = info.built_at.date()
    d.built_on = built_on
    paragraphs = tables.paragraphs
    texts = {
        int(n): str(t or "") for n, t in zip(paragraphs["number"], paragraphs["text"], strict=True)
    }
    mandate = mandate_paragraph(
        [
            (int(n), str(a), str(t or ""))
            for n, a, t in zip(
                paragraphs["number"], paragraphs["addressees"], paragraphs["text"], strict=True
            )
        ]
    )

    # -- title block
    if info.theme:
        title = w(
            "Report of the Secretary-General on the implementation of resolution {symbol}: "
            "paragraphs on {theme}",
            symbol=symbol,
            theme=info.theme,
        )
    else:
        title = w(
            "Report of the Secretary-General on the implementation of resolution {symbol}",
            symbol=symbol,
        )
    d.heading(title, 0)
    if resolution.get("title"):
        d.para((str(resolution["title"]), "b"))
    for label, value in (
        (w("Adopted by"), resolution.get("body")),
        (w("Session"), resolution.get("session")),
        (w("Place"), resolution.get("place")),
        (
            w("Date of adoption"),
            " / ".join(
                str(v)
                for v in (resolution.get("adopted_gregorian"), resolution.get("adopted_hijri"))
                if v
            ),
        ),
    ):
        if value:
            d.para((w("{label}: ", label=label), "b"), (str(value), ""))
    if mandate is not None:
        d.para(
            (w("Mandate: paragraph {number} of the resolution, which reads:", number=mandate), "b")
        )
        d.quote(texts.get(mandate, ""), str(resolution.get("language") or lang))
    d.para(
        (
            w(
                "Draft prepared on {date} from the returns received by that date. The passages "
                "marked for the Secretariat are to be written before submission.",
                date=w.date(built_on, "long"),
            ),
            "ig",
        )
    )
    d.toc()
    d.page_break()

    s = tables.summary
    entities = tables.entities
    asked_n = int(s["entities_asked"])
    returned = entities[entities["returned"]]
    missing = entities[~entities["returned"]]
    late = returned[~returned["on_time"]]

    # -- introduction
    d.heading(w("Introduction"), 1)
    d.begin_block("introduction", w("Introduction"))
    intro = w("This report is submitted in accordance with resolution {symbol}.", symbol=symbol)
    if mandate is not None:
        intro = w(
            "This report is submitted in accordance with paragraph {number} of resolution "
            "{symbol}, by which the Secretary-General was requested to report on its "
            "implementation.",
            number=mandate,
            symbol=symbol,
        )
    d.para(
        (
            intro
            + " "
            + w(
                "It presents the information that member states and institutions "
                "sent to the General Secretariat on the measures they have taken, "
                "paragraph by paragraph, as of {date}.",
                date=w.date(built_on, "long"),
            ),
            "",
        )
    )
    asked_paragraphs = paragraphs[paragraphs["asked"] > 0]
    d.para(
        (
            w.n(
                "The resolution has {n} operative paragraph.",
                "The resolution has {n} operative paragraphs.",
                len(paragraphs),
            )
            + " "
            + w.n(
                "In this cycle, {n} paragraph asked entities for a report.",
                "In this cycle, {n} paragraphs asked entities for a report.",
                len(asked_paragraphs),
            ),
            "",
        )
    )
    d.end_block()

    # -- method
    d.heading(w("Method"), 1)
    opened = info.opened_on
    method = []
    if opened is not None:
        method.append(
            w.n(
                "On {date}, the General Secretariat sent a questionnaire to {n} entity, "
                "asking about each paragraph addressed to it.",
                "On {date}, the General Secretariat sent a questionnaire to {n} entities, "
                "asking about each paragraph addressed to them.",
                asked_n,
                date=w.date(opened, "long"),
            )
        )
    method.append(w("Replies were due by {date}.", date=w.date(info.deadline, "long")))
    if info.reminders is not None:
        method.append(
            w.n(
                "{n} reminder was sent to the entities that had not replied.",
                "{n} reminders were sent to the entities that had not replied.",
                info.reminders,
            )
        )
    d.para((" ".join(method), ""))
    d.para(
        (
            w.n(
                "{returned} of the {n} entity asked returned the questionnaire (response rate "
                "{rate}).",
                "{returned} of the {n} entities asked returned the questionnaire "
                "(response rate {rate}).",
                asked_n,
                returned=len(returned),
                rate=_pct(w, s["response_rate"]),
            )
            + " "
            + w.n(
                "{n} return arrived after the deadline.",
                "{n} returns arrived after the deadline.",
                len(late),
            ),
            "",
        )
    )
    if len(late):
        late_names = sorted(names[c] for c in late["entity"])
        d.para((w("Received after the deadline: {names}.", names=_listing(late_names, w)), ""))
    if len(missing):
        d.para(
            (
                w(
                    "No return was received from: {names}.",
                    names=_listing(sorted(names[c] for c in missing["entity"]), w),
                ),
                "",
            )
        )
    rows = _rate_rows(entities, w, lang)
    d.table(
        [w("Entities"), w("Asked"), w("Returned"), w("Response rate"), w("After the deadline")],
        rows,
        [6.6, 2.2, 2.2, 2.8, 2.2],
        caption=w("Response rate by kind of entity and by region"),
    )
    if "response_rate" in charts:
        d.figure(charts["response_rate"], width_cm=14.0)
    d.para(
        (
            w(
                "Statuses are those the entities chose themselves from one list: fully "
                "implemented, partially implemented, in progress, not started, not applicable, no "
                "information. Measures are quoted as written; similar measures are grouped by the "
                "words they share, and each group is shown with the number of entities in it and "
                "one of its replies."
            ).replace("  ", " "),
            "g",
        )
    )

    # -- overview
    d.heading(w("Overview of implementation"), 1)
    sections = tables.sections
    d.para(
        (
            w(
                "{received} of the {expected} answers expected were received ({rate}).",
                received=d.w.number(int(s["cells_replied"])),
                expected=d.w.number(int(s["cells_asked"])),
                rate=_pct(w, s["cell_rate"]),
            ),
            "",
        )
    )
    if "status_by_section" in charts:
        d.figure(charts["status_by_section"], width_cm=15.0)
    from resotrack.consolidation.charts import section_labels

    labels = section_labels(sections, lang) if len(sections) else []
    d.table(
        [w("Section"), *[status_text(c, lang) for c in STATUS_COLUMNS]],
        [
            [labels[i], *[w.number(int(sections.iloc[i][c])) for c in STATUS_COLUMNS]]
            for i in range(len(sections))
        ],
        [1.9, *[14.1 / len(STATUS_COLUMNS)] * len(STATUS_COLUMNS)],
        caption=w("Answers by status and section"),
    )

    _trend(d, tables.trend, lang)

    # -- paragraph by paragraph
    d.heading(w("Implementation, paragraph by paragraph"), 1)
    matrix = tables.matrix
    quotes = tables.narrative
    entity_lang = (
        dict(zip(entities["entity"], entities["language"], strict=True))
        if "language" in entities
        else {}
    )
    kinds = dict(zip(entities["entity"], entities["kind"], strict=True))
    for srow, label in zip(sections.itertuples(index=False), labels, strict=True):
        letter = str(srow.section)
        title = str(srow.title or "")
        if letter:
            d.heading(w("Section {letter}", letter=letter) + (f" — {title}" if title else ""), 2)
        mine = paragraphs[paragraphs["section"] == letter]
        quiet = [int(n) for n, a in zip(mine["number"], mine["asked"], strict=True) if a == 0]
        if quiet:
            d.para(
                (
                    w.n(
                        "Paragraph {numbers} asked no entity for a report in this cycle.",
                        "Paragraphs {numbers} asked no entity for a report in this cycle.",
                        len(quiet),
                        numbers=_listing([str(q) for q in quiet], w),
                    ),
                    "i",
                )
            )
        for prow in mine[mine["asked"] > 0].itertuples(index=False):
            number = int(prow.number)
            d.heading(w("Paragraph {number}", number=number), 3)
            d.begin_block(f"paragraph-{number}", w("Paragraph {number}", number=number))
            key = (symbol, number)
            column = matrix.loc[key] if key in matrix.index else pd.Series(dtype=str)
            column = column[column != NOT_ASKED]
            by_status: dict[str, list[str]] = {}
            for code, status in column.items():
                by_status.setdefault(str(status), []).append(str(code))
            asked_here = len(column)
            replied = asked_here - len(by_status.get(NO_REPLY, []))
            institutions = [c for c in column.index if kinds.get(c) != "member_state"]
            counts = []
            for c in STATUSES:
                who_here = by_status.get(c)
                if not who_here:
                    continue
                label = status_text(c, lang) if lang == "ar" else status_text(c, lang).lower()
                if c in NAMED and len(who_here) <= NAMED_MAX:
                    listed = _listing(sorted(names.get(x, x) for x in who_here), w)
                    counts.append(
                        w("{status}: {n} ({names})", status=label, n=len(who_here), names=listed)
                    )
                else:
                    counts.append(w("{status}: {n}", status=label, n=len(who_here)))
            sentence = w.n(
                "{replied} of the {n} entity asked replied",
                "{replied} of the {n} entities asked replied",
                asked_here,
                replied=replied,
            )
            d.para(
                (sentence + (w(": {counts}.", counts=w("; ").join(counts)) if counts else "."), "")
            )
            here = quotes[quotes["number"] == number]
            if len(institutions) == asked_here:
                # Addressed to the Secretariat or institutions: their own words.
                for q in here.itertuples(index=False):
                    d.lead_and_quote(
                        w(
                            "{entity} ({status}):",
                            entity=names.get(q.entity, q.entity),
                            status=status_text(str(q.status), lang),
                        ),
                        str(q.measures),
                        reply_language(str(q.measures), entity_lang.get(q.entity, lang)),
                    )
                if here.empty and replied:
                    d.para((w("No measure was described."), "i"))
                d.end_block()
                continue
            groups = group_measures(zip(here["entity"], here["measures"], strict=True))
            shown = [g for g in groups if g.size > 1][:GROUPS_SHOWN] or groups[:1]
            for group in shown:
                who = names.get(group.quoted_entity, group.quoted_entity)
                d.lead_and_quote(
                    w.n(
                        "{n} entity reported this measure ({entity}):",
                        "{n} entities reported similar measures, for example ({entity}):",
                        group.size,
                        entity=who,
                    ),
                    group.quote,
                    reply_language(group.quote, entity_lang.get(group.quoted_entity, lang)),
                )
            rest = sum(g.size for g in groups) - sum(g.size for g in shown)
            if rest:
                d.para(
                    (
                        w.n(
                            "{n} other measure is quoted in annex I.",
                            "{n} other measures are quoted in annex I.",
                            rest,
                        ),
                        "g",
                    )
                )
            d.end_block()

    # -- conclusions and recommendations
    d.heading(w("Conclusions"), 1)
    d.begin_block("conclusions", w("Conclusions"))
    d.placeholder(_conclusion_facts(tables, names, w, lang))
    d.end_block()
    d.heading(w("Recommendations"), 1)
    d.begin_block("recommendations", w("Recommendations"))
    d.placeholder(_recommendation_facts(tables, w))
    d.end_block()

    # -- annexes
    _annex_replies(d, tables, names, entity_lang, lang)
    _annex_missing(d, tables, names)
    _annex_tables(d, tables, charts)
    return ReportDocx(d.bytes(), d.blocks)


def _trend(d: _Doc, trend: pd.DataFrame, lang: Language) -> None:
    """How implementation moved for the paragraphs asked about in earlier cycles (themselves
    or the paragraph they renew): one line per paragraph, entities per status from cycle to
    cycle, paragraphs grouped by the cycles they were asked in."""
    if trend.empty:
        return
    w = d.w
    arrow = w(" → ")
    cycles = (
        trend[["cycle", "cycle_title", "deadline"]]
        .drop_duplicates("cycle")
        .sort_values(["deadline", "cycle"])
    )
    order = list(cycles["cycle"])
    named = {
        int(c): w(
            "{cycle} (deadline {date})",
            cycle=str(t),
            date=w.date(date.fromisoformat(str(day)), "long"),
        )
        for c, t, day in zip(
            cycles["cycle"], cycles["cycle_title"], cycles["deadline"], strict=True
        )
    }
    # One pass over the rows (a few per paragraph and cycle): counts, cycles, what it renews.
    counts: dict[int, dict[tuple[str, int], int]] = {}
    renews: dict[int, tuple[str, int, str, int]] = {}
    for r in trend.itertuples(index=False):
        number, cycle = int(r.number), int(r.cycle)
        mine = counts.setdefault(number, {})
        mine[(str(r.status), cycle)] = mine.get((str(r.status), cycle), 0) + int(r.n)
        if (r.earlier_resolution, int(r.earlier_number)) != (r.resolution, number):
            key = (str(r.deadline), cycle, str(r.earlier_resolution), int(r.earlier_number))
            renews[number] = max(renews.get(number, key), key)  # the latest one it renews
    groups: dict[tuple[int, ...], list[int]] = {}
    for number, mine in counts.items():
        present = {cycle for _, cycle in mine}
        seen = tuple(c for c in order if c in present)
        if len(seen) > 1:
            groups.setdefault(seen, []).append(number)
    if not groups:
        return
    d.heading(w("Implementation across cycles"), 2)
    d.para(
        (
            w(
                "For each paragraph also asked about in an earlier cycle (the paragraph itself, "
                "or the one it renews), the number of entities that gave each status, from one "
                "cycle to the next."
            ),
            "",
        )
    )
    for seen, members in groups.items():
        d.para((w("Cycles compared: {cycles}.", cycles=arrow.join(named[c] for c in seen)), "b"))
        for number in sorted(members):
            label = w("Paragraph {number}", number=number)
            if number in renews:
                _day, _cycle, resolution, earlier = renews[number]
                label = w(
                    "Paragraph {number} (renews paragraph {earlier} of {resolution})",
                    number=number,
                    earlier=earlier,
                    resolution=resolution,
                )
            parts = []
            for status in (*STATUSES, NO_REPLY):
                per_cycle = [counts[number].get((status, c), 0) for c in seen]
                if not any(per_cycle):
                    continue
                text = status_text(status, lang)
                parts.append(
                    w.n(
                        "{status}: {counts} entity",
                        "{status}: {counts} entities",
                        per_cycle[-1],
                        status=text if lang == "ar" else text.lower(),
                        counts=arrow.join(w.number(n) for n in per_cycle),
                    )
                )
            d.para((w("{paragraph}: ", paragraph=label), "b"), (w("; ").join(parts) + ".", ""))


def _rate_rows(entities: pd.DataFrame, w: Words, lang: Language) -> list[list[str]]:
    rows: list[list[str]] = []

    def add(label: str, frame: pd.DataFrame) -> None:
        n = len(frame)
        back = int(frame["returned"].sum())
        late = int((frame["returned"] & ~frame["on_time"]).sum())
        rate = w.percent(back / n) if n else "–"
        rows.append([label, w.number(n), w.number(back), rate, w.number(late)])

    for kind, frame in entities.groupby("kind", sort=True):
        add(kind_text(str(kind), lang), frame)
    states = entities[entities["kind"] == "member_state"]
    regions = states["entity"].map(region_of)
    for region in REGION_ORDER:
        frame = states[regions == region]
        if len(frame):
            add(w("Member states in {region}", region=w(region)), frame)
    if len(entities) > 1:
        add(w("All entities"), entities)
    return rows


def _implementation(tables: Tables) -> pd.DataFrame:
    p = tables.paragraphs
    informative = p[["fully_implemented", "partially_implemented", "in_progress", "not_started"]]
    done = p["fully_implemented"] + p["partially_implemented"]
    frame = p[["number"]].copy()
    frame["done"] = done
    frame["informative"] = informative.sum(axis=1)
    frame["not_started"] = p["not_started"]
    frame["replied"] = p["replied"]
    return frame[frame["informative"] > 0]


def _conclusion_facts(tables: Tables, names: dict[str, str], w: Words, lang: Language) -> list[str]:
    facts = []
    s = tables.summary
    facts.append(
        w(
            "{returned} of {asked} entities replied ({rate}).",
            returned=s["entities_returned"],
            asked=s["entities_asked"],
            rate=_pct(w, s["response_rate"]),
        )
    )
    frame = _implementation(tables)
    if len(frame):
        frame = frame.assign(share=frame["done"] / frame["informative"])
        lowest = frame.sort_values(["share", "number"]).head(LOWEST)
        listed = [
            w(
                "paragraph {number} ({done} of {n})",
                number=int(r.number),
                done=int(r.done),
                n=int(r.informative),
            )
            for r in lowest.itertuples(index=False)
        ]
        facts.append(
            w(
                "Lowest implementation (entities reporting full or partial "
                "implementation, of those that gave a status): {list}.",
                list=_listing(listed, w),
            )
        )
    missing = tables.entities[~tables.entities["returned"]]
    if len(missing):
        facts.append(
            w(
                "Never replied: {names}.",
                names=_listing(sorted(names[c] for c in missing["entity"]), w),
            )
        )
    return facts


def _recommendation_facts(tables: Tables, w: Words) -> list[str]:
    frame = _implementation(tables)
    facts = []
    if len(frame):
        most = frame.sort_values(["not_started", "number"], ascending=[False, True]).head(LOWEST)
        most = most[most["not_started"] > 0]
        if len(most):
            listed = [
                w("paragraph {number} ({n})", number=int(r.number), n=int(r.not_started))
                for r in most.itertuples(index=False)
            ]
            facts.append(w("Most often not started: {list}.", list=_listing(listed, w)))
    support = tables.narrative["support_requested"].fillna("").astype(str).str.strip()
    asking = tables.narrative.loc[support != "", "entity"].nunique()
    if asking:
        facts.append(
            w.n(
                "{n} entity asked for support (annex I).",
                "{n} entities asked for support (annex I).",
                int(asking),
            )
        )
    if not facts:
        facts.append(w("No status reported yet."))
    return facts


def _annex_replies(
    d: _Doc, tables: Tables, names: dict[str, str], entity_lang: dict[str, str], lang: Language
) -> None:
    w = d.w
    d.doc.add_section(WD_SECTION.NEW_PAGE)
    d.heading(w("Annex I. Replies received, by entity"), 1)
    d.para((w("Replies are reproduced as the entities wrote them, in their own language."), "g"))
    narrative = tables.narrative
    returned = tables.entities[tables.entities["returned"]]
    order = sorted(returned["entity"], key=lambda c: names.get(c, c))
    first = dict(zip(returned["entity"], returned["first_return_at"], strict=True))
    on_time = dict(zip(returned["entity"], returned["on_time"], strict=True))
    by_entity = {str(k): g for k, g in narrative.groupby("entity", sort=False)}
    for code in order:
        d.heading(names.get(code, code), 3)
        mine = by_entity.get(code)
        texts = [] if mine is None else [str(x) for x in mine["measures"]]
        language = Counter(reply_language(t, entity_lang.get(code, lang)) for t in texts)
        written = language.most_common(1)[0][0] if language else entity_lang.get(code, lang)
        when = w("received on {date}", date=_day(w, first.get(code)))
        timing = w("on time") if on_time.get(code) else w("after the deadline")
        d.para(
            (
                w(
                    "Return {when}, {timing}; written {language}.",
                    when=when,
                    timing=timing,
                    language=w(_LANGUAGE_NAME.get(written, "in English")),
                ),
                "g",
            )
        )
        if mine is None:
            d.para((w("No measure was described."), "i"))
            continue
        for q in mine.itertuples(index=False):
            text = " ".join(str(q.measures).split())
            reply_lang = reply_language(text, written)
            label = w(
                "Paragraph {number} ({status})",
                number=int(q.number),
                status=status_text(str(q.status), lang),
            )
            if (reply_lang == "ar") == d.rtl:
                p = d.para((label + w(": "), "b"))
                d.run(p, text, lang=reply_lang)
            else:
                d.para((label, "b")).paragraph_format.space_after = Pt(0)
                d.quote(text, reply_lang)
            for field, caption in (
                ("challenges", w("Challenges")),
                ("support_requested", w("Support requested")),
            ):
                value = getattr(q, field)
                if isinstance(value, str) and value.strip():
                    d.lead_and_quote(
                        w("{label}: ", label=caption).strip(), value, reply_language(value, written)
                    )


def _annex_missing(d: _Doc, tables: Tables, names: dict[str, str]) -> None:
    w = d.w
    d.page_break()
    d.heading(w("Annex II. Entities that did not reply"), 1)
    missing = tables.entities[~tables.entities["returned"]]
    if missing.empty:
        d.para((w("Every entity asked has replied."), ""))
        return
    rows = []
    for r in missing.sort_values("entity").itertuples(index=False):
        if pd.isna(r.last_submission_at):
            what = w("No file received")
        else:
            what = w(
                "A file received on {date} was not accepted", date=_day(w, r.last_submission_at)
            )
        rows.append([names.get(r.entity, r.entity), kind_text(str(r.kind), d.language), what])
    rows.sort(key=lambda r: r[0])
    d.table(
        [w("Entity"), w("Kind"), w("What was received")],
        rows,
        [6.5, 4.0, 5.5],
        caption=w("Entities that did not reply"),
        numeric_from=99,
    )


def _annex_tables(d: _Doc, tables: Tables, charts: dict[str, Chart]) -> None:
    w = d.w
    section = d.doc.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    d.heading(w("Annex III. Statistical tables"), 1)
    p = tables.paragraphs
    p = p[p["asked"] > 0]
    headers = [
        w("Paragraph"),
        w("Asked"),
        w("Replied"),
        *[status_text(c, d.language) for c in STATUS_COLUMNS],
    ]
    rows = [
        [
            str(int(r["number"])),
            w.number(int(r["asked"])),
            w.number(int(r["replied"])),
            *[w.number(int(r[c])) for c in STATUS_COLUMNS],
        ]
        for _i, r in p.iterrows()
    ]
    d.table(
        headers,
        rows,
        [2.4, 2.0, 2.0, *[18.0 / len(STATUS_COLUMNS)] * len(STATUS_COLUMNS)],
        caption=w("Entities by status, paragraph by paragraph"),
    )
    if "heatmap" in charts:
        d.figure(charts["heatmap"], width_cm=24.0, max_height_cm=15.0)
