"""The draft report of the Secretary-General on one resolution, as a Word document.

Word (python-docx) rather than PDF: the draft is a starting point that Secretariat staff edit,
comment and pass around in Word before it becomes a session document, and a PDF cannot be
edited. The text is in the resolution's language (en, fr or ar; Arabic paragraphs are set
right-to-left); measures are quoted verbatim, as the entities wrote them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any, Final

import pandas as pd
from docx import Document
from docx.document import Document as DocumentType
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches, Pt
from docx.text.paragraph import Paragraph

from resotrack.catalog import Language
from resotrack.consolidation.charts import Chart
from resotrack.consolidation.export_xlsx import BuildInfo
from resotrack.consolidation.labels import status_text
from resotrack.consolidation.tables import STATUS_COLUMNS, Tables
from resotrack.questionnaires.dates import format_deadline
from resotrack.questionnaires.i18n import STATUSES

EXCERPT: Final = 320  # characters of a paragraph's text recalled before the quotes

TEXT: Final[dict[Language, dict[str, str]]] = {
    "en": {
        "title": "Report of the Secretary-General on the implementation of resolution {symbol}",
        "draft": (
            "DRAFT generated on {built} (UTC) from reporting cycle {cycle} "
            "(answers snapshot {sha}). To be reviewed and edited by the Secretariat."
        ),
        "references": "References",
        "ref.title": "Title",
        "ref.body": "Adopted by",
        "ref.session": "Session",
        "ref.place": "Place",
        "ref.adopted": "Adopted on",
        "ref.symbol": "Symbol",
        "reporting": "Reporting",
        "rate": (
            "{returned} of the {asked} entities asked to report on this resolution returned their "
            "questionnaire, a reporting rate of {rate}; {on_time} did so by the deadline of "
            "{deadline}. {received} of the {expected} answers expected were received."
        ),
        "overview": "Overview by section",
        "sections": "Implementation, section by section",
        "section": "Section {letter}",
        "section.counts": (
            "{paragraphs} operative paragraph(s); {expected} answers expected, {received} "
            "received ({rate})."
        ),
        "section.statuses": "Statuses reported: {statuses}.",
        "paragraph": "Paragraph {number}",
        "no_measures": "No measure was reported on the paragraphs of this section.",
        "non_reporting": "Entities that have not reported",
        "all_reported": "Every entity asked has reported.",
        "non_reporting.intro": (
            "The following {count} entities had not returned their questionnaire:"
        ),
        "annex": "Annex: implementation by entity and section",
        "quote": "“{text}”",
        "status_col": "Status",
        "count_col": "Answers",
    },
    "fr": {
        "title": ("Rapport du Secrétaire général sur la mise en œuvre de la résolution {symbol}"),
        "draft": (
            "PROJET généré le {built} (UTC) à partir du cycle de rapport {cycle} "
            "(instantané des réponses {sha}). À revoir et compléter par le Secrétariat."
        ),
        "references": "Références",
        "ref.title": "Titre",
        "ref.body": "Adoptée par",
        "ref.session": "Session",
        "ref.place": "Lieu",
        "ref.adopted": "Date d'adoption",
        "ref.symbol": "Cote",
        "reporting": "Rapports reçus",
        "rate": (
            "{returned} des {asked} entités invitées à rendre compte de cette résolution ont "
            "renvoyé leur questionnaire, soit un taux de réponse de {rate} ; {on_time} l'ont fait "
            "avant la date limite du {deadline}. {received} des {expected} réponses attendues "
            "ont été reçues."
        ),
        "overview": "Vue d'ensemble par section",
        "sections": "Mise en œuvre, section par section",
        "section": "Section {letter}",
        "section.counts": (
            "{paragraphs} paragraphe(s) du dispositif ; {expected} réponses attendues, "
            "{received} reçues ({rate})."
        ),
        "section.statuses": "États déclarés : {statuses}.",
        "paragraph": "Paragraphe {number}",
        "no_measures": "Aucune mesure n'a été signalée pour les paragraphes de cette section.",
        "non_reporting": "Entités n'ayant pas fait rapport",
        "all_reported": "Toutes les entités sollicitées ont fait rapport.",
        "non_reporting.intro": (
            "Les {count} entités suivantes n'avaient pas renvoyé leur questionnaire :"
        ),
        "annex": "Annexe : mise en œuvre par entité et par section",
        "quote": "« {text} »",
        "status_col": "État",
        "count_col": "Réponses",
    },
    "ar": {
        "title": "تقرير الأمين العام عن تنفيذ القرار {symbol}",
        "draft": (
            "مسودة أُعدّت في {built} (بالتوقيت العالمي) من دورة التقارير {cycle} "
            "(لقطة الردود {sha}). تراجعها الأمانة العامة وتحررها."
        ),
        "references": "المراجع",
        "ref.title": "العنوان",
        "ref.body": "اعتمدته",
        "ref.session": "الدورة",
        "ref.place": "المكان",
        "ref.adopted": "تاريخ الاعتماد",
        "ref.symbol": "الرمز",
        "reporting": "التقارير الواردة",
        "rate": (
            "أعادت {returned} من أصل {asked} جهة مطلوب منها تقديم تقرير عن هذا القرار "
            "استبياناتها، أي بنسبة {rate}؛ وقد فعلت ذلك {on_time} جهة قبل الموعد النهائي "
            "{deadline}. ووردت {received} من أصل {expected} إجابة متوقعة."
        ),
        "overview": "نظرة عامة حسب القسم",
        "sections": "التنفيذ قسمًا قسمًا",
        "section": "القسم {letter}",
        "section.counts": (
            "{paragraphs} فقرة عاملة؛ {expected} إجابة متوقعة، وردت منها {received} ({rate})."
        ),
        "section.statuses": "الحالات المبلغ عنها: {statuses}.",
        "paragraph": "الفقرة {number}",
        "no_measures": "لم يُبلغ عن أي تدابير بشأن فقرات هذا القسم.",
        "non_reporting": "الجهات التي لم تقدم تقارير",
        "all_reported": "قدمت جميع الجهات المطلوبة تقاريرها.",
        "non_reporting.intro": "لم تُعد الجهات الـ{count} التالية استبياناتها:",
        "annex": "مرفق: التنفيذ حسب الجهة والقسم",
        "quote": "«{text}»",
        "status_col": "الحالة",
        "count_col": "الإجابات",
    },
}


# Qualified tag names, computed once (a large report builds hundreds of thousands).
_PPR, _PSTYLE, _BIDI, _VAL = qn("w:pPr"), qn("w:pStyle"), qn("w:bidi"), qn("w:val")
_R, _RPR, _B, _I, _COLOR, _RTL = (
    qn("w:r"), qn("w:rPr"), qn("w:b"), qn("w:i"), qn("w:color"), qn("w:rtl")
)  # fmt: skip
_T, _SPACE = qn("w:t"), qn("xml:space")
_ARABIC: Final = re.compile("[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
_XML_UNSAFE: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """Text Word can store: XML 1.0 forbids most control characters, which returns can hold."""
    return _XML_UNSAFE.sub("", text)


def report_language(value: str | None) -> Language:
    """The resolution's language when resotrack speaks it, else English."""
    if value == "fr":
        return "fr"
    if value == "ar":
        return "ar"
    return "en"


