"""How sure the parser is about each paragraph, so staff review the doubtful ones first.

Computed from what is stored (the verbs, their canonical actions and addressees), so the
CLI, the routing workbook and the portal say the same thing about old and new imports.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final, Literal

from resotrack.catalog import Language, Words
from resotrack.resolutions.lexicon import ACTION_KIND

Doubt = Literal["no_verb", "unknown_verb", "nobody_named"]
DOMAIN: Final = "resolutions"


def doubts(actions: Iterable[tuple[str, str, Sequence[str]]]) -> tuple[Doubt, ...]:
    """The doubts about one paragraph from its ``(verb, action, addressees)`` triples.

    - ``no_verb``: no operative verb was recognised, so nobody is known to be asked;
    - ``unknown_verb``: a verb opens the paragraph but the lexicon does not know it;
    - ``nobody_named``: a verb asks for action but names nobody: everyone is assumed.
    """
    found: list[Doubt] = []
    listed = [action for action in actions if action[0]]  # a table row may give no verb
    if not listed:
        return ("no_verb",)
    if any(action == "other" for _, action, _ in listed):
        found.append("unknown_verb")
    if any(
        ACTION_KIND.get(action) == "ask" and list(addressees) == ["ALL"]
        for _, action, addressees in listed
    ):
        found.append("nobody_named")
    return tuple(found)


def describe(found: Sequence[Doubt], lang: Language = "en") -> str:
    """``sure`` or ``to check: <reasons>``, in the reader's language."""
    words = Words(lang, DOMAIN)
    if not found:
        return words("sure")
    reasons = {
        "no_verb": words("no operative verb found"),
        "unknown_verb": words("verb not in the lexicon"),
        "nobody_named": words("nobody named: everyone assumed"),
    }
    return words(
        "to check: {reasons}",
        reasons=words.p("list separator", "; ").join(reasons[d] for d in found),
    )
