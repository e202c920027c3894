"""The ``resotrack`` command: every stage is callable here without Airflow."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from resotrack.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

app = typer.Typer(help="Follow up what resolutions ask states to do.", no_args_is_help=True)
resolutions_app = typer.Typer(help="Parse, import and show resolutions.", no_args_is_help=True)
routing_app = typer.Typer(help="Export and import the routing table.", no_args_is_help=True)
entities_app = typer.Typer(help="Reporting entities.", no_args_is_help=True)
focal_app = typer.Typer(help="Focal points.", no_args_is_help=True)
app.add_typer(resolutions_app, name="resolutions")
app.add_typer(routing_app, name="routing")
app.add_typer(entities_app, name="entities")
app.add_typer(focal_app, name="focal-points")
cycles_app = typer.Typer(help="Reporting cycles.", no_args_is_help=True)
questionnaires_app = typer.Typer(help="Questionnaire workbooks.", no_args_is_help=True)
tokens_app = typer.Typer(help="Personal upload links.", no_args_is_help=True)
outbox_app = typer.Typer(help="Outgoing email.", no_args_is_help=True)
app.add_typer(cycles_app, name="cycles")
app.add_typer(questionnaires_app, name="questionnaires")
app.add_typer(tokens_app, name="tokens")
app.add_typer(outbox_app, name="outbox")
portal_app = typer.Typer(help="The focal-point portal.", no_args_is_help=True)
app.add_typer(portal_app, name="portal")

out = Console()
err = Console(stderr=True)
T = TypeVar("T")

ExistingFile = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, readable=True, show_default=False)
]


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the domain's ``ValueError``/``LookupError`` into a message and exit code 1."""
    try:
        yield
    except (ValueError, LookupError) as exc:
        err.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc


def in_session(work: Callable[..., T]) -> T:
    from resotrack.store import session_scope

    with user_errors(), session_scope() as session:
        return work(session)


@app.command()
def init() -> None:
    """Create or upgrade the database and load the shipped member states and institutions."""
    from resotrack.registry import sync_entities
    from resotrack.store import migrate

    settings = get_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.resolutions_inbox.mkdir(parents=True, exist_ok=True)
    migrate.upgrade()
    changed = in_session(sync_entities)
    out.print(f"database ready at {settings.db_url}; {changed} reporting entities added or updated")


# --- resolutions -------------------------------------------------------------------------


@resolutions_app.command("parse")
def resolutions_parse(
    file: ExistingFile,
    as_json: Annotated[bool, typer.Option("--json", help="Print the parse as JSON.")] = False,
) -> None:
    """Parse a resolution text (no database) and print what was found."""
    from resotrack.resolutions import parse_file

    with user_errors():
        parsed = parse_file(file, max_bytes=get_settings().max_resolution_bytes)
    if as_json:
        typer.echo(json.dumps(parsed.as_dict(), ensure_ascii=False, indent=2))
        return
    out.print(f"[bold]{parsed.symbol}[/] ({parsed.language}): {parsed.title}")
    table = Table("§", "section", "verbs", "addressees", "institutions")
    for p in parsed.paragraphs:
        table.add_row(
            str(p.number),
            p.section or "",
            " | ".join(p.verbs),
            ",".join(p.addressees),
            ",".join(sorted({i for a in p.actions for i in a.institutions})),
        )
    out.print(table)


@resolutions_app.command("import")
def resolutions_import(file: ExistingFile) -> None:
    """Store a resolution; the same text again changes nothing, a changed one is a new version."""
    from resotrack.resolutions import import_file

    with user_errors():
        result = import_file(file)
    out.print(result.describe())


