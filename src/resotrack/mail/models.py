"""The mail stage's table: the outbox (``outbox``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from resotrack import clock
from resotrack.store.models import Base


class OutboxMessage(Base):
    """An email to send, at most once, keyed by an idempotency key.

    The body is rendered at send time from ``template`` and ``context`` so that secrets such
    as upload links never rest in the table. ``state``: pending → sending → sent; failed after
    the last retry; uncertain when a send was interrupted after it may have reached the
    server (never retried automatically: staff decide).
    """

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    template: Mapped[str] = mapped_column(String(80))
    language: Mapped[str] = mapped_column(String(2))
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("reporting_cycle.id"))
    entity_code: Mapped[str | None] = mapped_column(ForeignKey("reporting_entity.code"))
    focal_point_id: Mapped[int | None] = mapped_column(ForeignKey("focal_point.id"))
    to_addrs: Mapped[list[str]] = mapped_column(default=list)
    cc_addrs: Mapped[list[str]] = mapped_column(default=list)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
