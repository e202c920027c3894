"""``resotrack consolidate``, ``resotrack review`` and ``resotrack reports``.

Wired into the main command with ``register(app)``. Everything here works without Airflow;
where a ``publish_report`` run is waiting for an answer, ``reports approve|reject`` answer it
through Airflow's REST API so the DAG finishes the job, and decide in the database only when
Airflow cannot be reached.
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

CommentOption = Annotated[
    str | None, typer.Option("--comment", "-m", help="Why; kept with the decision.")
]
ReviewerOption = Annotated[
    str | None, typer.Option("--reviewer", help="Who decides (default: your login name).")
]


def _fail(message: str) -> typer.Exit:
    w = terminal_words("cli")
    said = w("error:")
    err.print(f"[bold red]{said}[/] {message}", markup=True, highlight=False, soft_wrap=True)
    return typer.Exit(1)


def _warn(message: object) -> None:
    w = terminal_words("cli")
    err.print(w("warning: {problem}", problem=message), highlight=False)


def _reviewer(value: str | None) -> str:
    return value or getpass.getuser()


def _deliver() -> None:
    """Send what was queued; a failure leaves it queued for the next delivery."""
    from resotrack.mail import OutboxDeliveryError, send_pending

    try:
        send_pending()
    except OutboxDeliveryError as exc:
        w = terminal_words("cli")
        _warn(w("not every email went out yet: {error}", error=exc))


def consolidate(
    cycle: Annotated[int, typer.Option("--cycle", help="The reporting cycle to consolidate.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to copy the build's files into.")],
    force: Annotated[
        bool, typer.Option("--force", help="Build even if nothing changed since the last build.")
    ] = False,
    language: Annotated[
        str | None,
        typer.Option(
            "--language",
            help="ar, en or fr: every output of the build in it (default: the resolution's).",
        ),
    ] = None,
    theme: Annotated[
        str | None,
        typer.Option(
            "--theme",
            help="A theme code (see `resotrack resolutions themes`): only the paragraphs "
            "tagged with it; the titles name the theme.",
        ),
    ] = None,
) -> None:
    """Build the tables, charts and draft reports of a cycle; copy the files to --out."""
    from resotrack.consolidation.builds import build_report, write_outputs

    try:
        result = build_report(
            cycle,
            built_by=f"cli:{getpass.getuser()}",
            force=force,
            language=language,
            theme=theme,
        )
    except (LookupError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    written = write_outputs(result.outputs, out_dir)
    w = terminal_words("cli")
    files = w.n("{count} file", "{count} files", len(written), count=w.number(len(written)))
    said = {"cycle": cycle, "version": result.version, "build": result.build_id}
    if result.created:
        line = w(
            "cycle {cycle}: built build v{version} (id {build}); {files} in {folder}",
            **said,
            files=files,
            folder=out_dir,
        )
    else:
        line = w(
            "cycle {cycle}: unchanged since build v{version} (id {build}); {files} in {folder}",
            **said,
            files=files,
            folder=out_dir,
        )
    out.print(line, highlight=False)
    s = result.summary
    rate = s.get("response_rate")
    asked = int(s.get("entities_asked") or 0)
    out.print(
        w.n(
            "{returned} of {n} entity returned ({rate}), {on_time} on time",
            "{returned} of {n} entities returned ({rate}), {on_time} on time",
            asked,
            returned=w.number(int(s.get("entities_returned") or 0)),
            rate="–" if rate is None else w.percent(rate),
            on_time=w.number(int(s.get("entities_on_time") or 0)),
        ),
        highlight=False,
    )
    if s.get("edited"):
        out.print(
            w.n(
                "{n} passage written by staff is kept.",
                "{n} passages written by staff are kept.",
                len(s["edited"]),
            ),
            highlight=False,
        )
    if s.get("stale"):
        out.print(
            w.n(
                "{n} passage to check: the facts under it have changed ({keys}).",
                "{n} passages to check: the facts under them have changed ({keys}).",
                len(s["stale"]),
                keys=", ".join(s["stale"]),
            ),
            highlight=False,
        )


def review_accept(
    submission: Annotated[int, typer.Argument(help="Submission id.")],
    comment: CommentOption = None,
    reviewer: ReviewerOption = None,
) -> None:
    """Accept a validated return as it is."""
    from resotrack.consolidation.review import ReviewError, accept_submission
    from resotrack.store import session_scope

    try:
        with session_scope() as session:
            result = accept_submission(
                session, submission, reviewer=_reviewer(reviewer), comment=comment
            )
    except ReviewError as exc:
        raise _fail(str(exc)) from exc
    w = terminal_words("cli")
    said = w(
        "submission {submission} ({entity}): accepted",
        submission=submission,
        entity=result.entity_code,
    )
    out.print(said, highlight=False)


def review_correct(
    submission: Annotated[int, typer.Argument(help="Submission id.")],
    comment: Annotated[
        str, typer.Option("--comment", "-m", help="What to correct; the focal point reads it.")
    ],
    reviewer: ReviewerOption = None,
) -> None:
    """Send a return back for correction: the focal point gets the comment by email."""
    from resotrack.consolidation.review import ReviewError, request_correction
    from resotrack.store import session_scope

    try:
        with session_scope() as session:
            result = request_correction(
                session, submission, reviewer=_reviewer(reviewer), comment=comment
            )
    except ReviewError as exc:
        raise _fail(str(exc)) from exc
    for warning in result.warnings:
        _warn(warning)
    if result.messages:
        _deliver()
    w = terminal_words("cli")
    said = w.n(
        "submission {submission} ({entity}): correction requested; {n} focal point emailed",
        "submission {submission} ({entity}): correction requested; {n} focal points emailed",
        len(result.messages),
        submission=submission,
        entity=result.entity_code,
    )
    out.print(said, highlight=False)


def reports_list(
    cycle: Annotated[int | None, typer.Option("--cycle", help="Only this cycle.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (for scripts).")] = False,
) -> None:
    """Every report build, oldest first."""
    from resotrack.consolidation.builds import BUILD_STATES, list_builds
    from resotrack.store import session_scope

    with session_scope() as session:
        rows: list[dict[str, Any]] = [
            {
                "id": b.id,
                "cycle": b.cycle_id,
                "version": b.version,
                "built_at": f"{b.built_at:%Y-%m-%d %H:%M}",
                "state": b.state,
                "rate": b.summary.get("response_rate"),
                "reviewer": b.reviewer,
                "comment": b.comment,
                "published": b.published_path,
            }
            for b in list_builds(session, cycle)
        ]
    w = terminal_words("cli")
    columns = [
        (w.p("column", "id"), 0),
        (w.p("column", "cycle"), 0),
        (w.p("column", "version"), 0),
        (w.p("column", "built (UTC)"), 1),
        (w.p("column", "state"), 0),
        (w.p("column", "rate"), 1),
        (w.p("column", "reviewer"), 2),
        (w.p("column", "comment"), 3),
    ]
    listing(
        rows,
        as_json=as_json,
        columns=columns,
        rows=lambda: [
            (
                str(r["id"]),
                str(r["cycle"]),
                f"v{r['version']}",
                r["built_at"],
                BUILD_STATES.name(w.language, r["state"]),
                "–" if r["rate"] is None else w.percent(r["rate"]),
                r["reviewer"] or "",
                r["comment"] or "",
            )
            for r in rows
        ],
        console=out,
    )


def _pending_run(build_id: int) -> tuple[str | None, str]:
    from resotrack.consolidation.builds import get_build
    from resotrack.store import session_scope

    with session_scope() as session:
        try:
            build = get_build(session, build_id)
        except LookupError as exc:
            raise _fail(str(exc)) from exc
        run = build.approval_run_id if build.state == "awaiting_approval" else None
        return run, build.state


def reports_approve(
    build: Annotated[int, typer.Argument(help="Report build id (see `reports list`).")],
    comment: CommentOption = None,
    reviewer: ReviewerOption = None,
    direct: Annotated[
        bool, typer.Option("--direct", help="Publish here even if an Airflow run is waiting.")
    ] = False,
    reviewed: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="The Word report you read: approved only if it is this build's, unchanged.",
        ),
    ] = None,
) -> None:
    """Approve a build: publish it and email the Secretariat."""
    import hashlib

    from resotrack.consolidation.publish import PublishError, publish_build, respond_in_airflow

    seen = None
    if reviewed is not None:
        try:
            seen = hashlib.sha256(reviewed.read_bytes()).hexdigest()
        except OSError as exc:
            raise _fail(f"{reviewed}: {exc.strerror or exc}") from exc
        _check_reviewed(build, seen)
    run, _state = _pending_run(build)
    if run and not direct:
        done, message = respond_in_airflow(run, approve=True, comment=comment)
        w = terminal_words("cli")
        if done:
            out.print(
                w("build {build}: approved; {note}", build=build, note=message), highlight=False
            )
            return
        _warn(w("{note}; publishing from here instead", note=message))
    try:
        result = publish_build(
            build, reviewer=_reviewer(reviewer), comment=comment, seen_sha256=seen
        )
    except PublishError as exc:
        raise _fail(str(exc)) from exc
    for warning in result.warnings:
        _warn(warning)
    _deliver()
    w = terminal_words("cli")
    said = w(
        "build {build}: published to {folder} (checksums: {file}, sha256 {sha256}…)",
        build=build,
        folder=result.folder,
        file=result.files[-1],
        sha256=result.checksum[:16],
    )
    out.print(said, highlight=False)


def _check_reviewed(build_id: int, seen: str) -> None:
    """Refuse before answering Airflow when the file read is not this build's latest report."""
    from resotrack.consolidation.builds import get_build, latest_build
    from resotrack.consolidation.publish import PublishError, drafts_of
    from resotrack.store import session_scope

    with session_scope() as session:
        try:
            build = get_build(session, build_id)
            newest = latest_build(session, build.cycle_id)
            if newest is not None and newest.id != build.id:
                raise PublishError(
                    f"build {build.id} is not the latest: v{newest.version} (build {newest.id}) "
                    "was built since; review and approve that one"
                )
            if seen not in drafts_of(build).values():
                raise PublishError(
                    f"the file reviewed is not a report of build {build.id}: it was changed or "
                    f"comes from another build; nothing was approved"
                )
        except (LookupError, PublishError) as exc:
            raise _fail(str(exc)) from exc


