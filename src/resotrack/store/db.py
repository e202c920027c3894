"""Engines and sessions for the application database (SQLite by default, PostgreSQL in production).

SQLite runs in WAL mode with foreign keys on, so that the portal can write while a DAG reads.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Mapper, Session, sessionmaker

from resotrack.settings import get_settings


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


_engines: dict[str, Engine] = {}


def load_models() -> None:
    """Import every stage's tables (``resotrack.schema``) so that ``Base.metadata`` is whole.

    Each stage keeps its models; the store is the bottom layer and names no stage, so the
    module is imported by name here, before the first engine is made.
    """
    importlib.import_module("resotrack.schema")


@event.listens_for(Mapper, "before_configured")
def _whole_schema_before_mapping() -> None:
    """Relationships name other stages' tables by string: before SQLAlchemy resolves them
    (the first query of a process, on any engine, ours or one a backup makes itself), every
    stage's tables are loaded."""
    load_models()


def get_engine(url: str | None = None) -> Engine:
    """One engine per URL per process; the URL defaults to the settings' database."""
    load_models()
    url = url or get_settings().db_url
    if url not in _engines:
        _engines[url] = _create_engine(url)
    return _engines[url]


def _create_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg"))
    return create_engine(url, pool_pre_ping=True)


@lru_cache(maxsize=8)
def _factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(get_engine(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A transaction: commit on success, roll back on any error so no partial state remains."""
    session = _factory(url or get_settings().db_url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def reset_engines() -> None:
    """Dispose of every cached engine (tests switch databases between cases)."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()
    _factory.cache_clear()
