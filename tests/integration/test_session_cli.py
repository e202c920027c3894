"""``resotrack cycles open --session``: every resolution of a session in one cycle, as staff
type it (README, "A session's worth")."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from conftest import SEED_000
from resotrack import clock
from resotrack.cli import app
from resotrack.questionnaires.models import Questionnaire, ReportingCycle
from resotrack.resolutions.synthetic import write_session
from resotrack.store import session_scope

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


def test_open_a_cycle_over_a_session(db_url: str, tmp_path: Path) -> None:
    assert run("init")[0] == 0
    for path in write_session(SEED_000, tmp_path / "session", 9, paragraphs=4):
        code, output = run("resolutions", "import", str(path))
        assert code == 0, output
    deadline = f"{clock.today() + timedelta(days=90):%Y-%m-%d}"
    code, output = run(
        "cycles", "open", "--session", "Quarante-neuvième session", "--deadline", deadline,
        "--entities", "SEN,EGY", "--require-complete", "--no-dispatch",
    )  # fmt: skip
    assert code == 0, output
    cycle_id = int(output.strip().splitlines()[-1])
    with session_scope() as session:
        cycle = session.get(ReportingCycle, cycle_id)
        assert cycle is not None and cycle.require_complete and cycle.title.startswith("Quarante")
        rows = session.scalars(
            select(Questionnaire.rows).where(
                Questionnaire.cycle_id == cycle_id, Questionnaire.entity_code == "SEN"
            )
        ).one()
    order = list(dict.fromkeys(r["resolution"] for r in rows))
    # area by area in the CFM's order (political first), by number within an area
    assert order == [
        "1/49-POL", "9/49-POL", "2/49-LEG", "3/49-E", "4/49-C", "5/49-ICHAD", "6/49-ST",
        "7/49-INF", "8/49-AF",
    ]  # fmt: skip
    code, output = run(
        "cycles", "open", "--session", "cinquantième session", "--deadline", deadline,
        "--no-dispatch",
    )  # fmt: skip
    assert code == 1 and "no resolution was adopted at the session" in output
    assert "quarante-neuvième session" in output
