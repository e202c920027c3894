"""The ``ingest_return`` DAG under a real Airflow.

``airflow dags test`` runs it once per conf: the task hands the work to the warm validation
service, the sender gets their feedback, and the ``answers`` Asset gets an event only when
answers changed. Then, under a running scheduler (scheduler, DAG processor and API server with
LocalExecutor on SQLite, started once for the module), 6 uploads (20 when recording) are
triggered through the REST API as the portal does, and the time from trigger to the
feedback email at the SMTP server is measured (p50/p95 printed; recorded in bench/RESULTS.md when
``RESOTRACK_BENCH_RECORD=1``).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from resotrack.orchestration import trigger_dag
from resotrack.questionnaires.spec import QuestionRow
from resotrack.settings import get_settings
from resotrack.validation import service
from support.airflow_env import AirflowHome
from support.return_fixtures import KEY, World, filled, make_world, submission, submit
from support.smtp_server import SmtpServer

pytestmark = pytest.mark.airflow

REPO = Path(__file__).resolve().parents[2]
#: The benchmark's sample (recorded) is 20 uploads; the test's, 6, to keep the suite under its
#: 15 minutes on two cores (each upload is about two seconds end to end). The test checks that
#: every upload is answered; the figures it prints are a measurement, not a pass mark.
RECORDING = os.environ.get("RESOTRACK_BENCH_RECORD") == "1"
UPLOADS = 20 if RECORDING else 6
GOAL_P95_SECONDS = 3.0


@pytest.fixture
def world(
    db_url: str, smtp_server: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    monkeypatch.setenv("RESOTRACK_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("RESOTRACK_SECRET_KEY", KEY)
    monkeypatch.setenv("RESOTRACK_MAIL_RUN_RETRIES", "0")
    # A service left behind by a failed test goes away on its own soon.
    monkeypatch.setenv("RESOTRACK_VALIDATION_SERVICE_IDLE_SECONDS", "300")
    get_settings.cache_clear()
    yield make_world(tmp_path)
    service.stop()


def _feedback(server: SmtpServer, address: str) -> int:
    return sum(address in m.rcpt_tos for m in server.received())


# Under Airflow on one database, the DAG tests sharing them out (the stage's own tests
# run on both): each costs 25-35 s, and the suite must stay under 15 minutes on two cores.
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_ingest_dag_validates_tells_and_emits_only_on_change(
    world: World, smtp_server: SmtpServer, airflow_home: AirflowHome
) -> None:
    events = airflow_home.asset_event_count("resotrack://answers")
    sid = submit(world, filled(world), "SEN")
    airflow_home.dags_test("ingest_return", {"submission_id": sid})
    assert submission(sid).state == "accepted"
    assert _feedback(smtp_server, world.emails["SEN"]) == 1
    assert airflow_home.asset_event_count("resotrack://answers") == events + 1

    refused = submit(world, filled(world, per_row=lambda r: {"measures": None}), "SEN")
    airflow_home.dags_test("ingest_return", {"submission_id": refused})
    assert submission(refused).state == "refused"
    assert _feedback(smtp_server, world.emails["SEN"]) == 2
    assert airflow_home.asset_event_count("resotrack://answers") == events + 1  # no change
    assert airflow_home.task_states("ingest_return", "ingest")[-2:] == ["success", "skipped"]
    assert service.socket_path().exists(), "the task should have left a warm service behind"


# --- under a running scheduler ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """scheduler + dag-processor + api-server, LocalExecutor, SQLite metadata."""

    def __init__(self, home: AirflowHome, port: int) -> None:
        self.home, self.port = home, port
        self.processes: list[subprocess.Popen[bytes]] = []
        # One secret for the three servers, given as an operator would: left to Airflow, each
        # server starting on a home with no airflow.cfg yet writes one with a secret of its own,
        # and the API server then refuses the tokens the scheduler gives its tasks.
        self.jwt_secret = secrets.token_urlsafe(32)

    def extra(self) -> dict[str, str]:
        return {
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.home.home / "pw.json"),
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API_AUTH__JWT_SECRET": self.jwt_secret,
            "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.05",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        }

    def start(self) -> None:
        (self.home.home / "pw.json").write_text(json.dumps({"admin": "admin-test"}))
        logs = self.home.home / "cluster-logs"
        logs.mkdir(exist_ok=True)
        for command in (["api-server"], ["dag-processor"], ["scheduler"]):
            with open(logs / f"{command[0]}.log", "wb") as out:
                self.processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "airflow", *command],
                        env=self.home.env(self.extra()),
                        cwd=self.home.home,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )

    def airflow(self, *args: str) -> str:
        return self.home.run(*args, extra_env=self.extra()).stdout

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, 15)
        for process in self.processes:
            try:
                process.wait(timeout=10)  # then SIGKILL: a test home, nothing to save
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait()


@pytest.fixture
def cluster(
    world: World, empty_airflow_home: AirflowHome, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Cluster]:
    """Started after the test world: the scheduler's tasks inherit its ``RESOTRACK_*``."""
    port = _free_port()
    monkeypatch.setenv("RESOTRACK_AIRFLOW_API_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("RESOTRACK_AIRFLOW_USERNAME", "admin")
    monkeypatch.setenv("RESOTRACK_AIRFLOW_PASSWORD", "admin-test")
    get_settings.cache_clear()
    running = Cluster(empty_airflow_home, port)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def _parsed(home: AirflowHome, dag_id: str) -> bool:
    try:
        return bool(home.query("SELECT 1 FROM dag WHERE dag_id = ?", (dag_id,)))
    except sqlite3.OperationalError:  # locked by a writer for a moment: look again
        return False


def _wait(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.cluster
@pytest.mark.slow
# SQLite only: starting a scheduler costs minutes on two cores; the PostgreSQL figure in
# bench/RESULTS.md was measured the same way, by running this test with "postgresql" here.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_latency_from_upload_to_feedback_under_a_running_scheduler(
    world: World,
    smtp_server: SmtpServer,
    cluster: Cluster,
) -> None:
    # Parsed when the DAG processor has written it to the metadata database (read directly:
    # a CLI call per look would start Airflow each time, on the cores the servers start on).
    _wait(
        lambda: _parsed(cluster.home, "ingest_return"),
        120,
        "DAG parsed",
    )
    cluster.airflow("dags", "unpause", "ingest_return")
    service.start()  # as after the first upload of the day: the service is warm

    address = world.emails["PAK"]
    timings = []
    for i in range(UPLOADS):

        def per_row(r: QuestionRow, i: int = i) -> dict[str, str]:
            return {"measures": f"Upload {i}, {r.number}"}

        data = filled(world, "PAK", per_row=per_row)
        sid = submit(world, data, "PAK")
        before = _feedback(smtp_server, address)
        started = time.perf_counter()
        run_id = trigger_dag("ingest_return", {"submission_id": sid}, timeout=30)
        assert run_id, "the REST trigger failed"
        _wait(lambda n=before: _feedback(smtp_server, address) > n, 60, f"feedback for upload {i}")
        timings.append(time.perf_counter() - started)
        assert submission(sid).state == "accepted"
    timings.sort()
    p50 = statistics.median(timings)
    p95 = timings[int(0.95 * (len(timings) - 1) + 0.5)]
    line = (
        f"upload → feedback email over {UPLOADS} uploads (137-row return): "
        f"p50 {p50:.2f} s, p95 {p95:.2f} s, min {timings[0]:.2f} s, max {timings[-1]:.2f} s"
    )
    print(line)
    if RECORDING:
        backend = "postgresql" if get_settings().db_url.startswith("postgresql") else "sqlite"
        _record_latency(backend, timings, p50, p95)


def _record_latency(backend: str, timings: list[float], p50: float, p95: float) -> None:
    """Replace this measurement's row (per database) in bench/RESULTS.md, and only it."""
    sys.path.insert(0, str(REPO / "bench"))
    try:
        from results import read_section, write_section
    finally:
        sys.path.pop(0)

    heading = "## Ingest latency (upload → feedback email)"
    rows = {
        line.split("|")[1].strip(): line
        for line in (read_section(heading) or "").splitlines()
        if line.startswith(("| sqlite", "| postgresql"))
    }
    verdict = "met" if p95 <= GOAL_P95_SECONDS else "MISSED"
    load = os.getloadavg()[0]
    rows[backend] = (
        f"| {backend} | {time.strftime('%Y-%m-%dT%H:%M')} | {load:.1f} | {len(timings)} "
        f"| {p50:.2f} | {p95:.2f} | {min(timings):.2f} | {max(timings):.2f} | {verdict} |"
    )
    body = [
        "Measured by `RESOTRACK_BENCH_RECORD=1 uv run pytest tests/e2e/test_ingest_dag.py"
        " -k latency`"
        f" on this machine ({os.cpu_count()} cores, shared with other engineers' test runs: "
        "the load average at the end of each run is in the table).",
        "A running Airflow (scheduler, DAG processor and API server, LocalExecutor, SQLite "
        "metadata, parallelism 4); each upload of a 137-row return is recorded as intake does, "
        "triggered through the REST API with its submission id, and timed until the feedback "
        "email reaches the SMTP server on loopback. The ingest task hands the work to the warm "
        "validation service (Great Expectations imported once, when the service starts).",
        "",
        "| application database | run | load (1 min) | uploads | p50 (s) | p95 (s) | min (s) "
        f"| max (s) | goal p95 ≤ {GOAL_P95_SECONDS:.0f} s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
        *[rows[k] for k in sorted(rows)],
    ]
    write_section(heading, "\n".join(body))
