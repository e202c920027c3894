"""Finding stored resolutions by symbol (the import in ``store``, lineage, themes and routing
all look them up here)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from resotrack.resolutions.models import OperativeParagraph, Resolution, ResolutionVersion


class ResolutionNotFound(LookupError):
    """No resolution has that symbol; the message lists the ones that exist."""


def get_resolution(session: Session, symbol: str) -> Resolution:
    """The resolution with its versions loaded, or a clear error naming what exists."""
    resolution = session.scalar(
        select(Resolution)
        .where(Resolution.symbol == symbol)
        .options(
            selectinload(Resolution.versions)
            .selectinload(ResolutionVersion.paragraphs)
            .selectinload(OperativeParagraph.actions),
            selectinload(Resolution.versions).selectinload(ResolutionVersion.sections),
        )
    )
    if resolution is None:
        known = session.scalars(select(Resolution.symbol).order_by(Resolution.symbol)).all()
        hint = (
            ", ".join(known)
            if known
            else "none yet; import one with `resotrack resolutions import`"
        )
        raise ResolutionNotFound(f"no resolution with symbol {symbol!r}; known: {hint}")
    return resolution


def list_resolutions(session: Session) -> list[Resolution]:
    return list(
        session.scalars(
            select(Resolution)
            .options(selectinload(Resolution.versions))
            .order_by(Resolution.symbol)
        )
    )