def _pct(value: Any) -> str:
    if value is None or pd.isna(value):
        return "–"
    return f"{float(value):.0%}"


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1].rsplit(" ", 1)[0] + " …"


class _Doc:
    """A document in one language; Arabic paragraphs are marked right-to-left."""

    def __init__(self, language: Language) -> None:
        self.language = language
        self.doc: DocumentType = Document()
        self.t = TEXT[language]
        self._style_ids: dict[str, str] = {}
        self._section: Any = None
        style = self.doc.styles["Normal"]
        style.font.name = "Calibri"
        style.font.size = Pt(11)
        for section in self.doc.sections:
            section.left_margin = section.right_margin = Inches(0.9)

    def _direction(self, paragraph: Paragraph) -> Paragraph:
        if self.language == "ar":  # a bidi paragraph starts on the right by itself
            ppr = paragraph._p.get_or_add_pPr()
            ppr.append(OxmlElement("w:bidi"))
            for run in paragraph.runs:
                rpr = run._r.get_or_add_rPr()
                rpr.append(OxmlElement("w:rtl"))
        return paragraph

    def heading(self, text: str, level: int) -> None:
        self._direction(self.doc.add_heading(text, level=level))

    def _new_paragraph(self, style: str | None) -> Paragraph:
        """``add_paragraph`` without its scan for the section properties at every call, which
        makes a report of a few thousand quotes quadratic."""
        body = self.doc.element.body
        if self._section is None:  # found once: looking it up scans every paragraph
            self._section = body.sectPr
        p = OxmlElement("w:p")
        if self._section is not None:
            self._section.addprevious(p)
        else:
            body.append(p)
        if style is not None or self.language == "ar":
            ppr = p.makeelement(_PPR, {})
            if style is not None:
                if style not in self._style_ids:
                    self._style_ids[style] = self.doc.styles[style].style_id
                ppr.append(ppr.makeelement(_PSTYLE, {_VAL: self._style_ids[style]}))
            if self.language == "ar":
                ppr.append(ppr.makeelement(_BIDI, {}))
            p.append(ppr)
        return Paragraph(p, self.doc._body)

    def para(self, *parts: tuple[str, str], style: str | None = None) -> Paragraph:
        """A paragraph of runs; each part is (text, "b" | "i" | "g" grey, or "").

        Runs are built as XML directly: python-docx's run API costs a millisecond a quote,
        which a cycle with tens of thousands of measures cannot afford.
        """
        paragraph = self._new_paragraph(style)
        p = paragraph._p
        for text, how in parts:
            # Only Arabic runs are marked right-to-left; a quoted French measure stays as is.
            rtl = self.language == "ar" and _ARABIC.search(text) is not None
            run = p.makeelement(_R, {})
            flags = [tag for flag, tag in (("b", _B), ("i", _I)) if flag in how]
            if flags or "g" in how or rtl:
                rpr = run.makeelement(_RPR, {})
                for tag in flags:
                    rpr.append(rpr.makeelement(tag, {}))
                if "g" in how:
                    rpr.append(rpr.makeelement(_COLOR, {_VAL: "555555"}))
                if rtl:
                    rpr.append(rpr.makeelement(_RTL, {}))
                run.append(rpr)
            t = run.makeelement(_T, {_SPACE: "preserve"})
            t.text = xml_safe(text)
            run.append(t)
            p.append(run)
        return paragraph

    def picture(self, chart: Chart, width: float = 6.3, max_height: float = 8.6) -> None:
        from PIL import Image

        with Image.open(io.BytesIO(chart.png)) as image:
            w, h = image.size
        width = min(width, max_height * w / h)
        self.doc.add_picture(io.BytesIO(chart.png), width=Inches(width))
        self.doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
        self.para((chart.title, "ig"))

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """A grid whose first column (the labels) is wide enough not to break words."""
        table = self.doc.add_table(rows=1, cols=len(headers))
        table.style = "Light Grid Accent 1"
        table.autofit = False
        for cell, text in zip(table.rows[0].cells, headers, strict=True):
            cell.text = text
        for values in rows:
            for cell, text in zip(table.add_row().cells, values, strict=True):
                cell.text = text
        rest = Inches(4.5 / max(len(headers) - 1, 1))
        for row in table.rows:
            for i, cell in enumerate(row.cells):
                cell.width = Inches(2.2) if i == 0 else rest
        if self.language == "ar":
            tbl_pr = table._tbl.tblPr
            tbl_pr.append(OxmlElement("w:bidiVisual"))

    def bytes(self) -> bytes:
        out = io.BytesIO()
        self.doc.save(out)
        return out.getvalue()


