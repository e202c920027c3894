"""SQLAlchemy 2 models: the application database is the source of truth.

Each stage owns its tables and reaches others' only through their functions; the models
live together here so that one Alembic history covers the whole schema.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from resotrack import clock

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {  # noqa: RUF012
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
        list[str]: JSON,
        list[dict[str, Any]]: JSON,
    }


# --- resolutions -------------------------------------------------------------------------


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


# --- registry ----------------------------------------------------------------------------


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


# --- routing -----------------------------------------------------------------------------


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


# --- lineage and themes (resolutions.lineage, resolutions.themes) -------------------------


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


class PublicationConsent(Base):
    """Whether the public site may show an entity's narratives (measures, evidence), not only
    its statuses. No row means statuses only."""

    __tablename__ = "publication_consent"

    entity_code: Mapped[str] = mapped_column(ForeignKey("reporting_entity.code"), primary_key=True)
    narratives: Mapped[bool] = mapped_column(Boolean, default=False)
    set_by: Mapped[str] = mapped_column(String(120))
    set_at: Mapped[datetime] = mapped_column(default=clock.now)


# --- audit -------------------------------------------------------------------------------


class AuditLog(Base):
    """Every state change, with who and when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=clock.now)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


# --- reporting cycles and questionnaires -------------------------------------------------


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


# --- mail --------------------------------------------------------------------------------


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


# --- returns -----------------------------------------------------------------------------


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


# --- intake ------------------------------------------------------------------------------


class InboundMail(Base):
    """One message seen in the returns mailbox, recorded once under (mailbox, UIDVALIDITY, UID).

    The row is written in the same transaction as the submissions it produced, so a message is
    processed exactly once across restarts. The raw message is kept in the blob store whatever
    happens to it. ``state``: processed (its workbooks became submissions), quarantined (kept
    for staff: unknown sender, no workbook, workbook not identified) or duplicate (a message
    with this Message-ID was processed before, e.g. under an older UIDVALIDITY).
    """

    __tablename__ = "inbound_mail"
    __table_args__ = (UniqueConstraint("mailbox", "uidvalidity", "uid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(200))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[str | None] = mapped_column(String(500), index=True)
    sender: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(Text)
    raw_sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    state: Mapped[str] = mapped_column(String(20), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    entity_code: Mapped[str | None] = mapped_column(String(16))
    submission_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    processed_at: Mapped[datetime] = mapped_column(default=clock.now)


class IntakeAttempt(Base):
    """How often a channel started on one item (a mail, a dropped file) without finishing it.

    Written and committed *before* the item is read, removed once it is decided (received or
    refused). A count that keeps growing means the item stops the intake (a reader crash, a
    killed poll): after ``intake_max_tries`` it is quarantined instead of tried again, so it
    cannot block the items behind it.
    """

    __tablename__ = "intake_attempt"
    __table_args__ = (UniqueConstraint("channel", "item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    item: Mapped[str] = mapped_column(String(500))
    tries: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    first_at: Mapped[datetime] = mapped_column(default=clock.now)
    last_at: Mapped[datetime] = mapped_column(default=clock.now)


class UploadAttempt(Base):
    """One upload through a personal link, kept for the window of the per-link rate limit.

    In the database rather than in memory so that every portal worker sees the same count.
    """

    __tablename__ = "upload_attempt"
    __table_args__ = (Index("ix_upload_attempt_token_id_at", "token_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("upload_token.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=clock.now)


# --- consolidation -----------------------------------------------------------------------


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
