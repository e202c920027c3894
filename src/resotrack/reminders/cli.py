"""``resotrack reminders``: run the ladder by hand or dry, and show or change a cycle's ladder.

Wired into the main command with ``register(app)``; this module imports only typer and rich,
the work is imported inside each command.
"""

from __future__ import annotations

import getpass
from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from resotrack.reminders.ladder import CycleLadder
    from resotrack.reminders.run import ReminderRun

out = Console()
err = Console(stderr=True)


def _fail(message: object) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", markup=True, highlight=False, soft_wrap=True)
    return typer.Exit(1)


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _fail(f"--today {value!r} is not a date like 2026-06-30") from None


# --- reminders run -----------------------------------------------------------------------


def run(
    today: Annotated[
        str | None,
        typer.Option("--today", help="The day to remind for, YYYY-MM-DD (default: today)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show who would receive what; queue and send nothing.")
    ] = False,
    cycle: Annotated[int | None, typer.Option("--cycle", help="Only this cycle.")] = None,
) -> None:
    """Send the reminders due today (every open cycle, or one); a second run sends nothing."""
    from resotrack.mail import OutboxDeliveryError
    from resotrack.reminders.run import run_reminders

    day = _day(today)
    try:
        result = run_reminders(day, dry_run=dry_run, cycle_id=cycle)
    except OutboxDeliveryError as exc:
        raise _fail(
            f"the reminders are queued but some did not go out; the outbox tries again on "
            f"the next run (`resotrack outbox list`).\n{exc}"
        ) from exc
    except (ValueError, LookupError) as exc:
        raise _fail(exc) from exc
    show_run(result)


def show_run(result: ReminderRun) -> None:
    """The run as staff read it: one row per message, then what was held back and why."""
    verb = "would be sent (dry run: nothing queued)" if result.dry_run else "queued"
    title = f"{result.today:%Y-%m-%d}: {len(result.messages)} message(s) {verb}"
    if not result.messages:
        out.print(f"{title}: nothing to send", highlight=False)
    table = Table("cycle", "entity", "to", "cc", "rung", "message", "lang", "reason", title=title)
    for m in result.messages:
        table.add_row(
            str(m.cycle_id),
            m.entity.code,
            f"{m.to.name} <{m.to.email}>",
            ", ".join(m.cc),
            m.rung.label,
            m.kind,
            m.language,
            m.reason,
        )
    if result.messages:
        out.print(table)

    held = [(plan.cycle_id, w) for plan in result.plans for w in plan.withheld]
    if held:
        table = Table("cycle", "entity", "to", "rung", "why", "until", title="Held back")
        for cycle_id, w in held:
            until = f"{w.until:%Y-%m-%d}" if w.until else "dropped"
            table.add_row(str(cycle_id), w.entity_code, w.to.email, w.rung.label, w.reason, until)
        out.print(table)

    fresh = {p.key for p in result.reported}
    for plan in result.plans:
        rung = plan.rung.label if plan.rung else "none due yet"
        quiet = ", ".join(f"{n} {why}" for why, n in sorted(plan.quiet.items()))
        out.print(
            f"cycle {plan.cycle_id} “{plan.title}”: D{plan.day:+d}, latest rung {rung}"
            + (f"; nothing for: {quiet}" if quiet else ""),
            highlight=False,
        )
        for p in plan.problems:
            if p.key in fresh:
                tag = "would be reported" if result.dry_run else "reported to the Secretariat"
            else:
                tag = "reported earlier"
            out.print(f"  [yellow]problem[/] ({tag}): {p.text}", highlight=False)
    if result.reported:
        verb = "would get" if result.dry_run else "gets"
        out.print(
            f"the Secretariat {verb} a summary of {len(result.reported)} new problem(s)",
            highlight=False,
        )
    for note in result.notes:
        out.print(note, highlight=False)
    if result.delivery is not None:
        out.print(f"outbox: {len(result.delivery['sent'])} sent", highlight=False)


# --- reminders ladder --------------------------------------------------------------------


