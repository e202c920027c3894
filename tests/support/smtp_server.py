"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, in a thread, on a free port.

It keeps what it accepts (raw bytes and envelope), can be told to refuse (a reply code at
RCPT or DATA) or to hang up after taking a message, can require a login, counts EHLOs (one
per connection), and can be stopped and started again on the same port to play a server
that is down. Use the ``smtp_server`` fixture, or ``SmtpServer`` directly::

    with SmtpServer() as server:
        ...  # send to 127.0.0.1:server.port
        assert len(server.messages) == 1
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass(frozen=True)
class Received:
    """One accepted message, as the server saw it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.raw, policy=policy.default)


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert, key); the cert is its own CA file."""
    from cryptography import x509  # Airflow's dependency; imported only by TLS tests
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Handler:
    def __init__(self, owner: SmtpServer) -> None:
        self.owner = owner

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname  # a handle_EHLO hook must do what the default does
        with self.owner.lock:
            self.owner.ehlos += 1
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self.owner.refusal and self.owner.refusal[0] == "RCPT":
            return self.owner.refusal[1]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.owner.refusal and self.owner.refusal[0] == "DATA":
            return self.owner.refusal[1]
        received = Received(
            envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.original_content)
        )
        with self.owner.lock:
            self.owner.messages.append(received)
            held = self.owner.hold_after is not None and (
                len(self.owner.messages) >= self.owner.hold_after
            )
        while held and not self.owner.released.is_set():  # the sender waits for our reply
            await asyncio.sleep(0.01)
        if self.owner.drop_after_data:  # took the message, but the reply never leaves
            server.transport.close()
        return "250 2.0.0 Message accepted for delivery"


class SmtpServer:
    """An aiosmtpd server bound to 127.0.0.1:``port`` (a free one unless given)."""

    def __init__(
        self,
        port: int | None = None,
        *,
        auth: tuple[str, str] | None = None,
        tls: Literal["starttls", "ssl"] | None = None,
        certificate: tuple[Path, Path] | None = None,
    ) -> None:
        if tls and certificate is None:
            raise ValueError("TLS needs a certificate: see make_certificate()")
        self.port = port or free_port()
        self.auth = auth
        self.tls = tls
        self.certificate = certificate
        self.messages: list[Received] = []
        self.logins: list[str] = []
        self.lock = threading.Lock()
        self.refusal: tuple[Literal["RCPT", "DATA"], str] | None = None
        self.drop_after_data = False
        self.hold_after: int | None = None
        self.released = threading.Event()
        self.ehlos = 0
        self._controller: Controller | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> SmtpServer:
        if self._controller is not None:
            return self
        kwargs: dict[str, Any] = {}
        if self.auth:
            kwargs["authenticator"] = self._authenticate
            kwargs["auth_require_tls"] = self.tls == "starttls"
        if self.tls and self.certificate:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*self.certificate)
            if self.tls == "starttls":
                kwargs["tls_context"] = context
                kwargs["require_starttls"] = True
            else:
                kwargs["ssl_context"] = context
        for _ in range(50):  # the port may linger for a moment after a stop
            controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, **kwargs)
            try:
                controller.start()
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"cannot listen on 127.0.0.1:{self.port}")
        self._controller = controller
        return self

    def stop(self) -> None:
        """Go down: new connections are refused until :meth:`start`."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- behaviour -------------------------------------------------------------------------

    def hold(self, after: int) -> None:
        """Take message number ``after`` and any later one, but keep the reply to its DATA
        until :meth:`release`: the sender hangs there, at a known point, for as long as a
        test needs (to kill it mid-run whatever the machine's load)."""
        self.released.clear()
        self.hold_after = after

    def release(self) -> None:
        self.hold_after = None
        self.released.set()

    def refuse(
        self, at: Literal["RCPT", "DATA"] = "DATA", reply: str = "554 5.7.1 Refused"
    ) -> None:
        """Answer ``reply`` at RCPT or at the end of DATA until :meth:`accept`."""
        self.refusal = (at, reply)

    def accept(self) -> None:
        self.refusal = None
        self.drop_after_data = False

    def drop_connection_after_data(self) -> None:
        """Keep each message but close the connection before replying to it."""
        self.drop_after_data = True

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert self.auth is not None
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode()
        ok = (login, auth_data.password.decode()) == self.auth
        if ok:
            with self.lock:
                self.logins.append(login)
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd replies 535

    # -- inspection ------------------------------------------------------------------------

    def received(self) -> list[Received]:
        with self.lock:
            return list(self.messages)

    def by_message_id(self) -> dict[str, list[Received]]:
        found: dict[str, list[Received]] = {}
        for item in self.received():
            found.setdefault(str(item.message["Message-ID"]), []).append(item)
        return found


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    try:
        yield server
    finally:
        server.stop()
