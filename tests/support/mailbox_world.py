"""Shared by several test modules (moved from test_imap.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import select

from resotrack.intake.models import InboundMail
from resotrack.store import session_scope
from resotrack.validation.models import Submission
from support.imap_server import DovecotServer, Mailbox, imap_server_fixture, mailbox_fixture  # noqa: F401
from support.intake_world import REPO, World, make_workbook, world_fixture  # noqa: F401

XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def reply(
    sender: str,
    *attachments: tuple[str, bytes],
    subject: str = "RE: Questionnaire",
    body: str = "Please find our return attached.",
) -> bytes:
    message = EmailMessage()
    message["From"] = f"Focal Point <{sender}>"
    message["To"] = signed_reply_address(sender)
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.org")
    message["In-Reply-To"] = "<outbox-1.abc@resotrack.example>"
    message.set_content(body)
    for filename, data in attachments:
        message.add_attachment(data, maintype=XLSX[0], subtype=XLSX[1], filename=filename)
    return message.as_bytes(policy=policy.SMTP)  # CRLF, as it travels


def signed_reply_address(sender: str) -> str:
    """Where the focal point at ``sender`` replies: the returns mailbox plus-addressed with
    their signed tag for the first open cycle (what the questionnaire email's Reply-To says);
    the plain mailbox for an address not in the registry."""
    from sqlalchemy import func

    from resotrack.questionnaires.models import Questionnaire, ReportingCycle
    from resotrack.registry.models import FocalPoint
    from resotrack.tokens import reply_address

    with session_scope() as session:
        found = session.execute(
            select(FocalPoint.id, func.min(ReportingCycle.id))
            .join(Questionnaire, Questionnaire.entity_code == FocalPoint.entity_code)
            .join(ReportingCycle, ReportingCycle.id == Questionnaire.cycle_id)
            .where(func.lower(FocalPoint.email) == sender.lower())
            .group_by(FocalPoint.id)
        ).first()
    if found is None:
        return "returns@resotrack.example"
    return reply_address("returns@resotrack.example", found[0], found[1])


def rows() -> tuple[list[InboundMail], list[Submission]]:
    with session_scope() as session:
        mails = list(session.scalars(select(InboundMail).order_by(InboundMail.id)))
        submissions = list(session.scalars(select(Submission).order_by(Submission.id)))
        return mails, submissions


def poll_in_a_new_process(server: Mailbox) -> list[dict[str, object]]:
    """What a restarted worker would do: nothing in memory, only the database to go by."""
    code = (
        "import json; from resotrack.intake.imap import poll_mailbox; "
        "print(json.dumps(poll_mailbox()))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **server.environment()},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return list(json.loads(result.stdout.strip().splitlines()[-1]))
