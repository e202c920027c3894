"""The parsed form of a resolution: a frozen tree of plain values, no database, no Airflow.

Frozen dataclasses so a parse result can be cached, hashed, compared in tests and handed
between stages without anyone mutating it; ``as_dict`` / ``to_json`` give the stable
interchange shape that the ground truth, the CLI and the store import all use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from resotrack.catalog import Language as Language  # the parser names it from here

#: Who a paragraph asks to act (see shared/groundtruth/README.md).
ADDRESSEE_CODES: Final = ("MS", "SG", "ORG", "GRP", "INTL", "ALL", "NONE")
#: The codes that name someone; ``ALL`` and ``NONE`` are the two "nobody named" answers.
CONCRETE_ADDRESSEES: Final = frozenset({"MS", "SG", "ORG", "GRP", "INTL"})


@dataclass(frozen=True, slots=True)
class ParsedAction:
    """One operative verb of a paragraph and whom it addresses.

    ``verb`` is the surface form as printed in capitals (``"LANCE EN APPEL"`` stays
    misprinted), ``action`` its canonical meaning (``"call"``), so reports can count what was
    asked whatever the language or the typist.
    """

    verb: str
    modifier: str | None
    action: str
    addressees: tuple[str, ...]
    institutions: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "verb": self.verb,
            "modifier": self.modifier,
            "action": self.action,
            "addressees": list(self.addressees),
            "institutions": list(self.institutions),
        }


@dataclass(frozen=True, slots=True)
class ParsedSection:
    """A lettered heading (``A``, ``B``...) that groups the operative paragraphs after it."""

    letter: str
    title: str

    def as_dict(self) -> dict[str, Any]:
        return {"letter": self.letter, "title": self.title}


@dataclass(frozen=True, slots=True)
class ParsedParagraph:
    """A numbered operative paragraph: clean text (no markup, no number) and its actions."""

    number: int
    section: str | None
    text: str
    actions: tuple[ParsedAction, ...]

    @property
    def verbs(self) -> tuple[str, ...]:
        """The capitalised verbs in the order printed, as in the ground-truth ``verbs`` column."""
        return tuple(action.verb for action in self.actions if action.verb)

    @property
    def addressees(self) -> tuple[str, ...]:
        """Who the paragraph as a whole asks to act, sorted.

        Named addressees win: a paragraph that names anyone is not also "ALL" or "NONE"
        (the ground-truth convention, e.g. "SOULIGNE ... ; et INVITE la Communauté
        internationale" is INTL only). Otherwise ALL if any verb asks for action, else NONE.
        A paragraph without a recognised verb has no answer: ``()``, so it gets reviewed.
        """
        codes = {code for action in self.actions for code in action.addressees}
        named = codes & CONCRETE_ADDRESSEES
        if named:
            return tuple(sorted(named))
        if "ALL" in codes:
            return ("ALL",)
        return ("NONE",) if codes else ()

    @property
    def institutions(self) -> tuple[str, ...]:
        """Canonical codes of the named institutions addressed, in order of first mention."""
        return tuple(dict.fromkeys(code for a in self.actions for code in a.institutions))

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "section": self.section,
            "text": self.text,
            "verbs": list(self.verbs),
            "actions": [action.as_dict() for action in self.actions],
            "addressees": list(self.addressees),
        }


@dataclass(frozen=True, slots=True)
class ParsedResolution:
    """A whole resolution as read from its text.

    ``symbol`` is the resolution's own identifier (``1/49-IT`` when the text numbers it,
    else the document symbol such as ``OIC/MCSD-2/2023/RES/FINAL``); ``document_symbol``
    keeps the symbol printed at the top of the document. Dates are kept as printed (they mix
    calendars and styles) plus ``adopted_on``, the last adoption day, when it can be read.
    ``stray_text`` holds lines after the last paragraph that belong to none (typist codes,
    signatures) so nothing in the input is silently dropped.
    """

    symbol: str
    title: str
    language: Language
    body: str | None
    session: str | None
    place: str | None
    adopted_gregorian: str | None
    adopted_on: date | None
    adopted_hijri: str | None
    preamble: tuple[str, ...]
    sections: tuple[ParsedSection, ...]
    paragraphs: tuple[ParsedParagraph, ...]
    text_sha256: str
    document_symbol: str | None = None
    stray_text: tuple[str, ...] = ()

    def paragraph(self, number: int) -> ParsedParagraph:
        """The paragraph printed with ``number`` (numbers are unique once parsed)."""
        for paragraph in self.paragraphs:
            if paragraph.number == number:
                return paragraph
        raise KeyError(f"resolution {self.symbol} has no paragraph {number}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol or None,
            "title": self.title,
            "language": self.language,
            "sections": [section.as_dict() for section in self.sections],
            "paragraphs": [paragraph.as_dict() for paragraph in self.paragraphs],
            "document_symbol": self.document_symbol,
            "body": self.body,
            "session": self.session,
            "place": self.place,
            "adopted": self.adopted_gregorian,
            "adopted_on": self.adopted_on.isoformat() if self.adopted_on else None,
            "hijri": self.adopted_hijri,
            "preamble": list(self.preamble),
            "stray_text": list(self.stray_text),
            "text_sha256": self.text_sha256,
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The ``as_dict`` shape as JSON text, non-ASCII kept readable (French, Arabic)."""
        return json.dumps(self.as_dict(), ensure_ascii=False, indent=indent)
