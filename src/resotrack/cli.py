"""The ``resotrack`` command: every stage is callable here without Airflow."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from resotrack.catalog import N_n, terminal_words
from resotrack.settings import get_settings
from resotrack.terminal import LiveConsole, fitted, listing

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from resotrack.catalog import Words
    from resotrack.resolutions.document import Overrides
    from resotrack.resolutions.importer import ImportResult

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

out = LiveConsole()
err = LiveConsole(stderr=True)
T = TypeVar("T")

ExistingFile = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, readable=True, show_default=False)
]


def error(problem: object) -> None:
    """``error: …`` on stderr, the label in the terminal's language (the problem as given)."""
    from rich.markup import escape

    w = words()
    label = escape(w("error:"))
    err.print(f"[bold red]{label}[/] {problem}", markup=True, highlight=False, soft_wrap=True)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the domain's ``ValueError``/``LookupError`` into a message and exit code 1."""
    try:
        yield
    except (ValueError, LookupError) as exc:
        error(exc)
        raise typer.Exit(1) from exc


def in_session(work: Callable[..., T]) -> T:
    from resotrack.store import session_scope

    with user_errors(), session_scope() as session:
        return work(session)


AsJson = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts).")]


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
    said = words().n(
        "database ready at {url}; {n} reporting entity added or updated",
        "database ready at {url}; {n} reporting entities added or updated",
        changed,
        url=settings.db_url,
    )
    out.print(said, highlight=False)


# --- resolutions -------------------------------------------------------------------------


ResolutionPaths = Annotated[
    list[Path],
    typer.Argument(
        exists=True,
        readable=True,
        show_default=False,
        help="Resolution files (.pdf, .docx, .txt; .xlsx/.csv paragraph tables) or folders.",
    ),
]
SymbolOption = Annotated[
    str | None,
    typer.Option("--symbol", help="The resolution's symbol, when the text prints none."),
]
LanguageOption = Annotated[
    str | None, typer.Option("--language", help="ar, en or fr, when the text is misread.")
]
TitleOption = Annotated[str | None, typer.Option("--title", help="The resolution's title.")]
DateOption = Annotated[
    str | None, typer.Option("--date", help="Adoption date, YYYY-MM-DD (the last day).")
]
_RESOLUTION_SUFFIXES = (".pdf", ".docx", ".txt", ".md", ".csv", ".xlsx")


