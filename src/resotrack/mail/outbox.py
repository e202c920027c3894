"""The outbox: every email resotrack sends is a row here first, sent at most once.

Why at most once
    A questionnaire goes to a minister's office. Two copies of it (two different upload
    links) confuse people and look careless; a missing one is visible on the dashboard and
    fixed by a person. So when we cannot know whether a message left, we do not send again:
    we stop and ask staff.

How a row is sent (:func:`send_pending`)
    1. Outside any transaction, connect to SMTP and do EHLO, STARTTLS, AUTH, MAIL FROM and
       RCPT TO (:meth:`Sender.begin`). A failure here proves nothing was delivered.
    2. Claim the row in one short transaction: ``pending → sending``, ``claimed_at``, a
       deterministic Message-ID and the subject. On PostgreSQL the row is read with
       ``FOR UPDATE SKIP LOCKED`` so two workers never claim it; on both databases the claim
       is a conditional ``UPDATE ... WHERE state = 'pending'``. The upload token is issued
       in this transaction and the body rendered with it, in memory only: no usable link
       ever rests in the table.
    3. DATA (:meth:`Sender.data`). This exchange is the only uncertain window.
    4. In a new transaction: ``sent`` with ``sent_at``. A 4xx/5xx reply at any step, or no
       connection at all, proves the server did not take the message: back to ``pending``
       with ``attempts + 1`` and ``next_attempt_at = now + base · 2^(previous attempts)``,
       or ``failed`` once ``max_attempts`` is reached (the upload token of that attempt is
       revoked). A connection lost during DATA marks the row ``uncertain`` at once.
       Staff can give failed rows a new round with :func:`retry_failed`. If the server
       refuses some recipients but not all, the message goes to the others and the
       refusals are kept in ``last_error`` of the sent row.

The uncertain window and how staff close it
    If the worker dies between the claim commit and the step-4 commit, the row stays in
    ``sending``. The next run moves every ``sending`` row whose claim is older than the lease
    (``mail_lease_seconds``, far above the SMTP timeout) to ``uncertain``, and nothing ever
    resends it automatically. Staff search the recipient's mailbox or the relay's log for the
    row's Message-ID (``<outbox-{id}.{hash}@{domain}>``, stored before DATA), then either
    :func:`confirm_uncertain` (it arrived) or :func:`resend_uncertain` (it did not).

For the scheduler
    :func:`send_pending` commits the state of each row as it goes, then raises
    :class:`OutboxDeliveryError` if any row it touched ended failed, uncertain, or still
    pending after this run's retries, so the Airflow task fails visibly; Airflow's own task
    retries come on top of the in-run retries.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any, Protocol, cast

from jinja2 import TemplateError
from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, make_transient_to_detached

from resotrack import audit, clock
from resotrack.mail.config import MailSettings, mail_settings
from resotrack.mail.models import OutboxMessage
from resotrack.mail.render import UnknownTemplate, check, render
from resotrack.mail.sender import (
    XLSX,
    Attachment,
    Envelope,
    NotAccepted,
    Sender,
    YagmailSender,
    compose,
)
from resotrack.store.blobs import BlobNotFound, blob_store
from resotrack.store.db import session_scope

log = logging.getLogger(__name__)

PENDING, SENDING, SENT, FAILED, UNCERTAIN = "pending", "sending", "sent", "failed", "uncertain"
SKIPPED, RETRIED, NOT_DUE = "skipped", "retried", "not due"
ACTOR = "outbox"
_PLACEHOLDER_TOKEN = "preview"  # dry renders at enqueue time never see a real token


class OutboxDeliveryError(RuntimeError):
    """Some messages of this run were not delivered; every row's state is already committed."""

    def __init__(self, report: SendReport, details: Mapping[int, str]) -> None:
        self.report = report
        lines = [f"  #{row_id}: {error}" for row_id, error in sorted(details.items())]
        super().__init__(
            f"outbox: {len(report.failed)} failed, {len(report.retried)} still pending after "
            f"retries, {len(report.uncertain)} uncertain (staff must check)"
            + ("\n" + "\n".join(lines) if lines else "")
        )


class ComposeError(Exception):
    """The message cannot be built (template, blob, focal point): retrying will not help."""


