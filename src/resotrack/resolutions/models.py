"""The resolutions stage's tables: resolutions and their versions, sections, operative
paragraphs and actions (``importer``, ``parse``), routing overrides (``routing``), paragraph
lineage (``lineage``) and themes (``themes``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from resotrack import clock
from resotrack.store.models import Base


class Resolution(Base):
    """An adopted text, identified by its symbol; its wording lives in versions."""

    __tablename__ = "resolution"

    id: Mapped[int] = mapped_column(primary_key=True)
    symbol: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    versions: Mapped[list[ResolutionVersion]] = relationship(
        back_populates="resolution", order_by="ResolutionVersion.version"
    )

    @property
    def current(self) -> ResolutionVersion:
        """The newest version: a changed text supersedes, the old one is kept."""
        return self.versions[-1]


class ResolutionVersion(Base):
    """One imported wording of a resolution; identical text is never stored twice."""

    __tablename__ = "resolution_version"
    __table_args__ = (
        UniqueConstraint("resolution_id", "version"),
        UniqueConstraint("resolution_id", "text_sha256"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resolution_id: Mapped[int] = mapped_column(ForeignKey("resolution.id", ondelete="CASCADE"))
    version: Mapped[int]
    text_sha256: Mapped[str] = mapped_column(String(64))
    source_text: Mapped[str] = mapped_column(Text)
    source_name: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str | None] = mapped_column(Text)
    session: Mapped[str | None] = mapped_column(Text)
    place: Mapped[str | None] = mapped_column(Text)
    adopted_gregorian: Mapped[str | None] = mapped_column(String(120))
    adopted_on: Mapped[date | None] = mapped_column(Date)
    adopted_hijri: Mapped[str | None] = mapped_column(String(120))
    language: Mapped[str] = mapped_column(String(2))
    preamble: Mapped[list[str]] = mapped_column(default=list)
    imported_at: Mapped[datetime] = mapped_column(default=clock.now)

    resolution: Mapped[Resolution] = relationship(back_populates="versions")
    sections: Mapped[list[Section]] = relationship(
        back_populates="version", order_by="Section.position", cascade="all, delete-orphan"
    )
    paragraphs: Mapped[list[OperativeParagraph]] = relationship(
        back_populates="version",
        order_by="OperativeParagraph.number",
        cascade="all, delete-orphan",
    )


class Section(Base):
    """A lettered heading grouping operative paragraphs."""

    __tablename__ = "section"
    __table_args__ = (UniqueConstraint("version_id", "letter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("resolution_version.id", ondelete="CASCADE"))
    letter: Mapped[str] = mapped_column(String(4))
    title: Mapped[str] = mapped_column(Text)
    position: Mapped[int]

    version: Mapped[ResolutionVersion] = relationship(back_populates="sections")


class OperativeParagraph(Base):
    """A numbered paragraph that asks someone to act (or welcomes, notes...)."""

    __tablename__ = "operative_paragraph"
    __table_args__ = (UniqueConstraint("version_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("resolution_version.id", ondelete="CASCADE"))
    section_letter: Mapped[str | None] = mapped_column(String(4))
    number: Mapped[int]
    text: Mapped[str] = mapped_column(Text)

    version: Mapped[ResolutionVersion] = relationship(back_populates="paragraphs")
    actions: Mapped[list[Action]] = relationship(
        back_populates="paragraph", order_by="Action.position", cascade="all, delete-orphan"
    )

    @property
    def addressees(self) -> set[str]:
        return {code for action in self.actions for code in action.addressees}

    @property
    def institutions(self) -> set[str]:
        return {code for action in self.actions for code in action.institutions}


class Action(Base):
    """One operative verb of a paragraph with whom it addresses."""

    __tablename__ = "action"
    __table_args__ = (UniqueConstraint("paragraph_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    paragraph_id: Mapped[int] = mapped_column(
        ForeignKey("operative_paragraph.id", ondelete="CASCADE")
    )
    position: Mapped[int]
    verb: Mapped[str] = mapped_column(String(120))
    modifier: Mapped[str | None] = mapped_column(String(60))
    canonical: Mapped[str] = mapped_column(String(40))
    addressees: Mapped[list[str]] = mapped_column(default=list)
    institutions: Mapped[list[str]] = mapped_column(default=list)

    paragraph: Mapped[OperativeParagraph] = relationship(back_populates="actions")


class RoutingOverride(Base):
    """A staff decision that an entity does (or does not) report on a paragraph.

    Keyed by resolution and paragraph number, so it survives a new version of the text.
    """

    __tablename__ = "routing_override"
    __table_args__ = (UniqueConstraint("resolution_id", "paragraph_number", "entity_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resolution_id: Mapped[int] = mapped_column(ForeignKey("resolution.id", ondelete="CASCADE"))
    paragraph_number: Mapped[int]
    entity_code: Mapped[str] = mapped_column(ForeignKey("reporting_entity.code"))
    included: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(120), default="staff")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class ParagraphLineage(Base):
    """The paragraph of an earlier resolution that an operative paragraph renews, if any.

    One row per paragraph of a stored version. ``state``: linked (score at or above the review
    threshold), review (a proposed link staff must confirm or reject), new (no predecessor),
    confirmed or rejected (a staff decision, kept when lineage is worked out again).
    """

    __tablename__ = "paragraph_lineage"

    id: Mapped[int] = mapped_column(primary_key=True)
    paragraph_id: Mapped[int] = mapped_column(
        ForeignKey("operative_paragraph.id", ondelete="CASCADE"), unique=True
    )
    predecessor_id: Mapped[int | None] = mapped_column(
        ForeignKey("operative_paragraph.id", ondelete="SET NULL"), index=True
    )
    score: Mapped[float | None]
    #: Indexed: the review queue reads the rows in state review.
    state: Mapped[str] = mapped_column(String(20), index=True)
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[datetime | None]
    computed_at: Mapped[datetime] = mapped_column(default=clock.now)


class ParagraphTheme(Base):
    """A subject or Sustainable Development Goal a paragraph serves, found by the lexicons
    (``source`` lexicon) or set by staff (``source`` staff); ``state`` proposed, confirmed or
    rejected."""

    __tablename__ = "paragraph_theme"
    __table_args__ = (UniqueConstraint("paragraph_id", "kind", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    paragraph_id: Mapped[int] = mapped_column(
        ForeignKey("operative_paragraph.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))  # subject | sdg
    code: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(10))
    #: Indexed: the review queue reads the proposed rows.
    state: Mapped[str] = mapped_column(String(20), default="proposed", index=True)
    evidence: Mapped[list[str]] = mapped_column(default=list)
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[datetime | None]
