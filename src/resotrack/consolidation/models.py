"""The consolidation stage's tables: report builds (``builds``, ``publish``) and staff reviews
of validated returns (``review``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from resotrack import clock
from resotrack.store.models import Base


class ReportBuild(Base):
    """One consolidation of a cycle, kept for good with the answers snapshot it was made from.

    ``version`` counts builds per cycle (1, 2, ...). ``snapshot_sha256`` names the blob holding
    every input of the build (canonical JSON), so a build can be explained and re-made years
    later; ``answers_sha256`` hashes the answers part alone, to tell at a glance whether two
    builds saw the same answers. ``outputs`` maps file names to blob SHA-256s. ``state``:
    built → awaiting_approval → approved → published, or rejected (with the comment).
    """

    __tablename__ = "report_build"
    __table_args__ = (UniqueConstraint("cycle_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("reporting_cycle.id"), index=True)
    version: Mapped[int]
    built_at: Mapped[datetime] = mapped_column(default=clock.now)
    built_by: Mapped[str] = mapped_column(String(120))
    answers_sha256: Mapped[str] = mapped_column(String(64))
    snapshot_sha256: Mapped[str] = mapped_column(String(64))
    outputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(30), default="built", index=True)
    approval_run_id: Mapped[str | None] = mapped_column(String(250))
    reviewer: Mapped[str | None] = mapped_column(String(120))
    comment: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    published_path: Mapped[str | None] = mapped_column(Text)
    checksum: Mapped[str | None] = mapped_column(String(64))
    #: The Word reports approved, name → SHA-256: what the reviewer saw (migration 0009).
    approved_files: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ReportEdit(Base):
    """Staff's own text for one block of a draft report (the introduction, one paragraph's
    synthesis, the conclusions, the recommendations), kept by the next builds.

    ``paragraphs`` is the block as staff left it (each paragraph's style and runs, plain text
    and bold/italic only); ``replaced`` the text the builder had generated for the block when
    staff changed it: a build whose generated text differs keeps staff's text and flags it.
    """

    __tablename__ = "report_edit"
    __table_args__ = (UniqueConstraint("cycle_id", "resolution_symbol", "language", "block"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("reporting_cycle.id"), index=True)
    resolution_symbol: Mapped[str] = mapped_column(String(80))
    language: Mapped[str] = mapped_column(String(2))
    block: Mapped[str] = mapped_column(String(40))
    paragraphs: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    text: Mapped[str] = mapped_column(Text)
    replaced: Mapped[str] = mapped_column(Text)
    build_id: Mapped[int] = mapped_column(ForeignKey("report_build.id"))
    edited_by: Mapped[str] = mapped_column(String(120))
    edited_at: Mapped[datetime] = mapped_column(default=clock.now)


class SubmissionReview(Base):
    """A staff decision on a validated return: accepted, or a correction requested.

    ``previous_state`` is the submission's state before the decision, so the history reads
    without the audit log.
    """

    __tablename__ = "submission_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id"), index=True)
    decision: Mapped[str] = mapped_column(String(30))  # accepted | correction_requested
    comment: Mapped[str | None] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(String(120))
    previous_state: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(default=clock.now)
