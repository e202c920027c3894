"""The validation stage's tables: submissions and the accepted answers.

Intake inserts a submission (one uploaded file, state ``received``); from then on only the
validation stage writes its state and report (``ingest``, ``decide``, ``quick``,
``lifecycle``), and the answers (``decide``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from resotrack import clock
from resotrack.store.models import Base


class Submission(Base):
    """One uploaded file, kept byte-for-byte in the blob store under its SHA-256."""

    __tablename__ = "submission"
    __table_args__ = (UniqueConstraint("cycle_id", "entity_code", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("reporting_cycle.id"))
    entity_code: Mapped[str | None] = mapped_column(ForeignKey("reporting_entity.code"))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int]
    original_name: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(20))  # portal | email | dropfolder | cli
    sender: Mapped[str | None] = mapped_column(String(254))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("upload_token.id"))
    state: Mapped[str] = mapped_column(String(30), default="received", index=True)
    report: Mapped[dict[str, Any]] = mapped_column(default=dict)
    received_at: Mapped[datetime] = mapped_column(default=clock.now)
    decided_at: Mapped[datetime | None]


class Answer(Base):
    """One accepted row: entity × paragraph × cycle. Older versions stay as history;
    exactly one row per key has ``current`` set, the newest accepted."""

    __tablename__ = "answer"
    # An entity's current answers in a cycle, looked up by every accepted return (and, by
    # its first column, everything that reads a cycle's answers). Migration 0005.
    __table_args__ = (
        Index("ix_answer_cycle_id_entity_code_current", "cycle_id", "entity_code", "current"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("reporting_cycle.id"))
    entity_code: Mapped[str] = mapped_column(ForeignKey("reporting_entity.code"))
    resolution_symbol: Mapped[str] = mapped_column(String(80))
    paragraph_number: Mapped[int]
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id"))
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(30))
    measures: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[date | None] = mapped_column(Date)
    national_body: Mapped[str | None] = mapped_column(Text)
    challenges: Mapped[str | None] = mapped_column(Text)
    support_requested: Mapped[str | None] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    accepted_at: Mapped[datetime] = mapped_column(default=clock.now)
