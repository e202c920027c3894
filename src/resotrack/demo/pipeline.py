"""The stages the story drives through the real DAGs: dispatch, consolidation, approval.

Each triggers its DAG the way the CLI does and then waits for the *database* to show the
result (the source of truth), checking meanwhile that the run it started has not failed. A
stage already done by an earlier run of the demo is recognised and not done again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from resotrack.catalog import Said
from resotrack.demo import world
from resotrack.demo.stack import DemoError, shown
from resotrack.demo.supervise import Supervisor
from resotrack.demo.words import words

#: States of a human-in-the-loop task waiting for its answer (Airflow 3.3 says awaiting_input).
ASKING = ("awaiting_input", "deferred")


def progress_bar(console: Console) -> Progress:
    """The demo's progress bar: it disappears once its stage prints its one line."""
    return Progress(
        TextColumn("  [progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


# --- dispatch ----------------------------------------------------------------------------


def dispatch(sup: Supervisor, cycle: world.Cycle) -> str:
    """Trigger ``dispatch_questionnaires`` for a waiting cycle and wait until its mail is out."""
    w = words()
    run: str | None = None
    if cycle.state == "waiting":
        run = sup.trigger("dispatch_questionnaires", {"cycle_id": cycle.id})
        if run is None:
            said = w(
                "[yellow]Airflow did not accept the trigger[/] (see {log}); the dispatch sweep, "
                "every five minutes, sends the cycle instead",
                log=shown(sup.layout.logs / "demo.log"),
            )
            sup.console.print(f"  {said}")
    with progress_bar(sup.console) as progress:
        task = progress.add_task(w("questionnaire emails sent"), total=None)

        def all_sent() -> Counter[str] | None:
            sup.fail_if_failed("dispatch_questionnaires", run, "dispatch")
            states = questionnaire_mail(cycle.id)
            total = sum(states.values())
            progress.update(task, total=total or None, completed=states["sent"])
            waiting = states["pending"] + states["sending"]
            done = total and not waiting and world.cycle_state(cycle.id) == "open"
            return states if done else None

        states = sup.wait("the questionnaires to be sent", all_sent, timeout=420)
    if run:
        how = Said("run {run}", run=run)
    elif cycle.state == "waiting":
        how = Said("by the sweep")
    else:
        how = Said("dispatched on an earlier run")
    said = Said("{n} questionnaire emails sent ({how})", n=states["sent"], how=how)
    trouble = sum(n for state, n in states.items() if state != "sent")
    if trouble:
        return Said(
            "{said}; {trouble} not delivered (resotrack outbox list)", said=said, trouble=trouble
        )
    return said


def questionnaire_mail(cycle_id: int) -> Counter[str]:
    """The questionnaire emails of the cycle by outbox state."""
    from resotrack.mail import list_messages
    from resotrack.store import session_scope

    with session_scope() as session:
        messages = list_messages(session, cycle_id=cycle_id)
        return Counter(m.state for m in messages if m.kind == "questionnaire")


# --- consolidation -----------------------------------------------------------------------


@dataclass
class Report:
    """The consolidated build the story ends with, as the summary shows it."""

    build_id: int
    version: int
    state: str
    headline: str
    folder: str
    files: list[str] = field(default_factory=list)
    run_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def consolidate(sup: Supervisor, cycle: world.Cycle) -> tuple[Report, str]:
    """The report build that saw every answer of the simulation, and how it came about.

    Each accepted return already woke the ``consolidate`` DAG (the answers Asset), so the
    build may be there; if it is not, the demo triggers a run for the cycle. Either way it
    waits for the database to hold a build of the cycle as it is now (its snapshot).
    """
    from resotrack.consolidation.builds import latest_build
    from resotrack.consolidation.snapshot import load_snapshot
    from resotrack.store import session_scope

    with session_scope() as session:
        now = load_snapshot(session, cycle.id).sha256
        latest = latest_build(session, cycle.id)
    run: str | None = None
    if latest is None or latest.snapshot_sha256 != now:
        run = sup.trigger("consolidate", {"cycle_id": cycle.id})
        if run is None:
            raise DemoError("Airflow did not start a consolidate run (see logs/demo.log)")

    def built() -> int | None:
        sup.fail_if_failed("consolidate", run, "consolidate")
        with session_scope() as session:
            build = latest_build(session, cycle.id)
            return build.id if build is not None and build.snapshot_sha256 == now else None

    sup.wait("a build of every answer", built, timeout=600, every=1.0)
    report = _write_report(sup.layout.reports / f"cycle-{cycle.id}", cycle.id)
    return report, f"run {run}" if run else "built on the answers event, already up to date"


def _write_report(folder: Path, cycle_id: int) -> Report:
    """Write the latest build's files (tables, charts, draft report) where a person looks."""
    from resotrack.consolidation.builds import latest_build, write_outputs
    from resotrack.store import session_scope

    with session_scope() as session:
        build = latest_build(session, cycle_id)
        assert build is not None
        written = write_outputs(build.outputs, folder)
        s = build.summary
        return Report(
            build_id=build.id,
            version=build.version,
            state=build.state,
            headline=Said(
                "{returned} of {asked} entities returned, {on_time} on time",
                returned=s.get("entities_returned"),
                asked=s.get("entities_asked"),
                on_time=s.get("entities_on_time"),
            ),
            folder=str(folder),
            files=sorted(p.name for p in written),
        )


# --- approval ----------------------------------------------------------------------------


def ask_approval(sup: Supervisor, report: Report) -> str | None:
    """Trigger ``publish_report`` for the build and wait until its approval task asks a
    person; the task's state, or None when the build was already decided on an earlier run.
    A build already waiting in a live run (a second demo) is not asked for twice."""
    from resotrack.store import session_scope

    if report.state not in ("built", "awaiting_approval"):
        return None
    run = _earlier_request(sup, report) if report.state == "awaiting_approval" else None
    if run is None:
        run = sup.trigger("publish_report", {"build_id": report.build_id})
        if run is None:
            raise DemoError("Airflow did not start publish_report (see the standalone log)")
    api = sup.api
    assert api is not None

    def waiting_in_db() -> bool | None:
        from resotrack.consolidation.builds import get_build

        sup.fail_if_failed("publish_report", run, "publish_report")
        with session_scope() as session:
            build = get_build(session, report.build_id)
            ready = build.state == "awaiting_approval" and build.approval_run_id == run
        return True if ready else None

    sup.wait("the build to await approval", waiting_in_db, timeout=300, every=1.0)

    def asking() -> str | None:
        state = api.task_state("publish_report", run, "approve")
        return state if state in ASKING else None

    state = sup.wait("the approval task to ask a person", asking, timeout=180, every=1.0)
    report.state, report.run_id = "awaiting_approval", run
    return state


def _earlier_request(sup: Supervisor, report: Report) -> str | None:
    """The publish_report run an earlier demo started for this build, if it still waits."""
    from resotrack.consolidation.builds import get_build
    from resotrack.store import session_scope

    api = sup.api
    assert api is not None
    with session_scope() as session:
        earlier = get_build(session, report.build_id).approval_run_id
    if not earlier:
        return None
    state = sup.wait(
        "the earlier approval run's state",
        lambda: api.run_state("publish_report", earlier) or "gone",
        timeout=120,
    )
    return earlier if state in ("queued", "running") else None
