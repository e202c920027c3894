"""Colours and words shared by every output, so the workbook, the charts, the HTML report and
the Word report show a status the same way, in the language of the build.

Words come from the message catalog: status labels from the ``common`` domain (context
``status``), everything else from the ``report`` domain.
"""

from __future__ import annotations

from typing import Final

from resotrack.catalog import Language, Words
from resotrack.consolidation.tables import NO_REPLY, NOT_ASKED, STATUS_COLUMNS

#: One colour per status (ColorBrewer-like, readable in grey print): greens are done, yellow
#: under way, orange not started; blue, lavender and light grey say nothing about progress
#: and differ from each other: not applicable, no information, nobody answered.
COLOURS: Final[dict[str, str]] = {
    "fully_implemented": "#1A9850",
    "partially_implemented": "#91CF60",
    "in_progress": "#FEE08B",
    "not_started": "#FC8D59",
    "not_applicable": "#80B1D3",
    "no_information": "#BEBADA",
    NO_REPLY: "#D9D9D9",
}
#: A cell nobody was asked about (only in matrices that mix entities).
NOT_ASKED_COLOUR: Final = "#FFFFFF"
#: Text colour readable on each fill.
INK: Final[dict[str, str]] = {
    code: "#FFFFFF" if code == "fully_implemented" else "#1A1A1A" for code in COLOURS
}

#: The English label of each status (the catalog's message id, context "status").
STATUS_MSGID: Final[dict[str, str]] = {
    "fully_implemented": "Fully implemented",
    "partially_implemented": "Partially implemented",
    "in_progress": "In progress",
    "not_started": "Not started",
    "not_applicable": "Not applicable",
    "no_information": "No information",
    NO_REPLY: "No reply",
}

#: Kinds of reporting entity, as a reader calls them (catalog ids, domain ``report``).
KIND_MSGID: Final[dict[str, str]] = {
    "member_state": "Member states",
    "secretariat": "General Secretariat",
    "subsidiary": "Subsidiary organs",
    "specialized": "Specialized institutions",
    "affiliated": "Affiliated institutions",
    "standing_committee": "Standing committees",
    "statutory": "Statutory bodies",
    "group": "Groups",
}


def status_text(code: str, language: Language = "en") -> str:
    """The label of a status or of NO_REPLY in ``language``; "" for a cell not asked."""
    if code == NOT_ASKED:
        return ""
    msgid = STATUS_MSGID.get(code)
    if msgid is None:
        raise ValueError(f"unknown status code {code!r}")
    return Words(language, "common").p("status", msgid)


def kind_text(kind: str, language: Language = "en") -> str:
    """The name of a kind of entity (plural, as a row heading)."""
    return Words(language, "report")(KIND_MSGID.get(kind, "Other entities"))


def legend(language: Language = "en") -> list[tuple[str, str, str]]:
    """(code, label, colour) for every status column, in the scale's order."""
    return [(code, status_text(code, language), COLOURS[code]) for code in STATUS_COLUMNS]
