"""What staff have to review about the current resolutions: lineage matches whose score fell in
the review band (:data:`~resotrack.resolutions.lineage.FLOOR` up to the review threshold) and
themes the keyword lexicons proposed. The staff page and ``resotrack resolutions
lineage-review|themes-review`` list the same items; a decision goes through
:func:`resotrack.resolutions.lineage.decide` or :func:`resotrack.resolutions.themes.decide`.

A rejected lineage link is not followed (carried-forward answers, trends across cycles); a
rejected theme is not used by the filters (tables, dashboard, report).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Final

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased

from resotrack.resolutions import lineage, themes
from resotrack.resolutions.models import (
    OperativeParagraph,
    ParagraphLineage,
    ParagraphTheme,
    Resolution,
    ResolutionVersion,
)

#: Items listed at most, per kind, on one page or one CLI call (oldest resolutions first).
LIMIT: Final = 500


@dataclass(frozen=True)
class LineageItem:
    """A paragraph's proposed (or decided) predecessor."""

    symbol: str
    paragraph: int
    text: str
    predecessor_symbol: str
    predecessor_paragraph: int
    predecessor_text: str
    score: float | None
    state: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ThemeItem:
    """A theme the lexicon proposed for a paragraph (or one staff decided)."""

    symbol: str
    paragraph: int
    text: str
    kind: str
    code: str
    name: str
    evidence: tuple[str, ...]
    state: str

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["evidence"] = list(self.evidence)
        return data


def _current_versions() -> Any:
    """Subquery: the newest version id of every resolution (decisions name a paragraph of
    the current version by its number)."""
    newest = (
        select(
            ResolutionVersion.resolution_id.label("rid"),
            func.max(ResolutionVersion.version).label("newest"),
        )
        .group_by(ResolutionVersion.resolution_id)
        .subquery()
    )
    return (
        select(ResolutionVersion.id)
        .join(
            newest,
            (newest.c.rid == ResolutionVersion.resolution_id)
            & (newest.c.newest == ResolutionVersion.version),
        )
        .scalar_subquery()
    )


def lineage_queue(
    session: Session, *, decided: bool = False, limit: int = LIMIT
) -> list[LineageItem]:
    """Matches staff have to decide (state review), lowest score first; with ``decided`` the
    ones already confirmed or rejected as well."""
    states = [lineage.REVIEW, *([lineage.CONFIRMED, lineage.REJECTED] if decided else [])]
    earlier = aliased(OperativeParagraph)
    earlier_version = aliased(ResolutionVersion)
    earlier_resolution = aliased(Resolution)
    rows = session.execute(
        select(
            Resolution.symbol,
            OperativeParagraph.number,
            OperativeParagraph.text,
            earlier_resolution.symbol,
            earlier.number,
            earlier.text,
            ParagraphLineage.score,
            ParagraphLineage.state,
        )
        .join(OperativeParagraph, OperativeParagraph.id == ParagraphLineage.paragraph_id)
        .join(ResolutionVersion, ResolutionVersion.id == OperativeParagraph.version_id)
        .join(Resolution, Resolution.id == ResolutionVersion.resolution_id)
        .join(earlier, earlier.id == ParagraphLineage.predecessor_id)
        .join(earlier_version, earlier_version.id == earlier.version_id)
        .join(earlier_resolution, earlier_resolution.id == earlier_version.resolution_id)
        .where(
            ParagraphLineage.state.in_(states),
            OperativeParagraph.version_id.in_(_current_versions()),
        )
        .order_by(
            ParagraphLineage.state.desc(),  # review first, then rejected, then confirmed
            ParagraphLineage.score,
            Resolution.symbol,
            OperativeParagraph.number,
        )
        .limit(limit)
    ).all()
    return [
        LineageItem(s, int(n), t, ps, int(pn), pt, None if sc is None else float(sc), st)
        for s, n, t, ps, pn, pt, sc, st in rows
    ]


def theme_queue(
    session: Session, language: str = "en", *, decided: bool = False, limit: int = LIMIT
) -> list[ThemeItem]:
    """Themes the lexicons proposed and nobody decided yet, by resolution and paragraph, with
    their names in ``language``; with ``decided`` the confirmed and rejected ones as well."""
    states = [themes.PROPOSED, *([themes.CONFIRMED, themes.REJECTED] if decided else [])]
    rows = session.execute(
        select(
            Resolution.symbol,
            OperativeParagraph.number,
            OperativeParagraph.text,
            ParagraphTheme.kind,
            ParagraphTheme.code,
            ParagraphTheme.evidence,
            ParagraphTheme.state,
        )
        .join(OperativeParagraph, OperativeParagraph.id == ParagraphTheme.paragraph_id)
        .join(ResolutionVersion, ResolutionVersion.id == OperativeParagraph.version_id)
        .join(Resolution, Resolution.id == ResolutionVersion.resolution_id)
        .where(
            ParagraphTheme.state.in_(states),
            OperativeParagraph.version_id.in_(_current_versions()),
        )
        .order_by(
            case((ParagraphTheme.state == themes.PROPOSED, 0), else_=1),  # proposed first
            Resolution.symbol,
            OperativeParagraph.number,
            ParagraphTheme.kind.desc(),
            ParagraphTheme.code,
        )
        .limit(limit)
    ).all()
    known = themes.themes()
    return [
        ThemeItem(
            s,
            int(n),
            t,
            kind,
            code,
            known[code].name(language) if code in known else code,
            tuple(evidence or ()),
            state,
        )
        for s, n, t, kind, code, evidence, state in rows
    ]