@resolutions_app.command("show")
def resolutions_show(symbol: str) -> None:
    """Show a stored resolution: versions, sections and paragraphs with their addressees."""
    from resotrack.resolutions import get_resolution

    def show(session: Session) -> None:
        resolution = get_resolution(session, symbol)
        current = resolution.current
        out.print(f"[bold]{resolution.symbol}[/] — {current.title}")
        out.print(
            f"{current.body or ''} · {current.session or ''} · {current.place or ''} · "
            f"{current.adopted_gregorian or ''} ({current.adopted_hijri or ''})"
        )
        for v in resolution.versions:
            out.print(
                f"  version {v.version}: imported {v.imported_at:%Y-%m-%d %H:%M} "
                f"from {v.source_name}, {len(v.paragraphs)} paragraphs, sha256 {v.text_sha256[:12]}"
            )
        table = Table("§", "section", "verbs", "addressees", "text")
        for p in current.paragraphs:
            table.add_row(
                str(p.number),
                p.section_letter or "",
                " | ".join(a.verb for a in p.actions),
                ",".join(sorted(p.addressees)),
                p.text[:70] + ("…" if len(p.text) > 70 else ""),
            )
        out.print(table)

    in_session(show)


# --- routing -----------------------------------------------------------------------------


@routing_app.command("export")
def routing_export(
    file: Annotated[Path, typer.Argument(help="Workbook to write (.xlsx).")],
    resolution: Annotated[str, typer.Option("--resolution", help="Resolution symbol.")],
) -> None:
    """Write the routing table to a workbook staff can edit (include / exclude columns)."""
    from resotrack.resolutions.routing import export_routing

    rows = in_session(lambda s: export_routing(s, resolution, file))
    out.print(f"wrote {rows} paragraphs to {file}")


@routing_app.command("import")
def routing_import(
    file: ExistingFile,
    resolution: Annotated[str, typer.Option("--resolution", help="Resolution symbol.")],
) -> None:
    """Apply an edited routing workbook; staff overrides win and are kept across versions."""
    from resotrack.resolutions.routing import import_routing

    count = in_session(lambda s: import_routing(s, resolution, file))
    out.print(f"{count} routing overrides stored for {resolution}")


# --- registry ----------------------------------------------------------------------------


@entities_app.command("list")
def entities_list(
    kind: Annotated[
        str | None, typer.Option(help="member_state, institution or secretariat.")
    ] = None,
) -> None:
    """List reporting entities with their language and focal points."""
    from resotrack.registry import list_entities

    def show(session: Session) -> None:
        table = Table("code", "kind", "name (en)", "name (fr)", "name (ar)", "lang", "focal points")
        entities = list_entities(session, kind)
        for e in entities:
            active = sum(1 for fp in e.focal_points if fp.active)
            table.add_row(e.code, e.kind, e.name_en, e.name_fr, e.name_ar, e.language, str(active))
        out.print(table)
        out.print(f"{len(entities)} entities")

    in_session(show)


@focal_app.command("import")
def focal_points_import(
    file: ExistingFile,
    replace: Annotated[
        bool, typer.Option(help="Deactivate active focal points that the file leaves out.")
    ] = False,
) -> None:
    """Import focal points from CSV (entity, name, email, language, role); all rows or none."""
    from resotrack.registry import import_focal_points

    result = in_session(lambda s: import_focal_points(s, file, replace=replace))
    out.print(f"{file.name}: {result.describe()}")


# --- cycles and questionnaires -----------------------------------------------------------


