"""The public site's table: whether an entity's narratives may be shown (``site``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from resotrack import clock
from resotrack.store.models import Base


class PublicationConsent(Base):
    """Whether the public site may show an entity's narratives (measures, evidence), not only
    its statuses. No row means statuses only."""

    __tablename__ = "publication_consent"

    entity_code: Mapped[str] = mapped_column(ForeignKey("reporting_entity.code"), primary_key=True)
    narratives: Mapped[bool] = mapped_column(Boolean, default=False)
    set_by: Mapped[str] = mapped_column(String(120))
    set_at: Mapped[datetime] = mapped_column(default=clock.now)
