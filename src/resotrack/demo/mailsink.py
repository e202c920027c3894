"""A local SMTP server that keeps every message it accepts as a file in a maildir.

The demo sends real mail through the real outbox, so something must receive it; a maildir is
what a person can open (any mail client reads one; each message is a plain ``.eml``-like file
in ``new/``) and what the simulated focal points read their upload links from. One message is
kept once whatever its number of recipients, with the envelope in two headers on top.

Run it as ``python -m resotrack.demo.mailsink --port 28025 --maildir var/mail``; it stops
cleanly on SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
import mailbox
import re
import signal
import threading
from collections.abc import Container
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from types import FrameType
from typing import Any

ACCEPTED = "250 2.0.0 Kept in the maildir"


class MaildirHandler:
    """aiosmtpd handler: each message goes to ``new/`` (written in ``tmp/``, then renamed)."""

    def __init__(self, folder: Path) -> None:
        self.maildir = mailbox.Maildir(folder, create=True)
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = bytes(envelope.original_content or envelope.content or b"")
        envelope_headers = (
            f"Return-Path: <{envelope.mail_from}>\r\n"
            f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        with self.lock:
            self.maildir.add(envelope_headers + raw)
        return ACCEPTED


def serve(host: str, port: int, folder: Path) -> None:
    """Accept mail on ``host:port`` until SIGTERM or SIGINT."""
    from aiosmtpd.controller import Controller

    controller = Controller(MaildirHandler(folder), hostname=host, port=port)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    controller.start()
    print(f"mailsink: listening on {host}:{port}, keeping mail in {folder}", flush=True)
    try:
        stop.wait()
    finally:
        controller.stop()
        print("mailsink: stopped", flush=True)


# --- the reading side --------------------------------------------------------------------


def messages(folder: Path, skip: Container[str] = ()) -> list[tuple[str, EmailMessage]]:
    """Messages kept so far as (maildir key, message), oldest first, leaving out ``skip``."""
    if not (folder / "new").is_dir():
        return []
    box = mailbox.Maildir(folder, create=False)
    found = []
    keys = [k for k in box.keys() if k not in skip]  # noqa: SIM118 (iterating a mailbox yields messages)
    for key in sorted(keys, key=_arrival):
        try:
            data = box.get_bytes(key)
        except (KeyError, OSError):  # moved or removed by a mail client meanwhile
            continue
        found.append((key, message_from_bytes(data, policy=policy.default)))
    return found


_UNIQUE = re.compile(r"^(\d+)\.M(\d+)P\d+Q(\d+)")


def _arrival(key: str) -> tuple[int, int, int, str]:
    """Python's maildir names are ``<seconds>.M<microseconds>P<pid>Q<count>.<host>``."""
    found = _UNIQUE.match(key)
    if found is None:
        return (0, 0, 0, key)
    seconds, micros, counter = (int(part) for part in found.groups())
    return (seconds, micros, counter, key)


def count(folder: Path) -> int:
    """How many messages the maildir holds (cheap: no parsing)."""
    return sum(1 for _ in (folder / "new").iterdir()) if (folder / "new").is_dir() else 0


def text_of(message: EmailMessage) -> str:
    """The plain-text body (the one a focal point reads in any client)."""
    body = message.get_body(preferencelist=("plain", "html"))
    return str(body.get_content()) if body is not None else ""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=28025)
    parser.add_argument("--maildir", type=Path, default=Path("var/mail"))
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.maildir)


if __name__ == "__main__":
    main()