@cycles_app.command("open")
def cycles_open(
    deadline: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    resolution: Annotated[
        list[str] | None, typer.Option("--resolution", help="Symbol; repeatable.")
    ] = None,
    session_name: Annotated[
        str | None,
        typer.Option("--session", help="Every resolution adopted at this session."),
    ] = None,
    require_complete: Annotated[
        bool,
        typer.Option(
            "--require-complete",
            help="Refuse a return that leaves paragraphs unanswered (default: partial returns "
            "are taken and the rest stays owed).",
        ),
    ] = False,
    entities: Annotated[str, typer.Option(help="all, or codes: SEN,EGY,SESRIC")] = "all",
    title: Annotated[str | None, typer.Option(help="Defaults to the symbols.")] = None,
    no_dispatch: Annotated[
        bool, typer.Option("--no-dispatch", help="Leave it waiting for the DAG's sweep.")
    ] = False,
) -> None:
    """Open a reporting cycle; prints the new cycle's id alone on the last line."""
    from datetime import date

    from sqlalchemy import select

    from resotrack.orchestration import trigger_dag
    from resotrack.questionnaires.cycles import open_cycle, session_symbols
    from resotrack.store.models import Questionnaire

    with user_errors():
        try:
            due = date.fromisoformat(deadline)
        except ValueError as exc:
            raise ValueError(f"the deadline {deadline!r} is not a date like 2026-06-30") from exc
    codes = None if entities.strip().lower() == "all" else entities.split(",")

    def opened(s: Session) -> tuple[int, int]:
        symbols = list(resolution or [])
        if session_name is not None:
            symbols += [x for x in session_symbols(s, session_name) if x not in symbols]
        cycle = open_cycle(
            s,
            symbols,
            due,
            entities=codes,
            title=title or session_name,
            require_complete=require_complete,
        )
        s.flush()
        # counted here: the cycle is detached once its session closes
        count = len(
            s.scalars(select(Questionnaire).where(Questionnaire.cycle_id == cycle.id)).all()
        )
        return cycle.id, count

    cycle_id, count = in_session(opened)
    out.print(f"cycle {cycle_id} opened: {count} questionnaires, deadline {due:%Y-%m-%d}")
    if no_dispatch:
        out.print("not dispatched (--no-dispatch): the dispatch DAG's sweep will send it")
    elif run := trigger_dag("dispatch_questionnaires", {"cycle_id": cycle_id}):
        out.print(f"dispatch started: Airflow run {run}")
    else:
        out.print("Airflow could not be reached: the cycle waits; the dispatch sweep will send it")
    typer.echo(cycle_id)


@cycles_app.command("list")
def cycles_list() -> None:
    """List cycles with their state and deadline."""
    from resotrack.questionnaires.cycles import list_cycles

    def show(session: Session) -> None:
        table = Table("id", "title", "state", "deadline", "questionnaires", "opened")
        for c in list_cycles(session):
            table.add_row(
                str(c.id),
                c.title,
                c.state,
                f"{c.deadline:%Y-%m-%d}",
                str(len(c.questionnaires)),
                f"{c.opened_at:%Y-%m-%d}",
            )
        out.print(table)

    in_session(show)


@cycles_app.command("show")
def cycles_show(cycle_id: Annotated[int, typer.Argument(help="Cycle id.")]) -> None:
    """Show a cycle: resolutions, ladder and every entity's questionnaire."""
    from resotrack.questionnaires.cycles import get_cycle

    def show(session: Session) -> None:
        c = get_cycle(session, cycle_id)
        out.print(f"[bold]cycle {c.id}[/] {c.title}: {c.state}, deadline {c.deadline:%Y-%m-%d}")
        for link in c.resolutions:
            out.print(f"  resolution {link.version.resolution.symbol} v{link.version.version}")
        ladder = ", ".join(f"D{r['offset']:+d} {r['kind']}" for r in c.ladder)
        out.print(f"  reminder ladder: {ladder}")
        table = Table("entity", "language", "paragraphs", "workbook built")
        for q in c.questionnaires:
            built = f"{q.built_at:%Y-%m-%d %H:%M}" if q.built_at else "not yet"
            table.add_row(q.entity_code, q.language, str(len(q.rows)), built)
        out.print(table)

    in_session(show)


@questionnaires_app.command("build")
def questionnaires_build(
    cycle: Annotated[int, typer.Option("--cycle", help="Cycle id.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write into.")],
) -> None:
    """Write every questionnaire of a cycle as <cycle>-<entity>.xlsx; sends nothing."""
    from resotrack.questionnaires.dispatch import build_questionnaire, load_cycle
    from resotrack.questionnaires.workbook import questionnaire_filename

    def build(session: Session) -> int:
        c = load_cycle(session, cycle)
        out_dir.mkdir(parents=True, exist_ok=True)
        for q in c.questionnaires:
            data = build_questionnaire(session, c, q)
            (out_dir / questionnaire_filename(cycle, q.entity_code)).write_bytes(data)
        return len(c.questionnaires)

    count = in_session(build)
    out.print(f"wrote {count} workbooks to {out_dir}")


