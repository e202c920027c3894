"""``resotrack returns``: submit a workbook by hand, list a cycle's returns, see the quarantine.

Wired into the main command with ``register(app)``.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Any

import typer

from resotrack.catalog import terminal_words
from resotrack.terminal import LiveConsole, listing

out = LiveConsole()
err = LiveConsole(stderr=True)


def _fail(message: str) -> typer.Exit:
    w = terminal_words("cli")
    said = w("error:")
    err.print(f"[bold red]{said}[/] {message}", markup=True, highlight=False, soft_wrap=True)
    return typer.Exit(1)


def _choose_cycle(entity: str, cycle: int | None, data: bytes, name: str) -> int:
    """The cycle given, else the one a valid ``_meta`` names, else the only open one.

    The workbook is read in the sandboxed readers first, whatever was given: one the readers
    refuse (too large, active content, a sheet reaching far) is refused here too.
    """
    from resotrack.intake.owner import (
        Refused,
        Unidentified,
        identify_workbook,
        open_cycles_for,
    )
    from resotrack.store import session_scope

    w = terminal_words("cli")
    try:
        identity = identify_workbook(data)
    except Refused as refused:
        raise _fail(f"{name}: {refused}") from refused
    except Unidentified:
        identity = None
    if cycle is not None:
        return cycle
    if identity is not None and identity.entity_code == entity:
        return identity.cycle_id
    if identity is not None:
        said = w(
            "warning: the workbook says it is {owner}'s; receiving it for {entity} as asked "
            "(validation will compare)",
            owner=identity.entity_code,
            entity=entity,
        )
        err.print(said, highlight=False)
    with session_scope() as session:
        cycles = open_cycles_for(session, entity)
    if len(cycles) == 1:
        return cycles[0]
    if not cycles:
        raise _fail(w("{entity} has no open questionnaire in any cycle", entity=entity))
    listed = ", ".join(str(c) for c in cycles)
    raise _fail(
        w(
            "{entity} reports in several open cycles ({cycles}); say which with --cycle",
            entity=entity,
            cycles=listed,
        )
    )


def submit(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, show_default=False)
    ],
    entity: Annotated[str, typer.Option("--entity", help="Reporting entity code, e.g. SEN.")],
    cycle: Annotated[
        int | None, typer.Option("--cycle", help="Cycle id; found from the workbook if unset.")
    ] = None,
) -> None:
    """Receive a returned workbook on an entity's behalf (it is then checked like any upload)."""
    from resotrack.intake.config import intake_settings
    from resotrack.intake.owner import has_questionnaire
    from resotrack.intake.receive import TooLarge, announce, receive
    from resotrack.intake.sniff import NotAWorkbook
    from resotrack.store import session_scope
    from resotrack.validation.lifecycle import SUBMISSION_STATES

    w = terminal_words("cli")
    code = entity.strip().upper()
    limit = intake_settings().upload_max_bytes
    if file.stat().st_size > limit:
        raise _fail(
            w.n(
                "{file}: the file is larger than the limit of {limit} byte",
                "{file}: the file is larger than the limit of {limit} bytes",
                limit,
                file=file.name,
                limit=w.number(limit),
            )
        )
    data = file.read_bytes()
    cycle_id = _choose_cycle(code, cycle, data, file.name)
    with session_scope() as session:
        if not has_questionnaire(session, code, cycle_id):
            said = w(
                "{entity} has no open questionnaire in cycle {cycle}", entity=code, cycle=cycle_id
            )
            raise _fail(said)
    try:
        receipt = receive(
            data,
            channel="cli",
            original_name=file.name,
            cycle_id=cycle_id,
            entity_code=code,
            sender=f"cli:{getpass.getuser()}",
        )
    except (NotAWorkbook, TooLarge) as exc:
        raise _fail(f"{file.name}: {exc}") from exc
    if receipt.duplicate:
        said = w(
            "{file}: the same file was already received as submission #{submission} ({state})",
            file=file.name,
            submission=receipt.submission_id,
            state=SUBMISSION_STATES.name(w.language, receipt.state),
        )
        out.print(said)
        return
    said = w.n(
        "{file}: received as submission #{submission} for {entity} in cycle {cycle} "
        "(sha256 {sha256}, {size} byte)",
        "{file}: received as submission #{submission} for {entity} in cycle {cycle} "
        "(sha256 {sha256}, {size} bytes)",
        receipt.size,
        file=file.name,
        submission=receipt.submission_id,
        entity=code,
        cycle=cycle_id,
        sha256=receipt.sha256[:12],
        size=w.number(receipt.size),
    )
    out.print(said)
    run = announce(receipt)
    if run:
        out.print(w("ingest run {run} started", run=run))
    else:
        out.print(w("Airflow not reached: the sweep ingests it"))