@dataclass
class SendReport:
    """Row ids by their outcome in one run; each id appears once, in its final state."""

    sent: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    uncertain: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, outcomes: Mapping[int, str]) -> SendReport:
        report = cls()
        for row_id, outcome in sorted(outcomes.items()):
            getattr(report, outcome).append(row_id)
        return report

    @property
    def ok(self) -> bool:
        return not (self.failed or self.retried or self.uncertain)

    def as_dict(self) -> dict[str, list[int]]:
        """JSON-ready (an Airflow XCom)."""
        return {
            "sent": self.sent,
            "failed": self.failed,
            "retried": self.retried,
            "uncertain": self.uncertain,
            "skipped": self.skipped,
        }


# --- enqueue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One email to queue: see :func:`enqueue` for what each field means."""

    key: str
    kind: str
    template: str
    language: str
    context: Mapping[str, Any]
    to: Sequence[str]
    cc: Sequence[str] = ()
    attachments: Sequence[Mapping[str, str]] = ()
    cycle_id: int | None = None
    entity_code: str | None = None
    focal_point_id: int | None = None


def enqueue(
    session: Session,
    *,
    key: str,
    kind: str,
    template: str,
    language: str,
    context: Mapping[str, Any],
    to: Sequence[str],
    cc: Sequence[str] = (),
    attachments: Sequence[Mapping[str, str]] = (),
    cycle_id: int | None = None,
    entity_code: str | None = None,
    focal_point_id: int | None = None,
) -> OutboxMessage:
    """Queue a message under an idempotency key; an existing key returns its row unchanged.

    Everything that can be checked now is (template, language, addresses, blobs, a dry
    render with a placeholder link), so a bad message fails in the task that made it.
    ``context["upload_link"] = {"focal_point_id", "cycle_id"}`` asks for a personal link,
    issued at send time. Concurrent calls with one key insert one row: the insert is
    ``ON CONFLICT DO NOTHING``. (Not a SAVEPOINT: with pysqlite, a SAVEPOINT that opens a
    transaction commits when released, outside the caller's transaction.)
    """
    message = Message(
        key=key,
        kind=kind,
        template=template,
        language=language,
        context=context,
        to=to,
        cc=cc,
        attachments=attachments,
        cycle_id=cycle_id,
        entity_code=entity_code,
        focal_point_id=focal_point_id,
    )
    queued = enqueue_many(session, [message])[0]
    if isinstance(queued, ValueError):
        raise queued
    return queued


#: Messages per ``INSERT``: a statement's bound parameters stay well under SQLite's limit.
_MESSAGES_PER_INSERT = 50


def enqueue_many(session: Session, messages: Sequence[Message]) -> list[OutboxMessage | ValueError]:
    """Queue ``messages`` as :func:`enqueue` does each, with one look-up and one insert for
    all of them; per message, its row, or the ``ValueError`` that says why it cannot be
    queued (the others are queued all the same).

    Why: a decision queues one feedback email, and decisions are recorded a few dozen to a
    transaction; a look-up and an insert per message were a third of their time.
    """
    keys = [m.key for m in messages if m.key and len(m.key) <= 200]
    known: dict[str, int] = {}
    if keys:
        known = dict(
            session.execute(
                select(OutboxMessage.idempotency_key, OutboxMessage.id).where(
                    OutboxMessage.idempotency_key.in_(sorted(set(keys)))
                )
            ).all()
        )
    fresh: dict[str, dict[str, Any]] = {}
    refused: dict[int, ValueError] = {}
    for index, message in enumerate(messages):
        if message.key in known or message.key in fresh:
            continue  # a re-run: nothing to check, nothing to change
        try:
            fresh[message.key] = _values(message)
        except ValueError as exc:
            refused[index] = exc
    rows = {key: session.get_one(OutboxMessage, row_id) for key, row_id in known.items()}
    rows.update(_insert(session, list(fresh.values())))
    return [refused.get(i) or rows[message.key] for i, message in enumerate(messages)]


