"""The DAG files import cleanly and cheaply, and ``register_resolution`` works under Airflow.

These run a real Airflow (subprocesses of the venv's interpreter, see ``airflow_env``): a DAG
that does not import, a task that fails, or an import that drags pandas into the DAG processor
fails here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from resotrack.orchestration import ASSET_URIS
from resotrack.resolutions.models import OperativeParagraph, Resolution, ResolutionVersion
from resotrack.settings import get_settings
from resotrack.store import session_scope
from support.airflow_env import DAGS_FOLDER, AirflowHome

pytestmark = pytest.mark.airflow

SEED_004 = (
    Path(__file__).resolve().parents[2].parent / "shared" / "seeds" / "004_7627369674135aea.txt"
)
SYMBOL_004 = "OIC/MCSD-2/2023/RES/FINAL"
PARAGRAPHS_004 = 137

HEAVY_MODULES = ("great_expectations", "pandas", "pandera", "openpyxl", "xlsxwriter")
DAG_FILES = sorted(DAGS_FOLDER.glob("*.py"))
PARSE_BUDGET_SECONDS = 3.0  # CPU beyond Airflow's own import; a thin DAG file takes ~0.1 s

# Runs in a clean interpreter: Airflow first (every DAG file pays that), then the DagBag
# parses the one file the way the DAG processor does; prints what it saw as JSON.
_PROBE = """
import json, sys, time
from airflow.dag_processing.dagbag import DagBag
started = time.process_time()  # CPU, not wall: a loaded machine must not fail the budget
bag = DagBag(dag_folder=sys.argv[1])
seconds = time.process_time() - started
heavy = sorted(m for m in sys.argv[2].split(",") if m in sys.modules)
print(json.dumps({"dags": sorted(bag.dag_ids), "errors": bag.import_errors,
                  "seconds": seconds, "heavy": heavy}))
"""


def test_dags_folder_is_not_empty() -> None:
    assert DAG_FILES, f"no DAG files found in {DAGS_FOLDER}"


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda path: path.name)
def test_dag_file_imports_fast_without_heavy_modules(dag_file: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env |= {"AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE, str(dag_file), ",".join(HEAVY_MODULES)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    seen = json.loads(probe.stdout.strip().splitlines()[-1])
    assert seen["errors"] == {}, f"{dag_file.name} does not import:\n{seen['errors']}"
    assert seen["dags"], f"{dag_file.name} defines no DAG"
    assert seen["heavy"] == [], f"{dag_file.name} imports {seen['heavy']} at parse time"
    assert seen["seconds"] < PARSE_BUDGET_SECONDS, f"{dag_file.name}: {seen['seconds']:.2f} s"


def _stored(url: str) -> list[tuple[int, int]]:
    """(version, operative paragraphs) of every stored version of seed 004's resolution."""
    with session_scope(url) as session:
        rows = session.execute(
            select(ResolutionVersion.version, func.count(OperativeParagraph.id))
            .join(Resolution, Resolution.id == ResolutionVersion.resolution_id)
            .outerjoin(OperativeParagraph, OperativeParagraph.version_id == ResolutionVersion.id)
            .where(Resolution.symbol == SYMBOL_004)
            .group_by(ResolutionVersion.version)
            .order_by(ResolutionVersion.version)
        ).all()
    return [(version, count) for version, count in rows]


# Under Airflow on one database, the DAG tests sharing them out (the stage's own tests
# run on both): each costs 25-35 s, and the suite must stay under 20 minutes on two cores.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_register_resolution_imports_a_dropped_file_once(
    db_url: str, airflow_home: AirflowHome
) -> None:
    if not SEED_004.is_file():
        pytest.fail(f"seed resolution 004 is missing: expected it at {SEED_004}")
    inbox = get_settings().resolutions_inbox
    inbox.mkdir(parents=True)
    shutil.copyfile(SEED_004, inbox / SEED_004.name)
    asset = ASSET_URIS["RESOLUTIONS"]
    events = airflow_home.asset_event_count(asset)

    airflow_home.dags_test("register_resolution")

    assert _stored(db_url) == [(1, PARAGRAPHS_004)]
    assert not (inbox / SEED_004.name).exists()
    assert (inbox / "done" / SEED_004.name).read_bytes() == SEED_004.read_bytes()
    assert not (inbox / "failed").exists()
    assert airflow_home.task_states("register_resolution", "import_inbox")[-1] == "success"
    assert airflow_home.asset_event_count(asset) == events + 1

    airflow_home.dags_test("register_resolution")  # nothing new: changes nothing, no event

    assert _stored(db_url) == [(1, PARAGRAPHS_004)]
    assert sorted(p.name for p in (inbox / "done").iterdir()) == [SEED_004.name]
    assert airflow_home.task_states("register_resolution", "import_inbox")[-1] == "skipped"
    assert airflow_home.asset_event_count(asset) == events + 1
