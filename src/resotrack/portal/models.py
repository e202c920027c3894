"""The portal's table: uploads through a personal link, for the per-link rate limit
(``ratelimit``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from resotrack import clock
from resotrack.store.models import Base


class UploadAttempt(Base):
    """One upload through a personal link, kept for the window of the per-link rate limit.

    In the database rather than in memory so that every portal worker sees the same count.
    """

    __tablename__ = "upload_attempt"
    __table_args__ = (Index("ix_upload_attempt_token_id_at", "token_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("upload_token.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=clock.now)
