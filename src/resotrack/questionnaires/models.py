"""The questionnaire stage's tables: reporting cycles, the resolutions pinned in them and the
workbook each entity receives (``cycles``, ``dispatch``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from resotrack import clock
from resotrack.store.models import Base

if TYPE_CHECKING:
    from resotrack.registry.models import ReportingEntity
    from resotrack.resolutions.models import ResolutionVersion


class ReportingCycle(Base):
    """Resolutions × entities with a deadline and a reminder ladder.

    ``state``: waiting (opened, not yet dispatched) → open (questionnaires sent) → closed.
    """

    __tablename__ = "reporting_cycle"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    deadline: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(20), default="waiting")
    ladder: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    fatigue_max_messages: Mapped[int] = mapped_column(default=6)
    fatigue_min_gap_days: Mapped[int] = mapped_column(default=3)
    #: True: a return must answer every paragraph asked; False: a return may answer only
    #: some (a ministry's part), the rest stays owed.
    require_complete: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    opened_at: Mapped[datetime] = mapped_column(default=clock.now)
    opened_by: Mapped[str] = mapped_column(String(120), default="staff")
    dispatched_at: Mapped[datetime | None]

    resolutions: Mapped[list[CycleResolution]] = relationship(
        back_populates="cycle", cascade="all, delete-orphan"
    )
    questionnaires: Mapped[list[Questionnaire]] = relationship(
        back_populates="cycle", order_by="Questionnaire.entity_code"
    )


class CycleResolution(Base):
    """A resolution in a cycle, pinned to the version that was current when it opened."""

    __tablename__ = "cycle_resolution"
    __table_args__ = (UniqueConstraint("cycle_id", "resolution_version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("reporting_cycle.id", ondelete="CASCADE"))
    resolution_version_id: Mapped[int] = mapped_column(ForeignKey("resolution_version.id"))

    cycle: Mapped[ReportingCycle] = relationship(back_populates="resolutions")
    version: Mapped[ResolutionVersion] = relationship()


class Questionnaire(Base):
    """The workbook one entity receives for one cycle.

    ``rows`` is the exact list of paragraphs sent, ``[{"resolution", "number"}, ...]``: the
    validation stage checks a return against it (none missing, none added).
    """

    __tablename__ = "questionnaire"
    __table_args__ = (UniqueConstraint("cycle_id", "entity_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("reporting_cycle.id", ondelete="CASCADE"))
    entity_code: Mapped[str] = mapped_column(ForeignKey("reporting_entity.code"))
    language: Mapped[str] = mapped_column(String(2))
    template_version: Mapped[str] = mapped_column(String(20))
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    workbook_sha256: Mapped[str | None] = mapped_column(String(64))
    built_at: Mapped[datetime | None]

    cycle: Mapped[ReportingCycle] = relationship(back_populates="questionnaires")
    entity: Mapped[ReportingEntity] = relationship()