def _resolution_files(paths: list[Path]) -> list[Path]:
    """The files given, with each folder replaced by the resolution files it holds."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.is_file()
                and not p.name.startswith(".")
                and p.suffix.lower() in _RESOLUTION_SUFFIXES
            )
            if not found:
                w = words()
                raise ValueError(
                    w(
                        "{path}: the folder holds no resolution file ({suffixes})",
                        path=path,
                        suffixes=", ".join(_RESOLUTION_SUFFIXES),
                    )
                )
            files.extend(found)
        else:
            files.append(path)
    return files


def _overrides(
    symbol: str | None, language: str | None, title: str | None, adopted: str | None
) -> Overrides:
    from datetime import date

    from resotrack.resolutions.document import Overrides

    lang = None
    if language is not None:
        lang = language.strip().lower()[:2]
        if lang not in ("ar", "en", "fr"):
            w = words()
            raise ValueError(w("--language {value}: use ar, en or fr", value=repr(language)))
    day = None
    if adopted is not None:
        try:
            day = date.fromisoformat(adopted.strip())
        except ValueError:
            w = words()
            raise ValueError(
                w(
                    "--date {value} is not a date: write it as YYYY-MM-DD (e.g. 2023-06-06)",
                    value=repr(adopted),
                )
            ) from None
    return Overrides(symbol=symbol, language=lang, title=title, adopted_on=day)  # type: ignore[arg-type]


@resolutions_app.command("parse")
def resolutions_parse(
    files: ResolutionPaths,
    as_json: Annotated[bool, typer.Option("--json", help="Print the parse as JSON.")] = False,
    symbol: SymbolOption = None,
    language: LanguageOption = None,
    title: TitleOption = None,
    adopted: DateOption = None,
) -> None:
    """Parse resolution files (no database) and print what was found."""
    from dataclasses import replace

    from resotrack.resolutions.confidence import describe, doubts
    from resotrack.resolutions.document import read_document
    from resotrack.resolutions.errors import ResolutionParseError
    from resotrack.resolutions.table import is_table, read_table

    with user_errors():
        options = replace(_overrides(symbol, language, title, adopted), require_symbol=False)
        paths = _resolution_files(files)
    found = []
    failures: list[ResolutionParseError] = []
    for path in paths:
        try:
            if is_table(path, path.read_bytes()[:4096]):
                found.append(
                    read_table(
                        path,
                        symbol=options.symbol,
                        language=options.language,
                        title=options.title,
                        adopted_on=options.adopted_on,
                    ).parsed
                )
                continue
            document = read_document(
                path, max_bytes=get_settings().max_resolution_bytes, overrides=options
            )
        except ResolutionParseError as exc:
            failures.append(exc)
            continue
        found.extend(document.resolutions)
        failures.extend(document.failures)
    if as_json:
        shapes = [parsed.as_dict() for parsed in found]
        payload = shapes[0] if len(shapes) == 1 and len(paths) == 1 else shapes
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        w = words()
        for parsed in found:
            symbol_shown = parsed.symbol or w("(no symbol found: import it with --symbol)")
            out.print(f"[bold]{symbol_shown}[/] ({parsed.language}): {parsed.title}")
            adopted = w(
                "adopted: {gregorian} ({hijri})",
                gregorian=parsed.adopted_gregorian or "?",
                hijri=parsed.adopted_hijri or "",
            )
            out.print(adopted, highlight=False)
            rows = [
                (
                    str(p.number),
                    p.section or "",
                    " | ".join(p.verbs),
                    ",".join(p.addressees),
                    ",".join(sorted({i for a in p.actions for i in a.institutions})),
                    describe(doubts((a.verb, a.action, a.addressees) for a in p.actions)),
                )
                for p in parsed.paragraphs
            ]
            columns = [
                ("§", 0),
                (w.p("column", "section"), 2),
                (w.p("column", "verbs"), 1),
                (w.p("column", "addressees"), 0),
                (w.p("column", "institutions"), 2),
                (w.p("column", "confidence"), 1),
            ]
            out.print(fitted(columns, rows))
    said = terminal_words("resolutions")
    for failure in failures:
        error(failure.said_in(said))
    if failures:
        raise typer.Exit(1)


@resolutions_app.command("import")
def resolutions_import(
    files: ResolutionPaths,
    symbol: SymbolOption = None,
    language: LanguageOption = None,
    title: TitleOption = None,
    adopted: DateOption = None,
) -> None:
    """Store resolutions; the same text again changes nothing, a changed one is a new version.

    A session document holding many resolutions stores each of them; a paragraph table
    (.xlsx or .csv: number, section, text, verbs, addressees) needs --symbol.
    """
    from resotrack.resolutions.errors import ResolutionParseError
    from resotrack.resolutions.importer import ImportResult, import_path

    with user_errors():
        options = _overrides(symbol, language, title, adopted)
        paths = _resolution_files(files)
    failed = False
    for path in paths:
        try:
            results = import_path(path, overrides=options)
        except ResolutionParseError as exc:
            results = [ImportResult(path.name, None, None, False, 0, error=str(exc), failure=exc)]
        said = terminal_words("resolutions")
        for result in results:
            if result.error:
                failed = True
                error(result.failure.said_in(said) if result.failure else result.error)
            else:
                out.print(_imported(words(), result), highlight=False)
    if failed:
        raise typer.Exit(1)


def _imported(w: Words, result: ImportResult) -> str:
    """One stored (or unchanged) resolution, as ``resotrack resolutions import`` says it."""
    if result.created:
        return w.n(
            "{source}: imported {symbol} version {version} ({n} operative paragraph)",
            "{source}: imported {symbol} version {version} ({n} operative paragraphs)",
            result.paragraphs,
            source=result.source,
            symbol=result.symbol,
            version=result.version,
        )
    return w(
        "{source}: {symbol} version {version} unchanged (already imported)",
        source=result.source,
        symbol=result.symbol,
        version=result.version,
    )


@resolutions_app.command("show")
def resolutions_show(symbol: str, as_json: AsJson = False) -> None:
    """Show a stored resolution: versions, sections and paragraphs with their addressees."""
    from rich.markup import escape

    from resotrack.resolutions import get_resolution
    from resotrack.resolutions.confidence import describe, doubts

    def show(session: Session) -> None:
        resolution = get_resolution(session, symbol)
        current = resolution.current
        paragraphs: list[dict[str, Any]] = [
            {
                "number": p.number,
                "section": p.section_letter or "",
                "verbs": [a.verb for a in p.actions],
                "addressees": sorted(p.addressees),
                "confidence": describe(
                    doubts((a.verb, a.canonical, a.addressees) for a in p.actions)
                ),
                "text": p.text,
            }
            for p in current.paragraphs
        ]
        w = words()
        head = [
            f"[bold]{escape(resolution.symbol)}[/] — {escape(current.title or '')}",
            escape(
                f"{current.body or ''} · {current.session or ''} · {current.place or ''} · "
                f"{current.adopted_gregorian or ''} ({current.adopted_hijri or ''})"
            ),
        ]
        for v in resolution.versions:
            said = w(
                "  version {version}: imported {at} from {source}, {paragraphs}, sha256 {sha256}",
                version=v.version,
                at=f"{v.imported_at:%Y-%m-%d %H:%M}",
                source=v.source_name,
                paragraphs=w.n("{n} paragraph", "{n} paragraphs", len(v.paragraphs)),
                sha256=v.text_sha256[:12],
            )
            head.append(escape(said))
        columns = [
            ("§", 0),
            (w.p("column", "section"), 2),
            (w.p("column", "verbs"), 1),
            (w.p("column", "addressees"), 0),
            (w.p("column", "confidence"), 1),
            (w.p("column", "text"), 3),
        ]
        listing(
            {
                "symbol": resolution.symbol,
                "title": current.title,
                "body": current.body,
                "session": current.session,
                "place": current.place,
                "adopted_gregorian": current.adopted_gregorian,
                "adopted_hijri": current.adopted_hijri,
                "versions": [
                    {
                        "version": v.version,
                        "imported_at": v.imported_at,
                        "source_name": v.source_name,
                        "paragraphs": len(v.paragraphs),
                        "sha256": v.text_sha256,
                    }
                    for v in resolution.versions
                ],
                "paragraphs": paragraphs,
            },
            as_json=as_json,
            columns=columns,
            rows=lambda: [
                (
                    str(p["number"]),
                    str(p["section"]),
                    " | ".join(p["verbs"]),
                    ",".join(p["addressees"]),
                    str(p["confidence"]),
                    p["text"][:70] + ("…" if len(p["text"]) > 70 else ""),
                )
                for p in paragraphs
            ],
            console=out,
            before=head,
        )

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
    said = words().n(
        "wrote {n} paragraph to {file}", "wrote {n} paragraphs to {file}", rows, file=file
    )
    out.print(said, highlight=False)


@routing_app.command("import")
def routing_import(
    file: ExistingFile,
    resolution: Annotated[str, typer.Option("--resolution", help="Resolution symbol.")],
) -> None:
    """Apply an edited routing workbook; staff overrides win and are kept across versions."""
    from resotrack.resolutions.routing import import_routing

    count = in_session(lambda s: import_routing(s, resolution, file))
    said = words().n(
        "{n} routing override stored for {resolution}",
        "{n} routing overrides stored for {resolution}",
        count,
        resolution=resolution,
    )
    out.print(said, highlight=False)


# --- registry ----------------------------------------------------------------------------


@entities_app.command("list")
def entities_list(
    kind: Annotated[
        str | None, typer.Option(help="member_state, institution or secretariat.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """List reporting entities with their language and focal points."""
    from resotrack.registry import list_entities
    from resotrack.registry.entities import ENTITY_KINDS

    def show(session: Session) -> None:
        found: list[dict[str, Any]] = [
            {
                "code": e.code,
                "kind": e.kind,
                "name_en": e.name_en,
                "name_fr": e.name_fr,
                "name_ar": e.name_ar,
                "language": e.language,
                "focal_points": sum(1 for fp in e.focal_points if fp.active),
            }
            for e in list_entities(session, kind)
        ]
        w = words()
        columns = [
            (w.p("column", "code"), 0),
            (w.p("column", "name (en)"), 0),
            (w.p("column", "lang"), 1),
            (w.p("column", "focal points"), 1),
            (w.p("column", "kind"), 2),
            (w.p("column", "name (fr)"), 3),
            (w.p("column", "name (ar)"), 4),
        ]
        listing(
            found,
            as_json=as_json,
            columns=columns,
            rows=lambda: [
                [
                    e["code"],
                    e["name_en"],
                    e["language"],
                    str(e["focal_points"]),
                    ENTITY_KINDS.name(w.language, e["kind"]),
                    e["name_fr"],
                    e["name_ar"],
                ]
                for e in found
            ],
            console=out,
            after=[w.n("{n} entity", "{n} entities", len(found))],
        )

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
    w = words()
    said = w(
        "{file}: {added} added, {updated} updated, {unchanged} unchanged, {deactivated} "
        "deactivated",
        file=file.name,
        added=result.added,
        updated=result.updated,
        unchanged=result.unchanged,
        deactivated=result.deactivated,
    )
    out.print(said, highlight=False)


# --- cycles and questionnaires -----------------------------------------------------------


def words() -> Words:
    """The CLI's words in the language of the terminal's locale (``LANG=fr_FR.UTF-8``)."""
    return terminal_words("cli")


def _airflow_configured() -> bool:
    """Whether this process was told where Airflow is (``RESOTRACK_AIRFLOW_API_URL``)."""
    from resotrack.settings import get_settings

    return "airflow_api_url" in get_settings().model_fields_set


def _dispatch_here(only: int | None) -> int:
    """Dispatch ``only`` (or every waiting cycle) in this process with the function the
    dispatch DAG runs, then deliver the outbox; print what was done. Returns the exit code."""
    from resotrack.mail import OutboxDeliveryError
    from resotrack.questionnaires.dispatch import dispatch_pending
    from resotrack.validation.answers import earlier_answers

    w = words()
    try:
        with user_errors():
            summaries = dispatch_pending(earlier_answers=earlier_answers, only=only)
    except OutboxDeliveryError as exc:
        err.print(
            w(
                "The questionnaires are queued but some emails did not go out: {error}. "
                "Run `resotrack outbox send` once the mail server answers.",
                error=exc,
            ),
            highlight=False,
        )
        return 1
    if not summaries:
        out.print(w("No cycle is waiting to be dispatched."), highlight=False)
    for summary in summaries:
        out.print(
            w.n(
                "Cycle {cycle}: {n} questionnaire dispatched",
                "Cycle {cycle}: {n} questionnaires dispatched",
                summary["questionnaires"],
                cycle=summary["cycle_id"],
            )
            + " · "
            + w.n("{n} email in the outbox", "{n} emails in the outbox", summary["queued"]),
            highlight=False,
        )
        for problem in summary["problems"]:
            err.print(w("Warning: {problem}", problem=problem), highlight=False)
    return 0


def _dispatch(cycle_id: int) -> int:
    """Dispatch a waiting cycle: through Airflow's REST API when Airflow is configured and
    answers, else here. Returns the exit code."""
    w = words()
    if _airflow_configured():
        from resotrack.orchestration import trigger_dag

        if run := trigger_dag("dispatch_questionnaires", {"cycle_id": cycle_id}):
            out.print(w("Dispatch started in Airflow (run {run}).", run=run), highlight=False)
            return 0
        out.print(w("Airflow did not answer: dispatching here."), highlight=False)
    return _dispatch_here(cycle_id)


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
        bool, typer.Option("--no-dispatch", help="Leave it waiting (dispatch it later).")
    ] = False,
    new: Annotated[
        bool,
        typer.Option(
            "--new",
            help="Open another cycle even if one with these resolutions, deadline "
            "and title exists.",
        ),
    ] = False,
) -> None:
    """Open a reporting cycle and dispatch it; prints the cycle's id alone on the last line.

    Run again with the same resolutions, deadline and title, it opens nothing: it names the
    cycle that exists (and dispatches it if it still waits).
    """
    from datetime import date

    from resotrack.questionnaires.cycles import find_cycle, open_cycle, session_symbols

    w = words()
    with user_errors():
        try:
            due = date.fromisoformat(deadline)
        except ValueError as exc:
            raise ValueError(
                w("The deadline {value} is not a date like 2026-06-30.", value=repr(deadline))
            ) from exc
    codes = None if entities.strip().lower() == "all" else entities.split(",")

    def open_or_find(session: Session) -> tuple[int, int, str, bool]:
        symbols = list(resolution or [])
        if session_name is not None:
            symbols += [x for x in session_symbols(session, session_name) if x not in symbols]
        named = title or session_name
        found = None if new else find_cycle(session, symbols, due, title=named)
        cycle = found or open_cycle(
            session,
            symbols,
            due,
            entities=codes,
            title=named,
            require_complete=require_complete,
        )
        session.flush()
        count = len(cycle.questionnaires)  # loaded while the session is open
        return cycle.id, count, cycle.state, found is None

    cycle_id, count, state, opened = in_session(open_or_find)
    day = w.date(due)
    if opened:
        out.print(
            w.n(
                "Cycle {cycle} opened: {n} questionnaire, deadline {deadline}.",
                "Cycle {cycle} opened: {n} questionnaires, deadline {deadline}.",
                count,
                cycle=cycle_id,
                deadline=day,
            ),
            highlight=False,
        )
    else:
        out.print(
            w(
                "Cycle {cycle} with these resolutions, deadline and title exists already: "
                "nothing opened (--new opens another).",
                cycle=cycle_id,
            ),
            highlight=False,
        )
    code = 0
    if no_dispatch:
        if state == "waiting":
            out.print(
                w(
                    "Not dispatched (--no-dispatch): `resotrack cycles dispatch {cycle}` sends it.",
                    cycle=cycle_id,
                ),
                highlight=False,
            )
    elif state == "waiting":
        code = _dispatch(cycle_id)
    else:
        out.print(w("Already dispatched."), highlight=False)
    typer.echo(cycle_id)
    if code:
        raise typer.Exit(code)


@cycles_app.command("dispatch")
def cycles_dispatch(
    cycle_id: Annotated[
        int | None, typer.Argument(help="Cycle id; every waiting cycle if left out.")
    ] = None,
) -> None:
    """Build and email a cycle's questionnaires here, as the dispatch DAG does; a second run
    sends nothing twice."""
    if cycle_id is not None:
        from resotrack.questionnaires.cycles import get_cycle

        in_session(lambda s: get_cycle(s, cycle_id).id)
    code = _dispatch_here(cycle_id)
    if code:
        raise typer.Exit(code)


@cycles_app.command("list")
def cycles_list(as_json: AsJson = False) -> None:
    """List cycles with their state and deadline."""
    from resotrack.questionnaires.cycles import CYCLE_STATES, list_cycles

    def show(session: Session) -> None:
        found: list[dict[str, Any]] = [
            {
                "id": c.id,
                "title": c.title,
                "state": c.state,
                "deadline": f"{c.deadline:%Y-%m-%d}",
                "questionnaires": len(c.questionnaires),
                "opened": f"{c.opened_at:%Y-%m-%d}",
            }
            for c in list_cycles(session)
        ]
        w = words()
        columns = [
            (w.p("column", "id"), 0),
            (w.p("column", "title"), 0),
            (w.p("column", "state"), 0),
            (w.p("column", "deadline"), 0),
            (w.p("column", "questionnaires"), 1),
            (w.p("column", "opened"), 2),
        ]
        keys = ["id", "title", "state", "deadline", "questionnaires", "opened"]
        listing(
            found,
            as_json=as_json,
            columns=columns,
            rows=lambda: [
                [CYCLE_STATES.name(w.language, c[k]) if k == "state" else str(c[k]) for k in keys]
                for c in found
            ],
            console=out,
        )

    in_session(show)


@cycles_app.command("show")
def cycles_show(
    cycle_id: Annotated[int, typer.Argument(help="Cycle id.")], as_json: AsJson = False
) -> None:
    """Show a cycle: resolutions, ladder and every entity's questionnaire."""
    from rich.markup import escape

    from resotrack.questionnaires.cycles import CYCLE_STATES, get_cycle
    from resotrack.reminders.ladder import Rung, rung_label

    def show(session: Session) -> None:
        c = get_cycle(session, cycle_id)
        questionnaires: list[dict[str, Any]] = [
            {
                "entity": q.entity_code,
                "language": q.language,
                "paragraphs": len(q.rows),
                "built_at": q.built_at,
            }
            for q in c.questionnaires
        ]
        w = words()
        head = [
            w(
                "[bold]cycle {cycle}[/] {title}: {state}, deadline {deadline}",
                cycle=c.id,
                title=escape(c.title),
                state=CYCLE_STATES.name(w.language, c.state),
                deadline=f"{c.deadline:%Y-%m-%d}",
            )
        ]
        head += [
            w(
                "  resolution {symbol} v{version}",
                symbol=escape(link.version.resolution.symbol),
                version=link.version.version,
            )
            for link in c.resolutions
        ]
        ladder = ", ".join(rung_label(w, Rung(r["offset"], r["kind"])) for r in c.ladder)
        head.append(w("  reminder ladder: {ladder}", ladder=ladder))
        columns = [
            (w.p("column", "entity"), 0),
            (w.p("column", "language"), 0),
            (w.p("column", "paragraphs"), 0),
            (w.p("column", "workbook built"), 1),
        ]
        listing(
            {
                "id": c.id,
                "title": c.title,
                "state": c.state,
                "deadline": f"{c.deadline:%Y-%m-%d}",
                "resolutions": [
                    {"symbol": link.version.resolution.symbol, "version": link.version.version}
                    for link in c.resolutions
                ],
                "ladder": c.ladder,
                "questionnaires": questionnaires,
            },
            as_json=as_json,
            columns=columns,
            rows=lambda: [
                (
                    q["entity"],
                    q["language"],
                    str(q["paragraphs"]),
                    f"{q['built_at']:%Y-%m-%d %H:%M}" if q["built_at"] else w("not yet"),
                )
                for q in questionnaires
            ],
            console=out,
            before=head,
        )

    in_session(show)


