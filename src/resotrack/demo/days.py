"""The simulated days: focal points use the real portal, then that day's reminders run.

Day 0 is the day the cycle opens (today). Each day, the demo first moves the clock every
process reads (``resotrack.clock.move`` on the layout's clock file) to that day, so the portal
stamps an upload with the simulated day it arrived on and the report counts a return sent
after the deadline as late. Then the focal points whose role says so act,
a few side by side as people would; then ``run_reminders`` runs for that date, the function
the daily ``send_reminders`` DAG runs, so the ladder (before the deadline, overdue, escalation)
goes only to those who still owe a return on that simulated day.

Nobody waits for the pipeline except a focal point about to correct a return: they read the
answer to their first upload on their result page first. A return still being checked on a
reminder day counts as "being checked" there, as it would live.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from pathlib import Path

import httpx

from resotrack import clock
from resotrack.catalog import Said
from resotrack.demo import world
from resotrack.demo.pipeline import progress_bar
from resotrack.demo.simulate import PENDING, FocalPoint, LinkBook, Role, Upload, cast
from resotrack.demo.supervise import Supervisor
from resotrack.demo.words import words

log = logging.getLogger("resotrack.demo")
#: Focal points acting at once: enough to show concurrent uploads, few enough for two cores.
SIDE_BY_SIDE = 4


@dataclass
class Simulation:
    """What the simulated days did."""

    days: int
    roles: list[Role] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)
    reminders: int = 0

    def describe(self) -> str:
        made = [u for u in self.uploads if u.submission_id]
        late = sum(1 for u in made if u.behaviour == "late")
        fixes = sum(1 for u in made if u.kind == "correction")
        failed = sum(1 for u in self.uploads if u.error)
        said = Said(
            "{focal_points} focal points; {uploads} uploads through the portal ({fixes} "
            "corrections, {late} after the deadline); {reminders} reminder emails queued",
            focal_points=len(self.roles),
            uploads=len(made),
            fixes=fixes,
            late=late,
            reminders=self.reminders,
        )
        if failed:
            return Said(
                "{said}; {failed} could not act (see the summary)", said=said, failed=failed
            )
        return said


def simulate(sup: Supervisor, cycle: world.Cycle, *, days: int, seed: int) -> Simulation:
    """Play ``days`` days after the cycle opened, then wait for every return's answer."""
    done = Simulation(
        days,
        roles=cast(world.people(cycle.id), deadline_day=cycle.deadline_day, days=days, seed=seed),
    )
    links = LinkBook(sup.layout.maildir)
    calendar = Calendar(sup.layout.clock_file, clock.today(), clock.moved_by())
    with (
        httpx.Client(base_url=sup.layout.api_url, timeout=60) as client,
        progress_bar(sup.console) as progress,
    ):
        people = [FocalPoint(role, links, client, seed) for role in done.roles]
        w = words()
        task = progress.add_task(w("day {day}/{days}", day=0, days=days), total=days)
        for day in range(days + 1):

            def note(text: str, day: int = day) -> None:
                said = w("day {day}/{days}: {text}", day=day, days=days, text=w.said(text))
                progress.update(task, description=said)

            calendar.move_to(day)
            _play_day(sup, done, people, links, calendar.day(day), cycle.id, note)
            progress.update(task, completed=day)
            sup.watch_failures()
        wait_decided(sup, cycle.id, lambda text: progress.update(task, description=w.said(text)))
        sup.wait("the feedback emails to be sent", _outbox_empty, timeout=300)
    return done


def _play_day(
    sup: Supervisor,
    done: Simulation,
    people: list[FocalPoint],
    links: LinkBook,
    when: tuple[int, date],
    cycle_id: int,
    note: Callable[[str], None],
) -> None:
    """One simulated day: who acts today uses the portal, then the day's reminders run."""
    from resotrack.reminders import run_reminders

    day, today = when
    began = time.monotonic()
    acting = [p for p in people if p.acts_on(day)]
    if acting:
        links.refresh()
        entities = ", ".join(p.role.entity for p in acting)
        note(Said("{today}: {entities} use the portal", today=today, entities=entities))
        pool = ThreadPoolExecutor(max_workers=SIDE_BY_SIDE)
        try:
            played = list(pool.map(partial(_play, sup, day=day, note=note), acting))
        except BaseException:
            sup.stopping.set()  # the others stop waiting too (Ctrl-C, or one failed)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        done.uploads += [u for u in played if u is not None]
    played_in = time.monotonic() - began
    note(Said("{today}: reminders", today=today))
    done.reminders += len(run_reminders(today=today, cycle_id=cycle_id).queued)
    log.info(
        "day %d (%s): %d focal points acted in %.1f s; day done in %.1f s",
        day,
        today,
        len(acting),
        played_in,
        time.monotonic() - began,
    )


@dataclass(frozen=True)
class Calendar:
    """The simulated days on the clock every demo process reads: day 0 is ``start``, when the
    clock file held ``base`` (a second run goes on from where the first one stopped)."""

    path: Path
    start: date
    base: timedelta

    def day(self, day: int) -> tuple[int, date]:
        return day, self.start + timedelta(days=day)

    def move_to(self, day: int) -> None:
        """Every process's clock to ``day``: from now on, what arrives is stamped that day."""
        clock.move(self.path, self.base + timedelta(days=day))


def _play(
    sup: Supervisor, person: FocalPoint, day: int, note: Callable[[str], None]
) -> Upload | None:
    if day == person.role.correction_day:
        _read_feedback_first(sup, person, note)
    return person.act(day)


def _read_feedback_first(sup: Supervisor, person: FocalPoint, note: Callable[[str], None]) -> None:
    """Before a correction, wait until the focal point's first upload has its answer."""
    first = person.pending_upload()
    if first is None:
        return
    note(Said("{entity} waits for the answer to their first upload", entity=person.role.entity))

    def answered() -> str | None:
        state = person.state_of(first)
        return state if state is not None and state not in PENDING else None

    sup.wait(
        f"the answer to {person.role.entity}'s upload",
        answered,
        timeout=600,
    )


def wait_decided(sup: Supervisor, cycle_id: int, note: Callable[[str], None]) -> None:
    """Until every return of the cycle is validated (the ingest DAG runs once per upload)."""
    from resotrack.intake.queries import list_submissions
    from resotrack.store import session_scope

    def decided() -> bool | None:
        with session_scope() as session:
            left = sum(1 for s in list_submissions(session, cycle_id) if s.state in PENDING)
        note(
            Said.n(
                "waiting for the last return to be validated",
                "waiting for the last {n} returns to be validated",
                left,
            )
        )
        return True if left == 0 else None

    sup.wait("the returns to be validated", decided, timeout=600)


def _outbox_empty() -> bool | None:
    from resotrack.mail import list_messages
    from resotrack.store import session_scope

    with session_scope() as session:
        waiting = [
            *list_messages(session, state="pending"),
            *list_messages(session, state="sending"),
        ]
    return True if not waiting else None