def show_ladder(info: CycleLadder) -> None:
    from resotrack.reminders.ladder import AUDIENCE, compact

    out.print(
        f"[bold]cycle {info.cycle_id}[/] “{info.title}”: deadline {info.deadline:%Y-%m-%d}, "
        f"{info.state}",
        highlight=False,
    )
    table = Table("rung", "date", "kind", "to")
    for rung in info.ladder:
        table.add_row(rung.label, f"{info.day_of(rung):%Y-%m-%d}", rung.kind, AUDIENCE[rung.kind])
    if info.ladder:
        out.print(table)
    else:
        out.print("no reminders: the ladder is empty")
    out.print(
        f"fatigue: at most {info.fatigue.max_messages} reminder messages per person, "
        f"at least {info.fatigue.min_gap_days} day(s) apart",
        highlight=False,
    )
    out.print(f"as a compact ladder: {compact(info.ladder) or '(empty: --none)'}", highlight=False)
    for warning in info.warnings:
        out.print(f"[yellow]note:[/] {warning}", highlight=False)


def ladder_show(
    cycle: Annotated[int, typer.Option("--cycle", help="Cycle id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (for scripts).")] = False,
) -> None:
    """Show a cycle's reminder ladder with the date of each rung, and the fatigue cap."""
    from resotrack.reminders.ladder import ladder_of
    from resotrack.store import session_scope

    try:
        with session_scope() as session:
            info = ladder_of(session, cycle)
    except (ValueError, LookupError) as exc:
        raise _fail(exc) from exc
    if as_json:
        from resotrack.terminal import emit_json

        emit_json(
            {
                "cycle_id": info.cycle_id,
                "title": info.title,
                "deadline": info.deadline,
                "state": info.state,
                "ladder": [
                    {"offset": r.offset, "kind": r.kind, "date": info.day_of(r)}
                    for r in info.ladder
                ],
                "fatigue": {
                    "max_messages": info.fatigue.max_messages,
                    "min_gap_days": info.fatigue.min_gap_days,
                },
                "warnings": info.warnings,
            }
        )
        return
    show_ladder(info)


def ladder_set(
    cycle: Annotated[int, typer.Option("--cycle", help="Cycle id.")],
    rung: Annotated[
        list[str] | None,
        typer.Option(
            "--rung",
            help="OFFSET:KIND, repeatable, e.g. --rung=-14:reminder --rung=+3:overdue "
            "(kinds: reminder, overdue, escalation, final).",
        ),
    ] = None,
    ladder: Annotated[
        str | None,
        typer.Option("--ladder", help='The whole ladder: "-14:reminder,-7:reminder,+3:overdue".'),
    ] = None,
    default: Annotated[bool, typer.Option("--default", help="Back to the default ladder.")] = False,
    none: Annotated[bool, typer.Option("--none", help="No reminders at all.")] = False,
    max_messages: Annotated[
        int | None,
        typer.Option("--max-messages", help="Fatigue cap: reminder messages per person."),
    ] = None,
    min_gap_days: Annotated[
        int | None, typer.Option("--min-gap-days", help="Fatigue: days between two messages.")
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who changes it (audit log).")] = None,
) -> None:
    """Change a cycle's ladder and/or fatigue cap; the next daily run follows it."""
    from resotrack.reminders.ladder import (
        LadderError,
        default_ladder,
        parse_ladder,
        set_ladder,
    )
    from resotrack.store import session_scope

    ways = {"--rung": bool(rung), "--ladder": ladder is not None, "--default": default}
    sources = [flag for flag, given in {**ways, "--none": none}.items() if given]
    if len(sources) > 1:
        raise _fail(f"give the ladder one way only, not {' and '.join(sources)}")
    try:
        rungs = None
        if rung:
            rungs = parse_ladder(rung)
        elif ladder is not None:
            rungs = parse_ladder(ladder)
        elif default:
            rungs = default_ladder()
        elif none:
            rungs = ()
        with session_scope() as session:
            info = set_ladder(
                session,
                cycle,
                rungs=rungs,
                max_messages=max_messages,
                min_gap_days=min_gap_days,
                actor=by or getpass.getuser(),
            )
    except (LadderError, LookupError) as exc:
        raise _fail(exc) from exc
    out.print(f"cycle {cycle}: ladder saved", highlight=False)
    show_ladder(info)


def register(app: typer.Typer) -> None:
    """Add ``reminders run`` and ``reminders ladder show|set`` to the ``resotrack`` command."""
    reminders = typer.Typer(
        help="Reminders before and after a cycle's deadline.", no_args_is_help=True
    )
    ladders = typer.Typer(help="A cycle's reminder ladder and fatigue cap.", no_args_is_help=True)
    reminders.command("run")(run)
    ladders.command("show")(ladder_show)
    ladders.command("set")(ladder_set)
    reminders.add_typer(ladders, name="ladder")
    app.add_typer(reminders, name="reminders")