@questionnaires_app.command("build")
def questionnaires_build(
    cycle: Annotated[int, typer.Option("--cycle", help="Cycle id.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write into.")],
) -> None:
    """Write every questionnaire of a cycle as <cycle>-<entity>.xlsx; sends nothing."""
    from resotrack.questionnaires.dispatch import build_questionnaire, load_cycle
    from resotrack.questionnaires.workbook import questionnaire_filename
    from resotrack.validation.answers import earlier_answers

    def build(session: Session) -> int:
        c = load_cycle(session, cycle)
        out_dir.mkdir(parents=True, exist_ok=True)
        for q in c.questionnaires:
            data = build_questionnaire(session, c, q, earlier_answers=earlier_answers)
            (out_dir / questionnaire_filename(cycle, q.entity_code)).write_bytes(data)
        return len(c.questionnaires)

    count = in_session(build)
    said = words().n(
        "wrote {n} workbook to {folder}", "wrote {n} workbooks to {folder}", count, folder=out_dir
    )
    out.print(said, highlight=False)


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
    out.print(words().n("{n} upload link revoked", "{n} upload links revoked", count))


@outbox_app.command("list")
def outbox_list(
    state: Annotated[str | None, typer.Option(help="pending, sent, failed, uncertain")] = None,
    cycle: Annotated[int | None, typer.Option(help="Cycle id.")] = None,
    as_json: AsJson = False,
) -> None:
    """List outgoing messages and their delivery state."""
    from resotrack.mail import list_messages
    from resotrack.mail.labels import MESSAGE_KINDS, OUTBOX_STATES

    def show(session: Session) -> None:
        found: list[dict[str, Any]] = [
            {
                "id": m.id,
                "kind": m.kind,
                "to": list(m.to_addrs),
                "cc": list(m.cc_addrs),
                "state": m.state,
                "attempts": m.attempts,
                "sent_at": m.sent_at,
                "error": m.last_error,
            }
            for m in list_messages(session, state=state, cycle_id=cycle)
        ]
        w = words()
        columns = [
            (w.p("column", "id"), 0),
            (w.p("column", "kind"), 1),
            (w.p("column", "to"), 0),
            (w.p("column", "state"), 0),
            (w.p("column", "attempts"), 2),
            (w.p("column", "sent"), 1),
            (w.p("column", "error"), 3),
        ]
        listing(
            found,
            as_json=as_json,
            columns=columns,
            rows=lambda: [
                (
                    str(m["id"]),
                    MESSAGE_KINDS.name(w.language, m["kind"]),
                    ", ".join(m["to"]),
                    OUTBOX_STATES.name(w.language, m["state"]),
                    str(m["attempts"]),
                    f"{m['sent_at']:%Y-%m-%d %H:%M}" if m["sent_at"] else "",
                    (m["error"] or "")[:60],
                )
                for m in found
            ],
            console=out,
        )

    in_session(show)


