"""Email returns are authenticated, not trusted on their ``From``; each message is limited.

A reply is accepted when it comes back to the focal point's own signed reply address (the
questionnaire email's ``Reply-To``, plus-addressed), or carries its tag in the subject, or
when the operator's own MTA (named by its authserv-id) vouches for the sender's domain in
``Authentication-Results``. Anything else is quarantined, and the focal point in the
registry (never the message's ``Reply-To``) is told how to send it. Against real dovecot.
"""

from __future__ import annotations

import json
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import select

from resotrack.intake.imap import poll_mailbox
from resotrack.mail.models import OutboxMessage
from resotrack.store import session_scope
from resotrack.tokens import reply_address, reply_tag
from resotrack.validation.models import Submission
from support.imap_server import Mailbox, imap_server_fixture, mailbox_fixture  # noqa: F401
from support.intake_world import World, run_python, world_fixture  # noqa: F401
from support.mailbox_world import XLSX, rows

RETURNS = "returns@resotrack.example"


def message(
    sender: str,
    *attachments: tuple[str, bytes],
    to: str = RETURNS,
    subject: str = "RE: Questionnaire",
    headers: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    for name, value in (headers or {}).items():
        msg[name] = value
    msg["From"] = f"Focal Point <{sender}>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="example.org")
    msg.set_content("Our return is attached.")
    for filename, data in attachments:
        msg.add_attachment(data, maintype=XLSX[0], subtype=XLSX[1], filename=filename)
    return msg.as_bytes(policy=policy.SMTP)


def outbox() -> list[OutboxMessage]:
    with session_scope() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_forged_from_with_the_attackers_reply_to_is_quarantined(
    mailbox: Mailbox, world: World
) -> None:
    sen = world.people["SEN"]
    forged = message(
        sen.email,
        ("reponse.xlsx", world.workbook("SEN", "forged")),
        headers={"Reply-To": "attacker@evil.example"},
    )
    mailbox.deliver(forged)
    (outcome,) = poll_mailbox(mailbox.settings())
    assert outcome["state"] == "quarantined"
    assert "not authenticated" in str(outcome["reason"])
    assert rows()[1] == []
    (notice,) = outbox()
    assert notice.to_addrs == [sen.email]  # the registry's address, not the Reply-To
    assert notice.language == "fr" and notice.kind == "notice"
    text = " ".join(notice.context["paragraphs"])
    assert "répondez" in text.lower() and "lien" in text
    assert "evil.example" not in json.dumps(notice.context)


def test_a_reply_to_the_signed_address_or_with_the_tag_is_accepted(
    mailbox: Mailbox, world: World
) -> None:
    sen, egy = world.people["SEN"], world.people["EGY"]
    to = reply_address(RETURNS, sen.focal_point_id, world.cycle_id)
    mailbox.deliver(message(sen.email, ("a.xlsx", world.workbook("SEN", "plus")), to=to))
    tag = reply_tag(egy.focal_point_id, world.cycle_id)
    subject = f"RE: Questionnaire [{tag}]"
    mailbox.deliver(message(egy.email, ("b.xlsx", world.workbook("EGY", "tag")), subject=subject))
    # Senegal's tag does not make Egypt's mail authentic, nor an altered tag anyone's.
    mailbox.deliver(message(egy.email, ("c.xlsx", world.workbook("EGY", "x")), to=to))
    forged = tag[:-2] + ("00" if not tag.endswith("00") else "11")
    mailbox.deliver(message(egy.email, ("d.xlsx", world.workbook("EGY", "y")), subject=forged))

    states = [o["state"] for o in poll_mailbox(mailbox.settings())]
    assert states == ["processed", "processed", "quarantined", "quarantined"]
    assert [(s.entity_code, s.original_name) for s in rows()[1]] == [
        ("SEN", "a.xlsx"),
        ("EGY", "b.xlsx"),
    ]


def test_a_trusted_mtas_authentication_results_are_accepted(mailbox: Mailbox, world: World) -> None:
    nga = world.people["NGA"]
    passed = (
        "mx.resotrack.example; dkim=pass header.d=example.org; dmarc=pass header.from=example.org"
    )
    mailbox.deliver(
        message(
            nga.email,
            ("ok.xlsx", world.workbook("NGA", "dmarc")),
            headers={"Authentication-Results": passed},
        )
    )
    # The same header added by the sender, under another authserv-id, proves nothing.
    mailbox.deliver(
        message(
            nga.email,
            ("no.xlsx", world.workbook("NGA", "self-made")),
            headers={"Authentication-Results": passed.replace("mx.resotrack", "mx.evil")},
        )
    )
    # A pass for another domain than the sender's proves nothing either.
    mailbox.deliver(
        message(
            nga.email,
            ("no2.xlsx", world.workbook("NGA", "other domain")),
            headers={
                "Authentication-Results": "mx.resotrack.example; dkim=pass header.d=evil.example"
            },
        )
    )
    settings = mailbox.settings(imap_trusted_authserv_id="mx.resotrack.example")
    states = [o["state"] for o in poll_mailbox(settings)]
    assert states == ["processed", "quarantined", "quarantined"]
    assert [s.original_name for s in rows()[1]] == ["ok.xlsx"]


def test_thirty_attachments_are_refused_not_thirty_receipts(mailbox: Mailbox, world: World) -> None:
    sen = world.people["SEN"]
    to = reply_address(RETURNS, sen.focal_point_id, world.cycle_id)
    many = [(f"r{i}.xlsx", world.workbook("SEN", f"copy {i}")) for i in range(30)]
    mailbox.deliver(message(sen.email, *many, to=to))
    (outcome,) = poll_mailbox(mailbox.settings())
    assert outcome["state"] == "quarantined"
    assert "30 attachments" in str(outcome["reason"])
    assert rows()[1] == []
    assert [m.kind for m in outbox()] == []  # no receipts


def test_a_35_mb_attachment_keeps_the_polls_memory_bounded(mailbox: Mailbox, world: World) -> None:
    sen = world.people["SEN"]
    to = reply_address(RETURNS, sen.focal_point_id, world.cycle_id)
    huge = world.workbook("SEN", "huge", pad_bytes=35 * 1024 * 1024)
    big = mailbox.deliver(message(sen.email, ("huge.xlsx", huge), to=to))
    good = mailbox.deliver(message(sen.email, ("good.xlsx", world.workbook("SEN", "ok")), to=to))
    del huge
    # The poll's own high-water mark (VmHWM of its address space). getrusage's ru_maxrss would
    # not do: Linux carries it over the fork and exec from pytest, whose size grows with the
    # tests run before this one.
    poll = (
        "import json, re; from pathlib import Path; "
        "from resotrack.intake.imap import poll_mailbox; "
        "out = poll_mailbox(); "
        "hwm = re.search(r'VmHWM:\\s+(\\d+) kB', Path('/proc/self/status').read_text()); "
        "print(json.dumps({'out': out, 'peak_kb': int(hwm.group(1))}))"
    )
    result = run_python(poll, mailbox.environment())
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    outcomes = {o["uid"]: o for o in answer["out"]}
    assert outcomes[big]["state"] == "quarantined" and "too large" in outcomes[big]["reason"]
    assert outcomes[good]["state"] == "processed"
    # The message is 47 MB on the wire; the poll never holds it (the cap is 20 MB).
    assert answer["peak_kb"] < 200 * 1024, answer["peak_kb"]
    with session_scope() as session:
        assert [s.original_name for s in session.scalars(select(Submission))] == ["good.xlsx"]
