"""Run DAGs under a real Airflow in tests (a helper module, not a test module).

``airflow db migrate`` takes tens of seconds of CPU, so each pytest process (each xdist worker)
makes one Airflow home and keeps it, and the migration itself runs once per run: the first
worker migrates, the others copy its metadata database. Tests ask for the home as
``airflow_home`` (the fixture is imported once into ``tests/conftest.py``).

Airflow runs as subprocesses of the venv's interpreter (``python -m airflow``), never inside the
pytest process: importing Airflow reads its configuration once, at import, and would tie every
later test to the first home it saw. The Airflow metadata DB is SQLite in the home; the
application database comes from the environment (``RESOTRACK_*``, set by the ``db_url`` fixture)
at each call, so one Airflow home serves tests on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO / "dags"


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class AirflowHome:
    """A migrated Airflow home whose DAGs folder is the repository's ``dags/``."""

    home: Path
    timings: dict[str, list[float]] = field(default_factory=dict)

    @property
    def metadata_db(self) -> Path:
        return self.home / "airflow.db"

    def config(self) -> dict[str, str]:
        """The ``AIRFLOW_HOME`` and ``AIRFLOW__*`` variables every command here runs with."""
        return {
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(self.home / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.metadata_db}",
        }

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """This process's environment without the caller's own Airflow settings, plus ours."""
        base = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        return {**base, **self.config(), **(extra or {})}

    def run(
        self,
        *args: str,
        extra_env: Mapping[str, str] | None = None,
        timeout: float = 300,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``airflow ARGS``; with ``check``, a failure raises with the output's tail."""
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            env=self.env(extra_env),
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        self.timings.setdefault(" ".join(args[:2]), []).append(time.perf_counter() - started)
        if check and result.returncode != 0:
            raise AssertionError(
                f"`airflow {' '.join(args)}` exited {result.returncode}\n"
                f"--- stdout (tail)\n{_tail(result.stdout)}\n"
                f"--- stderr (tail)\n{_tail(result.stderr)}"
            )
        return result

    def dags_test(
        self, dag_id: str, conf: Mapping[str, Any] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """One in-process DAG run (``airflow dags test``); exits non-zero if the run failed."""
        args = ["dags", "test", dag_id]
        if conf:
            args += ["--conf", json.dumps(dict(conf))]
        return self.run(*args)

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Read Airflow's metadata DB, to check what a run recorded (task states, events)."""
        with sqlite3.connect(self.metadata_db) as conn:
            return list(conn.execute(sql, params))

    def task_states(self, dag_id: str, task_id: str) -> list[str | None]:
        """States of ``task_id`` in every run of ``dag_id``, oldest run first."""
        rows = self.query(
            "SELECT ti.state FROM dag_run dr JOIN task_instance ti"
            " ON ti.dag_id = dr.dag_id AND ti.run_id = dr.run_id"
            " WHERE dr.dag_id = ? AND ti.task_id = ? ORDER BY dr.id",
            (dag_id, task_id),
        )
        return [row[0] for row in rows]

    def asset_event_count(self, asset_name: str) -> int:
        """How many events the asset named ``asset_name`` has received."""
        rows = self.query(
            "SELECT count(*) FROM asset_event e JOIN asset a ON a.id = e.asset_id WHERE a.name = ?",
            (asset_name,),
        )
        return int(rows[0][0])


_HOMES: dict[Path, AirflowHome] = {}


def make_airflow_home(home: Path, migrated: Path | None = None) -> AirflowHome:
    """Create and migrate an Airflow home in ``home`` (once per path and process).

    With ``migrated`` (the metadata database of a home migrated before, by this or another
    pytest worker), ``home`` starts from a copy of it instead of migrating again."""
    if home in _HOMES:
        return _HOMES[home]
    home.mkdir(parents=True, exist_ok=True)
    (home / "plugins").mkdir(exist_ok=True)
    airflow = AirflowHome(home)
    if migrated is not None:
        shutil.copyfile(migrated, airflow.metadata_db)
    else:
        airflow.run("db", "migrate", timeout=600)
    _HOMES[home] = airflow
    return airflow


def _migrated_once(shared: Path) -> Path:
    """The metadata database of one home migrated for every worker of this run (in
    ``shared``, which all workers see); the first worker to come migrates, the others wait on
    the lock and copy it: ``airflow db migrate`` costs each worker tens of seconds of CPU."""
    shared.mkdir(parents=True, exist_ok=True)
    with open(shared / "migrate.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        template = make_airflow_home(shared / "home")
    return template.metadata_db


def _run_template(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """The run's migrated metadata database, shared by the workers (None without xdist)."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")  # set by xdist in every worker of a run
    base = tmp_path_factory.getbasetemp()
    return _migrated_once(base.parent / f"airflow-migrated-{run}") if run else None


@pytest.fixture(scope="session", name="airflow_home")
def airflow_home_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowHome]:
    """One migrated Airflow home per pytest process (each xdist worker has its own, so
    their runs and servers never meet); DAG runs accumulate in it."""
    template = _run_template(tmp_path_factory)
    yield make_airflow_home(tmp_path_factory.getbasetemp() / "airflow-home", template)


@pytest.fixture(name="empty_airflow_home")
def empty_airflow_home_fixture(
    tmp_path: Path, airflow_home: AirflowHome, tmp_path_factory: pytest.TempPathFactory
) -> AirflowHome:
    """A home of this test's own, with no runs in it, for a test that starts Airflow's servers:
    a copy of the run's migrated database (or of the worker's home, whose runs it keeps, when
    pytest runs without workers)."""
    template = _run_template(tmp_path_factory) or airflow_home.metadata_db
    return make_airflow_home(tmp_path / "airflow-own", template)