@outbox_app.command("send")
def outbox_send() -> None:
    """Deliver what is pending now (the dispatch DAG does this on its own)."""
    from resotrack.mail import send_pending

    with user_errors():
        report = send_pending()
    w = words()
    if not any((report.sent, report.failed, report.retried, report.uncertain, report.skipped)):
        out.print(w("Nothing was waiting in the outbox."), highlight=False)
    for ids, said in (
        (report.sent, N_n("{n} message sent: {ids}", "{n} messages sent: {ids}")),
        (
            report.retried,
            N_n(
                "{n} message not delivered yet, tried again later: {ids}",
                "{n} messages not delivered yet, tried again later: {ids}",
            ),
        ),
        (
            report.failed,
            N_n(
                "{n} message failed (see `resotrack outbox list`): {ids}",
                "{n} messages failed (see `resotrack outbox list`): {ids}",
            ),
        ),
        (
            report.uncertain,
            N_n(
                "{n} message may or may not have arrived; confirm or resend it: {ids}",
                "{n} messages may or may not have arrived; confirm or resend each: {ids}",
            ),
        ),
        (
            report.skipped,
            N_n(
                "{n} message not due yet, or taken by another run: {ids}",
                "{n} messages not due yet, or taken by another run: {ids}",
            ),
        ),
    ):
        if ids:
            out.print(w.n(*said, len(ids), ids=", ".join(map(str, ids))), highlight=False)