AsJson = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts).")]


def list_returns(
    cycle: Annotated[int, typer.Option("--cycle", help="Cycle id.")],
    entity: Annotated[str | None, typer.Option("--entity", help="Only this entity.")] = None,
    as_json: AsJson = False,
) -> None:
    """List a cycle's submissions with their state, channel and sender."""
    from resotrack.intake.queries import list_submissions
    from resotrack.store import session_scope
    from resotrack.validation.lifecycle import SUBMISSION_STATES

    with session_scope() as session:
        found: list[dict[str, Any]] = [
            {
                "id": s.id,
                "entity": s.entity_code,
                "received_at": s.received_at,
                "channel": s.channel,
                "sender": s.sender,
                "state": s.state,
                "file": s.original_name,
                "bytes": s.size,
                "sha256": s.sha256,
            }
            for s in list_submissions(session, cycle, entity.strip().upper() if entity else None)
        ]
    w = terminal_words("cli")
    columns = [
        ("#", 0),
        (w.p("column", "entity"), 0),
        (w.p("column", "received"), 1),
        (w.p("column", "channel"), 3),
        (w.p("column", "sender"), 4),
        (w.p("column", "state"), 0),
        (w.p("column", "file"), 2),
        (w.p("column", "bytes"), 5),
    ]
    listing(
        found,
        as_json=as_json,
        columns=columns,
        rows=lambda: [
            (
                str(s["id"]),
                s["entity"] or "",
                f"{s['received_at']:%Y-%m-%d %H:%M}",
                s["channel"],
                s["sender"] or "",
                SUBMISSION_STATES.name(w.language, s["state"]),
                s["file"],
                w.number(s["bytes"]),
            )
            for s in found
        ],
        console=out,
        after=[
            w.n(
                "{n} submission in cycle {cycle}",
                "{n} submissions in cycle {cycle}",
                len(found),
                cycle=cycle,
            )
        ],
    )


def quarantine(
    include_all: Annotated[
        bool, typer.Option("--all", help="Every inbound message, not only the quarantined.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """List mail the returns mailbox could not accept (kept whole in the blob store)."""
    from resotrack.intake.queries import INBOUND_MAIL_STATES, list_quarantine
    from resotrack.store import session_scope

    with session_scope() as session:
        found: list[dict[str, Any]] = [
            {
                "id": m.id,
                "processed_at": m.processed_at,
                "sender": m.sender,
                "subject": m.subject,
                "state": m.state,
                "reason": m.reason,
                "raw_sha256": m.raw_sha256,
            }
            for m in list_quarantine(session, include_all=include_all)
        ]
    w = terminal_words("cli")
    columns = [
        ("#", 0),
        (w.p("column", "at"), 1),
        (w.p("column", "from"), 0),
        (w.p("column", "subject"), 2),
        (w.p("column", "state"), 0),
        (w.p("column", "reason"), 0),
        (w.p("column", "raw sha256"), 3),
    ]
    listing(
        found,
        as_json=as_json,
        columns=columns,
        rows=lambda: [
            (
                str(m["id"]),
                f"{m['processed_at']:%Y-%m-%d %H:%M}",
                m["sender"] or "",
                (m["subject"] or "")[:60],
                INBOUND_MAIL_STATES.name(w.language, m["state"]),
                m["reason"] or "",
                m["raw_sha256"][:12],
            )
            for m in found
        ],
        console=out,
        after=[w.n("{n} message", "{n} messages", len(found))],
    )


def register(app: typer.Typer) -> typer.Typer:
    """Add the ``returns`` sub-command to ``resotrack``; returned so validation adds ``check``."""
    returns_app = typer.Typer(help="Returned workbooks: submit, check, list, quarantine.")
    returns_app.command("submit")(submit)
    returns_app.command("list")(list_returns)
    returns_app.command("quarantine")(quarantine)
    app.add_typer(returns_app, name="returns", no_args_is_help=True)
    return returns_app
