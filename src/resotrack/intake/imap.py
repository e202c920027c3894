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
from resotrack.intake.config import IntakeSettings, intake_settings
from resotrack.intake.models import InboundMail
from resotrack.intake.names import display_name
from resotrack.intake.owner import (
    Refused,
    Unidentified,
    focal_points_for,
    has_questionnaire,
    identify_workbook,
)
from resotrack.intake.receive import (
    Receipt,
    StoredFile,
    TooLarge,
    announce,
    record_submission,
    store_file,
)
from resotrack.intake.replyauth import mta_vouches, signed_tags
from resotrack.intake.sniff import NotAWorkbook, sniff_workbook
from resotrack.registry.models import FocalPoint
from resotrack.store import session_scope
from resotrack.store.blobs import blob_store

log = logging.getLogger(__name__)

SPREADSHEET_NAME = re.compile(r"\.(xlsx|xlsm|xls|ods|csv)$", re.IGNORECASE)
ACTOR = "imap"
MB = 1024 * 1024
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


def _size(imap: imaplib.IMAP4, uid: int) -> int | None:
    """The message's size as the server counts it (``RFC822.SIZE``), before downloading it."""
    data = _check(imap.uid("FETCH", str(uid), "(RFC822.SIZE)"), f"UID FETCH {uid} size")
    for item in data:
        text = item[0] if isinstance(item, tuple) else item
        if isinstance(text, bytes):
            found = re.search(rb"RFC822\.SIZE (\d+)", text)
            if found:
                return int(found.group(1))
    return None


def _fetch(imap: imaplib.IMAP4, uid: int, *, headers_only: bool = False) -> bytes | None:
    """The whole message (or its header), without setting ``\\Seen`` (None if it vanished)."""
    what = "(BODY.PEEK[HEADER])" if headers_only else "(BODY.PEEK[])"
    data = _check(imap.uid("FETCH", str(uid), what), f"UID FETCH {uid}")
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
    settings = settings or intake_settings()
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
            size = _size(imap, uid)
            oversize = size is not None and size > settings.imap_max_message_bytes
            raw = _fetch(imap, uid, headers_only=oversize)
            if raw is None:
                continue
            item = f"{mailbox}|{uidvalidity}|{uid}"
            tries, last_error = attempts.begin(CHANNEL, item)
            try:
                if tries > settings.intake_max_tries:  # it stopped earlier polls: no more
                    raise GaveUp(attempts.gave_up(tries, last_error))
                if oversize:
                    outcome = _quarantine_oversize(raw, mailbox, uidvalidity, uid, size, settings)
                else:
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
        tags = {tag for tag in signed_tags(message) if tag[0] in {p.id for p in people}}
        vouched = mta_vouches(message, settings.imap_trusted_authserv_id, sender)
        if not tags and not vouched:
            row.state = "quarantined"
            row.reason = (
                f"not authenticated: {sender} is a focal point's address, but the message "
                "came neither to their signed reply address nor with a pass from the "
                "trusted mail server"
            )
            outcome = _record(session, row, [], settings)
            if outcome is not None:
                _tell_how_to_send(session, people)
            return outcome
        attached = _attachment_count(message)
        if attached > settings.imap_max_attachments:
            row.state = "quarantined"
            row.reason = (
                f"{attached} attachments in one message (at most "
                f"{settings.imap_max_attachments}): none was received"
            )
            return _record(session, row, [], settings)
        workbooks, problems = _workbooks(message)
        if not workbooks:
            problems.insert(0, "no workbook attached")
            row.state, row.reason = "quarantined", "; ".join(problems)
            return _record(session, row, [], settings)
        accepted = []
        refused: list[tuple[str, Refused]] = []
        for name, data in workbooks:
            try:
                accepted.append(_accept(session, name, data, people, settings, tags, vouched))
            except Refused as exc:  # the readers' refusal: the sender is told, in their words
                problems.append(f"{name}: {exc}")
                refused.append((name, exc))
            except (Unidentified, TooLarge, NotAWorkbook, PermissionError) as exc:
                problems.append(f"{name}: {exc}")
        row.state = "processed" if accepted else "quarantined"
        row.reason = "; ".join(problems) or None
        entities = {a.entity_code for a in accepted}
        row.entity_code = entities.pop() if len(entities) == 1 else None
        outcome = _record(session, row, accepted, settings)
        if outcome is not None and refused:
            told = [p for p in people if any(t[0] == p.id for t in tags)] or people
            _tell_refused(session, told, refused, row.raw_sha256)
        return outcome


def _accept(
    session: Session,
    name: str,
    data: bytes,
    people: list[FocalPoint],
    settings: IntakeSettings,
    tags: set[tuple[int, int]] | None = None,
    vouched: bool = True,
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
    if not vouched and (person.id, identity.cycle_id) not in (tags or set()):
        raise PermissionError(
            f"the reply address is not {identity.entity_code}'s for cycle {identity.cycle_id}"
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


def _quarantine_oversize(
    header: bytes,
    mailbox: str,
    uidvalidity: int,
    uid: int,
    size: int | None,
    settings: IntakeSettings,
) -> MailOutcome | None:
    """A message over the size limit, recorded from its header alone (never downloaded)."""
    message = email.message_from_bytes(header, policy=policy.default)
    row = InboundMail(
        mailbox=mailbox,
        uidvalidity=uidvalidity,
        uid=uid,
        message_id=_header(message, "Message-ID", 500),
        sender=_sender(message),
        subject=_header(message, "Subject", 1000),
        raw_sha256=blob_store().put(header),
        size=size or len(header),
        state="quarantined",
        reason=(
            f"too large: {(size or 0) / MB:,.1f} MB (at most "
            f"{settings.imap_max_message_bytes / MB:,.0f} MB); only its header was kept, "
            "the message is still in the mailbox"
        ),
    )
    with session_scope() as session:
        return _record(session, row, [], settings)


def _attachment_count(message: Message) -> int:
    """Parts that are not the body: anything named, or not text."""
    count = 0
    for part in message.walk():
        if part.is_multipart():
            continue
        if part.get_filename() or part.get_content_maintype() != "text":
            count += 1
    return count


def _tell_how_to_send(session: Session, people: list[FocalPoint]) -> None:
    """Tell each focal point at that address, at the address in the registry (a forged
    message's ``Reply-To`` is never used), how to send a return we can trust; once a day."""
    from resotrack.intake.acknowledge import how_to_send

    day = clock.today().isoformat()
    for person in people:
        _notice(session, person, f"unauthenticated:{person.id}:{day}", how_to_send(person.language))


def _tell_refused(
    session: Session, people: list[FocalPoint], refused: list[tuple[str, Refused]], raw: str
) -> None:
    """Tell an authenticated sender, in their language, why each workbook was refused."""
    from resotrack.intake.acknowledge import refusal_notice

    for person in people:
        words = refusal_notice(
            person.language, [(name, exc.words(person.language)) for name, exc in refused]
        )
        _notice(session, person, f"refused:{raw}:{person.id}", words)


def _notice(session: Session, person: FocalPoint, key: str, words: tuple[str, list[str]]) -> None:
    """Queue one notice to ``person``, at the registry's address, once per ``key``."""
    from resotrack.mail import enqueue

    subject, paragraphs = words
    enqueue(
        session,
        key=key,
        kind="notice",
        template="notice",
        language=person.language,
        context={"name": person.name, "subject": subject, "paragraphs": paragraphs},
        to=[person.email],
        entity_code=person.entity_code,
        focal_point_id=person.id,
    )


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
