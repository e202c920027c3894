"""The email-reply channel against a real IMAP server (a private dovecot on loopback).

Replies with a workbook become submissions; replies without one, from unknown senders, or
whose workbook does not match the sender are quarantined with the raw message kept; and no
message is processed twice, by a second poll or by a new process after a "restart".
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from resotrack.intake.imap import connect, poll_mailbox
from resotrack.intake.queries import list_quarantine
from resotrack.mail.models import OutboxMessage
from resotrack.store import session_scope
from resotrack.store.blobs import blob_store
from support.imap_server import DovecotServer, Mailbox, imap_server_fixture, mailbox_fixture  # noqa: F401
from support.intake_world import REPO, World, make_workbook, world_fixture  # noqa: F401
from support.mailbox_world import poll_in_a_new_process, reply, rows


def test_a_reply_with_the_workbook_becomes_a_submission(mailbox: Mailbox, world: World) -> None:
    sen = world.people["SEN"]
    workbook = world.workbook("SEN", "by email")
    raw = reply(sen.email.upper(), ("réponse Sénégal.xlsx", workbook))
    uid = mailbox.deliver(raw)

    (outcome,) = poll_mailbox(mailbox.settings())
    assert outcome["state"] == "processed" and outcome["uid"] == uid
    mails, submissions = rows()
    (mail,), (submission,) = mails, submissions
    assert (submission.channel, submission.sender, submission.entity_code) == (
        "email",
        sen.email,
        "SEN",
    )
    assert submission.cycle_id == world.cycle_id and submission.state == "received"
    assert submission.original_name == "réponse Sénégal.xlsx"
    assert blob_store().get(submission.sha256) == workbook
    assert mail.submission_ids == [submission.id] and mail.entity_code == "SEN"
    assert blob_store().get(mail.raw_sha256) == raw  # the message itself is kept too
    assert "\\Seen" in mailbox.flags(uid)
    with session_scope() as session:
        ack = session.scalars(select(OutboxMessage)).one()
        assert ack.kind == "receipt" and ack.language == "fr" and ack.to_addrs == [sen.email]
        assert ack.context["subject"] == "Bien reçu\u00a0: réponse Sénégal.xlsx"

    assert poll_mailbox(mailbox.settings()) == []  # a second poll: nothing new
    assert poll_in_a_new_process(mailbox) == []  # after a restart: still nothing
    assert len(rows()[1]) == 1


def test_replies_without_a_workbook_are_quarantined_not_dropped(
    mailbox: Mailbox, world: World
) -> None:
    sen = world.people["SEN"]
    forgot = reply(sen.email, body="Here it is (forgot the attachment)")
    renamed = reply(sen.email, ("reponse.xlsx", b"%PDF-1.7 a pdf renamed"))
    mailbox.deliver(forgot)
    mailbox.deliver(renamed)

    outcomes = poll_mailbox(mailbox.settings())
    assert [o["state"] for o in outcomes] == ["quarantined", "quarantined"]
    assert outcomes[0]["reason"] == "no workbook attached"
    assert "reponse.xlsx: this is not an Excel workbook" in str(outcomes[1]["reason"])
    mails, submissions = rows()
    assert submissions == []
    assert [blob_store().get(m.raw_sha256) for m in mails] == [forgot, renamed]
    with session_scope() as session:
        assert len(list_quarantine(session)) == 2


def test_unknown_senders_are_quarantined(mailbox: Mailbox, world: World) -> None:
    mailbox.deliver(reply("stranger@elsewhere.example", ("r.xlsx", world.workbook("SEN"))))
    (outcome,) = poll_mailbox(mailbox.settings())
    assert outcome["state"] == "quarantined"
    assert outcome["reason"] == "unknown sender stranger@elsewhere.example"
    assert rows()[1] == []


def test_sender_and_signed_workbook_must_agree(mailbox: Mailbox, world: World) -> None:
    egy, sen = world.people["EGY"], world.people["SEN"]
    # Egypt's focal point sends Senegal's questionnaire; Senegal sends a forged _meta.
    mailbox.deliver(reply(egy.email, ("senegal.xlsx", world.workbook("SEN", "wrong"))))
    forged = make_workbook(world.cycle_id, "SEN", key=b"someone else's key")
    mailbox.deliver(reply(sen.email, ("forged.xlsx", forged)))
    # A workbook for a cycle Senegal was not asked about in... is identified but refused.
    other = make_workbook(world.other_cycle_id + 10, "SEN")
    mailbox.deliver(reply(sen.email, ("other.xlsx", other)))

    outcomes = poll_mailbox(mailbox.settings())
    assert [o["state"] for o in outcomes] == ["quarantined"] * 3
    assert "the sender is not one of its focal points" in str(outcomes[0]["reason"])
    assert "signature does not match" in str(outcomes[1]["reason"])
    assert "no open questionnaire" in str(outcomes[2]["reason"])
    assert rows()[1] == []


def test_one_good_and_one_bad_attachment(mailbox: Mailbox, world: World) -> None:
    nga = world.people["NGA"]
    mailbox.deliver(
        reply(
            nga.email,
            ("nigeria.xlsx", world.workbook("NGA", "good")),
            ("old-format.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)),
        )
    )
    (outcome,) = poll_mailbox(mailbox.settings())
    assert outcome["state"] == "processed"
    assert "old-format.xls: this is an Excel 97-2003" in str(outcome["reason"])
    assert [s.entity_code for s in rows()[1]] == ["NGA"]


def test_each_message_once_even_when_not_flagged_seen(mailbox: Mailbox, world: World) -> None:
    settings = mailbox.settings(imap_mark_seen=False)
    sen = world.people["SEN"]
    first = mailbox.deliver(reply(sen.email, ("a.xlsx", world.workbook("SEN", "one"))))
    assert [o["uid"] for o in poll_mailbox(settings)] == [first]
    assert "\\Seen" not in mailbox.flags(first)
    second = mailbox.deliver(reply(sen.email, ("b.xlsx", world.workbook("SEN", "two"))))
    assert [o["uid"] for o in poll_in_a_new_process(mailbox)] == [second]
    assert poll_mailbox(settings) == []
    # The same message delivered again (new UID, same Message-ID) is recognised.
    again = mailbox.deliver(mailbox.fetch(first))
    (outcome,) = poll_mailbox(settings)
    assert outcome["uid"] == again and outcome["state"] == "duplicate"
    assert len(rows()[1]) == 2


def test_a_message_that_breaks_processing_is_quarantined(
    mailbox: Mailbox, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    sen = world.people["SEN"]
    mailbox.deliver(reply(sen.email, ("a.xlsx", world.workbook("SEN"))))
    mailbox.deliver(reply(sen.email, ("b.xlsx", world.workbook("SEN", "b"))))
    calls = {"n": 0}

    def broken_once(data: bytes) -> object:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("calamine fell over")
        from resotrack.intake.owner import identify_workbook

        return identify_workbook(data)

    monkeypatch.setattr("resotrack.intake.imap.identify_workbook", broken_once)
    outcomes = poll_mailbox(mailbox.settings())
    assert [o["state"] for o in outcomes] == ["quarantined", "processed"]
    assert "RuntimeError: calamine fell over" in str(outcomes[0]["reason"])


def test_ssl_and_starttls(world: World) -> None:
    with DovecotServer(tls=True) as server:
        server.deliver(reply(world.people["SEN"].email, ("a.xlsx", world.workbook("SEN"))))
        ca = str(server.cert)
        starttls = server.settings(imap_security="starttls", imap_ca_file=ca)
        with connect(starttls) as imap:
            assert imap.select("INBOX")[0] == "OK"
        implicit = server.settings(imap_security="ssl", imap_port=server.tls_port, imap_ca_file=ca)
        (outcome,) = poll_mailbox(implicit)
        assert outcome["state"] == "processed"


def test_no_clear_text_password_to_a_remote_server() -> None:
    from resotrack.intake.config import IntakeSettings

    settings = IntakeSettings(imap_host="mail.example.org", imap_security="none")
    with pytest.raises(ValueError, match="in clear"), connect(settings):
        pass


def test_no_host_means_no_polling(db_url: str) -> None:
    from resotrack.intake.config import IntakeSettings

    assert poll_mailbox(IntakeSettings(imap_host="")) == []