def _outbox_decision(
    ids: list[int], state: str, decide: Callable[..., list[int]], done: tuple[str, str]
) -> None:
    """Apply a staff decision to the listed messages; name the ids it did not apply to.
    ``done`` is the English singular and plural of what was done ("{n} message queued again:
    {ids}")."""
    import getpass

    w = words()
    changed = in_session(lambda s: decide(s, ids, actor=f"cli:{getpass.getuser()}"))
    shown = ", ".join(map(str, changed)) or "-"
    out.print(w.n(*done, len(changed), ids=shown), highlight=False)
    skipped = sorted(set(ids) - set(changed))
    if skipped:
        left = ", ".join(map(str, skipped))
        if state == "uncertain":
            said = w(
                "not uncertain (see `resotrack outbox list`), left as they are: {ids}", ids=left
            )
        else:
            said = w("not failed (see `resotrack outbox list`), left as they are: {ids}", ids=left)
        err.print(said, highlight=False)
        raise typer.Exit(1)


MessageIds = Annotated[list[int], typer.Argument(help="Outbox message ids.", show_default=False)]


@outbox_app.command("confirm")
def outbox_confirm(ids: MessageIds) -> None:
    """Uncertain messages you found delivered (the recipient has them): record them as sent."""
    from resotrack.mail import confirm_uncertain

    _outbox_decision(
        ids,
        "uncertain",
        confirm_uncertain,
        N_n("{n} message recorded as sent: {ids}", "{n} messages recorded as sent: {ids}"),
    )


