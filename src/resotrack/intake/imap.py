"""The email-reply channel: poll the returns mailbox and take workbooks from replies.

Each message is processed once, even across restarts and concurrent polls: its (mailbox,
UIDVALIDITY, UID) goes into ``inbound_mail`` in the same transaction as the submissions it
produced, and the poll skips every UID already recorded. ``\\Seen`` is only a courtesy for
people reading the mailbox; the database decides.

A reply is accepted when its sender is an active focal point AND the workbook's signed
``_meta`` names that focal point's entity and a cycle it reports in. Anything else is
quarantined, never dropped: the raw message is kept in the blob store and listed for staff
(``resotrack returns quarantine`` and the Secretariat page).
"""

from __future__ import annotations

import email
import imaplib
import io
import ipaddress
import logging
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from email import policy
from email.message import Message
from email.utils import getaddresses
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from resotrack import audit, clock
from resotrack.intake import attempts
from resotrack.intake.config import IntakeSettings
from resotrack.intake.identify import (
    Unidentified,
    focal_points_for,
    has_questionnaire,
    identify_workbook,
)
from resotrack.intake.names import display_name
from resotrack.intake.receive import (
    Receipt,
    StoredFile,
    TooLarge,
    announce,
    record_submission,
    store_file,
)
from resotrack.intake.sniff import NotAWorkbook, sniff_workbook
from resotrack.store import session_scope
from resotrack.store.blobs import blob_store
from resotrack.store.models import FocalPoint, InboundMail

log = logging.getLogger(__name__)

SPREADSHEET_NAME = re.compile(r"\.(xlsx|xlsm|xls|ods|csv)$", re.IGNORECASE)
ACTOR = "imap"
CHANNEL = "email"


class GaveUp(RuntimeError):
    """The message stopped earlier polls before they could decide about it."""


@dataclass
class MailOutcome:
    """What one poll did with one message."""

    uid: int
    state: str  # processed | quarantined | duplicate
    sender: str | None
    message_id: str | None
    reason: str | None = None
    submission_ids: list[int] = field(default_factory=list)
    new_submission_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Accepted:
    stored: StoredFile
    name: str
    entity_code: str
    cycle_id: int
    person: FocalPoint


# --- connection --------------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


@contextmanager
def connect(settings: IntakeSettings) -> Iterator[imaplib.IMAP4]:
    """A logged-in IMAP connection (SSL, STARTTLS, or plain on loopback only)."""
    host, port = settings.imap_host, settings.imap_port_or_default
    timeout = settings.imap_timeout_seconds
    context = ssl.create_default_context(cafile=settings.imap_ca_file)
    imap: imaplib.IMAP4
    if settings.imap_security == "ssl":
        imap = imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=timeout)
    else:
        if settings.imap_security == "none" and not _is_loopback(host):
            raise ValueError(
                f"refusing to send the mailbox password in clear to {host}: "
                "set RESOTRACK_IMAP_SECURITY=ssl or starttls (none is for loopback only)"
            )
        imap = imaplib.IMAP4(host, port, timeout=timeout)
        if settings.imap_security == "starttls":
            imap.starttls(ssl_context=context)
    try:
        imap.login(settings.imap_user, settings.imap_password.get_secret_value())
        yield imap
    finally:
        with suppress(imaplib.IMAP4.error, OSError):
            imap.logout()


def _check(result: tuple[str, list[Any]], what: str) -> list[Any]:
    typ, data = result
    if typ != "OK":
        raise imaplib.IMAP4.error(f"{what} failed: {typ} {data!r}")
    return data


def _select(imap: imaplib.IMAP4, mailbox: str) -> int:
    """Open ``mailbox`` read-write and return its UIDVALIDITY."""
    _check(imap.select(_quote(mailbox)), f"SELECT {mailbox}")
    _typ, values = imap.response("UIDVALIDITY")
    if not values or values[0] is None:
        raise imaplib.IMAP4.error(f"the server sent no UIDVALIDITY for {mailbox}")
    return int(values[0])


def _uids(imap: imaplib.IMAP4) -> list[int]:
    data = _check(imap.uid("SEARCH", "ALL"), "UID SEARCH")
    return sorted(int(uid) for chunk in data if chunk for uid in chunk.split())


def _fetch(imap: imaplib.IMAP4, uid: int) -> bytes | None:
    """The whole message, without setting ``\\Seen`` (None if it vanished meanwhile)."""
    data = _check(imap.uid("FETCH", str(uid), "(BODY.PEEK[])"), f"UID FETCH {uid}")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


# --- poll --------------------------------------------------------------------------------


