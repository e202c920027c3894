"""A real IMAP server for tests: a private dovecot on 127.0.0.1, as a subprocess.

Each instance has its own configuration, passwd-file user, maildir and runtime folders in a
temporary directory, listens on free loopback ports (plain IMAP, and IMAPS/STARTTLS with a
throw-away certificate when ``tls=True``) and is stopped at teardown. Messages are delivered
the way a mail server would hand them over, by IMAP ``APPEND``. Use the ``imap_server``
fixture, or ``DovecotServer`` directly::

    with DovecotServer() as server:
        uid = server.deliver(message_bytes)
        settings = server.settings()  # IntakeSettings pointing at it

The ``mailbox`` fixture gives each test its own folder on one server per module (starting
and stopping dovecot takes about a second), through the same methods.

``scripts/system-deps.sh`` installs dovecot (Debian's ``dovecot-imapd``) when missing.
"""

from __future__ import annotations

import imaplib
import itertools
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from resotrack.intake.config import IntakeSettings
from support.smtp_server import free_port, make_certificate

USER = "returns"
PASSWORD = "s3cret-for-tests"


def _find_dovecot() -> str:
    found = shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
    )
    if not found:
        pytest.fail("dovecot is not installed: run scripts/system-deps.sh")
    return found


class DovecotServer:
    """One private dovecot instance; ``start()``/``stop()`` or use it as a context manager."""

    def __init__(self, *, tls: bool = False) -> None:
        self.tls = tls
        # Dovecot's unprivileged processes must reach these folders, so they live in their
        # own world-traversable temporary directory rather than in pytest's private tmp_path.
        self.root = Path(tempfile.mkdtemp(prefix="resotrack-dovecot-"))
        self.root.chmod(0o755)
        self.port = free_port()
        self.tls_port = free_port() if tls else 0
        self.cert: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    # --- configuration -------------------------------------------------------------------

    def _accounts(self) -> dict[str, Any]:
        """Who runs what: as root, dovecot's own users; otherwise, the current user for all."""
        if os.geteuid() == 0:
            mail = pwd.getpwnam("nobody")
            return {
                "internal_user": "dovecot",
                "login_user": "dovenull",
                "mail_uid": mail.pw_uid,
                "mail_gid": mail.pw_gid,
            }
        me = pwd.getpwuid(os.geteuid())
        return {
            "internal_user": me.pw_name,
            "login_user": me.pw_name,
            "mail_uid": me.pw_uid,
            "mail_gid": me.pw_gid,
        }

    def _write_config(self) -> Path:
        accounts = self._accounts()
        mail = self.root / "mail"
        home = self.root / "home"
        for folder in (mail, home):
            folder.mkdir()
            if os.geteuid() == 0:
                os.chown(folder, accounts["mail_uid"], accounts["mail_gid"])
        (self.root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
        ssl = "ssl = no"
        imaps = "port = 0"
        if self.tls:
            self.cert, key = make_certificate(self.root)
            ssl = f"ssl = yes\nssl_cert = <{self.cert}\nssl_key = <{key}"
            imaps = f"address = 127.0.0.1\n    port = {self.tls_port}"
        config = f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
instance_name = resotrack-test-{self.port}
log_path = {self.root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {accounts["internal_user"]}
default_login_user = {accounts["login_user"]}
first_valid_uid = 1
mail_location = maildir:{mail}/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/passwd
}}
userdb {{
  driver = static
  args = uid={accounts["mail_uid"]} gid={accounts["mail_gid"]} home={home}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    {imaps}
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
"""
        path = self.root / "dovecot.conf"
        path.write_text(config)
        return path

    # --- lifecycle -----------------------------------------------------------------------

    def start(self, timeout: float = 20) -> DovecotServer:
        config = self._write_config()
        self.process = subprocess.Popen(
            [_find_dovecot(), "-c", str(config), "-F"],
            stdout=subprocess.DEVNULL,
            stderr=(self.root / "stderr.log").open("wb"),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"dovecot exited at start:\n{self.log()}")
            try:
                with imaplib.IMAP4("127.0.0.1", self.port, timeout=2) as imap:
                    imap.login(USER, PASSWORD)
                    imap.select("INBOX")  # creates the maildir
                return self
            except (OSError, imaplib.IMAP4.error):
                time.sleep(0.1)
        self.stop()
        raise AssertionError(f"dovecot did not answer on port {self.port}:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> DovecotServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def log(self) -> str:
        parts = []
        for name in ("dovecot.log", "stderr.log"):
            path = self.root / name
            if path.exists():
                parts.append(path.read_text(errors="replace")[-3000:])
        return "\n".join(parts)

    # --- use -----------------------------------------------------------------------------

    def connect(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        imap.login(USER, PASSWORD)
        return imap

    def deliver(self, raw: bytes, mailbox: str = "INBOX") -> int:
        """Put a message in the mailbox (IMAP APPEND); returns its UID."""
        with self.connect() as imap:
            typ, data = imap.append(mailbox, None, None, raw)
            assert typ == "OK", data
            found = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
            assert found, data
            return int(found.group(1))

    def flags(self, uid: int, mailbox: str = "INBOX") -> str:
        with self.connect() as imap:
            imap.select(mailbox, readonly=True)
            typ, data = imap.uid("FETCH", str(uid), "(FLAGS)")
            assert typ == "OK", data
            return str(data[0])

    def settings(self, mailbox: str = "INBOX", **overrides: Any) -> IntakeSettings:
        """Intake settings that point the poller at this server (plain IMAP on loopback)."""
        values: dict[str, Any] = {
            "imap_host": "127.0.0.1",
            "imap_port": self.port,
            "imap_security": "none",
            "imap_user": USER,
            "imap_password": PASSWORD,
            "imap_mailbox": mailbox,
            "imap_timeout_seconds": 10,
        }
        return IntakeSettings(**(values | overrides))

    def environment(self, mailbox: str = "INBOX") -> dict[str, str]:
        """The same settings as ``RESOTRACK_IMAP_*`` variables, for a subprocess."""
        return {
            "RESOTRACK_IMAP_HOST": "127.0.0.1",
            "RESOTRACK_IMAP_PORT": str(self.port),
            "RESOTRACK_IMAP_SECURITY": "none",
            "RESOTRACK_IMAP_USER": USER,
            "RESOTRACK_IMAP_PASSWORD": PASSWORD,
            "RESOTRACK_IMAP_MAILBOX": mailbox,
        }


class Mailbox:
    """One folder of a shared server, with the server's methods bound to it."""

    def __init__(self, server: DovecotServer, name: str) -> None:
        self.server = server
        self.name = name
        with server.connect() as imap:
            typ, data = imap.create(_quote(name))
            assert typ == "OK", data

    def deliver(self, raw: bytes) -> int:
        return self.server.deliver(raw, _quote(self.name))

    def flags(self, uid: int) -> str:
        return self.server.flags(uid, _quote(self.name))

    def fetch(self, uid: int) -> bytes:
        with self.server.connect() as imap:
            imap.select(_quote(self.name), readonly=True)
            typ, data = imap.uid("FETCH", str(uid), "(BODY.PEEK[])")
            assert typ == "OK", data
            return bytes(data[0][1])

    def settings(self, **overrides: Any) -> IntakeSettings:
        return self.server.settings(self.name, **overrides)

    def environment(self) -> dict[str, str]:
        return self.server.environment(self.name)


def _quote(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture(scope="module", name="imap_server")
def imap_server_fixture() -> Iterator[DovecotServer]:
    """One dovecot for the module; tests use their own ``mailbox``."""
    with DovecotServer() as server:
        yield server


@pytest.fixture(name="mailbox")
def mailbox_fixture(imap_server: DovecotServer) -> Mailbox:
    """A fresh folder (its name has a space, as real ones do) for one test."""
    return Mailbox(imap_server, f"Returns {next(_counter)}")


_counter = itertools.count(1)