@outbox_app.command("resend")
def outbox_resend(ids: MessageIds) -> None:
    """Uncertain messages you found not delivered: queue them again (they may arrive twice
    if they were delivered after all)."""
    from resotrack.mail import resend_uncertain

    _outbox_decision(
        ids,
        "uncertain",
        resend_uncertain,
        N_n("{n} message queued again: {ids}", "{n} messages queued again: {ids}"),
    )


@outbox_app.command("retry")
def outbox_retry(ids: MessageIds) -> None:
    """Failed messages whose cause you fixed (an address, the relay): give them a new round."""
    from resotrack.mail import retry_failed

    _outbox_decision(
        ids,
        "failed",
        retry_failed,
        N_n("{n} message queued again: {ids}", "{n} messages queued again: {ids}"),
    )


@portal_app.command("serve")
def portal_serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the portal on its own (under Airflow, the plugin mounts it at /resotrack)."""
    from resotrack.portal import serve

    serve(host=host, port=port, workers=workers)


def returns_ingest(
    submission: Annotated[
        int | None, typer.Option("--submission", help="Only this submission id.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Validate every return still waiting (or one), as the ingest DAG does, and send each
    sender their feedback; a second run finds nothing to do."""
    from resotrack.validation import ingest_pending
    from resotrack.validation.lifecycle import SUBMISSION_STATES

    w = words()
    with user_errors():
        results = ingest_pending(only=submission)
    if as_json:
        typer.echo(json.dumps(results, ensure_ascii=False, indent=2, default=str))
        return
    if not results:
        out.print(w("No return is waiting to be checked."), highlight=False)
    failed = False
    for r in results:
        if "outcome" in r:
            line = w(
                "Submission {submission} ({entity}, cycle {cycle}): {outcome}",
                submission=r["submission_id"],
                entity=r["entity_code"],
                cycle=r["cycle_id"],
                outcome=SUBMISSION_STATES.name(w.language, r["outcome"]),
            )
            line += " · " + w.n("{n} answer stored", "{n} answers stored", r["answers_changed"])
            line += " · " + w.n("{n} problem", "{n} problems", r["blockers"] + r["warnings"])
        elif "skipped" in r:
            line = w(
                "Submission {submission}: not checked again (already decided, or being "
                "checked by another run)",
                submission=r["submission_id"],
            )
        else:
            failed = True
            line = w(
                "Submission {submission}: the check failed and will be tried again: {error}",
                submission=r["submission_id"],
                error=r.get("error", ""),
            )
        out.print(line, highlight=False)
    if failed:
        raise typer.Exit(1)


def _register_stage_commands() -> None:
    """Stages add their own command groups; their modules import only typer and rich."""
    from resotrack.consolidation.cli import register as register_consolidation
    from resotrack.intake.cli import register as register_returns
    from resotrack.publicsite.cli import register as register_site
    from resotrack.recovery.cli import register as register_recovery
    from resotrack.reminders.cli import register as register_reminders
    from resotrack.resolutions.cli import register as register_lineage
    from resotrack.validation.cli import check_command

    returns_app = register_returns(app)
    returns_app.command("check")(check_command)
    returns_app.command("ingest")(returns_ingest)
    register_reminders(app)
    register_consolidation(app)
    register_recovery(app)
    register_lineage(resolutions_app)
    register_site(app)


_register_stage_commands()


def main() -> None:  # pragma: no cover - console entry point
    app()