def poll_mailbox(settings: IntakeSettings | None = None) -> list[dict[str, Any]]:
    """Process every message not processed before; returns one summary per message.

    New submissions are announced to Airflow after their transaction committed. A message
    that breaks the processing is quarantined with the error, so it cannot block the poll.
    """
    settings = settings or IntakeSettings()
    if not settings.imap_host:
        log.info("RESOTRACK_IMAP_HOST is not set: no returns mailbox to poll")
        return []
    mailbox = settings.imap_mailbox
    outcomes: list[MailOutcome] = []
    with connect(settings) as imap:
        uidvalidity = _select(imap, mailbox)
        with session_scope() as session:
            seen = set(
                session.scalars(
                    select(InboundMail.uid).where(
                        InboundMail.mailbox == mailbox, InboundMail.uidvalidity == uidvalidity
                    )
                )
            )
        todo = [uid for uid in _uids(imap) if uid not in seen][: settings.imap_batch]
        for uid in todo:
            raw = _fetch(imap, uid)
            if raw is None:
                continue
            item = f"{mailbox}|{uidvalidity}|{uid}"
            tries, last_error = attempts.begin(CHANNEL, item)
            try:
                if tries > settings.intake_max_tries:  # it stopped earlier polls: no more
                    raise GaveUp(attempts.gave_up(tries, last_error))
                outcome = process_message(raw, mailbox, uidvalidity, uid, settings)
            except Exception as exc:  # a poison message must not block the mailbox
                log.exception("message uid %s in %s could not be processed", uid, mailbox)
                outcome = _quarantine_broken(raw, mailbox, uidvalidity, uid, exc)
            attempts.finish(CHANNEL, item)
            if outcome is None:  # another poll recorded it first
                continue
            outcomes.append(outcome)
            if settings.imap_mark_seen:
                try:
                    imap.uid("STORE", str(uid), "+FLAGS", "(\\Seen)")
                except imaplib.IMAP4.error as exc:  # cosmetic: the database decides
                    log.warning("could not flag uid %s \\Seen: %s", uid, exc)
    for outcome in outcomes:
        for submission_id in outcome.new_submission_ids:
            announce(submission_id)
    return [outcome.as_dict() for outcome in outcomes]


def process_message(
    raw: bytes, mailbox: str, uidvalidity: int, uid: int, settings: IntakeSettings
) -> MailOutcome | None:
    """Decide about one message and record it; None if it was already recorded."""
    raw_sha = blob_store().put(raw)  # kept whatever happens next
    message = email.message_from_bytes(raw, policy=policy.default)
    sender = _sender(message)
    message_id = _header(message, "Message-ID", 500)
    subject = _header(message, "Subject", 1000)
    row = InboundMail(
        mailbox=mailbox,
        uidvalidity=uidvalidity,
        uid=uid,
        message_id=message_id,
        sender=sender,
        subject=subject,
        raw_sha256=raw_sha,
        size=len(raw),
    )
    with session_scope() as session:
        earlier = _earlier(session, mailbox, message_id)
        if earlier is not None:
            row.state, row.reason = "duplicate", f"same Message-ID as inbound mail #{earlier}"
            return _record(session, row, [], settings)
        people = focal_points_for(session, sender or "")
        if not people:
            row.state, row.reason = "quarantined", f"unknown sender {sender or '(none)'}"
            return _record(session, row, [], settings)
        workbooks, problems = _workbooks(message)
        if not workbooks:
            problems.insert(0, "no workbook attached")
            row.state, row.reason = "quarantined", "; ".join(problems)
            return _record(session, row, [], settings)
        accepted = []
        for name, data in workbooks:
            try:
                accepted.append(_accept(session, name, data, people, settings))
            except (Unidentified, TooLarge, NotAWorkbook, PermissionError) as exc:
                problems.append(f"{name}: {exc}")
        row.state = "processed" if accepted else "quarantined"
        row.reason = "; ".join(problems) or None
        entities = {a.entity_code for a in accepted}
        row.entity_code = entities.pop() if len(entities) == 1 else None
        return _record(session, row, accepted, settings)


def _accept(
    session: Session,
    name: str,
    data: bytes,
    people: list[FocalPoint],
    settings: IntakeSettings,
) -> _Accepted:
    identity = identify_workbook(data)
    person = next((p for p in people if p.entity_code == identity.entity_code), None)
    if person is None:
        raise PermissionError(
            f"the workbook is {identity.entity_code}'s, and the sender is not one of its focal "
            "points"
        )
    if not has_questionnaire(session, identity.entity_code, identity.cycle_id):
        raise PermissionError(
            f"{identity.entity_code} has no open questionnaire in cycle {identity.cycle_id}"
        )
    stored = store_file(data, max_bytes=settings.upload_max_bytes)
    return _Accepted(stored, name, identity.entity_code, identity.cycle_id, person)