def edits_import(
    build: Annotated[int, typer.Argument(help="The build whose Word report was edited.")],
    file: Annotated[Path, typer.Argument(help="The edited Word report (.docx).")],
    editor: Annotated[
        str | None, typer.Option("--editor", help="Who edited it (default: your login name).")
    ] = None,
) -> None:
    """Keep staff's text from an edited Word report: the next build uses it."""
    from resotrack.consolidation.edits import EditError, import_edits

    w = terminal_words("cli")
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise _fail(f"{file}: {exc.strerror or exc}") from exc
    try:
        result = import_edits(build, data, actor=_reviewer(editor))
    except EditError as exc:
        raise _fail(w(exc.message, **exc.values)) from exc
    if not result.changed:
        out.print(w("Nothing changed: every passage is as resotrack already has it."))
        return
    if result.edited:
        out.print(
            w.n(
                "{n} passage kept as you wrote it: {keys}.",
                "{n} passages kept as you wrote them: {keys}.",
                len(result.edited),
                keys=", ".join(result.edited),
            ),
            highlight=False,
        )
    if result.restored:
        out.print(
            w.n(
                "{n} passage follows the generated text again: {keys}.",
                "{n} passages follow the generated text again: {keys}.",
                len(result.restored),
                keys=", ".join(result.restored),
            ),
            highlight=False,
        )
    out.print(w("The next build of cycle {cycle} uses them.", cycle=result.cycle_id))