def _values(message: Message) -> dict[str, Any]:
    """The row for ``message``, once everything that can be checked now is."""
    if not message.key or len(message.key) > 200:
        raise ValueError("an idempotency key of 1 to 200 characters is required")
    check(message.template, message.language)
    recipients = [_address(a) for a in message.to]
    copies = [_address(a) for a in message.cc]
    if not recipients:
        raise ValueError("a message needs at least one recipient")
    files = [_attachment_ref(a) for a in message.attachments]
    stored_context = json.loads(json.dumps(dict(message.context)))  # JSON or fail now
    link = stored_context.get("upload_link")
    if link is not None and not (
        isinstance(link, dict)
        and isinstance(link.get("focal_point_id"), int)
        and isinstance(link.get("cycle_id"), int)
    ):
        raise ValueError('upload_link must be {"focal_point_id": int, "cycle_id": int}')
    preview = mail_settings().upload_url(_PLACEHOLDER_TOKEN) if link else None
    template, language = message.template, message.language
    try:
        render(template, language, _render_context(stored_context, files, preview))
    except TemplateError as exc:
        raise ValueError(f"{template}/{language} does not render with this context: {exc}") from exc
    return {
        "idempotency_key": message.key,
        "kind": message.kind,
        "template": template,
        "language": language,
        "context": stored_context,
        "to_addrs": recipients,
        "cc_addrs": copies,
        "attachments": files,
        "cycle_id": message.cycle_id,
        "entity_code": message.entity_code,
        "focal_point_id": message.focal_point_id,
        "state": PENDING,
        "attempts": 0,
        "created_at": clock.now(),
    }


def _insert(session: Session, values: Sequence[dict[str, Any]]) -> dict[str, OutboxMessage]:
    """Insert the rows (``ON CONFLICT DO NOTHING``); each key's row, whoever inserted it."""
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):  # the two databases resotrack supports
        raise NotImplementedError(f"the outbox does not support {dialect}")
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    inserted: dict[str, int] = {}
    for start in range(0, len(values), _MESSAGES_PER_INSERT):
        chunk = values[start : start + _MESSAGES_PER_INSERT]
        statement = insert(OutboxMessage).values(chunk).on_conflict_do_nothing()
        returning = statement.returning(OutboxMessage.idempotency_key, OutboxMessage.id)
        inserted.update((key, row_id) for key, row_id in session.execute(returning))
    rows: dict[str, OutboxMessage] = {}
    for value in values:
        key = value["idempotency_key"]
        if key not in inserted:  # a concurrent call queued it first
            found = select(OutboxMessage).where(OutboxMessage.idempotency_key == key)
            rows[key] = session.scalars(found).one()
            continue
        # The row as inserted, without reading it back (a query per message, every feedback).
        row = OutboxMessage(id=inserted[key], **value)
        make_transient_to_detached(row)
        session.add(row)
        audit.record(
            session, ACTOR, "outbox.queued", f"outbox:{row.id}", key=key, kind=value["kind"]
        )
        rows[key] = row
    return rows


def _address(value: str) -> str:
    address = value.strip()
    if address.count("@") != 1 or any(c in address for c in "\r\n,;<> \t"):
        raise ValueError(f"not a plain email address: {value!r}")
    return address


def _attachment_ref(ref: Mapping[str, str]) -> dict[str, str]:
    filename, sha = ref.get("filename"), ref.get("sha256")
    if not filename or not sha:
        raise ValueError("an attachment needs a filename and a sha256")
    if not blob_store().exists(sha):
        raise ValueError(f"attachment {filename!r}: blob {sha} is not in the blob store")
    content_type = ref.get("content_type") or (
        XLSX if filename.lower().endswith(".xlsx") else "application/octet-stream"
    )
    return {"filename": filename, "sha256": sha, "content_type": content_type}


def _render_context(
    context: Mapping[str, Any], attachments: Sequence[Mapping[str, str]], upload_url: str | None
) -> dict[str, Any]:
    values = {k: v for k, v in context.items() if k != "upload_link"}
    values["attachment_names"] = [a["filename"] for a in attachments]
    if upload_url:
        values["upload_url"] = upload_url
    return values


# --- send --------------------------------------------------------------------------------


