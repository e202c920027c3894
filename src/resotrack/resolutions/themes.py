"""Themes: the subjects and Sustainable Development Goals each operative paragraph serves.

Found by declarative keyword lexicons that staff edit (``themes/themes.yaml`` names the themes
in each language, ``themes/keywords.<language>.yaml`` lists the keywords that find them in a
paragraph of that language), then reviewed: a tag found by the lexicon is *proposed*; staff
confirm or reject it, or add one the lexicon missed. Staff decisions survive re-tagging after
the lexicons change (``resotrack resolutions retag``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from resotrack import audit, clock
from resotrack.catalog import NP_, ValueNames
from resotrack.resolutions.lineage import normalise
from resotrack.resolutions.models import (
    OperativeParagraph,
    ParagraphTheme,
    Resolution,
    ResolutionVersion,
)

THEMES_DIR: Final = Path(__file__).with_name("themes")
KINDS: Final = {"subjects": "subject", "sdgs": "sdg"}
#: What each kind of theme is called.
THEME_KINDS: Final = ValueNames(
    "theme kind",
    {
        "sdg": NP_("theme kind", "sustainable development goal"),
        "subject": NP_("theme kind", "subject"),
    },
)
PROPOSED, CONFIRMED, REJECTED = "proposed", "confirmed", "rejected"
#: What a paragraph's theme tag is at (``values`` domain).
THEME_STATES: Final = ValueNames(
    "theme state",
    {
        PROPOSED: NP_("theme state", "proposed"),
        CONFIRMED: NP_("theme state", "confirmed"),
        REJECTED: NP_("theme state", "rejected"),
    },
)
LEXICON, STAFF = "lexicon", "staff"
#: Arabic words take the article and one-letter proclitics (and, so, with, for, like).
_ARABIC_PREFIX: Final = r"(?:[وفبلك])?(?:ال|لل)?"


class ThemeError(ValueError):
    """A lexicon file that cannot be used, or a theme request that cannot be done."""


@dataclass(frozen=True)
class Theme:
    kind: str  # subject | sdg
    code: str
    names: dict[str, str]

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names["en"]


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text("utf-8"))
    except FileNotFoundError as exc:
        raise ThemeError(f"the theme file {path.name} is missing from {path.parent}") from exc
    except yaml.YAMLError as exc:
        raise ThemeError(f"the theme file {path.name} is not valid YAML: {exc}") from exc


@cache
def themes(folder: Path = THEMES_DIR) -> dict[str, Theme]:
    """Every theme by code, from ``themes.yaml``."""
    data = _load_yaml(folder / "themes.yaml")
    if not isinstance(data, dict) or set(data) - set(KINDS):
        raise ThemeError(f"themes.yaml must have the sections {' and '.join(KINDS)} only")
    found: dict[str, Theme] = {}
    for section, kind in KINDS.items():
        for code, names in (data.get(section) or {}).items():
            if not isinstance(names, dict) or not all(names.get(k) for k in ("ar", "en", "fr")):
                raise ThemeError(f"themes.yaml: the theme {code} needs a name in ar, en and fr")
            if str(code) in found:
                raise ThemeError(f"themes.yaml: the theme code {code} is used twice")
            found[str(code)] = Theme(kind, str(code), {k: str(v) for k, v in names.items()})
    return found


def _pattern(keyword: str, language: str) -> str:
    stem = keyword.endswith("*")
    words = normalise(keyword.rstrip("*")).split()
    if not words:
        raise ThemeError(f"keywords.{language}.yaml: the keyword {keyword!r} has no letters")
    if language == "ar":
        words = [re.sub(r"^(?:ال)", "", w) for w in words]
        body = r"\s+".join(_ARABIC_PREFIX + re.escape(w) for w in words)
    else:
        body = r"\s+".join(re.escape(w) for w in words)
    ending = r"\w*" if stem else ""
    return rf"\b{body}{ending}\b"


@cache
def lexicon(language: str, folder: Path = THEMES_DIR) -> tuple[tuple[Theme, re.Pattern[str]], ...]:
    """Per theme, one compiled pattern of its keywords in ``language`` (named groups say which
    keyword matched)."""
    known = themes(folder)
    data = _load_yaml(folder / f"keywords.{language}.yaml") or {}
    if not isinstance(data, dict):
        raise ThemeError(f"keywords.{language}.yaml must map theme codes to lists of keywords")
    out = []
    for code, keywords in data.items():
        if str(code) not in known:
            raise ThemeError(
                f"keywords.{language}.yaml names the theme {code}, which themes.yaml lacks"
            )
        if not isinstance(keywords, list) or not keywords:
            raise ThemeError(f"keywords.{language}.yaml: {code} needs a list of keywords")
        alternatives = "|".join(f"(?:{_pattern(str(k), language)})" for k in keywords)
        out.append((known[str(code)], re.compile(alternatives)))
    return tuple(out)


def find(text: str, language: str) -> list[tuple[Theme, list[str]]]:
    """The themes of one paragraph and the words that found each, in lexicon order."""
    plain = normalise(text)
    found = []
    for theme, pattern in lexicon(language):
        words = sorted({m.group(0) for m in pattern.finditer(plain)})
        if words:
            found.append((theme, words))
    return found


def tag_version(session: Session, version: ResolutionVersion) -> int:
    """Propose the lexicon's themes for every paragraph of ``version``; staff decisions stay.
    Returns the number of proposed tags added or withdrawn."""
    ids = [p.id for p in version.paragraphs]
    existing = {
        (t.paragraph_id, t.kind, t.code): t
        for t in session.scalars(select(ParagraphTheme).where(ParagraphTheme.paragraph_id.in_(ids)))
    }
    changed = 0
    wanted: set[tuple[int, str, str]] = set()
    for paragraph in version.paragraphs:
        for theme, words in find(paragraph.text, version.language):
            key = (paragraph.id, theme.kind, theme.code)
            wanted.add(key)
            row = existing.get(key)
            if row is None:
                session.add(
                    ParagraphTheme(
                        paragraph_id=paragraph.id,
                        kind=theme.kind,
                        code=theme.code,
                        source=LEXICON,
                        state=PROPOSED,
                        evidence=words,
                    )
                )
                changed += 1
            elif row.evidence != words:
                row.evidence = words
    for key, row in existing.items():  # the lexicon no longer finds it and nobody decided
        if key not in wanted and row.source == LEXICON and row.state == PROPOSED:
            session.delete(row)
            changed += 1
    session.flush()
    return changed


def retag(session: Session, symbols: Iterable[str] | None = None) -> int:
    """Tag the current versions of ``symbols`` (every resolution if None) again."""
    from resotrack.resolutions.queries import get_resolution, list_resolutions

    if symbols is None:
        resolutions = list_resolutions(session)
    else:
        resolutions = [get_resolution(session, symbol) for symbol in symbols]
    return sum(tag_version(session, r.current) for r in resolutions)


def themes_of(session: Session, symbol: str, language: str = "en") -> list[dict[str, Any]]:
    """Per paragraph of the current version of ``symbol``: its themes, names in ``language``."""
    from resotrack.resolutions.queries import get_resolution

    version = get_resolution(session, symbol).current
    by_paragraph: dict[int, list[ParagraphTheme]] = {p.id: [] for p in version.paragraphs}
    for row in session.scalars(
        select(ParagraphTheme)
        .where(ParagraphTheme.paragraph_id.in_(list(by_paragraph)))
        .order_by(ParagraphTheme.kind.desc(), ParagraphTheme.id)
    ):
        by_paragraph[row.paragraph_id].append(row)
    known = themes()
    return [
        {
            "paragraph": p.number,
            "themes": [
                {
                    "kind": t.kind,
                    "code": t.code,
                    "name": known[t.code].name(language) if t.code in known else t.code,
                    "state": t.state,
                    "source": t.source,
                    "evidence": list(t.evidence),
                }
                for t in by_paragraph[p.id]
            ],
        }
        for p in version.paragraphs
    ]


def decide(
    session: Session, symbol: str, number: int, code: str, *, decision: str, actor: str = "staff"
) -> None:
    """``decision``: confirm or reject a tag, or add one the lexicon did not find."""
    from resotrack.resolutions.queries import get_resolution

    known = themes()
    if code not in known:
        raise ThemeError(f"no theme has the code {code!r}; known: {', '.join(known)}")
    if decision not in ("confirm", "reject", "add"):
        raise ThemeError(f"a theme decision is confirm, reject or add, not {decision!r}")
    version = get_resolution(session, symbol).current
    paragraph = next((p for p in version.paragraphs if p.number == number), None)
    if paragraph is None:
        raise ThemeError(f"{symbol} has no paragraph {number}")
    theme = known[code]
    row = session.scalar(
        select(ParagraphTheme).where(
            ParagraphTheme.paragraph_id == paragraph.id,
            ParagraphTheme.kind == theme.kind,
            ParagraphTheme.code == code,
        )
    )
    if row is None:
        if decision != "add":
            raise ThemeError(
                f"paragraph {number} of {symbol} is not tagged {code}: add it rather than "
                f"{decision} it"
            )
        row = ParagraphTheme(
            paragraph_id=paragraph.id, kind=theme.kind, code=code, source=STAFF, evidence=[]
        )
        session.add(row)
    row.state = REJECTED if decision == "reject" else CONFIRMED
    row.decided_by, row.decided_at = actor, clock.now()
    audit.record(session, actor, f"theme.{decision}", f"{symbol} §{number}", code=code)
    session.flush()


def paragraphs_with_theme(session: Session, code: str) -> list[tuple[str, int]]:
    """(symbol, number) of every current paragraph tagged ``code`` and not rejected: the
    filter the tables, the dashboard and the report can apply."""
    rows = session.execute(
        select(Resolution.symbol, OperativeParagraph.number)
        .join(ParagraphTheme, ParagraphTheme.paragraph_id == OperativeParagraph.id)
        .join(ResolutionVersion, ResolutionVersion.id == OperativeParagraph.version_id)
        .join(Resolution, Resolution.id == ResolutionVersion.resolution_id)
        .where(ParagraphTheme.code == code, ParagraphTheme.state != REJECTED)
        .order_by(Resolution.symbol, OperativeParagraph.number)
    ).all()
    return [(symbol, number) for symbol, number in rows]
