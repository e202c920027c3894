"""What a report says about many replies at once, computed, never written by a model.

- :func:`group_measures` puts the measures reported on one paragraph into groups of similar
  texts (rapidfuzz's token-set ratio on a normalised form, a leader pass in a fixed order):
  deterministic, explainable ("these 12 replies share most of their words"), and each group is
  shown with its size and a verbatim quote, the member closest to the others.
- :func:`mandate_paragraph` finds the paragraph that asks the Secretary-General to report.
- :func:`reply_language` tells which language a reply is written in, by its script.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from rapidfuzz import fuzz, process

#: Two measures whose normalised words overlap at least this much (0–100) share a group.
SIMILAR: Final = 62.0
#: A quote longer than this is replaced by the group's shortest member as representative.
LONG_QUOTE: Final = 420
#: Members looked at when choosing the most central one (the rest join by the leader only).
CENTRALITY_SAMPLE: Final = 60

_ARABIC: Final = re.compile("[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
_LATIN: Final = re.compile("[A-Za-zÀ-ÿŒœ]")
_NOISE: Final = re.compile(r"[\d\W_]+", re.UNICODE)
#: Words for "report" in the paragraph that gives the mandate, per script.
_REPORT_WORDS: Final = re.compile(r"(rapport|report|تقرير|يقدم تقريرا|يرفع تقريرا)", re.IGNORECASE)


@dataclass(frozen=True)
class Group:
    """Similar measures: who wrote them (entity codes, sorted) and the quote that stands
    for them, verbatim."""

    entities: tuple[str, ...]
    quote: str
    quoted_entity: str

    @property
    def size(self) -> int:
        return len(self.entities)


def normalise(text: str) -> str:
    """Lower case, accents and Arabic marks off, digits and punctuation gone."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NOISE.sub(" ", bare).split())


def group_measures(replies: Iterable[tuple[str, str]]) -> list[Group]:
    """Groups of similar measures, largest first (ties: the first entity code).

    ``replies`` are (entity code, measure text). The pass is in entity-code order: each
    measure joins the first existing group whose leader it resembles (token-set ratio ≥
    :data:`SIMILAR`), or leads a new group. The quote is the member most similar to the rest.
    """
    items = sorted(
        ((code, text.strip()) for code, text in replies if text and text.strip()),
        key=lambda item: (item[0], item[1]),
    )
    leaders: list[str] = []
    members: list[list[tuple[str, str, str]]] = []
    for code, text in items:
        key = normalise(text)
        found = (
            process.extractOne(key, leaders, scorer=fuzz.token_set_ratio, score_cutoff=SIMILAR)
            if key
            else None
        )
        if found is None:
            leaders.append(key)
            members.append([(code, text, key)])
        else:
            members[found[2]].append((code, text, key))
    groups = [_group(m) for m in members]
    return sorted(groups, key=lambda g: (-g.size, g.entities[0]))


def _group(members: Sequence[tuple[str, str, str]]) -> Group:
    sample = list(members[:CENTRALITY_SAMPLE])
    if len(sample) > 2:
        keys = [m[2] for m in sample]
        scores = process.cdist(keys, keys, scorer=fuzz.token_set_ratio)
        totals = scores.sum(axis=1)
        best = max(range(len(sample)), key=lambda i: (totals[i], -i))
    else:
        best = 0
    code, text, _key = sample[best]
    if len(text) > LONG_QUOTE:
        code, text, _key = min(sample, key=lambda m: (len(m[1]), m[0]))
    return Group(tuple(sorted(m[0] for m in members)), text, code)


def reply_language(text: str, default: str) -> str:
    """``ar`` when Arabic letters outnumber Latin ones, else ``default`` (the entity's
    working language, or the report's)."""
    arabic = len(_ARABIC.findall(text))
    latin = len(_LATIN.findall(text))
    if arabic > latin:
        return "ar"
    if latin and default == "ar":
        return "fr" if re.search("[éèàçêœ]", text) else "en"
    return default


def is_arabic(text: str) -> bool:
    return _ARABIC.search(text) is not None


def mandate_paragraph(paragraphs: Sequence[tuple[int, str, str]]) -> int | None:
    """The paragraph that asks the Secretary-General to report: the last one addressed to
    the Secretariat (``SG``) whose text asks for a report; ``paragraphs`` are (number,
    addressee classes joined by commas, text)."""
    found = None
    for number, addressees, text in paragraphs:
        classes = set(str(addressees or "").split(","))
        if "SG" in classes and _REPORT_WORDS.search(text or ""):
            found = int(number)
    if found is None:  # the parser may not have named the Secretariat: look at the words
        for number, _addressees, text in paragraphs:
            lowered = (text or "").lower()
            if _REPORT_WORDS.search(lowered) and re.search(
                r"secr[ée]taire g[ée]n[ée]ral|secretary[- ]general|الأمين العام", lowered
            ):
                found = int(number)
    return found