def _name(row: Any, language: Language) -> str:
    name = {"fr": row.name_fr, "ar": row.name_ar}.get(language, row.name_en)
    return str(name or row.name_en or row.entity)


def render_docx(
    tables: Tables,
    resolution: dict[str, Any],
    info: BuildInfo,
    charts: dict[str, Chart],
    *,
    language: Language | None = None,
) -> bytes:
    """The draft report on ``resolution``; ``tables`` already narrowed to it
    (:func:`resotrack.consolidation.tables.for_resolution`). ``charts`` by name: heatmap,
    response_rate, status_by_section (drawn for this resolution, in its language)."""
    lang = language or report_language(resolution.get("language"))
    d = _Doc(lang)
    t = d.t
    symbol = resolution["symbol"]
    d.heading(t["title"].format(symbol=symbol), 0)
    d.para(
        (
            t["draft"].format(
                built=f"{info.built_at:%Y-%m-%d %H:%M}",
                cycle=info.cycle_id,
                sha=info.snapshot_sha256[:12],
            ),
            "ig",
        )
    )

    d.heading(t["references"], 1)
    adopted = " / ".join(
        v for v in (resolution.get("adopted_gregorian"), resolution.get("adopted_hijri")) if v
    )
    for key, value in (
        ("ref.symbol", symbol),
        ("ref.title", resolution.get("title")),
        ("ref.body", resolution.get("body")),
        ("ref.session", resolution.get("session")),
        ("ref.place", resolution.get("place")),
        ("ref.adopted", adopted),
    ):
        if value:
            colon = " : " if lang == "fr" else ": "
            d.para((f"{t[key]}{colon}", "b"), (str(value), ""))

    s = tables.summary
    d.heading(t["reporting"], 1)
    d.para(
        (
            t["rate"].format(
                returned=s["entities_returned"],
                asked=s["entities_asked"],
                rate=_pct(s["response_rate"]),
                on_time=s["entities_on_time"],
                deadline=format_deadline(info.deadline, lang),
                received=s["cells_replied"],
                expected=s["cells_asked"],
            ),
            "",
        )
    )
    if "response_rate" in charts:
        d.picture(charts["response_rate"])

    d.heading(t["overview"], 1)
    if "status_by_section" in charts:
        d.picture(charts["status_by_section"])
    d.table(
        [t["status_col"], *[str(x) for x in tables.sections["section"]]],
        [
            [status_text(code, lang), *[str(int(v)) for v in tables.sections[code]]]
            for code in STATUS_COLUMNS
        ],
    )

    d.heading(t["sections"], 1)
    paragraphs = tables.paragraphs
    quotes = tables.narrative
    texts = dict(zip(paragraphs["number"], paragraphs["text"], strict=True))
    for row in tables.sections.itertuples(index=False):
        letter = str(row.section)
        title = str(row.title or "")
        d.heading(t["section"].format(letter=letter or "–") + (f" — {title}" if title else ""), 2)
        d.para(
            (
                t["section.counts"].format(
                    paragraphs=row.paragraphs,
                    expected=row.cells,
                    received=row.replied,
                    rate=_pct(row.rate),
                ),
                "",
            )
        )
        counted = [
            f"{status_text(code, lang).lower()} {int(getattr(row, code))}"
            for code in STATUSES
            if int(getattr(row, code))
        ]
        if counted:
            d.para((t["section.statuses"].format(statuses=", ".join(counted)), ""))
        mine = quotes[quotes["section"] == letter]
        if mine.empty:
            d.para((t["no_measures"], "i"))
            continue
        for number, group in mine.groupby("number", sort=False):
            d.para((t["paragraph"].format(number=number), "b"))
            text = texts.get(number)
            if isinstance(text, str) and text:
                d.para((_excerpt(text), "ig"))
            for q in group.itertuples(index=False):
                colon = " : " if lang == "fr" else ": "
                who = f"{_name(q, lang)} ({status_text(str(q.status), lang)}){colon}"
                quoted = t["quote"].format(text=" ".join(str(q.measures).split()))
                d.para((who, "b"), (quoted, ""), style="List Bullet")

    d.heading(t["non_reporting"], 1)
    missing = tables.entities[~tables.entities["returned"]]
    if missing.empty:
        d.para((t["all_reported"], ""))
    else:
        d.para((t["non_reporting.intro"].format(count=len(missing)), ""))
        for r in missing.itertuples(index=False):
            d.para((f"{_name(r, lang)} ({r.entity})", ""), style="List Bullet")

    if "heatmap" in charts:
        d.heading(t["annex"], 1)
        d.picture(charts["heatmap"])
    return d.bytes()
