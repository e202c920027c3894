"""``make demo DEMO_ARGS="--session N"``: the demo on a generated session, without the demo.

The option's plumbing only (the whole story is tests/e2e/test_demo.py's, with the seeds): the
command line hands N to the story, the world step makes N synthetic resolutions from seed 000
and opens a cycle whose title says they are synthetic, and the summary says so too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from resotrack.demo import run, summary, world
from resotrack.demo.stack import DemoError
from resotrack.registry import sync_entities
from resotrack.resolutions.queries import get_resolution
from resotrack.resolutions.synthetic import AREAS
from resotrack.store import session_scope

SEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"


def test_the_world_of_a_session_is_synthetic_and_says_so(db_url: str, tmp_path: Path) -> None:
    with session_scope() as session:
        sync_entities(session)
    made = world.import_session(SEEDS, tmp_path / "session", 3)
    assert [r.symbol for r in made] == [f"{n}/49-{AREAS[n - 1]}" for n in (1, 2, 3)]
    assert all(r.created and r.paragraphs == 20 for r in made)
    with session_scope() as session:
        titles = [get_resolution(session, r.symbol).current.title or "" for r in made]
    assert all("SYNTHÉTIQUE" in title for title in titles), titles

    title = world.session_title(3)
    cycle = world.open_demo_cycle([r.symbol for r in made], title)
    assert "SYNTHETIC" in cycle.title and cycle.title == title and not cycle.reused
    assert cycle.questionnaires == 58  # the 57 member states and the General Secretariat
    again = world.open_demo_cycle([r.symbol for r in made], title)
    assert again.reused and again.id == cycle.id
    # the default demo's cycle is another one
    assert world.open_demo_cycle([made[0].symbol]).id != cycle.id


def test_a_session_needs_seed_000(tmp_path: Path) -> None:
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "other.txt").write_text("RESOLUTION N°9/99-XX\n- 1. Demande.\n")
    with pytest.raises(DemoError, match="1/49-IT"):
        world.import_session(tmp_path / "seeds", tmp_path / "session", 3)
    with pytest.raises(DemoError, match="1 to"):
        world.import_session(SEEDS, tmp_path / "session", 0)


def test_the_command_line_hands_the_size_to_the_story(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    told: dict[str, Any] = {}

    class Story:
        def __init__(self, layout: Any, **options: Any) -> None:
            told.update(options)

        def run(self, *, wait: bool) -> int:
            told["wait"] = wait
            return 0

    monkeypatch.setattr(run, "Story", Story)
    monkeypatch.setattr(run, "refusal", lambda layout: None)
    runner = CliRunner()
    home = ["--home", str(tmp_path / "var"), "--seeds", str(SEEDS)]
    result = runner.invoke(run.app, [*home, "--session", "40", "--no-wait"])
    assert result.exit_code == 0, result.output
    assert told == {"days": 45, "seed": 7, "session": 40, "wait": False}
    told.clear()
    assert runner.invoke(run.app, home).exit_code == 0
    assert told["session"] is None  # the default demo: the seed resolutions
    assert runner.invoke(run.app, [*home, "--session", "0"]).exit_code == 2


def test_the_summary_of_a_session_says_it_is_synthetic() -> None:
    resolutions = [
        {"symbol": f"{n}/49-POL", "version": 1, "paragraphs": 20, "created": True}
        for n in range(1, 41)
    ]
    facts: dict[str, Any] = {
        "synthetic": True,
        "resolutions": resolutions,
        "entities": {"member_states": 57, "institutions": 22},
        "focal_points": "158 added",
        "cycle": {
            "id": 1,
            "title": world.session_title(40),
            "deadline": "2030-01-31",
            "questionnaires": 58,
            "reused": False,
        },
        "simulation": {
            "days": 45,
            "focal_points": 58,
            "planned": {},
            "first_uploads": {},
            "corrections": 0,
            "problems": [],
        },
        "submissions": {},
        "entities_replied": 0,
        "mail": {"sent_by_kind": {}, "not_sent": 0, "in_maildir": 0},
        "report": {
            "version": 1,
            "build_id": 1,
            "headline": "0 %",
            "state": "awaiting_approval",
        },
        "airflow": {
            "ingest_runs": {},
            "uploads": 0,
            "metadata_database": "PostgreSQL",
            "postgres_data": "var/postgres",
            "parallelism": 4,
            "component_checks": 1,
        },
        "seconds_to_summary": 61.0,
    }
    console = Console(record=True, width=200)
    summary.show(console, facts, [])
    text = console.export_text()
    assert "SYNTHETIC session" in text.splitlines()[0]
    assert "40 SYNTHETIC resolutions, 1/49-POL … 40/49-POL, 800 operative paragraphs" in text
    assert "SYNTHETIC session of 40 resolutions" in text  # the cycle's title
