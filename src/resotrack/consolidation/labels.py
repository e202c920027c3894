"""Colours and words shared by every output, so the workbook, the charts, the HTML report and
the Word draft show a status the same way."""

from __future__ import annotations

from typing import Final

from resotrack.catalog import Language
from resotrack.consolidation.tables import NO_REPLY, STATUS_COLUMNS
from resotrack.questionnaires.i18n import status_label

#: One colour per status (ColorBrewer-like, readable in grey print): green is done, orange
#: not started, blue/lavender say nothing about progress, light grey nobody answered.
COLOURS: Final[dict[str, str]] = {
    "fully_implemented": "#1A9850",
    "partially_implemented": "#91CF60",
    "in_progress": "#FEE08B",
    "not_started": "#FC8D59",
    "not_applicable": "#80B1D3",
    "no_information": "#BEBADA",
    NO_REPLY: "#E0E0E0",
}
#: Text colour readable on each fill.
INK: Final[dict[str, str]] = {
    code: "#FFFFFF" if code == "fully_implemented" else "#1A1A1A" for code in COLOURS
}

_NO_REPLY: Final[dict[Language, str]] = {
    "en": "No reply",
    "fr": "Pas de réponse",
    "ar": "لم يرد",
}


def status_text(code: str, language: Language = "en") -> str:
    """The label of a status or of NO_REPLY; an unknown code is shown as it is."""
    if code == NO_REPLY:
        return _NO_REPLY[language]
    try:
        return status_label(code, language)
    except ValueError:
        return code


def legend(language: Language = "en") -> list[tuple[str, str, str]]:
    """(code, label, colour) for every status column, in the scale's order."""
    return [(code, status_text(code, language), COLOURS[code]) for code in STATUS_COLUMNS]


#: The words on the charts, per language (the draft report is in the resolution's language).
CHART_TEXT: Final[dict[Language, dict[str, str]]] = {
    "en": {
        "heatmap": "Implementation by entity and section",
        "heatmap.bar": "progress (0 not started … 100 % fully implemented); grey: no status",
        "section": "Section",
        "entity": "Entity",
        "rate": "Response rate over the cycle",
        "rate.axis": "entities that returned (%)",
        "deadline": "deadline",
        "sections": "Status of the answers expected, by section",
        "sections.axis": "share of the answers expected (%)",
        "nothing": "Nothing was asked in this cycle",
    },
    "fr": {
        "heatmap": "Mise en œuvre par entité et par section",
        "heatmap.bar": (
            "avancement (0 non commencé … 100 % pleinement mis en œuvre) ; gris : aucun état"
        ),
        "section": "Section",
        "entity": "Entité",
        "rate": "Taux de réponse au fil du cycle",
        "rate.axis": "entités ayant répondu (%)",
        "deadline": "date limite",
        "sections": "État des réponses attendues, par section",
        "sections.axis": "part des réponses attendues (%)",
        "nothing": "Rien n'a été demandé dans ce cycle",
    },
    "ar": {
        # Latin script on the charts: matplotlib does not shape Arabic; the report text does.
        "heatmap": "Implementation by entity and section",
        "heatmap.bar": "progress (0 not started … 100 % fully implemented); grey: no status",
        "section": "Section",
        "entity": "Entity",
        "rate": "Response rate over the cycle",
        "rate.axis": "entities that returned (%)",
        "deadline": "deadline",
        "sections": "Status of the answers expected, by section",
        "sections.axis": "share of the answers expected (%)",
        "nothing": "Nothing was asked in this cycle",
    },
}


def chart_language(language: Language) -> Language:
    """Charts are drawn in English for Arabic reports (no shaping in matplotlib)."""
    return "en" if language == "ar" else language
