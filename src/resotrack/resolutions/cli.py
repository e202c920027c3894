"""``resotrack resolutions lineage|lineage-review|lineage-confirm|lineage-reject|relink|themes|
themes-review|theme-…``.

Wired into the ``resolutions`` group with ``register(resolutions_app)``; imports only typer and
rich at module level, the work happens in :mod:`resotrack.resolutions.lineage` and
:mod:`resotrack.resolutions.themes`.
"""

from __future__ import annotations

import getpass
import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

out = Console()
err = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ActorOption = Annotated[
    str | None, typer.Option("--reviewer", help="Who decides (default: your login name).")
]


def _run(work: Any) -> Any:
    from resotrack.store import session_scope

    try:
        with session_scope() as session:
            return work(session)
    except (ValueError, LookupError) as exc:
        err.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc


def lineage(symbol: str, as_json: JsonOption = False) -> None:
    """Per paragraph of SYMBOL: the earlier paragraph it renews (symbol, paragraph, score)."""
    from resotrack.resolutions.lineage import lineage_of

    matches = _run(lambda s: lineage_of(s, symbol))
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "symbol": symbol,
                    "paragraphs": [m.as_dict() for m in matches],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    table = Table("§", "predecessor", "score", "state")
    for m in matches:
        link = m.predecessor or m.proposed
        table.add_row(
            str(m.paragraph),
            f"{link['symbol']} §{link['paragraph']}" if link else "",
            f"{link['score']:.1f}" if link else "",
            {
                "linked": "linked",
                "confirmed": "confirmed by staff",
                "review": "to review",
                "rejected": "rejected by staff",
                "new": "new",
            }[m.state],
        )
    out.print(table)
    review = sum(m.state == "review" for m in matches)
    if review:
        out.print(
            f"{review} proposed link(s) to review: "
            f"`resotrack resolutions lineage-confirm|lineage-reject {symbol} PARAGRAPH`"
        )


def _decide(symbol: str, paragraph: int, *, confirm: bool, reviewer: str | None) -> None:
    from resotrack.resolutions.lineage import decide

    match = _run(
        lambda s: decide(s, symbol, paragraph, confirm=confirm, actor=reviewer or getpass.getuser())
    )
    link = match.predecessor or match.proposed
    verb = "confirmed" if confirm else "rejected"
    out.print(
        f"{symbol} §{paragraph}: {verb} {link['symbol']} §{link['paragraph']} as its predecessor"
    )


def lineage_confirm(symbol: str, paragraph: int, reviewer: ActorOption = None) -> None:
    """Confirm the proposed predecessor of PARAGRAPH of SYMBOL."""
    _decide(symbol, paragraph, confirm=True, reviewer=reviewer)


def lineage_reject(symbol: str, paragraph: int, reviewer: ActorOption = None) -> None:
    """Reject the proposed predecessor of PARAGRAPH of SYMBOL: it is a new paragraph."""
    _decide(symbol, paragraph, confirm=False, reviewer=reviewer)


def relink(
    symbols: Annotated[
        list[str] | None, typer.Argument(help="Resolutions to relink (default: all).")
    ] = None,
) -> None:
    """Work lineage out again (after importing an older resolution); staff decisions stay."""
    from resotrack.resolutions.lineage import link_all

    linked = _run(lambda s: link_all(s, symbols or None))
    out.print(f"lineage worked out again: {linked} paragraph(s) linked")


def themes(
    symbol: str,
    as_json: JsonOption = False,
    language: Annotated[
        str, typer.Option("--language", help="Language of the theme names: ar, en or fr.")
    ] = "en",
) -> None:
    """Per paragraph of SYMBOL: its subjects and Sustainable Development Goals."""
    from resotrack.resolutions.themes import themes_of

    if language not in ("ar", "en", "fr"):
        err.print(f"[bold red]error:[/] --language is ar, en or fr, not {language!r}")
        raise typer.Exit(1)
    rows = _run(lambda s: themes_of(s, symbol, language))
    if as_json:
        typer.echo(json.dumps({"symbol": symbol, "paragraphs": rows}, ensure_ascii=False, indent=2))
        return
    marks = {"proposed": "?", "confirmed": "", "rejected": "✗"}
    table = Table("§", "subjects", "goals")
    for row in rows:
        cells = {
            kind: ", ".join(
                f"{t['name']}{marks[t['state']]}" for t in row["themes"] if t["kind"] == kind
            )
            for kind in ("subject", "sdg")
        }
        table.add_row(str(row["paragraph"]), cells["subject"], cells["sdg"])
    out.print(table)
    out.print("? proposed by the keyword lexicons, to review; ✗ rejected by staff")


