"""Claims with short, renewed leases, and feedback a dead run left behind.

The cluster test (``test_cluster.py``) shows these end to end with a SIGKILLed worker; here
each rule is pinned down on its own, on SQLite and PostgreSQL: a live run keeps its claims,
a dead run's claims come back after one lease, and the next run sends the feedback a run
committed but never sent, once.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from resotrack import clock
from resotrack.mail.models import OutboxMessage
from resotrack.settings import get_settings
from resotrack.store import session_scope
from resotrack.validation.entry import ingest_pending
from resotrack.validation.ingest import (
    Lease,
    claim,
    recover_stale_claims,
    renew,
    run,
)
from support.return_fixtures import KEY, World, filled, make_world, submission, submit
from support.smtp_server import SmtpServer


@pytest.fixture
def world(
    db_url: str, smtp_server: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> World:
    monkeypatch.setenv("RESOTRACK_SECRET_KEY", KEY)
    monkeypatch.setenv("RESOTRACK_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("RESOTRACK_MAIL_RUN_RETRIES", "0")
    get_settings.cache_clear()
    return make_world(tmp_path)


def _claimed_at(submission_id: int) -> str:
    return str(submission(submission_id).report["claim"]["at"])


def test_a_renewed_claim_survives_the_lease_and_an_abandoned_one_does_not(world: World) -> None:
    live = submit(world, filled(world))
    dead = submit(world, filled(world, "PAK"), "PAK")
    start = clock.now()
    with clock.frozen(start):
        live_token, dead_token = claim(live), claim(dead)
    assert live_token and dead_token
    with clock.frozen(start + timedelta(seconds=50)):
        assert renew(live_token) == 1  # only its own claim
    with clock.frozen(start + timedelta(seconds=61)):
        assert recover_stale_claims(60) == [dead]
    assert submission(live).state == "validating"
    assert submission(dead).state == "received"
    assert renew(dead_token) == 0  # recovered: the dead run's token holds nothing any more


def test_renewal_never_touches_a_claim_another_run_took_over(world: World) -> None:
    sid = submit(world, filled(world))
    start = clock.now()
    with clock.frozen(start):
        old = claim(sid)
    with clock.frozen(start + timedelta(seconds=120)):
        assert recover_stale_claims(60) == [sid]
        new = claim(sid)
    assert old and new and old != new
    assert renew(old) == 0
    assert submission(sid).report["claim"]["token"] == new


def test_the_lease_thread_renews_while_the_run_lives(world: World) -> None:
    sid = submit(world, filled(world))
    token = claim(sid)
    assert token
    first = _claimed_at(sid)
    with Lease(token, seconds=0.4):  # renews every 0.1 s
        deadline = time.monotonic() + 10
        while _claimed_at(sid) == first and time.monotonic() < deadline:
            time.sleep(0.05)
    renewed = _claimed_at(sid)
    assert renewed > first
    time.sleep(0.3)
    assert _claimed_at(sid) == renewed  # stopped with the run


def test_the_next_run_sends_the_feedback_a_dead_run_left_once(
    world: World, smtp_server: SmtpServer
) -> None:
    sid = submit(world, filled(world))
    # A run that decided (answers, report and feedback committed together) and died before
    # its outbox run: the email waits as pending.
    [result] = run(sid, send=False, docs=False)
    assert result["outcome"] == "accepted"
    assert smtp_server.received() == []
    assert ingest_pending() == []  # nothing to validate; the outbox still runs
    assert ingest_pending() == []
    with session_scope() as session:
        row = session.scalars(
            select(OutboxMessage).where(OutboxMessage.idempotency_key == f"feedback:{sid}")
        ).one()
        assert row.state == "sent"
        assert row.message_id is not None
        mid = row.message_id
    assert len(smtp_server.by_message_id()[mid]) == 1
