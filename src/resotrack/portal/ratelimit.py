"""Uploads per personal link are limited (10 in 10 minutes by default).

The count lives in the database, not in a worker's memory, so every portal process and the
Airflow api-server agree. Two uploads arriving in the same instant may both pass the check:
a rate limit needs to be roughly right, not exact, and a lock would cost every upload.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select

from resotrack import clock
from resotrack.intake.config import IntakeSettings, intake_settings
from resotrack.portal.models import UploadAttempt
from resotrack.store import session_scope


class RateLimited(Exception):
    """Too many uploads through one link; ``retry_at`` is when the next one is welcome."""

    def __init__(self, retry_at: datetime, limit: int, window_seconds: int) -> None:
        self.retry_at = retry_at
        self.limit = limit
        self.window_seconds = window_seconds
        super().__init__(f"upload limit reached; retry at {retry_at:%H:%M} UTC")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=clock.UTC)


def count_upload(token_id: int, settings: IntakeSettings | None = None) -> None:
    """Count one upload through ``token_id``, or raise :class:`RateLimited` (not counted)."""
    settings = settings or intake_settings()
    limit = settings.upload_rate_limit
    if limit <= 0:
        return
    window = timedelta(seconds=settings.upload_rate_window_seconds)
    now = clock.now()
    with session_scope() as session:
        session.execute(
            delete(UploadAttempt).where(
                UploadAttempt.token_id == token_id, UploadAttempt.at <= now - window
            )
        )
        recent = [
            _aware(at)
            for at in session.scalars(
                select(UploadAttempt.at)
                .where(UploadAttempt.token_id == token_id, UploadAttempt.at > now - window)
                .order_by(UploadAttempt.at)
            )
        ]
        if len(recent) >= limit:
            raise RateLimited(
                recent[len(recent) - limit] + window, limit, int(window.total_seconds())
            )
        session.add(UploadAttempt(token_id=token_id, at=now))