def _theme_decision(decision: str) -> Any:
    def command(symbol: str, paragraph: int, code: str, reviewer: ActorOption = None) -> None:
        from resotrack.resolutions.themes import decide

        _run(
            lambda s: decide(
                s,
                symbol,
                paragraph,
                code,
                decision=decision,
                actor=reviewer or getpass.getuser(),
            )
        )
        done = {"confirm": "confirmed", "reject": "rejected", "add": "added"}[decision]
        out.print(f"{symbol} §{paragraph}: theme {code} {done}")

    command.__doc__ = {
        "confirm": "Confirm the theme CODE proposed for PARAGRAPH of SYMBOL.",
        "reject": "Reject the theme CODE proposed for PARAGRAPH of SYMBOL.",
        "add": "Tag PARAGRAPH of SYMBOL with the theme CODE the lexicons missed.",
    }[decision]
    return command


def retag(
    symbols: Annotated[
        list[str] | None, typer.Argument(help="Resolutions to retag (default: all).")
    ] = None,
) -> None:
    """Tag themes again after the keyword lexicons changed; staff decisions stay."""
    from resotrack.resolutions.themes import retag as run_retag

    changed = _run(lambda s: run_retag(s, symbols or None))
    out.print(f"themes tagged again: {changed} proposed tag(s) added or withdrawn")


DecidedOption = Annotated[
    bool, typer.Option("--decided", help="Also list what staff already confirmed or rejected.")
]
LanguageOption = Annotated[
    str, typer.Option("--language", help="Language of the theme names: ar, en or fr.")
]


def _short(text: str, width: int = 70) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def lineage_review(as_json: JsonOption = False, decided: DecidedOption = False) -> None:
    """Lineage matches to review (score in the review band), lowest score first."""
    from resotrack.resolutions.lineage import FLOOR, REVIEW_THRESHOLD
    from resotrack.resolutions.review import lineage_queue

    items = _run(lambda s: lineage_queue(s, decided=decided))
    if as_json:
        body = {"band": [FLOOR, REVIEW_THRESHOLD], "matches": [i.as_dict() for i in items]}
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    table = Table("paragraph", "text", "proposed predecessor", "its text", "score", "state")
    for i in items:
        table.add_row(
            f"{i.symbol} §{i.paragraph}",
            _short(i.text),
            f"{i.predecessor_symbol} §{i.predecessor_paragraph}",
            _short(i.predecessor_text),
            "" if i.score is None else f"{i.score:.1f}",
            i.state,
        )
    out.print(table)
    pending = sum(i.state == "review" for i in items)
    out.print(
        f"{pending} match(es) to review: "
        "`resotrack resolutions lineage-confirm|lineage-reject SYMBOL PARAGRAPH`",
        highlight=False,
    )


def themes_review(
    as_json: JsonOption = False, decided: DecidedOption = False, language: LanguageOption = "en"
) -> None:
    """Themes the keyword lexicons proposed and nobody decided yet, paragraph by paragraph."""
    from resotrack.resolutions.review import theme_queue

    if language not in ("ar", "en", "fr"):
        err.print(f"[bold red]error:[/] --language is ar, en or fr, not {language!r}")
        raise typer.Exit(1)
    items = _run(lambda s: theme_queue(s, language, decided=decided))
    if as_json:
        body = {"themes": [i.as_dict() for i in items]}
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    table = Table("paragraph", "text", "theme", "code", "found by", "state")
    for i in items:
        table.add_row(
            f"{i.symbol} §{i.paragraph}",
            _short(i.text),
            i.name,
            i.code,
            ", ".join(i.evidence),
            i.state,
        )
    out.print(table)
    pending = sum(i.state == "proposed" for i in items)
    out.print(
        f"{pending} theme(s) to review: "
        "`resotrack resolutions theme-confirm|theme-reject SYMBOL PARAGRAPH CODE`",
        highlight=False,
    )


def register(resolutions_app: typer.Typer) -> None:
    """Add the lineage and theme commands to ``resotrack resolutions``."""
    resolutions_app.command("lineage")(lineage)
    resolutions_app.command("lineage-review")(lineage_review)
    resolutions_app.command("lineage-confirm")(lineage_confirm)
    resolutions_app.command("lineage-reject")(lineage_reject)
    resolutions_app.command("relink")(relink)
    resolutions_app.command("themes")(themes)
    resolutions_app.command("themes-review")(themes_review)
    for decision in ("confirm", "reject", "add"):
        resolutions_app.command(f"theme-{decision}")(_theme_decision(decision))
    resolutions_app.command("retag")(retag)
