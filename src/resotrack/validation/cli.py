"""``resotrack returns check FILE [--json]``: validate a workbook without recording anything.

Runs read, identify (the signature and template version only: nobody uploaded it, so there
is no entity or cycle to match), the contract, and, when the application database knows the
workbook's cycle and questionnaire, the quality rules too (the paragraphs asked, the
questionnaire as sent, the adoption dates); without that database it checks the structure
only and says so. Exit status: 0 valid (warnings may be listed), 1 invalid (the report says
why), 2 unreadable or hostile.

Wiring: ``check_command`` is a Typer command function; the ``returns`` group of the main
CLI adds it with ``returns_app.command("check")(check_command)``. :func:`register` does the
same on a group of its own, for a CLI without intake's commands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from resotrack.catalog import Words

EXIT_VALID, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2


def _questionnaire(identity: Any) -> dict[str, Any] | None:
    """What the database knows of the workbook's questionnaire, or None (no DB, no cycle)."""
    from sqlalchemy import select

    from resotrack.questionnaires.models import Questionnaire
    from resotrack.store import session_scope
    from resotrack.validation.ingest import adoption_dates

    try:
        with session_scope() as session:
            row = session.scalar(
                select(Questionnaire).where(
                    Questionnaire.cycle_id == identity.cycle_id,
                    Questionnaire.entity_code == identity.entity_code,
                )
            )
            if row is None or row.id != identity.questionnaire_id:
                return None
            found: dict[str, Any] = {
                "sent": [(str(r["resolution"]), int(r["number"])) for r in row.rows],
                "sha256": row.workbook_sha256,
            }
        found["adopted"] = adoption_dates(identity.cycle_id)
        return found
    except Exception:  # no database, or not migrated: structural checks only
        return None


def check_file(data: bytes) -> dict[str, Any]:
    """The check's report: ``{"outcome", "problems", "summary", "exit_code"}``."""
    from resotrack import clock
    from resotrack.validation.report import outcome_of, sort_key
    from resotrack.validation.steps import check_structure, verification_keys

    known: dict[str, Any] = {}

    def resolve(identity: Any) -> Any:
        found = _questionnaire(identity)
        if found is not None:
            known.update(found)
            return found["sent"]
        return None

    result = check_structure(data, key=verification_keys(), resolve=resolve)
    problems = list(result.problems)
    contract = result.contract
    quality = "not run: " + (
        "the file is not readable"
        if result.unreadable
        else "the workbook is not identified or its structure is wrong"
        if contract is None or not contract.usable or result.identity is None
        else "no database knows this questionnaire (structural checks only)"
    )
    if known and contract is not None and contract.usable:
        from resotrack.validation.config import settings
        from resotrack.validation.ingest import sent_answers
        from resotrack.validation.quality import QualityInput, check_quality

        item = QualityInput(
            key=0,
            rows=contract.records(),
            sent=sent_answers(known.get("sha256"), settings()),
            adopted=known.get("adopted", {}),
        )
        problems += check_quality([item], today=clock.today(), name="cli-check")[0]
        quality = "run"
    problems.sort(key=sort_key)
    outcome = outcome_of(problems, unreadable=result.unreadable)
    code = (
        EXIT_UNREADABLE
        if result.unreadable
        else EXIT_INVALID
        if outcome == "refused"
        else EXIT_VALID
    )
    identity = result.identity
    return {
        "outcome": outcome,
        "problems": [p.as_dict() for p in problems],
        "summary": {
            "entity_code": identity.entity_code if identity else None,
            "cycle_id": identity.cycle_id if identity else None,
            "questionnaire_id": identity.questionnaire_id if identity else None,
            "template_version": identity.template_version if identity else None,
            "rows": len(contract.index) if contract is not None and contract.usable else 0,
            "quality": quality,
            "blockers": sum(p.severity == "blocker" for p in problems),
            "warnings": sum(p.severity == "warning" for p in problems),
        },
        "exit_code": code,
    }


def check_command(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, show_default=False)
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    language: Annotated[
        str | None,
        typer.Option(
            "--language", help="Language of the messages: ar, en or fr (default: the terminal's)."
        ),
    ] = None,
) -> None:
    """Check a returned workbook (nothing is recorded); exit 0 valid, 1 invalid, 2 unreadable."""
    from resotrack.validation.config import settings

    limit = settings().max_file_bytes
    with file.open("rb") as stream:
        data = stream.read(limit + 1)
    report = check_file(data)
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    else:
        from resotrack.catalog import Words, terminal_words
        from resotrack.catalog import language as language_of

        _print(
            report,
            terminal_words("cli") if language is None else Words(language_of(language), "cli"),
        )
    raise typer.Exit(report["exit_code"])


def _print(report: dict[str, Any], w: Words) -> None:
    from rich.console import Console
    from rich.table import Table

    from resotrack.validation.lifecycle import SUBMISSION_STATES

    out = Console()
    language = w.language
    summary = report["summary"]
    if summary["entity_code"]:
        who = w(
            "{entity}, cycle {cycle}, questionnaire {questionnaire}, template {template}",
            entity=summary["entity_code"],
            cycle=summary["cycle_id"],
            questionnaire=summary["questionnaire_id"],
            template=summary["template_version"],
        )
    else:
        who = w("not identified")
    quality = {
        "run": w.p("quality", "run"),
        "not run: the file is not readable": w.p("quality", "not run: the file is not readable"),
        "not run: the workbook is not identified or its structure is wrong": w.p(
            "quality", "not run: the workbook is not identified or its structure is wrong"
        ),
        "not run: no database knows this questionnaire (structural checks only)": w.p(
            "quality", "not run: no database knows this questionnaire (structural checks only)"
        ),
    }
    said = w(
        "[bold]{outcome}[/] ({who}); quality rules: {quality}",
        outcome=SUBMISSION_STATES.name(w.language, report["outcome"]),
        who=who,
        quality=quality.get(summary["quality"], summary["quality"]),
    )
    out.print(said)
    if not report["problems"]:
        out.print(w("no problem found"))
        return
    severities = {"blocker": w.p("severity", "blocker"), "warning": w.p("severity", "warning")}
    table = Table(
        w.p("column", "severity"),
        w.p("column", "row"),
        "§",
        w.p("column", "column"),
        w.p("column", "problem"),
        w.p("column", "fix"),
        show_lines=False,
    )
    for p in report["problems"]:
        table.add_row(
            severities.get(p["severity"], p["severity"]),
            str(p["row"] or ""),
            str(p["paragraph"] or ""),
            p["column"] or "",
            p["message"][language],
            p["fix"][language],
        )
    out.print(table)


def register(app: typer.Typer) -> None:
    """Add a ``returns`` group holding ``check`` to ``app`` (when intake's group is absent)."""
    returns = typer.Typer(help="Returned workbooks.", no_args_is_help=True)
    returns.command("check")(check_command)
    app.add_typer(returns, name="returns")


__all__ = ["check_command", "check_file", "register"]
