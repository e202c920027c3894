"""``resotrack reminders``: run the ladder by hand or dry, and show or change a cycle's ladder.

Wired into the main command with ``register(app)``; this module imports only typer and rich,
the work is imported inside each command.
"""

from __future__ import annotations

import getpass
from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from resotrack.catalog import terminal_words
from resotrack.terminal import LiveConsole

if TYPE_CHECKING:
    from resotrack.reminders.ladder import CycleLadder
    from resotrack.reminders.run import ReminderRun

out = LiveConsole()
err = LiveConsole(stderr=True)


def _fail(message: object) -> typer.Exit:
    w = terminal_words("cli")
    err.print(f"[bold red]{w('error:')}[/] {message}", markup=True, highlight=False, soft_wrap=True)
    return typer.Exit(1)


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        w = terminal_words("cli")
        raise _fail(w("--today {value} is not a date like 2026-06-30", value=repr(value))) from None


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
        w = terminal_words("cli")
        raise _fail(
            w(
                "the reminders are queued but some did not go out; the outbox tries again "
                "on the next run (`resotrack outbox list`).\n{error}",
                error=exc,
            )
        ) from exc
    except (ValueError, LookupError) as exc:
        raise _fail(exc) from exc
    show_run(result)


def show_run(result: ReminderRun) -> None:
    """The run as staff read it: one row per message, then what was held back and why."""
    from resotrack.mail.labels import MESSAGE_KINDS
    from resotrack.reminders.ladder import rung_label
    from resotrack.reminders.plan import reason_label

    w = terminal_words("cli")
    day, count = f"{result.today:%Y-%m-%d}", len(result.messages)
    if result.dry_run:
        title = w.n(
            "{day}: {n} message would be sent (dry run: nothing queued)",
            "{day}: {n} messages would be sent (dry run: nothing queued)",
            count,
            day=day,
        )
    else:
        title = w.n("{day}: {n} message queued", "{day}: {n} messages queued", count, day=day)
    if not result.messages:
        out.print(w("{title}: nothing to send", title=title), highlight=False)
    table = Table(
        w.p("column", "cycle"),
        w.p("column", "entity"),
        w.p("column", "to"),
        w.p("column", "cc"),
        w.p("column", "rung"),
        w.p("column", "message"),
        w.p("column", "lang"),
        w.p("column", "reason"),
        title=title,
    )
    for m in result.messages:
        table.add_row(
            str(m.cycle_id),
            m.entity.code,
            f"{m.to.name} <{m.to.email}>",
            ", ".join(m.cc),
            rung_label(w, m.rung),
            MESSAGE_KINDS.name(w.language, m.kind),
            m.language,
            reason_label(w, m.reason),
        )
    if result.messages:
        out.print(table)

    held = [(plan.cycle_id, h) for plan in result.plans for h in plan.withheld]
    if held:
        table = Table(
            w.p("column", "cycle"),
            w.p("column", "entity"),
            w.p("column", "to"),
            w.p("column", "rung"),
            w.p("column", "why"),
            w.p("column", "until"),
            title=w("Held back"),
        )
        for cycle_id, h in held:
            until = f"{h.until:%Y-%m-%d}" if h.until else w("dropped")
            table.add_row(
                str(cycle_id),
                h.entity_code,
                h.to.email,
                rung_label(w, h.rung),
                reason_label(w, h.reason),
                until,
            )
        out.print(table)

    fresh = {p.key for p in result.reported}
    for plan in result.plans:
        rung = rung_label(w, plan.rung) if plan.rung else w("none due yet")
        quiet = ", ".join(
            f"{w.number(n)} {reason_label(w, why)}" for why, n in sorted(plan.quiet.items())
        )
        said = {"cycle": plan.cycle_id, "title": plan.title, "day": f"{plan.day:+d}", "rung": rung}
        if quiet:
            line = w(
                "cycle {cycle} “{title}”: D{day}, latest rung {rung}; nothing for: {quiet}",
                quiet=quiet,
                **said,
            )
        else:
            line = w("cycle {cycle} “{title}”: D{day}, latest rung {rung}", **said)
        out.print(line, highlight=False)
        for p in plan.problems:
            if p.key in fresh:
                tag = w("would be reported") if result.dry_run else w("reported to the Secretariat")
            else:
                tag = w("reported earlier")
            problem = w("problem")
            out.print(f"  [yellow]{problem}[/] ({tag}): {reason_label(w, p.text)}", highlight=False)
    if result.reported:
        count = len(result.reported)
        if result.dry_run:
            summary = w.n(
                "the Secretariat would get a summary of {n} new problem",
                "the Secretariat would get a summary of {n} new problems",
                count,
            )
        else:
            summary = w.n(
                "the Secretariat gets a summary of {n} new problem",
                "the Secretariat gets a summary of {n} new problems",
                count,
            )
        out.print(summary, highlight=False)
    for note in result.notes:
        out.print(note, highlight=False)
    if result.delivery is not None:
        sent = len(result.delivery["sent"])
        out.print(w.n("outbox: {n} sent", "outbox: {n} sent", sent), highlight=False)


# --- reminders ladder --------------------------------------------------------------------


def show_ladder(info: CycleLadder) -> None:
    from resotrack.questionnaires.cycles import CYCLE_STATES
    from resotrack.reminders.ladder import AUDIENCES, RUNG_KINDS, compact, rung_label

    w = terminal_words("cli")
    out.print(
        w(
            "[bold]cycle {cycle}[/] “{title}”: deadline {deadline}, {state}",
            cycle=info.cycle_id,
            title=info.title,
            deadline=f"{info.deadline:%Y-%m-%d}",
            state=CYCLE_STATES.name(w.language, info.state),
        ),
        highlight=False,
    )
    table = Table(
        w.p("column", "rung"), w.p("column", "date"), w.p("column", "kind"), w.p("column", "to")
    )
    for rung in info.ladder:
        table.add_row(
            rung_label(w, rung),
            f"{info.day_of(rung):%Y-%m-%d}",
            RUNG_KINDS.name(w.language, rung.kind),
            AUDIENCES.name(w.language, rung.kind),
        )
    if info.ladder:
        out.print(table)
    else:
        out.print(w("no reminders: the ladder is empty"))
    out.print(
        w.n(
            "fatigue: at most {most} reminder messages per person, at least {n} day apart",
            "fatigue: at most {most} reminder messages per person, at least {n} days apart",
            info.fatigue.min_gap_days,
            most=info.fatigue.max_messages,
        ),
        highlight=False,
    )
    shown = compact(info.ladder) or w("(empty: --none)")
    out.print(w("as a compact ladder: {ladder}", ladder=shown), highlight=False)
    for warning in info.warnings:
        note = w("note:")
        out.print(f"[yellow]{note}[/] {w.said(warning)}", highlight=False)


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
        w = terminal_words("cli")
        both = " {} ".format(w("and")).join(sources)
        raise _fail(w("give the ladder one way only, not {ways}", ways=both))
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
    w = terminal_words("cli")
    out.print(w("cycle {cycle}: ladder saved", cycle=cycle), highlight=False)
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
