"""The outbox against a real SMTP server (aiosmtpd on loopback), on SQLite and PostgreSQL.

Each message reaches the server once: re-runs send nothing, a down or refusing server leaves
rows to retry (or failed), and a worker killed inside the send window leaves the row
``uncertain`` instead of sending it twice.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import pytest
from sqlalchemy import func, select

from resotrack import clock, tokens
from resotrack.mail import MailSettings, OutboxDeliveryError, send_pending
from resotrack.mail.models import OutboxMessage
from resotrack.mail.outbox import (
    Message,
    confirm_uncertain,
    enqueue,
    enqueue_many,
    list_messages,
    resend_uncertain,
    retry_failed,
)
from resotrack.mail.sender import XLSX, YagmailSender
from resotrack.questionnaires.models import ReportingCycle
from resotrack.registry.models import FocalPoint
from resotrack.store import session_scope
from resotrack.store.blobs import blob_store
from resotrack.store.models import AuditLog, Base
from resotrack.tokens.models import UploadToken
from support import world as base
from support.smtp_server import Received, SmtpServer, make_certificate

REPO = Path(__file__).resolve().parents[2]
PORTAL = "https://portal.example/resotrack"
LINK = re.compile(re.escape(PORTAL) + r"/t/([A-Za-z0-9_.\-]+)")


@dataclass
class World(base.World):
    cycle_id: int
    focal_points: dict[str, int]  # entity code → focal point id
    workbook: bytes
    workbook_sha: str


@pytest.fixture
def world(db_url: str) -> World:
    workbook = b"PK\x03\x04" + os.urandom(2048)
    sha = blob_store().put(workbook)
    with session_scope() as s:
        World.register_entities(s)
        cycle = ReportingCycle(title="Follow-up of the 49th CFM", deadline=date(2026, 3, 15))
        s.add(cycle)
        people = {
            "MAR": FocalPoint(
                entity_code="MAR",
                name="فاطمة الزهراء",
                email="fz@gov.ma",
                language="ar",
                role="focal_point",
            ),
            "SEN": FocalPoint(
                entity_code="SEN",
                name="Amina Diallo",
                email="amina@gouv.sn",
                language="fr",
                role="focal_point",
            ),
            "PAK": FocalPoint(
                entity_code="PAK",
                name="Imran <b>Khan</b>",
                email="imran@mofa.gov.pk",
                language="en",
                role="focal_point",
            ),
        }
        s.add_all(people.values())
        s.flush()
        return World(cycle.id, {code: fp.id for code, fp in people.items()}, workbook, sha)


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with SmtpServer() as running:
        yield running


def settings_for(server: SmtpServer, **overrides: Any) -> MailSettings:
    values: dict[str, Any] = {
        "smtp_port": server.port,
        "smtp_timeout_seconds": 5,
        "mail_from": "secretariat@oic.test",
        "mail_from_name": "OIC General Secretariat",
        "mail_portal_url": PORTAL,
        "mail_backoff_base_seconds": 0.01,
        "mail_run_retries": 2,
        "mail_max_attempts": 5,
    }
    return MailSettings(**{**values, **overrides})


def queue_questionnaires(world: World, codes: tuple[str, ...] = ("MAR", "SEN", "PAK")) -> list[int]:
    ids = []
    with session_scope() as s:
        for code in codes:
            fp = s.get(FocalPoint, world.focal_points[code])
            assert fp is not None
            row = enqueue(
                s,
                key=f"questionnaire:{world.cycle_id}:{code}:{fp.id}",
                kind="questionnaire",
                template="questionnaire",
                language=fp.language,
                context={
                    "name": fp.name,
                    "entity_name": fp.entity.name(fp.language),
                    "cycle_title": "Follow-up of the 49th CFM",
                    "deadline_text": "15 March 2026 (25 Ramadan 1447 AH)",
                    "upload_link": {"focal_point_id": fp.id, "cycle_id": world.cycle_id},
                },
                to=[fp.email],
                attachments=[
                    {
                        "filename": f"questionnaire-{code}.xlsx",
                        "sha256": world.workbook_sha,
                        "content_type": XLSX,
                    }
                ],
                cycle_id=world.cycle_id,
                entity_code=code,
                focal_point_id=fp.id,
            )
            ids.append(row.id)
    return ids


def rows(*ids: int) -> dict[int, OutboxMessage]:
    with session_scope() as s:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if ids:
            query = query.where(OutboxMessage.id.in_(ids))
        return {row.id: row for row in s.scalars(query)}


def count(model: type[Base]) -> int:
    with session_scope() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def everything_in_the_database() -> str:
    with session_scope() as s:
        return "\n".join(
            repr(row) for table in Base.metadata.sorted_tables for row in s.execute(table.select())
        )


def link_token(item: Received) -> str:
    text = item.message.get_body(("plain",))
    html = item.message.get_body(("html",))
    assert text is not None and html is not None
    in_text = LINK.findall(text.get_content())
    in_html = LINK.findall(html.get_content())
    assert len(set(in_text)) == 1 and set(in_text) == set(in_html)
    return str(in_text[0])


# --- enqueue -----------------------------------------------------------------------------


def test_enqueue_is_idempotent(world: World) -> None:
    first = queue_questionnaires(world, ("SEN",))
    with session_scope() as s:
        again = enqueue(
            s,
            key=f"questionnaire:{world.cycle_id}:SEN:{world.focal_points['SEN']}",
            kind="questionnaire",
            template="notice",
            language="en",
            context={"subject": "different", "paragraphs": []},
            to=["someone.else@example.org"],
        )
        assert again.id == first[0]
        assert again.template == "questionnaire" and again.to_addrs == ["amina@gouv.sn"]
    assert count(OutboxMessage) == 1
    with session_scope() as s:
        queued = s.scalars(select(AuditLog).where(AuditLog.action == "outbox.queued")).all()
        assert len(queued) == 1


def test_concurrent_enqueue_of_one_key_makes_one_row(world: World) -> None:
    workers = 4
    barrier = threading.Barrier(workers)
    ids: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with session_scope() as s:
                barrier.wait()
                row = enqueue(
                    s,
                    key="notice:race",
                    kind="notice",
                    template="notice",
                    language="en",
                    context={"subject": "Hello", "paragraphs": ["One."]},
                    to=["x@example.org"],
                )
                ids.append(row.id)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert len(ids) == workers and len(set(ids)) == 1
    assert count(OutboxMessage) == 1


def test_enqueue_refuses_what_cannot_be_sent(world: World) -> None:
    base: dict[str, Any] = {
        "key": "k",
        "kind": "notice",
        "template": "notice",
        "language": "en",
        "context": {"subject": "S", "paragraphs": []},
        "to": ["a@example.org"],
    }
    bad: list[tuple[dict[str, Any], str]] = [
        ({"template": "welcome"}, "no mail template"),
        ({"language": "de"}, "no language"),
        ({"to": []}, "at least one recipient"),
        ({"to": ["a@example.org\r\nBcc: b@example.org"]}, "not a plain email address"),
        ({"context": {"paragraphs": []}}, "does not render"),
        ({"attachments": [{"filename": "q.xlsx", "sha256": "0" * 64}]}, "not in the blob store"),
        ({"context": {"subject": "S", "paragraphs": [], "upload_link": {"x": 1}}}, "upload_link"),
    ]
    with session_scope() as s:
        for change, message in bad:
            with pytest.raises((ValueError, LookupError), match=message):
                enqueue(s, **{**base, **change})
    assert count(OutboxMessage) == 0


def test_enqueue_many_queues_each_once_and_says_which_it_could_not(world: World) -> None:
    def notice(key: str, to: str = "a@example.org") -> Message:
        return Message(key, "notice", "notice", "en", {"subject": key, "paragraphs": []}, [to])

    (earlier,) = queue_questionnaires(world, ("SEN",))
    earlier_key = f"questionnaire:{world.cycle_id}:SEN:{world.focal_points['SEN']}"
    with session_scope() as s:
        queued = enqueue_many(
            s,
            [
                notice("n:1"),
                notice("n:2", to="not an address"),
                notice(earlier_key),  # queued before: its row, unchanged
                notice("n:3"),
                notice("n:1", to="b@example.org"),  # the same key twice: one row
                notice(""),
            ],
        )
        ids = [q.id if isinstance(q, OutboxMessage) else str(q) for q in queued]
    assert isinstance(ids[0], int) and isinstance(ids[3], int) and ids[0] != ids[3]
    assert "not a plain email address" in str(ids[1])
    assert ids[2] == earlier and ids[4] == ids[0]
    assert "idempotency key" in str(ids[5])
    stored = rows()
    assert len(stored) == 3 and stored[ids[0]].to_addrs == ["a@example.org"]
    assert stored[earlier].template == "questionnaire"
    with session_scope() as s:
        audited = s.scalars(select(AuditLog.subject).where(AuditLog.action == "outbox.queued"))
        assert sorted(audited) == sorted(f"outbox:{i}" for i in (earlier, ids[0], ids[3]))
    with session_scope() as s:  # more than one INSERT's worth, in the order asked
        many = enqueue_many(s, [notice(f"m:{i}") for i in range(120)])
        keys = [q.idempotency_key for q in many if isinstance(q, OutboxMessage)]
    assert keys == [f"m:{i}" for i in range(120)]
    assert count(OutboxMessage) == 123


# --- delivery ----------------------------------------------------------------------------


def test_each_message_is_delivered_once_with_its_link_and_workbook(
    world: World, server: SmtpServer
) -> None:
    ids = queue_questionnaires(world)
    settings = settings_for(server)
    started = time.monotonic()
    report = send_pending(settings=settings)
    assert time.monotonic() - started < 5
    assert report.sent == ids and report.ok

    received = server.by_message_id()
    assert len(server.received()) == 3 and server.ehlos == 1  # one connection for the batch
    secrets_sent = []
    for row in rows(*ids).values():
        assert row.state == "sent" and row.sent_at is not None and row.attempts == 0
        key_hash = hashlib.sha256(row.idempotency_key.encode()).hexdigest()[:16]
        assert row.message_id == f"<outbox-{row.id}.{key_hash}@oic.test>"
        (item,) = received[row.message_id]
        msg = item.message
        assert item.mail_from == "secretariat@oic.test" and item.rcpt_tos == tuple(row.to_addrs)
        assert msg["Subject"] == row.subject and msg["Auto-Submitted"] == "auto-generated"
        (attachment,) = list(msg.iter_attachments())
        assert attachment.get_content() == world.workbook
        assert attachment.get_content_type() == XLSX
        assert attachment.get_filename() == f"questionnaire-{row.entity_code}.xlsx"
        html = msg.get_body(("html",))
        assert html is not None
        direction = "rtl" if row.language == "ar" else "ltr"
        assert f'dir="{direction}"' in html.get_content()
        token = link_token(item)
        with session_scope() as s:
            grant = tokens.verify(s, token)
        assert (grant.focal_point_id, grant.cycle_id) == (row.focal_point_id, world.cycle_id)
        assert grant.entity_code == row.entity_code
        secrets_sent.append(token)

    pak = next(r for r in rows(*ids).values() if r.entity_code == "PAK")
    pak_html = received[str(pak.message_id)][0].message.get_body(("html",))
    assert pak_html is not None and "Imran &lt;b&gt;Khan&lt;/b&gt;" in pak_html.get_content()

    dump = everything_in_the_database()
    for token in secrets_sent:
        assert token not in dump  # only its hash is stored
    assert count(UploadToken) == 3

    again = send_pending(settings=settings)
    assert again.as_dict() == {k: [] for k in again.as_dict()}
    assert len(server.received()) == 3


def test_limit_takes_the_oldest_first(world: World, server: SmtpServer) -> None:
    ids = queue_questionnaires(world)
    report = send_pending(limit=2, settings=settings_for(server))
    assert report.sent == ids[:2]
    assert [r.state for r in rows(*ids).values()] == ["sent", "sent", "pending"]
    with session_scope() as s:
        assert [m.id for m in list_messages(s, state="pending")] == ids[2:]
        assert len(list_messages(s, cycle_id=world.cycle_id)) == 3
        assert list_messages(s, cycle_id=world.cycle_id + 1) == []


def test_smtp_down_keeps_rows_pending_then_a_later_run_delivers_once(
    world: World, server: SmtpServer
) -> None:
    ids = queue_questionnaires(world, ("SEN", "PAK"))
    settings = settings_for(server)
    server.stop()
    with pytest.raises(OutboxDeliveryError, match="2 still pending") as caught:
        send_pending(settings=settings)
    assert caught.value.report.retried == ids
    for row in rows(*ids).values():
        assert row.state == "pending" and row.sent_at is None
        assert row.attempts == 1 + settings.mail_run_retries
        assert row.next_attempt_at is not None
        assert "ConnectionRefusedError" in (row.last_error or "")
    assert count(UploadToken) == 0  # refused before the claim: no link was even issued

    server.start()
    time.sleep(0.1)  # let the tiny backoff elapse
    report = send_pending(settings=settings)
    assert report.sent == ids
    assert sorted(len(v) for v in server.by_message_id().values()) == [1, 1]
    assert {r.state for r in rows(*ids).values()} == {"sent"}


def test_smtp_refusing_data_ends_failed_with_the_refusal_named(
    world: World, server: SmtpServer
) -> None:
    (row_id,) = queue_questionnaires(world, ("MAR",))
    settings = settings_for(server, mail_max_attempts=3, mail_run_retries=5)
    server.refuse("DATA", "554 5.7.1 Message rejected by policy")
    with pytest.raises(OutboxDeliveryError, match="1 failed") as caught:
        send_pending(settings=settings)
    assert caught.value.report.failed == [row_id]
    row = rows(row_id)[row_id]
    assert row.state == "failed" and row.attempts == 3
    assert "554" in (row.last_error or "") and "rejected by policy" in (row.last_error or "")
    assert server.received() == []
    with session_scope() as s:  # each attempt's link reached nobody and was withdrawn
        issued = s.scalars(select(UploadToken)).all()
        assert len(issued) == 3 and all(t.revoked_at is not None for t in issued)

    server.accept()
    assert send_pending(settings=settings).ok  # failed rows are never picked up again
    assert server.received() == []
    with session_scope() as s:  # staff had the relay's policy fixed
        assert retry_failed(s, [row_id], actor="staff:nadia") == [row_id]
    assert send_pending(settings=settings).sent == [row_id]
    assert len(server.received()) == 1


def test_a_temporary_refusal_at_rcpt_is_retried_later(world: World, server: SmtpServer) -> None:
    (row_id,) = queue_questionnaires(world, ("SEN",))
    settings = settings_for(server, mail_run_retries=0)
    server.refuse("RCPT", "451 4.3.0 Try again later")
    with pytest.raises(OutboxDeliveryError):
        send_pending(settings=settings)
    row = rows(row_id)[row_id]
    assert row.state == "pending" and row.attempts == 1 and "451" in (row.last_error or "")
    server.accept()
    time.sleep(0.05)
    assert send_pending(settings=settings).sent == [row_id]
    assert len(server.received()) == 1


def test_a_connection_lost_during_data_is_uncertain_not_resent(
    world: World, server: SmtpServer
) -> None:
    (row_id,) = queue_questionnaires(world, ("PAK",))
    settings = settings_for(server)
    server.drop_connection_after_data()
    with pytest.raises(OutboxDeliveryError, match="1 uncertain"):
        send_pending(settings=settings)
    row = rows(row_id)[row_id]
    assert row.state == "uncertain" and "during DATA" in (row.last_error or "")
    server.accept()
    assert send_pending(settings=settings).ok
    assert len(server.received()) == 1  # the server had it: never sent a second time

    with session_scope() as s:
        assert confirm_uncertain(s, [row_id], actor="staff:nadia") == [row_id]
    row = rows(row_id)[row_id]
    assert row.state == "sent" and row.sent_at is not None


def test_authenticated_smtp_goes_through_yagmail_login(world: World) -> None:
    with SmtpServer(auth=("svc-resotrack", "s3cret")) as server:
        (row_id,) = queue_questionnaires(world, ("SEN",))
        wrong = settings_for(server, smtp_user="svc-resotrack", smtp_password="nope")
        with pytest.raises(OutboxDeliveryError):
            send_pending(settings=wrong.model_copy(update={"mail_run_retries": 0}))
        assert "535" in (rows(row_id)[row_id].last_error or "")

        time.sleep(0.05)
        right = settings_for(server, smtp_user="svc-resotrack", smtp_password="s3cret")
        assert send_pending(settings=right).sent == [row_id]
        assert server.logins == ["svc-resotrack"]  # not "svc-resotrack@gmail.com"
        (item,) = server.received()
        assert item.mail_from == "secretariat@oic.test"


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_is_verified_and_logs_in_over_it(
    world: World, tmp_path: Path, security: Literal["starttls", "ssl"]
) -> None:
    cert, key = make_certificate(tmp_path)
    (tmp_path / "other").mkdir()
    other_ca, _ = make_certificate(tmp_path / "other")  # a certificate the server does not use
    with SmtpServer(auth=("svc", "s3cret"), tls=security, certificate=(cert, key)) as server:
        (row_id,) = queue_questionnaires(world, ("SEN",))
        common = {"smtp_security": security, "smtp_user": "svc", "smtp_password": "s3cret"}
        untrusted = settings_for(server, smtp_ca_file=str(other_ca), mail_run_retries=0, **common)
        with pytest.raises(OutboxDeliveryError):
            send_pending(settings=untrusted)
        assert "CERTIFICATE_VERIFY_FAILED" in (rows(row_id)[row_id].last_error or "")

        time.sleep(0.05)
        trusted = settings_for(server, smtp_ca_file=str(cert), **common)
        assert send_pending(settings=trusted).sent == [row_id]
        assert server.logins == ["svc"] and len(server.received()) == 1


def test_two_workers_at_once_send_each_message_once(world: World, server: SmtpServer) -> None:
    with session_scope() as s:
        for n in range(8):
            enqueue(
                s,
                key=f"notice:{n}",
                kind="notice",
                template="notice",
                language="fr",
                context={"subject": f"Avis {n}", "paragraphs": ["Texte."]},
                to=[f"p{n}@example.org"],
            )
    settings = settings_for(server)
    reports = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        reports.append(send_pending(settings=settings))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    sent = sorted(i for report in reports for i in report.sent)
    assert len(reports) == 2 and sent == sorted(rows())
    assert sorted(len(v) for v in server.by_message_id().values()) == [1] * 8


# --- the crash window --------------------------------------------------------------------

CHILD = """
import os, signal, sys
from resotrack.mail.config import MailSettings
from resotrack.mail.outbox import send_pending
from resotrack.mail.sender import YagmailSender

