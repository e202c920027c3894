"""Shared fixtures: every database test runs twice, on SQLite and on PostgreSQL.

PostgreSQL comes from ``RESOTRACK_TEST_DATABASE_URL`` (``make test`` and ``.ci/run`` set it).
A missing or stopped server fails those tests loudly; it never skips them. Each test gets a
fresh database cloned from a migrated template, so tests cannot see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from resotrack.settings import get_settings
from resotrack.store import migrate, reset_engines
from support.airflow_env import (  # noqa: F401  (the worker's Airflow home; a test's own)
    airflow_home_fixture,
    empty_airflow_home_fixture,
)
from support.chromium import browser  # noqa: F401  (headless Chromium, one per module)
from support.smtp_server import smtp_server  # noqa: F401  (a real SMTP server on loopback)

# xdist's workers are given COLUMNS=80 and LINES=24, which the command line's consoles read
# when they print: a test would then fold its output differently with and without -n. Without
# them every run sees the same terminal, and a test that sets COLUMNS is heard.
for _variable in ("COLUMNS", "LINES"):
    os.environ.pop(_variable, None)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEED_000 = SHARED / "seeds" / "000_538a0b500d10359b.txt"
SEED_004 = SHARED / "seeds" / "004_7627369674135aea.txt"
GROUNDTRUTH_004 = SHARED / "groundtruth" / "004_operative_paragraphs.tsv"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The project's shared material (seeds, ground truth), checked out beside the repo."""
    if not (SHARED / "seeds").is_dir():
        pytest.fail(f"shared/ with the seed resolutions is missing: expected it at {SHARED}")
    return SHARED


def _pg_admin_url() -> str:
    url = os.environ.get("RESOTRACK_TEST_DATABASE_URL")
    if not url:
        pytest.fail(
            "RESOTRACK_TEST_DATABASE_URL is not set: the suite runs on PostgreSQL too "
            "(make test sets it to the local server)."
        )
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated PostgreSQL database that each test clones (fast: CREATE ... TEMPLATE)."""
    admin_url = _pg_admin_url()
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # the point is to fail loudly with the reason
        pytest.fail(f"PostgreSQL at {admin_url} is not reachable: {exc}")
    name = f"rt_tpl_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    reset_engines()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    reset_engines()
    return path


class _Clones:
    """Copies of the migrated PostgreSQL template made one ahead: while a test runs, the copy
    the next test will take is being made on a thread (``CREATE DATABASE ... TEMPLATE`` costs
    about half a second, mostly the server's waiting on disk)."""

    def __init__(self, admin_url: str, template: str) -> None:
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.template = template
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-clone")
        self.ahead: Future[str] = self.pool.submit(self._create)

    def _create(self) -> str:
        name = f"rt_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        return name

    def take(self) -> str:
        """A fresh copy for the caller, who drops it (``drop``); the next one is started."""
        name = self.ahead.result()
        self.ahead = self.pool.submit(self._create)
        return name

    def drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        self.drop(self.ahead.result())
        self.pool.shutdown()
        self.admin.dispose()


@pytest.fixture(scope="session")
def pg_clones(pg_template: str) -> Iterator[_Clones]:
    clones = _Clones(_pg_admin_url(), pg_template)
    yield clones
    clones.close()


def clone_database(
    request: pytest.FixtureRequest, folder: Path
) -> tuple[str, Callable[[], None] | None]:
    """A fresh copy of the migrated template for ``request.param`` (sqlite or postgresql):
    its URL, and what drops it afterwards (nothing for a SQLite file in ``folder``)."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = folder / "resotrack.db"
        path.write_bytes(template.read_bytes())
        return f"sqlite:///{path}", None
    clones: _Clones = request.getfixturevalue("pg_clones")
    name = clones.take()
    url = make_url(_pg_admin_url()).set(database=name).render_as_string(hide_password=False)
    return url, lambda: clones.drop(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    """A fresh, migrated application database; also made the default through settings."""
    monkeypatch.setenv("RESOTRACK_HOME", str(tmp_path / "var"))
    url, cleanup = clone_database(request, tmp_path)
    monkeypatch.setenv("RESOTRACK_DATABASE_URL", url)
    get_settings.cache_clear()
    reset_engines()
    yield url
    reset_engines()
    get_settings.cache_clear()
    if cleanup:
        cleanup()


#: Fixtures whose tests need a program or server: a test that uses one (even through another
#: fixture) gets the marker, so ``-m "not ..."`` leaves it out. By name: the Chromium and
#: LibreOffice fixtures are each module's own, under the same names.
_FIXTURE_MARKERS: dict[str, frozenset[str]] = {
    "airflow": frozenset({"airflow_home"}),  # a real Airflow: its home, api-server, processes
    "browser": frozenset({"browser"}),  # Debian's Chromium, through Playwright
    "libreoffice": frozenset({"soffice"}),  # the path of soffice, which the test runs
    "postgres": frozenset({"pg_template"}),  # the migrated template on the PostgreSQL server
}


def _on_postgresql(item: pytest.Item) -> bool:
    """Whether a database fixture of this test (``db_url``, or a module's world made with
    ``clone_database``) was given its ``postgresql`` parameter."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return False
    names = set(getattr(item, "fixturenames", ()))
    return any(value == "postgresql" and name in names for name, value in callspec.params.items())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by what it needs (``_FIXTURE_MARKERS``; ``postgres`` also for the
    PostgreSQL variant of a database fixture).

    Under ``-n`` each worker has its own Airflow home (a session fixture) and its servers on
    free ports, so Airflow tests run on both workers. (An ``xdist_group`` mark added here
    would not keep them on one: xdist's worker reads the marks in its own collection hook,
    which runs before this one.)"""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for marker, fixtures in _FIXTURE_MARKERS.items():
            if names & fixtures and not item.get_closest_marker(marker):
                item.add_marker(marker)
        if _on_postgresql(item) and not item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.postgres)