def _record(
    session: Session, row: InboundMail, accepted: list[_Accepted], settings: IntakeSettings
) -> MailOutcome | None:
    """Insert the inbound_mail row and its submissions in the caller's transaction."""
    values = {
        column.key: getattr(row, column.key)
        for column in InboundMail.__table__.columns
        if column.key != "id"
    }
    values["submission_ids"] = []
    values["processed_at"] = clock.now()
    dialect = session.get_bind().dialect.name
    insert: postgresql.Insert | sqlite.Insert
    if dialect == "postgresql":
        insert = postgresql.insert(InboundMail).values(values).on_conflict_do_nothing()
    else:
        insert = sqlite.insert(InboundMail).values(values).on_conflict_do_nothing()
    mail_id = session.execute(insert.returning(InboundMail.id)).scalar_one_or_none()
    if mail_id is None:
        session.rollback()
        return None
    receipts = []
    for item in accepted:
        receipt = record_submission(
            session,
            item.stored,
            channel="email",
            original_name=item.name,
            cycle_id=item.cycle_id,
            entity_code=item.entity_code,
            sender=row.sender,
        )
        receipts.append(receipt)
        if settings.imap_acknowledge and not receipt.duplicate:
            _acknowledge(session, item.person, receipt, item.cycle_id)
    ids = [r.submission_id for r in receipts]
    stored_row = session.get(InboundMail, mail_id)
    assert stored_row is not None
    stored_row.submission_ids = ids
    audit.record(
        session,
        ACTOR,
        f"inbound_mail.{row.state}",
        f"inbound_mail:{mail_id}",
        sender=row.sender,
        uid=row.uid,
        reason=row.reason,
        submissions=ids,
    )
    log.info("mail uid %s from %s: %s %s", row.uid, row.sender, row.state, row.reason or "")
    return MailOutcome(
        uid=row.uid,
        state=row.state,
        sender=row.sender,
        message_id=row.message_id,
        reason=row.reason,
        submission_ids=ids,
        new_submission_ids=[r.submission_id for r in receipts if not r.duplicate],
    )


def _quarantine_broken(
    raw: bytes, mailbox: str, uidvalidity: int, uid: int, exc: Exception
) -> MailOutcome | None:
    row = InboundMail(
        mailbox=mailbox,
        uidvalidity=uidvalidity,
        uid=uid,
        raw_sha256=blob_store().put(raw),
        size=len(raw),
        state="quarantined",
        reason=(
            str(exc)
            if isinstance(exc, GaveUp)
            else f"could not be processed: {type(exc).__name__}: {exc}"
        )[:2000],
    )
    with session_scope() as session:
        return _record(session, row, [], IntakeSettings(imap_acknowledge=False))


def _earlier(session: Session, mailbox: str, message_id: str | None) -> int | None:
    if not message_id:
        return None
    return session.scalar(
        select(InboundMail.id)
        .where(InboundMail.mailbox == mailbox, InboundMail.message_id == message_id)
        .order_by(InboundMail.id)
        .limit(1)
    )


def _header(message: Message, name: str, limit: int) -> str | None:
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):  # a malformed header the parser chokes on
        return None
    text = " ".join(str(value).split()) if value is not None else ""
    return text[:limit] or None


def _sender(message: Message) -> str | None:
    try:
        values = [str(v) for v in message.get_all("From") or []]
    except (ValueError, IndexError, TypeError):
        return None
    addresses = [address for _name, address in getaddresses(values) if "@" in address]
    return addresses[0].strip().lower()[:254] if len(addresses) == 1 else None


def _workbooks(message: Message) -> tuple[list[tuple[str, bytes]], list[str]]:
    """Attachments whose bytes are a workbook, and a note for each spreadsheet-named refusal."""
    found: list[tuple[str, bytes]] = []
    problems: list[str] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename()
        if part.get_content_maintype() == "text" and not filename:
            continue  # the body
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes) or not payload:
            continue
        name = display_name(filename)
        try:
            sniff_workbook(io.BytesIO(payload))
        except NotAWorkbook as exc:
            if filename and SPREADSHEET_NAME.search(filename):
                problems.append(f"{name}: {exc}")
            continue
        found.append((name, payload))
    return found, problems


def _acknowledge(session: Session, person: FocalPoint, receipt: Receipt, cycle_id: int) -> None:
    """Queue the "received" email in the same transaction: sent only if the receipt commits."""
    from resotrack.intake.acknowledge import acknowledgement
    from resotrack.mail import enqueue

    subject, paragraphs = acknowledgement(person.language, receipt)
    enqueue(
        session,
        key=f"received:{receipt.submission_id}",
        kind="receipt",
        template="notice",
        language=person.language,
        context={"name": person.name, "subject": subject, "paragraphs": paragraphs},
        to=[person.email],
        cycle_id=cycle_id,
        entity_code=person.entity_code,
        focal_point_id=person.id,
    )