@tokens_app.command("revoke")
def tokens_revoke(
    token: Annotated[str | None, typer.Option(help="The token from a link.")] = None,
    entity: Annotated[str | None, typer.Option(help="Every link of an entity.")] = None,
    email: Annotated[str | None, typer.Option(help="Every link of a focal point.")] = None,
    cycle: Annotated[int | None, typer.Option(help="Only in this cycle.")] = None,
) -> None:
    """Withdraw upload links; a withdrawn link shows a clear page and grants nothing."""
    from resotrack import tokens

    count = in_session(
        lambda s: tokens.revoke(s, token=token, entity_code=entity, email=email, cycle_id=cycle)
    )
    out.print(f"{count} upload link(s) revoked")


@outbox_app.command("list")
def outbox_list(
    state: Annotated[str | None, typer.Option(help="pending, sent, failed, uncertain")] = None,
    cycle: Annotated[int | None, typer.Option(help="Cycle id.")] = None,
) -> None:
    """List outgoing messages and their delivery state."""
    from resotrack.mail import list_messages

    def show(session: Session) -> None:
        table = Table("id", "kind", "to", "state", "attempts", "sent", "error")
        for m in list_messages(session, state=state, cycle_id=cycle):
            sent = f"{m.sent_at:%Y-%m-%d %H:%M}" if m.sent_at else ""
            table.add_row(
                str(m.id),
                m.kind,
                ", ".join(m.to_addrs),
                m.state,
                str(m.attempts),
                sent,
                (m.last_error or "")[:60],
            )
        out.print(table)

    in_session(show)


@outbox_app.command("send")
def outbox_send() -> None:
    """Deliver what is pending now (the dispatch DAG does this on its own)."""
    from resotrack.mail import send_pending

    with user_errors():
        report = send_pending()
    out.print(str(report))


def _outbox_decision(
    ids: list[int], state: str, decide: Callable[..., list[int]], done: str
) -> None:
    """Apply a staff decision to the listed messages; name the ids it did not apply to."""
    import getpass

    changed = in_session(lambda s: decide(s, ids, actor=f"cli:{getpass.getuser()}"))
    out.print(f"{len(changed)} message(s) {done}: {', '.join(map(str, changed)) or '-'}")
    skipped = sorted(set(ids) - set(changed))
    if skipped:
        err.print(
            f"not {state} (see `resotrack outbox list`), left as they are: "
            + ", ".join(map(str, skipped)),
            highlight=False,
        )
        raise typer.Exit(1)


MessageIds = Annotated[list[int], typer.Argument(help="Outbox message ids.", show_default=False)]


@outbox_app.command("confirm")
def outbox_confirm(ids: MessageIds) -> None:
    """Uncertain messages you found delivered (the recipient has them): record them as sent."""
    from resotrack.mail import confirm_uncertain

    _outbox_decision(ids, "uncertain", confirm_uncertain, "recorded as sent")


@outbox_app.command("resend")
def outbox_resend(ids: MessageIds) -> None:
    """Uncertain messages you found not delivered: queue them again (they may arrive twice
    if they were delivered after all)."""
    from resotrack.mail import resend_uncertain

    _outbox_decision(ids, "uncertain", resend_uncertain, "queued again")


@outbox_app.command("retry")
def outbox_retry(ids: MessageIds) -> None:
    """Failed messages whose cause you fixed (an address, the relay): give them a new round."""
    from resotrack.mail import retry_failed

    _outbox_decision(ids, "failed", retry_failed, "queued again")


@portal_app.command("serve")
def portal_serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the portal on its own (under Airflow, the plugin mounts it at /resotrack)."""
    from resotrack.portal import serve

    serve(host=host, port=port, workers=workers)


def _register_stage_commands() -> None:
    """Stages add their own command groups; their modules import only typer and rich."""
    from resotrack.consolidation.cli import register as register_consolidation
    from resotrack.intake.cli import register as register_returns
    from resotrack.recovery.cli import register as register_recovery
    from resotrack.reminders.cli import register as register_reminders
    from resotrack.validation.cli import check_command

    register_returns(app).command("check")(check_command)
    register_reminders(app)
    register_consolidation(app)
    register_recovery(app)


_register_stage_commands()


def main() -> None:  # pragma: no cover - console entry point
    app()
