"""The upload links' table: only the SHA-256 of each personal link is stored (written by
``resotrack.tokens`` alone).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from resotrack import clock
from resotrack.store.models import Base


class UploadToken(Base):
    """A personal upload link: only its SHA-256 is stored; it grants one entity and cycle."""

    __tablename__ = "upload_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    focal_point_id: Mapped[int] = mapped_column(ForeignKey("focal_point.id"))
    cycle_id: Mapped[int] = mapped_column(ForeignKey("reporting_cycle.id", ondelete="CASCADE"))
    entity_code: Mapped[str] = mapped_column(ForeignKey("reporting_entity.code"))
    issued_at: Mapped[datetime] = mapped_column(default=clock.now)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(120))
