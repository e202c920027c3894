"""Tables fit the terminal (columns chosen by width, long cells folded) and lists speak JSON."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from resotrack.cli import app
from resotrack.terminal import fitted, listing

runner = CliRunner()


def render(table: object, width: int) -> list[str]:
    out = io.StringIO()
    console = Console(file=out, width=width)
    console.print(table)
    return out.getvalue().splitlines()


def test_low_priority_columns_go_first_and_nothing_is_cut() -> None:
    rows = [("SESRIC", "Statistical, Economic and Social Research and Training Centre", "en", "3")]
    columns = [("code", 0), ("name", 0), ("lang", 2), ("people", 1)]
    wide = render(fitted(columns, rows, width=120), 120)
    assert "lang" in wide[1] and "people" in wide[1]
    narrow = render(fitted(columns, rows, width=40), 40)
    assert "lang" not in narrow[1] and "people" not in narrow[1] and "code" in narrow[1]
    assert all(len(line) <= 40 for line in narrow)
    text = "".join(line.strip("│ ") for line in narrow)
    assert "…" not in text and "Training" in text  # folded onto more lines, not cut


def test_entities_list_fits_80_columns_and_has_json(db_url: str) -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    shown = runner.invoke(app, ["entities", "list"], env={"COLUMNS": "80"})
    assert shown.exit_code == 0
    lines = shown.output.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert "…" not in shown.output
    assert "Senegal" in shown.output and "SESRIC" in shown.output  # every kind
    listed = runner.invoke(app, ["entities", "list", "--kind", "member_state", "--json"])
    entities = json.loads(listed.output)
    assert len(entities) == 57
    assert {"code": "SEN", "language": "fr"}.items() <= entities[
        [e["code"] for e in entities].index("SEN")
    ].items()


def test_every_list_and_show_command_takes_json() -> None:
    import typer.main

    def walk(command: Any, path: tuple[str, ...]) -> list[tuple[str, ...]]:
        if hasattr(command, "commands"):  # a group
            return [
                found
                for name, sub in command.commands.items()
                for found in walk(sub, (*path, name))
            ]
        return [path] if path[-1] in ("list", "show") else []

    root = typer.main.get_command(app)
    commands = walk(root, ())
    assert ("entities", "list") in commands and ("cycles", "show") in commands
    lacking = []
    for path in commands:
        command: Any = root
        for name in path:
            command = command.commands[name]
        if not any("--json" in p.opts for p in command.params):
            lacking.append(" ".join(path))
    assert not lacking, f"no --json on: {lacking}"


def test_listing_prints_json_alone_or_a_table_between_its_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows_asked: list[bool] = []

    def rows() -> list[tuple[str, str]]:
        rows_asked.append(True)
        return [("SEN", "Senegal")]

    columns = [("code", 0), ("name", 0)]
    listing([{"code": "SEN"}], as_json=True, columns=columns, rows=rows, before=["head"])
    assert json.loads(capsys.readouterr().out) == [{"code": "SEN"}] and not rows_asked
    out = io.StringIO()
    console = Console(file=out, width=80)
    listing(
        [{"code": "SEN"}],
        as_json=False,
        columns=columns,
        rows=rows,
        console=console,
        before=["[bold]head[/]"],
        after=["1 entity"],
    )
    lines = out.getvalue().splitlines()
    assert lines[0] == "head" and lines[-1] == "1 entity" and "Senegal" in out.getvalue()


def test_list_and_show_commands_print_through_one_helper() -> None:
    """No command module prints a table or JSON by its own means (``terminal.listing``)."""
    import inspect

    from resotrack import cli as main_cli
    from resotrack.consolidation import cli as consolidation_cli
    from resotrack.intake import cli as intake_cli

    for module in (main_cli, intake_cli, consolidation_cli):
        source = inspect.getsource(module)
        assert "emit_json(" not in source and "print_json(" not in source, module.__name__
        assert "listing(" in source, module.__name__
