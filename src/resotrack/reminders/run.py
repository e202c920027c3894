"""The daily reminder run: plan each open cycle, queue through the outbox, then send.

Idempotent twice over: the plan skips what a person already received, and every message is
queued under the key (cycle, entity, rung, recipient), so a second run on the same day (or a
retry after a crash) queues nothing and the outbox sends each message at most once.

"Today" is whatever the caller says it is (``--today``, the DAG run's logical date), else
:func:`resotrack.clock.today`; it decides which rung is due and is recorded in each message,
while timestamps and upload links keep using the clock.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from resotrack import audit, clock
from resotrack.reminders import messages
from resotrack.reminders.facts import (
    PROBLEM_ACTION,
    cycles_to_remind,
    load_facts,
    reported_problems,
)
from resotrack.reminders.ladder import LadderError
from resotrack.reminders.plan import CycleFacts, CyclePlan, Planned, Problem, plan_cycle

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
ACTOR = "reminders"


@dataclass
class ReminderRun:
    """What one run planned (and, unless dry, queued and sent)."""

    today: date
    dry_run: bool
    plans: list[CyclePlan] = field(default_factory=list)
    #: Problems reported to the Secretariat by this run (a dry run: would report).
    reported: list[Problem] = field(default_factory=list)
    queued: list[int] = field(default_factory=list)  # outbox ids
    delivery: dict[str, list[int]] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def messages(self) -> list[Planned]:
        return [m for plan in self.plans for m in plan.messages]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (an Airflow XCom)."""
        return {
            "today": self.today.isoformat(),
            "dry_run": self.dry_run,
            "messages": [
                {
                    "cycle_id": m.cycle_id,
                    "entity": m.entity.code,
                    "rung": m.rung.label,
                    "kind": m.kind,
                    "to": m.to.email,
                    "cc": list(m.cc),
                    "language": m.language,
                    "reason": m.reason,
                }
                for m in self.messages
            ],
            "withheld": [
                {
                    "cycle_id": plan.cycle_id,
                    "entity": w.entity_code,
                    "rung": w.rung.label,
                    "to": w.to.email,
                    "reason": w.reason,
                }
                for plan in self.plans
                for w in plan.withheld
            ],
            "problems": [p.text for plan in self.plans for p in plan.problems],
            "reported": [p.text for p in self.reported],
            "queued": len(self.queued),
            "delivery": self.delivery,
            "notes": self.notes,
        }


def today_for_run(conf: Mapping[str, Any] | None, logical_date: datetime | None) -> date | None:
    """The day a DAG run reminds for: ``conf["today"]``, else its logical date, else None
    (the clock's today). A scheduled run's logical date is the day it was due, so a run
    delayed past midnight still applies the right day's rung."""
    value = (conf or {}).get("today")
    if value:
        try:
            return date.fromisoformat(str(value))
        except ValueError as exc:
            raise ValueError(f"conf today={value!r} is not a date like 2026-06-30") from exc
    return logical_date.date() if logical_date is not None else None


def run_for_airflow(
    conf: Mapping[str, Any] | None, logical_date: datetime | None
) -> dict[str, Any]:
    """The DAG's one call: the day from :func:`today_for_run`, ``conf["cycle_id"]`` if any."""
    only = (conf or {}).get("cycle_id")
    today = today_for_run(conf, logical_date)
    return run_reminders(today, cycle_id=int(only) if only is not None else None).as_dict()


def run_reminders(
    today: date | None = None, *, dry_run: bool = False, cycle_id: int | None = None
) -> ReminderRun:
    """Plan every open cycle (or ``cycle_id``) for ``today``; unless ``dry_run``, queue and send.

    Each cycle commits on its own, so a broken cycle does not hold back the others; broken
    ladders are raised together at the end, after the others' messages have gone.
    """
    from resotrack.mail import send_pending
    from resotrack.mail.config import mail_settings
    from resotrack.store import session_scope

    run = ReminderRun(today or clock.today(), dry_run)
    secretariat = mail_settings().secretariat
    with session_scope() as session:
        ids, run.notes = cycles_to_remind(session, cycle_id)
    broken: list[str] = []
    for cid in ids:
        try:
            with session_scope() as session:
                facts = load_facts(session, cid, secretariat=secretariat)
                plan = plan_cycle(facts, run.today)
                run.plans.append(plan)
                known = reported_problems(session, cid)
                fresh = _fresh(plan.problems, known)
                run.reported.extend(fresh)
                if not dry_run:
                    run.queued.extend(_queue(session, facts, plan, fresh, secretariat))
        except LadderError as exc:
            log.error("%s", exc)
            broken.append(str(exc))
    if not dry_run:
        run.delivery = send_pending().as_dict()
    if broken:
        raise LadderError("; ".join(broken))
    return run


def _fresh(problems: list[Problem], known: set[str]) -> list[Problem]:
    seen = set(known)
    fresh = []
    for problem in problems:
        if problem.key not in seen:
            seen.add(problem.key)
            fresh.append(problem)
    return fresh


def _queue(
    session: Session,
    facts: CycleFacts,
    plan: CyclePlan,
    fresh: list[Problem],
    secretariat: list[str],
) -> list[int]:
    """Queue the plan's messages and the Secretariat's notice, and write the audit trail."""
    from resotrack.mail import enqueue

    queued: list[int] = []
    finals: dict[str, list[str]] = {}
    for message in plan.messages:
        row = enqueue(
            session,
            key=message.key,
            kind=message.kind,
            template=message.kind,
            language=message.language,
            context=messages.context(facts, message, plan.today),
            to=[message.to.email],
            cc=message.cc,
            attachments=messages.attachments(message),
            cycle_id=plan.cycle_id,
            entity_code=message.entity.code,
            focal_point_id=message.to.id,
        )
        queued.append(row.id)
        if message.rung.kind == "final":
            finals.setdefault(message.entity.code, []).append(message.to.email)

    for code, recipients in sorted(finals.items()):
        audit.record(
            session,
            ACTOR,
            "reminders.final_notice",
            f"cycle {plan.cycle_id} entity {code}",
            cycle_id=plan.cycle_id,
            entity=code,
            to=recipients,
            day=plan.today.isoformat(),
            note="listed as non-reporting in the consolidated report",
        )
    for problem in fresh:
        log.warning("reminders, cycle %s: %s", plan.cycle_id, problem.text)
        day = plan.today.isoformat()
        audit.record(session, ACTOR, PROBLEM_ACTION, problem.key, text=problem.text, day=day)
    if fresh and secretariat:
        digest = hashlib.sha256("\n".join(p.key for p in fresh).encode()).hexdigest()[:12]
        row = enqueue(
            session,
            key=f"reminders_summary:{plan.cycle_id}:{plan.today.isoformat()}:{digest}",
            kind="reminders_summary",
            template="notice",
            language="en",
            context=messages.staff_notice(facts, plan.today, fresh),
            to=list(secretariat),
            cycle_id=plan.cycle_id,
        )
        queued.append(row.id)
    if queued:
        audit.record(
            session,
            ACTOR,
            "reminders.run",
            f"cycle {plan.cycle_id}",
            day=plan.today.isoformat(),
            rung=plan.rung.label if plan.rung else None,
            queued=len(plan.messages),
            withheld=len(plan.withheld),
            problems=len(fresh),
        )
    return queued
