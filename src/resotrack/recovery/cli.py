"""``resotrack backup``, ``resotrack restore`` and ``resotrack verify``.

Wired into the main command with ``register(app)``. Exit codes: 0 all good; 1 refused or
failed, or problems found; 3 (restore only) the data was restored but ``verify`` found
problems in it, which staff must read before starting resotrack again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from resotrack.catalog import LOCALES, Words, terminal_words
from resotrack.terminal import LiveConsole

out = LiveConsole(highlight=False, soft_wrap=True)
err = LiveConsole(stderr=True, highlight=False, soft_wrap=True)
RESTORED_WITH_PROBLEMS = 3

JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _fail(message: str, as_json: bool) -> typer.Exit:
    if as_json:
        typer.echo(json.dumps({"ok": False, "error": message}, ensure_ascii=False, indent=2))
    else:
        said = terminal_words("cli")("error:")
        err.print(f"[bold red]{said}[/] {message}", markup=True)
    return typer.Exit(1)


def _print_json(value: dict[str, Any]) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _say(_phase: str, message: str) -> None:
    err.print(f"… {message}")


def _decimal(w: Words, value: float) -> str:
    """``value`` with one decimal, written the reader's way (1,234.5 or 1 234,5)."""
    from babel.numbers import format_decimal

    return str(format_decimal(value, format="#,##0.0", locale=LOCALES[w.language]))


def _mb(w: Words, size: int) -> str:
    return w("{size} MB", size=_decimal(w, size / 1024 / 1024))


def _counted(w: Words, submissions: int, answers: int) -> tuple[str, str]:
    """ "1 submission", "12 answers" … as the reader's language counts them."""
    return (
        w.n("{count} submission", "{count} submissions", submissions, count=w.number(submissions)),
        w.n("{count} answer", "{count} answers", answers, count=w.number(answers)),
    )


