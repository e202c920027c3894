"""The registry's tables: reporting entities and their focal points (``entities``,
``focal_points``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from resotrack import clock
from resotrack.store.models import Base


class ReportingEntity(Base):
    """A member state (ISO 3166 alpha-3 code) or an institution that reports."""

    __tablename__ = "reporting_entity"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # member_state | institution | secretariat
    name_en: Mapped[str] = mapped_column(String(200))
    name_fr: Mapped[str] = mapped_column(String(200))
    name_ar: Mapped[str] = mapped_column(String(200))
    acronym_en: Mapped[str | None] = mapped_column(String(30))
    acronym_fr: Mapped[str | None] = mapped_column(String(30))
    language: Mapped[str] = mapped_column(String(2))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    focal_points: Mapped[list[FocalPoint]] = relationship(back_populates="entity")

    def name(self, language: str) -> str:
        return {"ar": self.name_ar, "fr": self.name_fr}.get(language, self.name_en)


class FocalPoint(Base):
    """A person who reports (or is copied) for an entity."""

    __tablename__ = "focal_point"
    __table_args__ = (UniqueConstraint("entity_code", "email", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_code: Mapped[str] = mapped_column(ForeignKey("reporting_entity.code"))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(2))
    role: Mapped[str] = mapped_column(String(20))  # focal_point | permanent_mission | cc
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    entity: Mapped[ReportingEntity] = relationship(back_populates="focal_points")
