"""The two intake DAGs under a real Airflow (``airflow dags test``): the drop folder with the
temp-file sweep, and the mailbox poll against a private dovecot. An empty second run ends
skipped and emits no ``submissions`` event. One database (SQLite) is enough here: the
channels themselves run on both in ``test_intake`` and ``test_imap``."""

from __future__ import annotations

import os
import time
from email import policy
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from resotrack.intake import IntakeSettings
from resotrack.intake.models import InboundMail
from resotrack.orchestration import ASSET_URIS
from resotrack.store import session_scope
from resotrack.store.blobs import blob_store
from resotrack.validation.models import Submission
from support.airflow_env import AirflowHome
from support.imap_server import Mailbox, imap_server_fixture, mailbox_fixture  # noqa: F401
from support.intake_world import World, world_fixture  # noqa: F401
from support.mailbox_world import signed_reply_address

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

SUBMISSIONS = ASSET_URIS["SUBMISSIONS"]


def _channels() -> list[tuple[str, str | None]]:
    with session_scope() as session:
        return [(s.channel, s.entity_code) for s in session.scalars(select(Submission))]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_collect_returns_dag(
    world: World, airflow_home: AirflowHome, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESOTRACK_RETURNS_SETTLE_SECONDS", "0")
    inbox = IntakeSettings().returns_inbox
    inbox.mkdir(parents=True)
    (inbox / "senegal.xlsx").write_bytes(world.workbook("SEN", "dag"))
    (inbox / "notes.xlsx").write_bytes(b"not a workbook")
    stale = blob_store().root / ".incoming-left-by-a-killed-upload"
    stale.write_bytes(b"partial")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    events = airflow_home.asset_event_count(SUBMISSIONS)

    airflow_home.dags_test("collect_returns")

    assert _channels() == [("dropfolder", "SEN")]
    assert [p.name.endswith("senegal.xlsx") for p in (inbox / "done").iterdir()] == [True]
    assert len(list((inbox / "failed").iterdir())) == 2  # the file and its reason
    assert not stale.exists()
    assert airflow_home.task_states("collect_returns", "collect")[-1] == "success"
    assert airflow_home.task_states("collect_returns", "remove_stale_temp_files")[-1] == "success"
    assert airflow_home.asset_event_count(SUBMISSIONS) == events + 1

    airflow_home.dags_test("collect_returns")  # nothing new

    assert airflow_home.task_states("collect_returns", "collect")[-1] == "skipped"
    assert airflow_home.asset_event_count(SUBMISSIONS) == events + 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_poll_mailbox_dag(
    world: World,
    mailbox: Mailbox,
    airflow_home: AirflowHome,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in mailbox.environment().items():
        monkeypatch.setenv(key, value)
    message = EmailMessage()
    message["From"] = world.people["EGY"].email
    message["To"] = signed_reply_address(world.people["EGY"].email)  # the email's Reply-To
    message["Subject"] = "RE: الاستبيان"
    message.set_content("مرفق الرد")
    message.add_attachment(
        world.workbook("EGY", "dag"),
        maintype="application",
        subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename="رد مصر.xlsx",
    )
    mailbox.deliver(message.as_bytes(policy=policy.SMTP))
    events = airflow_home.asset_event_count(SUBMISSIONS)

    airflow_home.dags_test("poll_mailbox")

    assert _channels() == [("email", "EGY")]
    with session_scope() as session:
        assert [m.state for m in session.scalars(select(InboundMail))] == ["processed"]
    assert airflow_home.task_states("poll_mailbox", "poll")[-1] == "success"
    assert airflow_home.asset_event_count(SUBMISSIONS) == events + 1

    airflow_home.dags_test("poll_mailbox")  # the same mailbox again: nothing to do

    assert len(_channels()) == 1
    assert airflow_home.task_states("poll_mailbox", "poll")[-1] == "skipped"
    assert airflow_home.asset_event_count(SUBMISSIONS) == events + 1
