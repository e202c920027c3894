"""The nightly ``backup`` DAG under a real Airflow (one run, about 30 s): on a damaged live
system the backup is still written, both tasks end red, and two alert emails are queued."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from resotrack.mail.models import OutboxMessage
from resotrack.recovery.manifest import Manifest, blob_name, list_generations
from resotrack.settings import get_settings
from resotrack.store import session_scope
from resotrack.validation.models import Submission
from support.airflow_env import AirflowHome
from support.recovery_world import FEW, make_world

pytestmark = [pytest.mark.airflow, pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


def test_the_backup_dag_backs_up_and_alerts_on_damage(
    db_url: str, airflow_home: AirflowHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world(FEW[:2])
    monkeypatch.setenv("RESOTRACK_BACKUP_DIR", str(tmp_path / "backups"))
    monkeypatch.setenv("RESOTRACK_MAIL_SECRETARIAT", "follow-up@oic.example.org")
    monkeypatch.setenv("RESOTRACK_SMTP_PORT", "9")  # nothing listens: the alerts stay queued
    with session_scope() as s:
        sha = s.get(Submission, world.accepted["SEN"]).sha256  # type: ignore[union-attr]
    (get_settings().home / blob_name(sha)).unlink()

    result = airflow_home.run("dags", "test", "backup", check=False)

    assert result.returncode != 0
    assert airflow_home.task_states("backup", "back_up")[-1] == "failed"
    assert airflow_home.task_states("backup", "verify")[-1] == "failed"  # ran all the same
    (generation,) = list_generations(tmp_path / "backups")
    assert generation.complete  # the backup holds what there was, and says what was not
    assert Manifest.read(generation.path).blobs["missing"] == 1
    with session_scope() as s:
        alerts = {m.kind: m for m in s.scalars(select(OutboxMessage))}
    assert sorted(alerts) == ["recovery_backup", "recovery_verify"]
    assert alerts["recovery_verify"].to_addrs == ["follow-up@oic.example.org"]
    assert any(blob_name(sha) in p for p in alerts["recovery_verify"].context["paragraphs"])
