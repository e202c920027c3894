"""Everything the demo started and how it is kept alive, waited on and stopped.

One :class:`Supervisor` per run. It starts the mail sink, the PostgreSQL that holds Airflow's
metadata and ``airflow standalone``, remembers their sessions (so a later run can clean up
after a killed one), and while the story waits it watches them: a child that exits, or a
component of ``airflow standalone`` that dies (standalone never restarts one), ends the story
with its log named. Nothing is restarted and no DAG run is started behind the story's back: on
PostgreSQL the scheduler has no lock to die on, and the portal's triggers are not lost, so the
summary can say that each return was validated by the run its upload triggered. Waiting reads
the application database or Airflow's REST API, never Airflow's internals.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import httpx
from rich.console import Console

from resotrack.catalog import Said
from resotrack.demo import postgres, processes
from resotrack.demo.airflow_api import AirflowApi, run_log_folder
from resotrack.demo.processes import Child
from resotrack.demo.stack import (
    STORY_DAGS,
    USERNAME,
    Credentials,
    DemoError,
    Layout,
    missing_components,
    shown,
    start_airflow,
    start_mailsink,
    wait_for_smtp,
)
from resotrack.demo.words import words

T = TypeVar("T")
log = logging.getLogger("resotrack.demo")
#: Seconds between two looks at the process list for Airflow's components.
COMPONENT_CHECK_EVERY = 5.0


class Supervisor:
    """The processes of one run, the Airflow client, and waiting with an eye on both."""

    def __init__(self, layout: Layout, console: Console, started_at: datetime) -> None:
        self.layout = layout
        self.console = console
        self.started_at = started_at
        self.env: dict[str, str] = {}
        self.credentials: Credentials | None = None
        self.children: list[Child] = []  # stopped together; PostgreSQL apart, after them
        self.postgres: Child | None = None
        self.airflow: Child | None = None
        self.api: AirflowApi | None = None
        self.stopping = threading.Event()  # tells waiting threads to give up on Ctrl-C
        self.lock = threading.Lock()  # focal points wait from a few threads
        self.watching = False  # once Airflow is up: a component that vanishes ends the story
        self.last_component_check = 0.0
        self.component_checks = 0  # looks at the process list that found every component
        self.last_failure_check = 0.0
        self.failures_seen: set[tuple[str, str]] = set()
        self.postgres_version = "?"
        self.postgres_runs_as = "?"

    @property
    def record(self) -> Path:
        return self.layout.work / "processes.json"

    # --- starting ------------------------------------------------------------------------

    @property
    def cluster(self) -> postgres.Cluster:
        return postgres.Cluster(self.layout.postgres_data)

    def clean_up_after_killed_run(self) -> int:
        """Stop what a demo on this home that was killed (kill -9, closed laptop) left:
        Airflow and the rest first, then its PostgreSQL (found by ``postmaster.pid``) with a
        fast shutdown; the number of processes stopped."""
        sessions, marker = processes.recorded_sessions(self.record), self.layout.marker
        postmaster = self.cluster.postmaster()
        spare = [postmaster] if postmaster is not None else []
        count = len(processes.stop_leftovers(sessions, marker, spare=spare))
        if postmaster is not None:
            count += len(processes.family(postmaster))
            if not postgres.stop(postmaster):
                raise DemoError(
                    f"the PostgreSQL server a killed demo left (pid {postmaster}) did not stop"
                )
        # What a postmaster killed outright would leave: its server processes.
        return count + len(processes.stop_leftovers(sessions, marker))

    def start_postgres(self) -> tuple[Child, bool]:
        """The cluster made if missing, the server started and Airflow's database created;
        the server and whether the cluster was made now."""
        layout, cluster = self.layout, self.cluster
        log_file = layout.logs / "postgres.log"
        try:
            who = postgres.account()
            made = postgres.initialise(cluster, who, log_file)
            server = postgres.start(cluster, who, marker=layout.marker, log=log_file)
            self.postgres = server
            self._record()
            postgres.ensure_database(cluster, postgres.AIRFLOW_DATABASE)
            self.postgres_version = postgres.version(cluster)
        except postgres.PostgresError as exc:
            raise DemoError(str(exc)) from exc
        self.postgres_runs_as = who.name
        return server, made

    def start_mailsink(self) -> Child:
        sink = start_mailsink(self.layout, self.env)
        self._started(sink)
        wait_for_smtp(self.layout.smtp_port, sink)
        return sink

    def start_airflow(self) -> Child:
        assert self.credentials is not None
        airflow = self.airflow = start_airflow(self.layout, self.env, self.credentials)
        self._started(airflow)
        if self.api is None:
            self.api = AirflowApi(self.layout.api_url, self.credentials.password)
        return airflow

    def _started(self, child: Child) -> None:
        self.children.append(child)
        self._record()

    @property
    def sessions(self) -> list[int]:
        """Every session the demo started, PostgreSQL's included."""
        server = [self.postgres.pid] if self.postgres is not None else []
        return [c.pid for c in self.children] + server

    def _record(self) -> None:
        processes.record_sessions(self.record, self.sessions)

    def airflow_ready(self) -> str:
        """Wait until the API answers, the demo can log in and the story's DAGs are parsed
        and unpaused; then start watching Airflow's components."""
        api = self.api
        assert api is not None
        # Generous: the api-server took 209 s to answer on two cores at a load average of 14
        # (2026-12-06), and 240 s was once not enough. The wait watches the processes, so a
        # standalone that died is reported at once, whatever the timeout.
        self.wait(
            f"Airflow's API on {self.layout.api_url}",
            lambda: True if api.healthy() else None,
            timeout=600,
        )
        self.wait("a login to Airflow", api.token, timeout=120, every=1.0)

        def parsed() -> bool | None:
            return None if any(api.dag(d) is None for d in STORY_DAGS) else True

        try:
            self.wait("the DAGs to be parsed", parsed, timeout=180, every=1.0)
        except DemoError as exc:
            raise DemoError(f"{exc}; {self.import_errors() or 'no import error reported'}") from exc
        for dag_id in STORY_DAGS:
            self.wait(f"{dag_id} to be unpaused", partial(api.unpause, dag_id), timeout=120)
        self.watching = True
        errors = self.import_errors()
        said = Said(
            "API up, logged in as {user}, {n} story DAGs parsed and unpaused",
            user=USERNAME,
            n=len(STORY_DAGS),
        )
        return Said("{said}; [yellow]{errors}[/]", said=said, errors=errors) if errors else said

    def import_errors(self) -> str:
        assert self.api is not None
        try:
            found = self.api.get("/api/v2/importErrors")
        except (httpx.HTTPError, DemoError):
            return ""
        errors = (found or {}).get("import_errors", [])
        files = sorted({Path(str(e.get("filename", "?"))).name for e in errors})
        return f"DAG files that do not import: {', '.join(files)}" if files else ""

    # --- watching ------------------------------------------------------------------------

    def check(self) -> None:
        """Raise if a child exited or a component of ``airflow standalone`` died."""
        for child in [*self.children, *([self.postgres] if self.postgres else [])]:
            if not child.running():
                raise DemoError(
                    f"{child.name} stopped on its own (exit {child.process.returncode}); "
                    f"see {shown(child.log)}"
                )
        now = time.monotonic()
        if not self.watching or now - self.last_component_check < COMPONENT_CHECK_EVERY:
            return
        self.last_component_check = now
        assert self.airflow is not None
        missing = missing_components(self.airflow)
        if missing:
            raise DemoError(
                f"Airflow's {', '.join(missing)} stopped (standalone does not restart it); "
                f"see {shown(self.airflow.log)}"
            )
        self.component_checks += 1

    def watch_failures(self) -> None:
        """Print each DAG run that failed since the demo started, once, with its log folder."""
        with self.lock:
            if self.api is None or time.monotonic() - self.last_failure_check < 5:
                return
            self.last_failure_check = time.monotonic()
        try:
            failed = self.api.failed_runs(self.started_at)
        except (httpx.HTTPError, DemoError):
            return
        for dag_id, run_id in failed:
            if (dag_id, run_id) not in self.failures_seen:
                self.failures_seen.add((dag_id, run_id))
                folder = run_log_folder(self.layout, dag_id, run_id)
                w = words()
                said = w(
                    "Airflow run failed: [bold]{dag}[/] {run}; logs in {folder}",
                    dag=dag_id,
                    run=run_id,
                    folder=shown(folder),
                )
                self.console.print(f"[red]✗[/] {said}")

    def fail_if_failed(self, dag_id: str, run_id: str | None, what: str) -> None:
        """Raise, naming the run and its logs, if ``run_id`` of ``dag_id`` failed."""
        assert self.api is not None
        if run_id is not None and self.api.run_state(dag_id, run_id) == "failed":
            folder = run_log_folder(self.layout, dag_id, run_id)
            raise DemoError(f"the {what} run {run_id} failed; logs in {shown(folder)}")

    # --- waiting and triggering ----------------------------------------------------------

    def wait(
        self,
        what: str,
        check: Callable[[], T | None],
        *,
        timeout: float,
        every: float = 0.5,
    ) -> T:
        """Poll ``check`` until it returns something, watching the processes meanwhile."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = check()
            except httpx.HTTPError as exc:  # Airflow too busy to answer in time: ask again
                log.info("waiting for %s: %s: %s", what, type(exc).__name__, exc)
                value = None
            if value is not None:
                return value
            if self.stopping.is_set():
                raise DemoError(f"stopped while waiting for {what}")
            self.check()
            self.watch_failures()
            if time.monotonic() > deadline:
                raise DemoError(f"gave up after {timeout:.0f} s waiting for {what}")
            time.sleep(every)

    def trigger(self, dag_id: str, conf: dict[str, Any], *, attempts: int = 3) -> str | None:
        """Start a run as the CLI does (``orchestration.trigger_dag``), a few times if Airflow
        is too busy to answer: the story's DAGs process whatever is pending, so a retried
        trigger does no harm."""
        from resotrack.orchestration import trigger_dag

        for attempt in range(attempts):
            run = trigger_dag(dag_id, conf, timeout=30)
            if run is not None:
                return run
            if attempt + 1 < attempts:
                time.sleep(3)
        return None

    def airflow_facts(self, uploads: int) -> dict[str, Any]:
        """How Airflow ran, for the summary: its metadata database, whether it ran throughout,
        and which ``ingest_return`` runs validated the returns (read from its REST API)."""
        assert self.api is not None
        try:
            runs = self.api.runs_since("ingest_return", self.started_at)
        except (httpx.HTTPError, DemoError) as exc:
            log.warning("could not list the ingest runs: %s", exc)
            runs = None
        kinds: Counter[str] = Counter()
        for run in runs or []:
            conf = run.get("conf") or {}
            if "submission_id" in conf:
                kinds["upload"] += 1
            else:
                kinds["scheduled" if run.get("run_type") == "scheduled" else "by_hand"] += 1
        return {
            "metadata_database": f"PostgreSQL {self.postgres_version}",
            "postgres_data": str(self.layout.postgres_data),
            "postgres_runs_as": self.postgres_runs_as,
            "parallelism": int(self.env.get("AIRFLOW__CORE__PARALLELISM", "0")),
            "component_checks": self.component_checks,
            "uploads": uploads,
            "ingest_runs": None if runs is None else dict(kinds),
        }

    # --- stopping ------------------------------------------------------------------------

    def stop(self) -> int:
        """Stop every process the demo started and check that none is left; the exit code.

        Airflow, its tasks, the mail sink and the validation service first (PostgreSQL's
        session spared: they are its clients), then PostgreSQL with a fast shutdown.
        """
        self.stopping.set()
        if self.api is not None:
            self.api.close()
        sessions, marker = self.sessions, self.layout.marker
        if not sessions:
            return 0
        server = [self.postgres.pid] if self.postgres is not None else []
        with self.console.status(
            "Stopping Airflow, the mail sink, the validation service and PostgreSQL…"
        ):
            count = len(processes.belonging(sessions, marker, spare=server))
            count += len(processes.family(server[0])) if server else 0
            self._stop_validation_service()
            processes.stop_all(self.children, marker, spare=server)
            if self.postgres is not None:
                postgres.stop(self.postgres.pid)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.postgres.process.wait(timeout=5)
            # The server's processes end before the postmaster (a fast shutdown waits for
            # them), or on their own when it is killed: its pid is the one to check.
            found = processes.belonging(sessions, marker)
            found += processes.family(server[0]) if server else []
            left = list({p.pid: p for p in found}.values())
        if left:
            listed = "; ".join(f"{p.pid} {p.command[:60]}" for p in left)
            self.console.print(f"[red]✗[/] [bold]Stopping[/]: still running: {listed}")
            return 1
        processes.record_sessions(self.record, [])
        busy = processes.wait_ports_free(self.layout.ports, timeout=10)
        ports = f"; port(s) {', '.join(map(str, busy))} still held" if busy else "; ports freed"
        self.console.print(
            f"[green]✓[/] [bold]Stopped[/]: {count} processes (Airflow and its tasks, the mail "
            f"sink, the validation service, PostgreSQL); none left{ports}"
        )
        return 0

    @staticmethod
    def _stop_validation_service() -> None:
        """Ask the warm validation service (detached on purpose) to exit; the marker in its
        environment catches it otherwise."""
        from resotrack.validation import service

        with contextlib.suppress(Exception):  # best effort: stop_all finds it by its marker
            service.stop()