def backup_command(
    out_dir: Annotated[
        Path,
        typer.Option("--out", help="Folder for the generations (another disk or host)."),
    ],
    keep: Annotated[
        int | None,
        typer.Option("--keep", min=1, help="Keep only this many newest complete generations."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Write one consistent, timestamped backup of the database, blobs and reports."""
    from resotrack.recovery import RecoveryError
    from resotrack.recovery.backup import backup

    try:
        result = backup(out_dir, keep=keep, progress=None if as_json else _say)
    except RecoveryError as exc:
        raise _fail(str(exc), as_json) from exc
    if as_json:
        _print_json({"ok": not result.problems, **result.as_dict()})
    else:
        w = terminal_words("cli")
        m = result.manifest
        submissions, answers = _counted(w, m.tables.get("submission", 0), m.tables.get("answer", 0))
        unreferenced = m.blobs["unreferenced"]
        out.print(w("backup written: {folder}", folder=result.folder))
        out.print(
            w(
                "  database  {engine}, snapshot at {snapshot}, {submissions}, {answers}",
                engine=m.engine,
                snapshot=m.database.get("snapshot_at"),
                submissions=submissions,
                answers=answers,
            )
        )
        out.print(
            w.n(
                "  blobs     {files} ({size}), {count} not referenced by the snapshot (harmless)",
                "  blobs     {files} ({size}), {count} not referenced by the snapshot (harmless)",
                unreferenced,
                files=w.number(m.blobs["files"]),
                size=_mb(w, m.blobs["bytes"]),
                count=w.number(unreferenced),
            )
        )
        out.print(
            w(
                "  files     {files}, {size}, in {seconds} s",
                files=w.number(len(m.files)),
                size=_mb(w, m.total_bytes),
                seconds=_decimal(w, result.seconds),
            )
        )
        warning = w("warning:")
        for line in result.warnings:
            err.print(f"[yellow]{warning}[/] {line}", markup=True)
        for path in result.pruned:
            out.print(w("  removed old generation {name}", name=path.name))
        if result.problems:
            err.print(
                w(
                    "[bold red]the live system is damaged[/] (the backup is whole, but holds "
                    "what was there):"
                ),
                markup=True,
            )
            for line in result.problems:
                err.print(f"  - {line}")
    if result.problems:
        raise typer.Exit(1)


def restore_command(
    backup_dir: Annotated[
        Path, typer.Argument(help="One generation, e.g. /backups/resotrack-20261124T021500Z.")
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Replace the data already in the home and database.")
    ] = False,
    send_pending: Annotated[
        bool,
        typer.Option(
            "--send-pending",
            help="Leave emails that were pending at backup time pending (default: held as "
            "uncertain, since they may have gone out after the backup).",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Restore a backup into an empty home and database (RESOTRACK_HOME, RESOTRACK_DATABASE_URL)."""
    from resotrack.recovery import RecoveryError
    from resotrack.recovery.manifest import DamagedBackup
    from resotrack.recovery.restore import restore

    try:
        result = restore(
            backup_dir,
            force=force,
            hold_outbox=not send_pending,
            progress=None if as_json else _say,
        )
    except (DamagedBackup, RecoveryError) as exc:
        raise _fail(str(exc), as_json) from exc
    healthy = result.verify is not None and result.verify.ok
    if as_json:
        _print_json({"ok": healthy, **result.as_dict()})
    else:
        w = terminal_words("cli")
        m = result.manifest
        submissions, answers = _counted(w, m.tables.get("submission", 0), m.tables.get("answer", 0))
        blobs = m.blobs.get("files", 0)
        out.print(
            w(
                "restored {name} (snapshot {snapshot}) into",
                name=m.name,
                snapshot=m.database.get("snapshot_at"),
            )
        )
        out.print(w("  home      {home}", home=result.home))
        out.print(w("  database  {database}", database=result.database))
        out.print(
            w.n(
                "  {submissions}, {answers}, {count} blob, {size} in {seconds} s; every table "
                "holds the rows the backup recorded",
                "  {submissions}, {answers}, {count} blobs, {size} in {seconds} s; every table "
                "holds the rows the backup recorded",
                blobs,
                submissions=submissions,
                answers=answers,
                count=w.number(blobs),
                size=_mb(w, result.bytes),
                seconds=_decimal(w, result.seconds),
            )
        )
        for line in result.replaced:
            out.print(w("  replaced: {line}", line=line))
        warning = w("warning:")
        for line in result.warnings:
            err.print(f"[bold yellow]{warning}[/] {line}", markup=True)
        if result.verify is not None:
            out.print(result.verify.text(w))
        out.print(w("next steps:"))
        for i, step in enumerate(result.next_steps, 1):
            out.print(f"  {i}. {w.said(step)}")
    if result.verify is not None and not result.verify.ok:
        raise typer.Exit(RESTORED_WITH_PROBLEMS)


def verify_command(
    backup_dir: Annotated[
        Path | None,
        typer.Option(
            "--backup",
            help="Check a backup (one generation, or every one in a folder) instead of the "
            "live system.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check the live system (blobs, answers, outbox), or a backup against its manifest."""
    if backup_dir is not None:
        _verify_backups(backup_dir, as_json)
        return
    from resotrack.recovery.verify import verify_live

    report = verify_live()
    if as_json:
        _print_json(report.as_dict())
    else:
        out.print(
            report.text(terminal_words("cli"))
        )  # the report is the output, good or bad; the exit code says
    if not report.ok:
        raise typer.Exit(1)


def _verify_backups(folder: Path, as_json: bool) -> None:
    from resotrack.recovery.manifest import MANIFEST, list_generations, listing, verify_backup

    folder = folder.expanduser().resolve()
    if (folder / MANIFEST).exists() or not list_generations(folder):
        targets = [folder]
    else:
        targets = [g.path for g in list_generations(folder)]
    checks = [verify_backup(path) for path in targets]
    if as_json:
        _print_json({"ok": all(c.ok for c in checks), "backups": [c.as_dict() for c in checks]})
    else:
        w = terminal_words("cli")
        for c in checks:
            if c.ok:
                m = c.manifest
                assert m is not None
                files = len(m.files)
                said = w.n(
                    "OK      {folder}  ({count} file, {size})",
                    "OK      {folder}  ({count} files, {size})",
                    files,
                    folder=c.folder,
                    count=w.number(files),
                    size=_mb(w, m.total_bytes),
                )
                out.print(said)
                if m.problems:
                    said = w.n(
                        "        made while the live system had {n} problem",
                        "        made while the live system had {n} problems",
                        len(m.problems),
                    )
                    out.print(said)
            else:
                out.print(w("DAMAGED {folder}", folder=c.folder))
                out.print(listing(c.problems))
            for line in c.warnings[:5]:
                out.print(w("        warning: {line}", line=line))
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``backup``, ``restore`` and ``verify`` to the main ``resotrack`` command."""
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)
    app.command("verify")(verify_command)


__all__ = ["register"]
