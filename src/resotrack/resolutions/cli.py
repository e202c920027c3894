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
from rich.table import Table

from resotrack.catalog import terminal_words
from resotrack.terminal import LiveConsole

out = LiveConsole()
err = LiveConsole(stderr=True)

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
        _error(exc)
        raise typer.Exit(1) from exc


def _error(problem: object) -> None:
    w = terminal_words("cli")
    said = w("error:")
    err.print(f"[bold red]{said}[/] {problem}", markup=True, highlight=False, soft_wrap=True)


def _bad_language(language: str) -> typer.Exit:
    w = terminal_words("cli")
    _error(w("--language {value}: use ar, en or fr", value=repr(language)))
    return typer.Exit(1)


def lineage(symbol: str, as_json: JsonOption = False) -> None:
    """Per paragraph of SYMBOL: the earlier paragraph it renews (symbol, paragraph, score)."""
    from resotrack.resolutions.lineage import LINEAGE_STATES, lineage_of

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
    w = terminal_words("cli")
    table = Table("§", w.p("column", "predecessor"), w.p("column", "score"), w.p("column", "state"))
    for m in matches:
        link = m.predecessor or m.proposed
        table.add_row(
            str(m.paragraph),
            f"{link['symbol']} §{link['paragraph']}" if link else "",
            f"{link['score']:.1f}" if link else "",
            LINEAGE_STATES.name(w.language, m.state),
        )
    out.print(table)
    review = sum(m.state == "review" for m in matches)
    if review:
        said = w.n(
            "{n} proposed link to review: `resotrack resolutions lineage-confirm|lineage-reject "
            "{symbol} PARAGRAPH`",
            "{n} proposed links to review: `resotrack resolutions lineage-confirm|lineage-reject "
            "{symbol} PARAGRAPH`",
            review,
            symbol=symbol,
        )
        out.print(said, highlight=False)


def _decide(symbol: str, paragraph: int, *, confirm: bool, reviewer: str | None) -> None:
    from resotrack.resolutions.lineage import decide

    match = _run(
        lambda s: decide(s, symbol, paragraph, confirm=confirm, actor=reviewer or getpass.getuser())
    )
    link = match.predecessor or match.proposed
    w = terminal_words("cli")
    said = {
        "symbol": symbol,
        "paragraph": paragraph,
        "predecessor": f"{link['symbol']} §{link['paragraph']}",
    }
    if confirm:
        line = w("{symbol} §{paragraph}: confirmed {predecessor} as its predecessor", **said)
    else:
        line = w("{symbol} §{paragraph}: rejected {predecessor} as its predecessor", **said)
    out.print(line, highlight=False)


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
    w = terminal_words("cli")
    said = w.n(
        "lineage worked out again: {n} paragraph linked",
        "lineage worked out again: {n} paragraphs linked",
        linked,
    )
    out.print(said, highlight=False)


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
        raise _bad_language(language)
    rows = _run(lambda s: themes_of(s, symbol, language))
    if as_json:
        typer.echo(json.dumps({"symbol": symbol, "paragraphs": rows}, ensure_ascii=False, indent=2))
        return
    marks = {"proposed": "?", "confirmed": "", "rejected": "✗"}
    w = terminal_words("cli")
    table = Table("§", w.p("column", "subjects"), w.p("column", "goals"))
    for row in rows:
        cells = {
            kind: ", ".join(
                f"{t['name']}{marks[t['state']]}" for t in row["themes"] if t["kind"] == kind
            )
            for kind in ("subject", "sdg")
        }
        table.add_row(str(row["paragraph"]), cells["subject"], cells["sdg"])
    out.print(table)
    out.print(w("? proposed by the keyword lexicons, to review; ✗ rejected by staff"))


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
        w = terminal_words("cli")
        said = {"symbol": symbol, "paragraph": paragraph, "code": code}
        lines = {
            "confirm": w("{symbol} §{paragraph}: theme {code} confirmed", **said),
            "reject": w("{symbol} §{paragraph}: theme {code} rejected", **said),
            "add": w("{symbol} §{paragraph}: theme {code} added", **said),
        }
        out.print(lines[decision], highlight=False)

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
    w = terminal_words("cli")
    said = w.n(
        "themes tagged again: {n} proposed tag added or withdrawn",
        "themes tagged again: {n} proposed tags added or withdrawn",
        changed,
    )
    out.print(said, highlight=False)


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
    from resotrack.resolutions.lineage import FLOOR, LINEAGE_STATES, REVIEW_THRESHOLD
    from resotrack.resolutions.review import lineage_queue

    items = _run(lambda s: lineage_queue(s, decided=decided))
    if as_json:
        body = {"band": [FLOOR, REVIEW_THRESHOLD], "matches": [i.as_dict() for i in items]}
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    w = terminal_words("cli")
    table = Table(
        w.p("column", "paragraph"),
        w.p("column", "text"),
        w.p("column", "proposed predecessor"),
        w.p("column", "its text"),
        w.p("column", "score"),
        w.p("column", "state"),
    )
    for i in items:
        table.add_row(
            f"{i.symbol} §{i.paragraph}",
            _short(i.text),
            f"{i.predecessor_symbol} §{i.predecessor_paragraph}",
            _short(i.predecessor_text),
            "" if i.score is None else f"{i.score:.1f}",
            LINEAGE_STATES.name(w.language, i.state),
        )
    out.print(table)
    pending = sum(i.state == "review" for i in items)
    said = w.n(
        "{n} match to review: `resotrack resolutions lineage-confirm|lineage-reject SYMBOL "
        "PARAGRAPH`",
        "{n} matches to review: `resotrack resolutions lineage-confirm|lineage-reject SYMBOL "
        "PARAGRAPH`",
        pending,
    )
    out.print(said, highlight=False)


def themes_review(
    as_json: JsonOption = False, decided: DecidedOption = False, language: LanguageOption = "en"
) -> None:
    """Themes the keyword lexicons proposed and nobody decided yet, paragraph by paragraph."""
    from resotrack.resolutions.review import theme_queue
    from resotrack.resolutions.themes import THEME_STATES

    if language not in ("ar", "en", "fr"):
        raise _bad_language(language)
    items = _run(lambda s: theme_queue(s, language, decided=decided))
    if as_json:
        body = {"themes": [i.as_dict() for i in items]}
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    w = terminal_words("cli")
    table = Table(
        w.p("column", "paragraph"),
        w.p("column", "text"),
        w.p("column", "theme"),
        w.p("column", "code"),
        w.p("column", "found by"),
        w.p("column", "state"),
    )
    for i in items:
        table.add_row(
            f"{i.symbol} §{i.paragraph}",
            _short(i.text),
            i.name,
            i.code,
            ", ".join(i.evidence),
            THEME_STATES.name(w.language, i.state),
        )
    out.print(table)
    pending = sum(i.state == "proposed" for i in items)
    said = w.n(
        "{n} theme to review: `resotrack resolutions theme-confirm|theme-reject SYMBOL "
        "PARAGRAPH CODE`",
        "{n} themes to review: `resotrack resolutions theme-confirm|theme-reject SYMBOL "
        "PARAGRAPH CODE`",
        pending,
    )
    out.print(said, highlight=False)


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
