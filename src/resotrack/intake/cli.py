"""``resotrack returns``: submit a workbook by hand, list a cycle's returns, see the quarantine.

Wired into the main command with ``register(app)``.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

out = Console()
err = Console(stderr=True)


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", markup=True, highlight=False, soft_wrap=True)
    return typer.Exit(1)


def _choose_cycle(entity: str, cycle: int | None, data: bytes, name: str) -> int:
    """The cycle given, else the one a valid ``_meta`` names, else the only open one.

    The workbook is read in the sandboxed readers first, whatever was given: one the readers
    refuse (too large, active content, a sheet reaching far) is refused here too.
    """
    from resotrack.intake.identify import (
        Refused,
        Unidentified,
        identify_workbook,
        open_cycles_for,
    )
    from resotrack.store import session_scope

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
        err.print(
            f"warning: the workbook says it is {identity.entity_code}'s; receiving it for "
            f"{entity} as asked (validation will compare)",
            highlight=False,
        )
    with session_scope() as session:
        cycles = open_cycles_for(session, entity)
    if len(cycles) == 1:
        return cycles[0]
    if not cycles:
        raise _fail(f"{entity} has no open questionnaire in any cycle")
    listed = ", ".join(str(c) for c in cycles)
    raise _fail(f"{entity} reports in several open cycles ({listed}); say which with --cycle")


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
    from resotrack.intake.config import IntakeSettings
    from resotrack.intake.identify import has_questionnaire
    from resotrack.intake.receive import TooLarge, announce, receive
    from resotrack.intake.sniff import NotAWorkbook
    from resotrack.store import session_scope

    code = entity.strip().upper()
    limit = IntakeSettings().upload_max_bytes
    if file.stat().st_size > limit:
        raise _fail(f"{file.name}: the file is larger than the limit of {limit:,} bytes")
    data = file.read_bytes()
    cycle_id = _choose_cycle(code, cycle, data, file.name)
    with session_scope() as session:
        if not has_questionnaire(session, code, cycle_id):
            raise _fail(f"{code} has no open questionnaire in cycle {cycle_id}")
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
        out.print(
            f"{file.name}: the same file was already received as submission "
            f"#{receipt.submission_id} ({receipt.state})"
        )
        return
    out.print(
        f"{file.name}: received as submission #{receipt.submission_id} for {code} in cycle "
        f"{cycle_id} (sha256 {receipt.sha256[:12]}, {receipt.size:,} bytes)"
    )
    run = announce(receipt)
    out.print(f"ingest run {run} started" if run else "Airflow not reached: the sweep ingests it")


def list_returns(
    cycle: Annotated[int, typer.Option("--cycle", help="Cycle id.")],
    entity: Annotated[str | None, typer.Option("--entity", help="Only this entity.")] = None,
) -> None:
    """List a cycle's submissions with their state, channel and sender."""
    from resotrack.intake.queries import list_submissions
    from resotrack.store import session_scope

    with session_scope() as session:
        rows = list_submissions(session, cycle, entity.strip().upper() if entity else None)
        table = Table("#", "entity", "received", "channel", "sender", "state", "file", "bytes")
        for s in rows:
            table.add_row(
                str(s.id),
                s.entity_code or "",
                f"{s.received_at:%Y-%m-%d %H:%M}",
                s.channel,
                s.sender or "",
                s.state,
                s.original_name,
                f"{s.size:,}",
            )
    out.print(table)
    out.print(f"{len(rows)} submission(s) in cycle {cycle}")


def quarantine(
    include_all: Annotated[
        bool, typer.Option("--all", help="Every inbound message, not only the quarantined.")
    ] = False,
) -> None:
    """List mail the returns mailbox could not accept (kept whole in the blob store)."""
    from resotrack.intake.queries import list_quarantine
    from resotrack.store import session_scope

    with session_scope() as session:
        rows = list_quarantine(session, include_all=include_all)
        table = Table("#", "at", "from", "subject", "state", "reason", "raw sha256")
        for m in rows:
            table.add_row(
                str(m.id),
                f"{m.processed_at:%Y-%m-%d %H:%M}",
                m.sender or "",
                (m.subject or "")[:60],
                m.state,
                m.reason or "",
                m.raw_sha256[:12],
            )
    out.print(table)
    out.print(f"{len(rows)} message(s)")


def register(app: typer.Typer) -> typer.Typer:
    """Add the ``returns`` sub-command to ``resotrack``; returned so validation adds ``check``."""
    returns_app = typer.Typer(help="Returned workbooks: submit, check, list, quarantine.")
    returns_app.command("submit")(submit)
    returns_app.command("list")(list_returns)
    returns_app.command("quarantine")(quarantine)
    app.add_typer(returns_app, name="returns", no_args_is_help=True)
    return returns_app
