"""The Secretariat's approval through a running Airflow: approve publishes, reject does not.

A module fixture starts a real Airflow 3.3 (api-server, scheduler, dag-processor; LocalExecutor
on SQLite metadata) in an isolated ``AIRFLOW_HOME``, with a fixed simple-auth user whose
password file is written before start. Everything goes through the public REST API with a
token from ``POST /auth/token``: unpause, trigger, read the human-in-the-loop request
(``GET .../dagRuns/{run}/hitlDetails``), answer it
(``PATCH .../taskInstances/approve/-1/hitlDetails``), watch the runs.

No triggerer is started: in Airflow 3.3 the approval task waits in the ``awaiting_input``
state, resumed by the API's response handler (``providers/standard/operators/hitl.py``).

The consolidate DAG runs here too: once by hand with a cycle id, once woken by an event on
the ``answers`` Asset.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from resotrack.consolidation.builds import build_report
from resotrack.consolidation.models import ReportBuild
from resotrack.settings import get_settings
from resotrack.store import migrate, reset_engines, session_scope
from support.airflow_env import DAGS_FOLDER, REPO, AirflowHome
from support.consolidation_world import SECRETARIAT, Script, make_script_cycle
from support.smtp_server import SmtpServer

pytestmark = [pytest.mark.slow, pytest.mark.airflow, pytest.mark.cluster]

USER, PASSWORD = "secretariat", "approve-me-please"
STARTUP_TIMEOUT = 240
RUN_TIMEOUT = 240


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    """A running Airflow; ``api`` is an authenticated client of its REST API."""

    home: Path
    url: str
    env: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    api: httpx.Client = field(init=False)

    def start(self, name: str, *args: str) -> None:
        log = (self.home / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "airflow", *args],
            env=self.env,
            cwd=self.home,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with its children
        )

    def logs(self, lines: int = 40) -> str:
        parts = []
        for name in self.processes:
            text = (self.home / f"{name}.log").read_text(errors="replace").splitlines()
            parts.append(f"--- {name}.log (tail)\n" + "\n".join(text[-lines:]))
        return "\n".join(parts)

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise AssertionError(f"airflow {name} exited {process.returncode}\n{self.logs()}")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def wait_for(self, what: str, probe: Any, timeout: float = RUN_TIMEOUT) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_alive()
            value = probe()
            if value:
                return value
            time.sleep(1)
        raise AssertionError(f"timed out waiting for {what}\n{self.logs()}")

    def login(self) -> None:
        token = httpx.post(
            f"{self.url}/auth/token", json={"username": USER, "password": PASSWORD}, timeout=10
        )
        assert token.status_code in (200, 201), token.text
        self.api = httpx.Client(
            base_url=f"{self.url}/api/v2",
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            timeout=30,
        )

    def trigger(self, dag_id: str, conf: dict[str, Any]) -> str:
        response = self.api.post(
            f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf}
        )
        assert response.status_code == 200, response.text
        return str(response.json()["dag_run_id"])

    def run_state(self, dag_id: str, run_id: str) -> str:
        return str(self.api.get(f"/dags/{dag_id}/dagRuns/{run_id}").json()["state"])

    def wait_for_run(self, dag_id: str, run_id: str) -> str:
        return str(
            self.wait_for(
                f"{dag_id} run {run_id} to finish",
                lambda: (s := self.run_state(dag_id, run_id)) in ("success", "failed") and s,
            )
        )

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        body = self.api.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances").json()
        return {ti["task_id"]: ti["state"] for ti in body["task_instances"]}


def _airflow_env(home: Path, port: int) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    return {
        **base,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(home / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": "resotrack-test-jwt-secret-0123456789abcdef",
        "AIRFLOW__API__SECRET_KEY": "resotrack-test-secret-key",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"), base.get("PYTHONPATH")])),
    }


@dataclass
class World:
    cluster: Cluster
    script: Script
    smtp: SmtpServer
    resotrack_home: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, airflow_home: AirflowHome) -> Iterator[World]:
    """The application database with the scripted cycle, an SMTP server, a running Airflow."""
    base = tmp_path_factory.mktemp("hitl")
    app_home = base / "var"
    app_db = f"sqlite:///{base / 'resotrack.db'}"
    smtp = SmtpServer().start()
    resotrack_env = {
        "RESOTRACK_HOME": str(app_home),
        "RESOTRACK_DATABASE_URL": app_db,
        "RESOTRACK_SMTP_PORT": str(smtp.port),
        "RESOTRACK_MAIL_SECRETARIAT": SECRETARIAT,
        "RESOTRACK_MAIL_BACKOFF_BASE_SECONDS": "0",
    }
    with pytest.MonkeyPatch.context() as mp:
        for key, value in resotrack_env.items():
            mp.setenv(key, value)
        get_settings.cache_clear()
        reset_engines()
        migrate.upgrade(app_db)
        script = make_script_cycle(base)

        home = base / "airflow"
        (home / "plugins").mkdir(parents=True)
        # A migrated metadata database, copied from the session's (migrating costs a minute).
        shutil.copy(airflow_home.metadata_db, home / "airflow.db")
        (home / "passwords.json").write_text(json.dumps({USER: PASSWORD}))
        port = _free_port()
        env = {**_airflow_env(home, port), **resotrack_env}
        cluster = Cluster(home, f"http://127.0.0.1:{port}", env)
        started = time.perf_counter()
        try:
            cluster.start("api-server", "api-server", "--port", str(port))
            cluster.start("scheduler", "scheduler")
            cluster.start("dag-processor", "dag-processor")

            def healthy() -> bool:
                try:
                    return httpx.get(f"{cluster.url}/api/v2/monitor/health", timeout=2).is_success
                except httpx.HTTPError:
                    return False

            cluster.wait_for("the api-server", healthy, STARTUP_TIMEOUT)
            cluster.login()
            for dag_id in ("consolidate", "publish_report"):
                cluster.wait_for(
                    f"{dag_id} to be parsed",
                    lambda dag_id=dag_id: cluster.api.get(f"/dags/{dag_id}").status_code == 200,
                    STARTUP_TIMEOUT,
                )
                answer = cluster.api.patch(f"/dags/{dag_id}", json={"is_paused": False})
                assert answer.status_code == 200, answer.text
            print(f"Airflow cluster ready in {time.perf_counter() - started:.1f} s")
            yield World(cluster, script, smtp, app_home)
        finally:
            cluster.stop()
            smtp.stop()
            reset_engines()
            get_settings.cache_clear()


def _builds() -> dict[int, ReportBuild]:
    with session_scope() as s:
        return {b.version: b for b in s.scalars(select(ReportBuild))}


def test_consolidate_runs_by_hand_and_on_the_answers_asset(world: World) -> None:
    cluster, script = world.cluster, world.script
    run = cluster.trigger("consolidate", {"cycle_id": script.cycle_id})
    assert cluster.wait_for_run("consolidate", run) == "success", cluster.logs()
    (first,) = _builds().values()
    assert first.version == 1 and first.state == "built"

    # An accepted return announces itself on the answers Asset: consolidate wakes up.
    assets = cluster.api.get("/assets", params={"only_active": False}).json()
    found = [a for a in assets["assets"] if a["uri"].rstrip("/") == "resotrack://answers"]
    assert len(found) == 1, assets
    (asset,) = found
    event = cluster.api.post("/assets/events", json={"asset_id": asset["id"], "extra": {}})
    assert event.status_code == 200, event.text

    def asset_run() -> str | None:
        runs = cluster.api.get(
            "/dags/consolidate/dagRuns", params={"run_type": "asset_triggered"}
        ).json()["dag_runs"]
        return runs[0]["dag_run_id"] if runs else None

    woken = cluster.wait_for("an asset-triggered consolidate run", asset_run)
    assert cluster.wait_for_run("consolidate", woken) == "success", cluster.logs()
    assert list(_builds()) == [1]  # nothing changed: no new version


def _hitl(cluster: Cluster, run_id: str) -> dict[str, Any]:
    """The approval request of ``run_id``, once Airflow is really waiting for a person.

    Answering within a second of the task parking can lose a race in Airflow 3.3.2: the
    answer re-queues the task before the scheduler has processed the parking worker's exit,
    and the scheduler then marks the task failed ("state changed externally"; the same race
    as apache/airflow#71580 for deferred tasks). A person never answers that fast; a test
    does, so it waits until the scheduler has seen the parking worker finish.
    """

    def waiting() -> dict[str, Any] | None:
        body = cluster.api.get(f"/dags/publish_report/dagRuns/{run_id}/hitlDetails").json()
        details = body.get("hitl_details") or []
        return details[0] if details else None

    cluster.wait_for(f"the approval request of {run_id}", waiting)
    parked = f"TaskInstance Finished: dag_id=publish_report, task_id=approve, run_id={run_id},"
    cluster.wait_for(
        f"the scheduler to see {run_id}'s approval task parked",
        lambda: any(
            parked in line and "state=awaiting_input" in line
            for line in (cluster.home / "scheduler.log").read_text(errors="replace").splitlines()
        ),
    )
    # Read again: the request exists while the task is still running (it parks just after),
    # so the first answer can name a state that is already past.
    detail = waiting()
    assert isinstance(detail, dict)
    return detail


def _answer(cluster: Cluster, run_id: str, option: str, comment: str) -> httpx.Response:
    return cluster.api.patch(
        f"/dags/publish_report/dagRuns/{run_id}/taskInstances/approve/-1/hitlDetails",
        json={"chosen_options": [option], "params_input": {"comment": comment}},
    )


def test_approve_publishes_and_reject_does_not(world: World) -> None:
    cluster, script = world.cluster, world.script
    if not _builds():
        build_report(script.cycle_id)
    # The newer build is the one approved: approving an older one is refused.
    rejected_id = _builds()[1].id
    approved_id = build_report(script.cycle_id, force=True).build_id

    approve_run = cluster.trigger("publish_report", {"build_id": approved_id})
    reject_run = cluster.trigger("publish_report", {"build_id": rejected_id})
    request = _hitl(cluster, approve_run)
    assert request["options"] == ["Approve", "Reject"]
    assert f"cycle {script.cycle_id}, build 2" in request["subject"]
    assert "Word reports approved by this answer (SHA-256" in request["body"]
    assert "comment" in request["params"] and request["response_received"] is False
    assert request["task_instance"]["state"] in ("awaiting_input", "deferred")
    _hitl(cluster, reject_run)
    with session_scope() as s:
        waiting = s.get(ReportBuild, approved_id)
        assert waiting is not None and waiting.state == "awaiting_approval"
        assert waiting.approval_run_id == approve_run

    answered = _answer(cluster, approve_run, "Approve", "Figures checked; publish.")
    assert answered.status_code == 200, answered.text
    assert answered.json()["responded_by"]["name"] == USER
    assert _answer(cluster, approve_run, "Reject", "too late").status_code == 409
    assert _answer(cluster, reject_run, "Maybe", "?").status_code == 400
    rejected = _answer(cluster, reject_run, "Reject", "Section C quotes are incomplete.")
    assert rejected.status_code == 200, rejected.text

    assert cluster.wait_for_run("publish_report", approve_run) == "success", cluster.logs()
    assert cluster.wait_for_run("publish_report", reject_run) == "success", cluster.logs()
    assert cluster.task_states("publish_report", approve_run) == {
        "prepare": "success",
        "approve": "success",
        "publish": "success",
        "record_decision": "success",
    }
    states = cluster.task_states("publish_report", reject_run)
    assert states["publish"] == "skipped" and states["record_decision"] == "success"

    folder = world.resotrack_home / "published" / str(script.cycle_id)
    with session_scope() as s:
        published = s.get(ReportBuild, approved_id)
        refused = s.get(ReportBuild, rejected_id)
        assert published is not None and refused is not None
        assert (published.state, published.reviewer) == ("published", USER)
        assert published.comment == "Figures checked; publish."
        assert published.published_path == str(folder)
        assert (refused.state, refused.reviewer) == ("rejected", USER)
        assert refused.comment == "Section C quotes are incomplete."
        outputs, v1_outputs = dict(published.outputs), dict(refused.outputs)
        assert published.approved_files == {
            n: sha for n, sha in outputs.items() if n.endswith(".docx")
        }
    sums = (folder / f"cycle-{script.cycle_id}-v2.sha256").read_text().splitlines()
    assert len(sums) == len(outputs)
    for line in sums:
        sha, name = line.split("  ", 1)
        assert outputs[name] == sha
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == sha
    assert not any((folder / name).exists() for name in v1_outputs)  # rejected: nothing
    assert not (folder / f"cycle-{script.cycle_id}-v1.sha256").exists()

    mails = [m for m in world.smtp.received() if SECRETARIAT in m.rcpt_tos]
    assert len(mails) == 1
    assert "build 2" in str(mails[0].message["Subject"])
