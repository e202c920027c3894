"""English that must not appear in a French or Arabic rendering: every message of the catalog
whose translation differs from its English id, cut at its placeholders into fragments long
enough to be unambiguous (a word such as "Cycle" is French too)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from babel.messages.pofile import read_po

from resotrack import catalog

_PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w*\}")
MIN_FRAGMENT = 14


def english_fragments(language: str, domains: Iterable[str]) -> set[str]:
    fragments: set[str] = set()
    for domain in domains:
        path = catalog.locales_dir() / language / "LC_MESSAGES" / f"{domain}.po"
        with path.open("rb") as handle:
            messages = read_po(handle, locale=language)
        for message in messages:
            if not message.id:
                continue
            ids = (message.id,) if isinstance(message.id, str) else message.id
            forms = message.string if isinstance(message.string, tuple) else (message.string,)
            for english in ids:
                if english in forms:
                    continue  # the same words in both languages
                for piece in _PLACEHOLDER.split(english):
                    piece = piece.strip(" .,:;()“”\"'")
                    if len(piece) >= MIN_FRAGMENT and " " in piece:
                        fragments.add(piece)
    return fragments


def leaks(rendered: str, language: str, domains: Iterable[str]) -> list[str]:
    """The English fragments found in ``rendered`` (a page, a mail, a workbook's text)."""
    return sorted(f for f in english_fragments(language, domains) if f in rendered)
