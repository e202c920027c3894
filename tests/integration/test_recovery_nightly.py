"""The nightly backup and check: generations kept, the Secretariat emailed once on failure."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from resotrack.mail.models import OutboxMessage
from resotrack.recovery.manifest import blob_name, list_generations
from resotrack.recovery.nightly import NightlyFailure, nightly_backup, nightly_verify
from resotrack.settings import get_settings
from resotrack.store import session_scope
from resotrack.validation.models import Submission
from support.recovery_world import FEW, make_world
from support.smtp_server import SmtpServer

SECRETARIAT = "follow-up@oic.example.org"
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def mail(db_url: str, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> SmtpServer:
    monkeypatch.setenv("RESOTRACK_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("RESOTRACK_MAIL_SECRETARIAT", SECRETARIAT)
    monkeypatch.setenv("RESOTRACK_MAIL_BACKOFF_BASE_SECONDS", "0")
    get_settings.cache_clear()
    return smtp_server


def _alerts() -> list[OutboxMessage]:
    with session_scope() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind.like("recovery_%"))))


def test_an_unconfigured_backup_emails_the_secretariat_once_and_fails(mail: SmtpServer) -> None:
    for _ in range(2):  # the same night run again: one email
        with pytest.raises(NightlyFailure) as caught:
            nightly_backup(run_key="scheduled__2026-11-24T02:15:00+00:00")
        assert "RESOTRACK_BACKUP_DIR is not set" in str(caught.value)
        assert f"The Secretariat ({SECRETARIAT}) was emailed" in str(caught.value)
    (row,) = _alerts()
    assert (row.kind, row.state, row.to_addrs) == ("recovery_backup", "sent", [SECRETARIAT])
    (received,) = mail.received()
    assert list(received.rcpt_tos) == [SECRETARIAT]
    assert received.message["Subject"] == "resotrack: last night's backup FAILED"
    body = received.message.get_body(("plain",))
    assert body is not None and "RESOTRACK_BACKUP_DIR is not set" in body.get_content()


def test_nightly_backup_keeps_the_newest_generations(
    mail: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_world(FEW[:1])
    monkeypatch.setenv("RESOTRACK_BACKUP_DIR", str(tmp_path / "b"))
    monkeypatch.setenv("RESOTRACK_BACKUP_KEEP", "2")
    names = [Path(nightly_backup(run_key=f"run-{i}")["backup"]) for i in range(3)]
    assert [g.path for g in list_generations(tmp_path / "b")] == names[1:]
    assert nightly_verify(run_key="run-3")["ok"] is True
    assert _alerts() == [] and mail.received() == []


def test_a_failed_check_emails_the_secretariat(mail: SmtpServer) -> None:
    world = make_world(FEW[:1])
    with session_scope() as s:
        sha = s.get(Submission, world.accepted["SEN"]).sha256  # type: ignore[union-attr]
    (get_settings().home / blob_name(sha)).unlink()
    with pytest.raises(NightlyFailure, match="the nightly check found 1 problem"):
        nightly_verify(run_key="run-1")
    (received,) = mail.received()
    plain = received.message.get_body(("plain",))
    assert plain is not None
    body = plain.get_content()
    assert f"{blob_name(sha)}: missing from the blob store" in body