def message_id(row_id: int, key: str, settings: MailSettings) -> str:
    """Deterministic, so staff can search a mailbox or relay log for it."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return f"<outbox-{row_id}.{digest}@{settings.from_domain}>"


def send_pending(
    *,
    limit: int | None = None,
    sender: Sender | None = None,
    settings: MailSettings | None = None,
    url: str | None = None,
) -> SendReport:
    """Deliver the due rows (see the module docstring); raise if any did not go out.

    One SMTP connection serves the whole run. Refused rows are retried within the run up to
    ``mail_run_retries`` more rounds, sleeping until they are due (at most
    ``mail_run_max_wait_seconds``). When the server cannot be reached at all, the rest of
    the round counts the same failure without reconnecting, so an outage costs one connect
    timeout per round, not one per message. ``sender`` defaults to a
    :class:`YagmailSender`, closed at the end; a sender passed in is left open for its owner.
    """
    settings = settings or mail_settings()
    owned = sender is None
    smtp: Sender = sender if sender is not None else YagmailSender(settings)
    outcomes: dict[int, str] = {}
    try:
        for row_id in _expire_leases(settings, url):
            outcomes[row_id] = UNCERTAIN
        ids = _due_ids(url, limit)
        rounds = 0
        while ids:
            down: list[NotAccepted] = []  # set by the first "unreachable" of the round
            for row_id in ids:
                outcome = _send_one(row_id, smtp, settings, url, down)
                # A row retried earlier in this run and not due yet keeps that outcome.
                outcomes[row_id] = outcomes.get(row_id, SKIPPED) if outcome == NOT_DUE else outcome
            ids = [i for i in ids if outcomes[i] == RETRIED]
            if not ids or rounds >= settings.mail_run_retries:
                break
            wait = _seconds_until_due(ids, url)
            if wait > settings.mail_run_max_wait_seconds:
                break
            time.sleep(wait)
            rounds += 1
    finally:
        if owned:
            smtp.close()
    report = SendReport.of(outcomes)
    log.info("outbox run: %s", {k: len(v) for k, v in report.as_dict().items()})
    if not report.ok:
        with session_scope(url) as session:
            bad = report.failed + report.retried + report.uncertain
            details = {
                row.id: f"{row.state}, {row.attempts} attempt(s): {row.last_error}"
                for row in session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(bad)))
            }
        raise OutboxDeliveryError(report, details)
    return report


def _due() -> Any:
    now = clock.now()
    return and_(
        OutboxMessage.state == PENDING,
        or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
    )


def _due_ids(url: str | None, limit: int | None) -> list[int]:
    with session_scope(url) as session:
        query = select(OutboxMessage.id).where(_due()).order_by(OutboxMessage.id)
        if limit is not None:
            query = query.limit(limit)
        return list(session.scalars(query))


def _seconds_until_due(ids: Sequence[int], url: str | None) -> float:
    """How long until every one of ``ids`` is due again."""
    with session_scope(url) as session:
        times = session.scalars(
            select(OutboxMessage.next_attempt_at).where(OutboxMessage.id.in_(ids))
        ).all()
    due = [_aware(t) for t in times if t is not None]
    if not due:
        return 0.0
    return max(0.0, (max(due) - clock.now()).total_seconds())


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=clock.UTC)


def _expire_leases(settings: MailSettings, url: str | None) -> list[int]:
    """Rows left in ``sending`` past the lease: their worker died, they may have been sent."""
    cutoff = clock.steady() - timedelta(seconds=settings.mail_lease_seconds)
    note = (
        "the worker stopped after claiming this message and before recording the outcome; "
        "it may have been delivered: check, then confirm or resend"
    )
    with session_scope(url) as session:
        expired = list(
            session.scalars(
                update(OutboxMessage)
                .where(OutboxMessage.state == SENDING, OutboxMessage.claimed_at < cutoff)
                .values(state=UNCERTAIN, last_error=note)
                .returning(OutboxMessage.id)
            )
        )
        for row_id in expired:
            audit.record(session, ACTOR, "outbox.uncertain", f"outbox:{row_id}", reason="lease")
    for row_id in expired:
        log.warning("outbox #%s is uncertain: its worker died during the send", row_id)
    return expired


def _send_one(
    row_id: int, sender: Sender, settings: MailSettings, url: str | None, down: list[NotAccepted]
) -> str:
    with session_scope(url) as session:
        found = session.get(OutboxMessage, row_id)
        if found is None or found.state != PENDING:
            return SKIPPED
        if found.next_attempt_at is not None and _aware(found.next_attempt_at) > clock.now():
            return NOT_DUE
        envelope = Envelope(settings.mail_from, tuple(found.to_addrs) + tuple(found.cc_addrs))

    # 1. Everything before the message: a failure here proves nothing left.
    if down:
        return _not_accepted(row_id, PENDING, str(down[0]), None, settings, url)
    try:
        refused = sender.begin(envelope)
    except NotAccepted as exc:
        if exc.unreachable:
            down.append(exc)
        return _not_accepted(row_id, PENDING, str(exc), None, settings, url)

    # 2. Claim, issue the link, render: one short transaction.
    try:
        with session_scope(url) as session:
            claimed = _claim(session, row_id)
            if claimed is None:
                sender.abort()
                return SKIPPED
            message, token = _build(session, claimed, settings)
    except ComposeError as exc:
        sender.abort()
        return _give_up(row_id, str(exc), url)
    except BaseException:
        sender.abort()
        raise

    # 3. DATA: the uncertain window.
    try:
        sender.data(message)
    except NotAccepted as exc:
        return _not_accepted(row_id, SENDING, str(exc), token, settings, url)
    except Exception as exc:  # the server may have the message: never resend on our own
        return _uncertain(row_id, str(exc), url)

    # 4. Record the delivery.
    note = "; ".join(f"refused {k}: {v}" for k, v in refused.items()) or None
    with session_scope(url) as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id, OutboxMessage.state.in_((SENDING, UNCERTAIN)))
            .values(state=SENT, sent_at=clock.now(), next_attempt_at=None, last_error=note)
        )
        audit.record(session, ACTOR, "outbox.sent", f"outbox:{row_id}", refused=refused)
    return SENT


def _claim(session: Session, row_id: int) -> OutboxMessage | None:
    """``pending → sending`` if the row is still due and nobody else holds it."""
    query = select(OutboxMessage).where(OutboxMessage.id == row_id, _due())
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    row = session.scalars(query).one_or_none()
    if row is None:
        return None
    # On SQLite the read takes no lock: this conditional update is the claim.
    won = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id, _due())
        .values(state=SENDING, claimed_at=clock.steady())  # a lease: see _expire_leases
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if won != 1:
        return None
    session.refresh(row)
    audit.record(session, ACTOR, "outbox.claimed", f"outbox:{row_id}")
    return row


class UploadLinks(Protocol):
    """Who issues the personal upload links a message asks for (``context["upload_link"]``).

    The outbox asks for a link and puts it in the message; issuing and revoking belong to the
    questionnaires' side (``resotrack.tokens.UPLOAD_LINKS``, named by the setting
    ``mail_upload_links``), so mail does not depend on who may upload what.
    """

    def issue(self, session: Session, focal_point_id: int, cycle_id: int) -> str:
        """A fresh raw token; ``LookupError`` when that person may no longer have one."""
        ...

    def revoke(self, session: Session, token: str, *, actor: str) -> None:
        """Withdraw a token whose message reached nobody."""
        ...

    def reply_address(self, mailbox: str, focal_point_id: int, cycle_id: int) -> str:
        """``mailbox`` plus-addressed with the focal point's signed tag: a reply that comes
        back there is authenticated as theirs, for this cycle (the message's Reply-To)."""
        ...


def upload_links(settings: MailSettings) -> UploadLinks:
    """The link issuer named by ``settings.mail_upload_links`` (``module:attribute``)."""
    module, _, name = settings.mail_upload_links.partition(":")
    return cast(UploadLinks, getattr(import_module(module), name))


def _build(
    session: Session, row: OutboxMessage, settings: MailSettings
) -> tuple[bytes, str | None]:
    """Issue the upload token (if any), render and compose; the token lives only in memory."""
    token: str | None = None
    upload_url: str | None = None
    reply_to: str | None = None
    link = row.context.get("upload_link")
    if link:
        focal_point_id, cycle_id = int(link["focal_point_id"]), int(link["cycle_id"])
        links = upload_links(settings)
        try:
            # One live link per focal point and cycle: the issuer revokes any sent before.
            token = links.issue(session, focal_point_id, cycle_id)
        except LookupError as exc:
            raise ComposeError(str(exc)) from exc
        upload_url = settings.upload_url(token)
        # A reply by email is authenticated by where it comes back to (see intake.replyauth).
        reply_to = links.reply_address(
            settings.mail_reply_to or settings.mail_from, focal_point_id, cycle_id
        )
    try:
        rendered = render(
            row.template, row.language, _render_context(row.context, row.attachments, upload_url)
        )
        files = [_load(a) for a in row.attachments]
        mid = message_id(row.id, row.idempotency_key, settings)
        message = compose(
            settings=settings,
            rendered=rendered,
            to=row.to_addrs,
            cc=row.cc_addrs,
            message_id=mid,
            language=row.language,
            date=clock.now(),
            attachments=files,
            reply_to=reply_to,
        )
        data = message.as_bytes()
    except (TemplateError, UnknownTemplate, BlobNotFound, ValueError) as exc:
        raise ComposeError(f"{type(exc).__name__}: {exc}") from exc
    row.message_id = mid
    row.subject = rendered.subject
    return data, token


def _load(ref: Mapping[str, str]) -> Attachment:
    data = blob_store().get(ref["sha256"])
    if hashlib.sha256(data).hexdigest() != ref["sha256"]:
        raise ValueError(f"blob {ref['sha256']} is corrupt: its bytes do not match its hash")
    return Attachment(ref["filename"], ref["content_type"], data)


def _not_accepted(
    row_id: int,
    from_state: str,
    error: str,
    token: str | None,
    settings: MailSettings,
    url: str | None,
) -> str:
    """The server did not take the message: try again later, or give up after the last try."""
    with session_scope(url) as session:
        query = select(OutboxMessage).where(OutboxMessage.id == row_id)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        row = session.scalars(query).one()
        if row.state != from_state:  # another worker moved it meanwhile
            return SKIPPED
        if token:  # this attempt's link reached nobody
            upload_links(settings).revoke(session, token, actor=ACTOR)
        row.attempts += 1
        row.last_error = error[:2000]
        row.claimed_at = None
        if row.attempts >= settings.mail_max_attempts:
            row.state, row.next_attempt_at = FAILED, None
            audit.record(session, ACTOR, "outbox.failed", f"outbox:{row_id}", error=error[:500])
            log.error("outbox #%s failed after %s attempts: %s", row_id, row.attempts, error)
            return FAILED
        delay = settings.mail_backoff_base_seconds * 2 ** (row.attempts - 1)
        row.state, row.next_attempt_at = PENDING, clock.now() + timedelta(seconds=delay)
        audit.record(session, ACTOR, "outbox.retry", f"outbox:{row_id}", error=error[:500])
        log.warning("outbox #%s not accepted (attempt %s): %s", row_id, row.attempts, error)
        return RETRIED


def _give_up(row_id: int, error: str, url: str | None) -> str:
    with session_scope(url) as session:
        changed = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id, OutboxMessage.state == PENDING)
            .values(state=FAILED, last_error=error[:2000], next_attempt_at=None)
        ).rowcount  # type: ignore[attr-defined]
        if not changed:
            return SKIPPED
        audit.record(session, ACTOR, "outbox.failed", f"outbox:{row_id}", error=error[:500])
    log.error("outbox #%s cannot be built: %s", row_id, error)
    return FAILED


