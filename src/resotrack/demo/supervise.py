"""Everything the demo started and how it is kept alive, waited on and stopped.

One :class:`Supervisor` per run. It starts the mail sink and ``airflow standalone``, remembers
their sessions (so a later run can clean up after a killed one), and while the story waits it
watches them: a child that exits ends the story with its log named, and a component of
``airflow standalone`` that dies (standalone never restarts one; on SQLite under load a
scheduler may exit on "database is locked") gets the whole of standalone restarted, at most
twice. Waiting reads the application database or Airflow's REST API, never Airflow's internals.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import httpx
from rich.console import Console

from resotrack.demo import processes
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

T = TypeVar("T")
log = logging.getLogger("resotrack.demo")
#: Restarts of ``airflow standalone`` allowed in one run before the demo gives up.
MAX_RESTARTS = 2
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
        self.children: list[Child] = []
        self.airflow: Child | None = None
        self.api: AirflowApi | None = None
        self.stopping = threading.Event()  # tells waiting threads to give up on Ctrl-C
        self.lock = threading.Lock()  # focal points wait from a few threads
        # Reentrant: the restart waits for the new Airflow, and waiting checks the children.
        self.restart_lock = threading.RLock()
        self.watching = False  # once Airflow is up: a component that vanishes is restarted
        self.last_component_check = 0.0
        self.last_failure_check = 0.0
        self.last_nudge = 0.0
        self.failures_seen: set[tuple[str, str]] = set()
        self.restarts = 0
        self.nudges = 0

    @property
    def record(self) -> Path:
        return self.layout.work / "processes.json"

    # --- starting ------------------------------------------------------------------------

    def clean_up_after_killed_run(self) -> int:
        """Stop what a demo on this home that was killed (kill -9, closed laptop) left."""
        left = processes.stop_leftovers(
            processes.recorded_sessions(self.record), self.layout.marker
        )
        return len(left)

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
        processes.record_sessions(self.record, [c.pid for c in self.children])

    def airflow_ready(self) -> str:
        """Wait until the API answers, the demo can log in and the story's DAGs are parsed
        and unpaused; then start watching Airflow's components."""
        api = self.api
        assert api is not None
        self.wait(
            f"Airflow's API on {self.layout.api_url}",
            lambda: True if api.healthy() else None,
            timeout=240,
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
        note = f"; [yellow]{errors}[/]" if errors else ""
        return (
            f"API up, logged in as {USERNAME}, {len(STORY_DAGS)} story DAGs parsed and "
            f"unpaused{note}"
        )

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
        """Raise if a child exited; restart ``airflow standalone`` if a component died."""
        if not self.restart_lock.acquire(blocking=False):
            return  # another thread is restarting Airflow: nothing to judge meanwhile
        try:
            for child in list(self.children):
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
                self._restart_airflow(missing)
        finally:
            self.restart_lock.release()

    def _restart_airflow(self, missing: list[str]) -> None:
        """Stop what is left of ``airflow standalone`` and start it again.

        Safe at any point of the story: the database is the source of truth, queued runs are
        picked up by the new scheduler, a task killed with the old one is retried, and every
        DAG processes whatever is pending.
        """
        assert self.airflow is not None
        names, log_file = ", ".join(missing), shown(self.airflow.log)
        if self.restarts >= MAX_RESTARTS:
            raise DemoError(
                f"Airflow's {names} stopped again after {self.restarts} restarts; see {log_file}"
            )
        self.console.print(
            f"[yellow]↻[/] Airflow's {names} stopped (see {log_file}; on SQLite under load, "
            'usually "database is locked"): restarting airflow standalone'
        )
        log.warning("restarting airflow standalone: %s gone", names)
        self.watching = False
        processes.stop_all([self.airflow], None)
        self.children.remove(self.airflow)
        busy = processes.wait_ports_free((self.layout.api_port, *self.layout.log_ports), 30)
        if busy:
            raise DemoError(
                f"port(s) {', '.join(map(str, busy))} still held after stopping Airflow"
            )
        self.restarts += 1
        began = time.monotonic()
        self.start_airflow()
        self.airflow_ready()
        self.console.print(
            f"[green]✓[/] Airflow is back after {time.monotonic() - began:.0f} s "
            f"(restart {self.restarts} of at most {MAX_RESTARTS})"
        )

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
                self.console.print(
                    f"[red]✗[/] Airflow run failed: [bold]{dag_id}[/] {run_id}; "
                    f"logs in {shown(folder)}"
                )

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
        stalled: Callable[[], None] | None = None,
        stall_after: float = 20.0,
    ) -> T:
        """Poll ``check`` until it returns something, watching the processes meanwhile;
        ``stalled`` is called each time ``stall_after`` seconds pass without an answer."""
        began = time.monotonic()
        deadline, next_stall = began + timeout, began + stall_after
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
            now = time.monotonic()
            if now > deadline:
                raise DemoError(f"gave up after {timeout:.0f} s waiting for {what}")
            if stalled is not None and now > next_stall:
                stalled()
                next_stall = now + stall_after
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

    def nudge_ingest(self) -> None:
        """Run the ingest DAG's sweep now, for returns whose trigger was lost.

        The portal triggers one ingest run per upload; when Airflow is too busy to answer in
        time the trigger is dropped and the five-minute sweep would pick the return up. The
        demo does not wait five minutes: it starts the sweep by hand (it processes everything
        pending, so an extra run changes nothing that was already done).
        """
        with self.lock:
            if time.monotonic() - self.last_nudge < 20:
                return
            self.last_nudge = time.monotonic()
        if self.trigger("ingest_return", {}, attempts=1) is not None:
            self.nudges += 1

    def notes(self) -> list[str]:
        """What went differently from the plan, for the summary."""
        notes = []
        if self.restarts:
            notes.append(
                f"Airflow was restarted {self.restarts}x after one of its components died "
                "(see logs/airflow-standalone.log)"
            )
        if self.nudges:
            notes.append(
                f"the ingest sweep was started by hand {self.nudges}x for returns still "
                "unchecked after 20 s (the portal's trigger may be lost while Airflow is busy)"
            )
        return notes

    # --- stopping ------------------------------------------------------------------------

    def stop(self) -> int:
        """Stop every process the demo started and check that none is left; the exit code."""
        self.stopping.set()
        if self.api is not None:
            self.api.close()
        if not self.children:
            return 0
        with self.console.status("Stopping Airflow, the mail sink and the validation service…"):
            sessions = [c.pid for c in self.children]
            count = len(processes.belonging(sessions, self.layout.marker))
            self._stop_validation_service()
            left = processes.stop_all(self.children, self.layout.marker)
        if left:
            listed = "; ".join(f"{p.pid} {p.command[:60]}" for p in left)
            self.console.print(f"[red]✗[/] [bold]Stopping[/]: still running: {listed}")
            return 1
        processes.record_sessions(self.record, [])
        busy = processes.wait_ports_free(self.layout.ports, timeout=10)
        ports = f"; port(s) {', '.join(map(str, busy))} still held" if busy else "; ports freed"
        self.console.print(
            f"[green]✓[/] [bold]Stopped[/]: {count} processes (Airflow and its tasks, the mail "
            f"sink, the validation service); none left{ports}"
        )
        return 0

    @staticmethod
    def _stop_validation_service() -> None:
        """Ask the warm validation service (detached on purpose) to exit; the marker in its
        environment catches it otherwise."""
        from resotrack.validation import service

        with contextlib.suppress(Exception):  # best effort: stop_all finds it by its marker
            service.stop()
