"""The intake stage's tables: the messages seen in the returns mailbox (``imap``) and the
attempts on items that have not been decided yet (``attempts``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from resotrack import clock
from resotrack.store.models import Base


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
