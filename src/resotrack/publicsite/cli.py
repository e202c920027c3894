"""``resotrack site build|consent``: the public site and who agreed to publish narratives."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from resotrack.catalog import terminal_words
from resotrack.terminal import LiveConsole

out = LiveConsole()
err = LiveConsole(stderr=True)


def _fail(exc: Exception) -> typer.Exit:
    w = terminal_words("cli")
    said = w("error:")
    err.print(f"[bold red]{said}[/] {exc}", markup=True, highlight=False, soft_wrap=True)
    return typer.Exit(1)


def build(
    folder: Annotated[
        Path, typer.Option("--out", help="Folder to write the site to (replaced whole).")
    ],
) -> None:
    """Write the public site from approved report builds only (Arabic, French, English)."""
    from resotrack.publicsite.site import build_site
    from resotrack.store import session_scope

    try:
        with session_scope() as session:
            result = build_site(session, folder)
    except (ValueError, LookupError, OSError) as exc:
        raise _fail(exc) from exc
    w = terminal_words("cli")
    pages = w.n("{count} page", "{count} pages", result.pages, count=w.number(result.pages))
    builds = len(result.builds)
    said = w.n(
        "public site written to {folder}: {pages} from {count} approved report build",
        "public site written to {folder}: {pages} from {count} approved report builds",
        builds,
        folder=result.folder,
        pages=pages,
        count=w.number(builds),
    )
    out.print(said, highlight=False)


def consent(
    entity: Annotated[str, typer.Argument(help="Entity code, e.g. SEN.")],
    narratives: Annotated[
        bool,
        typer.Option(
            "--narratives/--statuses-only",
            help="Publish its measures and evidence too, or its statuses only (the default).",
        ),
    ],
    by: Annotated[str | None, typer.Option("--by", help="Who records it.")] = None,
) -> None:
    """Record whether the public site may show an entity's narratives."""
    from resotrack.publicsite.site import set_consent
    from resotrack.store import session_scope

    try:
        with session_scope() as session:
            set_consent(session, entity, narratives=narratives, actor=by or getpass.getuser())
    except (ValueError, LookupError) as exc:
        raise _fail(exc) from exc
    w = terminal_words("cli")
    if narratives:
        said = w(
            "{entity}: the public site shows its statuses, measures and evidence",
            entity=entity.upper(),
        )
    else:
        said = w("{entity}: the public site shows its statuses only", entity=entity.upper())
    out.print(said)


def register(app: typer.Typer) -> None:
    site_app = typer.Typer(help="The public read-only site.", no_args_is_help=True)
    site_app.command("build")(build)
    site_app.command("consent")(consent)
    app.add_typer(site_app, name="site")
