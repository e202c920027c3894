"""Compose MIME messages and hand them to an SMTP server, in two steps.

A send is split so that the outbox can keep its uncertain window small: :meth:`Sender.begin`
does everything before the message itself (connect, EHLO, STARTTLS, AUTH, MAIL FROM,
RCPT TO), and :meth:`Sender.data` transmits the message. Whatever fails in ``begin`` proves
the server has not taken the message; only ``data`` can leave us not knowing.

:class:`YagmailSender` uses yagmail for the connection (SSL or STARTTLS, login with the
password from the settings, or no login for a local relay via ``smtp_skip_login``), then
drives the envelope and DATA itself on yagmail's smtplib connection. It does not call
``yagmail.SMTP.send``: that builds its text part from the HTML string, and on a dropped
connection it re-sends DATA by itself (a possible duplicate) after sleeping seconds.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime
from typing import Any, Protocol

import yagmail

from resotrack.mail.config import MailSettings, mail_settings
from resotrack.mail.headers import EncodedSubject
from resotrack.mail.render import Rendered

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class NotAccepted(Exception):
    """The server did not take the message (no connection, or a 4xx/5xx reply): retry is safe.

    ``unreachable`` means no session could be opened at all (connect, TLS, EHLO or login):
    the same would happen to every other message right now.
    """

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


class DeliveryUncertain(Exception):
    """The connection broke during DATA: the message may or may not have been taken."""


@dataclass(frozen=True)
class Envelope:
    """The SMTP envelope: who the bounce goes to and who receives the message."""

    sender: str
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


class Sender(Protocol):
    """A connection to a mail server, kept open across a batch."""

    def begin(self, envelope: Envelope) -> dict[str, str]:
        """Open (or reuse) the connection and announce sender and recipients.

        Returns the recipients the server refused (address → reply) when it accepted at
        least one; raises :class:`NotAccepted` otherwise.
        """
        ...

    def data(self, message: bytes) -> None:
        """Transmit the message of the transaction :meth:`begin` opened.

        Raises :class:`NotAccepted` on a refusal reply, :class:`DeliveryUncertain` when the
        outcome is unknown; returns only once the server has accepted the message.
        """
        ...

    def abort(self) -> None:
        """Abandon the transaction :meth:`begin` opened (RSET); the connection stays usable."""
        ...

    def close(self) -> None: ...


def compose(
    *,
    settings: MailSettings,
    rendered: Rendered,
    to: Sequence[str],
    cc: Sequence[str],
    message_id: str,
    language: str,
    date: datetime,
    attachments: Sequence[Attachment] = (),
    reply_to: str | None = None,
) -> EmailMessage:
    """A multipart message: text and HTML alternatives, then the attachments.

    ``reply_to`` (a focal point's signed reply address) overrides the configured Reply-To."""
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = Address(display_name=settings.mail_from_name, addr_spec=settings.mail_from)
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    if reply_to or settings.mail_reply_to:
        msg["Reply-To"] = reply_to or settings.mail_reply_to
    msg["Subject"] = EncodedSubject(rendered.subject)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    # Out-of-office robots should not answer; people still can (the workbook comes back that way).
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    msg["Content-Language"] = language
    msg.set_content(rendered.text, subtype="plain", charset="utf-8")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8")
    for item in attachments:
        maintype, _, subtype = item.content_type.partition("/")
        msg.add_attachment(
            item.data,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=item.filename.replace("\\", "/").rsplit("/", 1)[-1],
        )
    return msg


def _reply_text(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return f"{code} {' '.join(text.split())}"


class YagmailSender:
    """One SMTP connection per batch, opened by yagmail, reopened after any failure."""

    def __init__(self, settings: MailSettings | None = None) -> None:
        self.settings = settings or mail_settings()
        self._client: Any = None  # yagmail.SMTP; untyped package

    # -- connection ------------------------------------------------------------------------

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        login = s.smtp_user
        tls = ssl.create_default_context(cafile=s.smtp_ca_file)  # smtplib alone would not verify
        extra: dict[str, Any] = {"timeout": s.smtp_timeout_seconds}
        if s.smtp_security == "ssl":
            extra["context"] = tls
        client = yagmail.SMTP(
            user=login or s.mail_from,
            # Passed explicitly (never None), so yagmail neither asks a keyring nor prompts.
            password=s.smtp_password.get_secret_value(),
            host=s.smtp_host,
            port=s.smtp_port,
            smtp_ssl=s.smtp_security == "ssl",
            smtp_starttls={"context": tls} if s.smtp_security == "starttls" else False,
            smtp_skip_login=not login,
            oauth2_file=None,
            soft_email_validation=False,
            **extra,
        )
        # yagmail appends "@gmail.com" to a login name without "@"; log in as configured.
        client.user = login or s.mail_from
        self._client = client
        client.login()
        smtp: smtplib.SMTP = client.smtp
        smtp.ehlo_or_helo_if_needed()
        return smtp

    def _connection(self) -> smtplib.SMTP:
        """The open connection if it still answers, else a new one."""
        if self._client is not None:
            smtp: smtplib.SMTP = self._client.smtp
            try:
                if smtp.noop()[0] == 250:
                    return smtp
            except (smtplib.SMTPException, OSError):
                pass
            self._discard()
        return self._open()

    def _discard(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        with contextlib.suppress(Exception):  # a broken connection may fail to say goodbye
            client.close()
        with contextlib.suppress(Exception):
            client.smtp.close()

    # -- Sender ----------------------------------------------------------------------------

    def begin(self, envelope: Envelope) -> dict[str, str]:
        try:
            smtp = self._connection()
        except Exception as exc:
            self._discard()
            raise NotAccepted(f"{type(exc).__name__}: {exc}", unreachable=True) from exc
        try:
            code, reply = smtp.mail(envelope.sender)
            if code != 250:
                raise NotAccepted(f"MAIL FROM refused: {_reply_text(code, reply)}")
            refused: dict[str, str] = {}
            for rcpt in envelope.recipients:
                code, reply = smtp.rcpt(rcpt)
                if code not in (250, 251):
                    refused[rcpt] = _reply_text(code, reply)
            if len(refused) == len(envelope.recipients):
                listed = "; ".join(f"{k}: {v}" for k, v in refused.items())
                raise NotAccepted(f"RCPT TO refused for every recipient: {listed}")
            return refused
        except NotAccepted:
            self._discard()
            raise
        except Exception as exc:  # before DATA nothing can have been delivered
            self._discard()
            raise NotAccepted(f"{type(exc).__name__}: {exc}") from exc

    def data(self, message: bytes) -> None:
        if self._client is None:
            raise RuntimeError("data() without a successful begin()")
        smtp: smtplib.SMTP = self._client.smtp
        try:
            code, reply = smtp.data(message)
        except smtplib.SMTPResponseException as exc:  # the server answered the DATA command: no
            self._discard()
            refusal = _reply_text(exc.smtp_code, exc.smtp_error)
            raise NotAccepted(f"DATA refused: {refusal}") from exc
        except Exception as exc:  # the answer was lost: the server may have the message
            self._discard()
            raise DeliveryUncertain(f"{type(exc).__name__} during DATA: {exc}") from exc
        if code != 250:
            self._discard()
            raise NotAccepted(f"DATA refused: {_reply_text(code, reply)}")

    def abort(self) -> None:
        if self._client is None:
            return
        try:
            self._client.smtp.rset()
        except Exception:
            self._discard()

    def close(self) -> None:
        self._discard()