class DiesAfterDelivery(YagmailSender):
    def data(self, message):
        super().data(message)  # the server has replied 250: the message is delivered
        os.kill(os.getpid(), signal.SIGKILL)  # ... and the worker dies before recording it

settings = MailSettings()  # from RESOTRACK_SMTP_* and RESOTRACK_MAIL_*, as a worker would
send_pending(sender=DiesAfterDelivery(settings), settings=settings)
"""


def test_a_worker_killed_after_delivery_leaves_the_row_uncertain(
    world: World, server: SmtpServer
) -> None:
    (row_id,) = queue_questionnaires(world, ("MAR",))
    settings = settings_for(server)
    env = {  # the test database and home come from the db_url fixture's environment
        **os.environ,
        "RESOTRACK_SMTP_PORT": str(settings.smtp_port),
        "RESOTRACK_MAIL_FROM": settings.mail_from,
        "RESOTRACK_MAIL_PORTAL_URL": settings.mail_portal_url,
    }
    child = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=REPO, env=env, capture_output=True, timeout=60
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()
    (item,) = server.received()
    row = rows(row_id)[row_id]
    assert row.state == "sending" and row.message_id == item.message["Message-ID"]
    with session_scope() as s:  # the link in the delivered message works
        assert tokens.verify(s, link_token(item)).focal_point_id == row.focal_point_id

    assert send_pending(settings=settings).ok  # within the lease: the row is left alone
    assert rows(row_id)[row_id].state == "sending"

    with clock.frozen(clock.now() + timedelta(seconds=settings.mail_lease_seconds + 60)):
        with pytest.raises(OutboxDeliveryError, match="1 uncertain") as caught:
            send_pending(settings=settings)
        assert caught.value.report.uncertain == [row_id]
        assert send_pending(settings=settings).ok  # and never resent on its own
    row = rows(row_id)[row_id]
    assert row.state == "uncertain" and "may have been delivered" in (row.last_error or "")
    assert len(server.received()) == 1

    with session_scope() as s:  # staff checked the recipient's mailbox: it is not there
        assert resend_uncertain(s, [row_id, 999], actor="staff:nadia") == [row_id]
        assert s.scalar(select(AuditLog).where(AuditLog.action == "outbox.resend")) is not None
    assert send_pending(settings=settings).sent == [row_id]
    assert [len(v) for v in server.by_message_id().values()] == [2]  # one Message-ID, resent


def test_the_sender_survives_a_server_restart_between_runs(
    world: World, server: SmtpServer
) -> None:
    settings = settings_for(server)
    sender = YagmailSender(settings)
    first, second = queue_questionnaires(world, ("SEN", "PAK"))
    assert send_pending(limit=1, sender=sender, settings=settings).sent == [first]
    server.stop()
    server.start()  # the kept connection is now dead; the next run reconnects
    assert send_pending(sender=sender, settings=settings).sent == [second]
    sender.close()
    assert server.ehlos == 2  # one connection per run: the first, then a reconnection


def test_sending_again_leaves_one_live_link_and_a_signed_reply_address(
    world: World, server: SmtpServer
) -> None:
    """A second questionnaire email (a resend, a reminder with a link) replaces the link of
    the first; each email's Reply-To is the focal point's signed reply address."""
    settings = settings_for(server)
    first_ids = queue_questionnaires(world, ("SEN",))
    send_pending(settings=settings)
    with session_scope() as s:
        fp = s.get(FocalPoint, world.focal_points["SEN"])
        assert fp is not None
        enqueue(
            s,
            key=f"resend:{world.cycle_id}:SEN",
            kind="questionnaire",
            template="questionnaire",
            language=fp.language,
            context={
                "name": fp.name,
                "entity_name": fp.entity.name(fp.language),
                "cycle_title": "Follow-up of the 49th CFM",
                "deadline_text": "15 March 2026",
                "upload_link": {"focal_point_id": fp.id, "cycle_id": world.cycle_id},
            },
            to=[fp.email],
            cycle_id=world.cycle_id,
            entity_code="SEN",
            focal_point_id=fp.id,
        )
        fp_id = fp.id
    send_pending(settings=settings)
    first, second = server.received()
    old, new = link_token(first), link_token(second)
    with session_scope() as s:
        with pytest.raises(tokens.TokenRefused):
            tokens.verify(s, old)
        assert tokens.verify(s, new).focal_point_id == fp_id
        live = s.scalar(
            select(func.count())
            .select_from(UploadToken)
            .where(
                UploadToken.focal_point_id == fp_id,
                UploadToken.cycle_id == world.cycle_id,
                UploadToken.revoked_at.is_(None),
            )
        )
        assert live == 1
    for item in (first, second):
        reply_to = item.message["Reply-To"]
        assert tokens.verify_reply_tags([reply_to]) == {(fp_id, world.cycle_id)}
    assert first_ids