def reports_reject(
    build: Annotated[int, typer.Argument(help="Report build id (see `reports list`).")],
    comment: Annotated[str, typer.Option("--comment", "-m", help="Why it is rejected.")],
    reviewer: ReviewerOption = None,
    direct: Annotated[
        bool, typer.Option("--direct", help="Decide here even if an Airflow run is waiting.")
    ] = False,
) -> None:
    """Reject a build: the comment is kept; nothing is published."""
    from resotrack.consolidation.publish import PublishError, reject_build, respond_in_airflow
    from resotrack.store import session_scope

    run, _state = _pending_run(build)
    if run and not direct:
        done, message = respond_in_airflow(run, approve=False, comment=comment)
        w = terminal_words("cli")
        if done:
            out.print(
                w("build {build}: rejected; {note}", build=build, note=message), highlight=False
            )
            return
        _warn(w("{note}; recording the rejection here instead", note=message))
    try:
        with session_scope() as session:
            reject_build(session, build, reviewer=_reviewer(reviewer), comment=comment)
    except PublishError as exc:
        raise _fail(str(exc)) from exc
    w = terminal_words("cli")
    out.print(w("build {build}: rejected; nothing was published", build=build), highlight=False)


def reports_submit(
    build: Annotated[int, typer.Argument(help="Report build id (see `reports list`).")],
) -> None:
    """Ask the Secretariat's approval in Airflow (starts a publish_report run)."""
    from resotrack.orchestration import trigger_dag

    w = terminal_words("cli")
    run = trigger_dag("publish_report", {"build_id": build})
    if run is None:
        raise _fail(w("Airflow did not start the run (see the log); approve from here instead"))
    said = w("build {build}: waiting for approval in Airflow run {run}", build=build, run=run)
    out.print(said, highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``consolidate``, ``review`` and ``reports`` to the main ``resotrack`` command."""
    app.command("consolidate")(consolidate)
    review_app = typer.Typer(help="Review validated returns.", no_args_is_help=True)
    review_app.command("accept")(review_accept)
    review_app.command("correct")(review_correct)
    app.add_typer(review_app, name="review")
    reports_app = typer.Typer(help="Report builds: list, approve, reject.", no_args_is_help=True)
    reports_app.command("list")(reports_list)
    reports_app.command("approve")(reports_approve)
    reports_app.command("reject")(reports_reject)
    reports_app.command("submit")(reports_submit)
    edits_app = typer.Typer(help="Staff's edits of the Word reports.", no_args_is_help=True)
    edits_app.command("import")(edits_import)
    reports_app.add_typer(edits_app, name="edits")
    app.add_typer(reports_app, name="reports")