def _uncertain(row_id: int, error: str, url: str | None) -> str:
    with session_scope(url) as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id, OutboxMessage.state == SENDING)
            .values(state=UNCERTAIN, last_error=f"interrupted during DATA: {error}"[:2000])
        )
        audit.record(session, ACTOR, "outbox.uncertain", f"outbox:{row_id}", error=error[:500])
    log.error("outbox #%s is uncertain: %s", row_id, error)
    return UNCERTAIN


# --- staff -------------------------------------------------------------------------------


def resend_uncertain(session: Session, ids: Sequence[int], actor: str) -> list[int]:
    """Staff checked that these uncertain messages did not arrive: queue them again."""
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.state == UNCERTAIN)
    ).all()
    for row in rows:
        row.state, row.next_attempt_at, row.claimed_at = PENDING, None, None
        audit.record(session, actor, "outbox.resend", f"outbox:{row.id}", was=row.last_error)
    return sorted(row.id for row in rows)


def retry_failed(session: Session, ids: Sequence[int], actor: str) -> list[int]:
    """Staff fixed the cause (an address, the relay): give these failed messages a new round.

    Safe to do: the server never accepted a failed message.
    """
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.state == FAILED)
    ).all()
    for row in rows:
        row.state, row.attempts, row.next_attempt_at = PENDING, 0, None
        audit.record(session, actor, "outbox.retry_failed", f"outbox:{row.id}", was=row.last_error)
    return sorted(row.id for row in rows)


def confirm_uncertain(session: Session, ids: Sequence[int], actor: str) -> list[int]:
    """Staff found these uncertain messages delivered: record them as sent."""
    rows = session.scalars(
        select(OutboxMessage).where(OutboxMessage.id.in_(ids), OutboxMessage.state == UNCERTAIN)
    ).all()
    for row in rows:
        row.state, row.sent_at = SENT, row.claimed_at
        audit.record(session, actor, "outbox.confirmed", f"outbox:{row.id}")
    return sorted(row.id for row in rows)


def list_messages(
    session: Session, state: str | None = None, cycle_id: int | None = None
) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if state is not None:
        query = query.where(OutboxMessage.state == state)
    if cycle_id is not None:
        query = query.where(OutboxMessage.cycle_id == cycle_id)
    return list(session.scalars(query))
