"""The portal's quick check and the ``returns check`` command."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from resotrack.settings import get_settings
from resotrack.validation import quick_check, warm_up
from resotrack.validation.cli import register
from return_fixtures import KEY, World, case, filled, make_world, with_openpyxl


@pytest.fixture
def world(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("RESOTRACK_SECRET_KEY", KEY)
    get_settings.cache_clear()
    return make_world(tmp_path)


def test_quick_check_says_at_once_what_is_structurally_wrong(world: World) -> None:
    warm_up()
    good = filled(world)
    report = quick_check(good, expected_entity="SEN", expected_cycle=world.cycle_id)
    assert report.ok and report.problems == [] and report.rows > 100
    assert report.entity_code == "SEN" and report.language == "fr"

    renamed = with_openpyxl(
        good, lambda b: setattr(b["Return"].cell(row=1, column=7), "value", "Mesures")
    )
    report = quick_check(renamed, expected_entity="SEN", expected_cycle=world.cycle_id)
    assert report.outcome == "invalid"
    assert [p["rule"] for p in report.problems] == ["contract.column_renamed"]
    assert "devrait s'intituler « Mesures prises »" in report.messages("fr")[0]

    other = quick_check(filled(world, "MLI"), expected_entity="SEN", expected_cycle=world.cycle_id)
    assert [p["rule"] for p in other.problems] == ["identify.wrong_entity"]
    hostile = quick_check(
        case("xml_entity_expansion").build(world), expected_entity="SEN", expected_cycle=None
    )
    assert hostile.outcome == "unreadable"


def test_quick_check_is_fast_once_warm(world: World) -> None:
    warm_up()
    data = filled(world, "PAK")  # Pakistan: the full 137 paragraphs
    timings = []
    for _ in range(10):
        started = time.perf_counter()
        report = quick_check(data, expected_entity="PAK", expected_cycle=world.cycle_id)
        timings.append(time.perf_counter() - started)
    assert report.ok and report.rows == 137
    timings.sort()
    print(
        f"quick_check 137 rows: median {timings[5] * 1000:.1f} ms, max {timings[-1] * 1000:.1f} ms"
    )
    assert timings[5] < 0.3


def _cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """The resotrack CLI, for the test."""

    register(app)
    return app


def test_returns_check_exit_codes_and_json(world: World, tmp_path: Path) -> None:
    runner = CliRunner()
    good, bad, hostile = tmp_path / "good.xlsx", tmp_path / "bad.xlsx", tmp_path / "hostile.xlsx"
    good.write_bytes(filled(world))
    bad.write_bytes(filled(world, per_row=lambda r: {"measures": None}))
    hostile.write_bytes(case("zip_bomb_ratio").build(world))

    result = runner.invoke(_cli(), ["returns", "check", str(good), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["outcome"] == "accepted" and report["summary"]["quality"] == "run"

    result = runner.invoke(_cli(), ["returns", "check", str(bad), "--json"])
    assert result.exit_code == 1
    rules = {p["rule"] for p in json.loads(result.output)["problems"]}
    assert rules == {"quality.measures_required"}

    result = runner.invoke(_cli(), ["returns", "check", str(hostile)])
    assert result.exit_code == 2
    assert "unreadable" in result.output


def test_returns_check_without_a_database_checks_the_structure_only(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = filled(world, per_row=lambda r: {"measures": None})  # a quality problem only
    monkeypatch.setenv("RESOTRACK_DATABASE_URL", f"sqlite:///{tmp_path / 'empty' / 'none.db'}")
    get_settings.cache_clear()
    path = tmp_path / "r.xlsx"
    path.write_bytes(data)
    result = CliRunner().invoke(_cli(), ["returns", "check", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["summary"]["quality"].startswith("not run: no database")
    assert report["summary"]["entity_code"] == "SEN"
