"""``resotrack restore DIR``: put a verified generation back into an empty home and database.

Why this order
    The whole generation is checked against its manifest before anything is written: a
    damaged backup is refused, naming the damaged part. The target is checked next: a home
    with blobs or published reports, or a database with resotrack tables, is refused unless
    ``--force``. Then blobs and reports are copied, the database last, so a database that
    appears always finds the files it names. SQLite: the file is copied beside the target and
    renamed over it (stale ``-wal``/``-shm`` removed first: applied to the new file they
    would corrupt it). PostgreSQL: ``pg_restore --single-transaction --exit-on-error``, so
    the database ends restored whole or left as it was. Finally the restored rows are
    counted against the manifest and ``verify`` runs.

Emails (at most once, even across a disaster)
    A message that was ``pending`` or ``sending`` when the backup was made may have gone out
    between the backup and the loss; sending it again would give a minister's office a second
    questionnaire with a second link. So the restore holds those rows as ``uncertain`` (the
    outbox never resends those by itself) with a note, and staff confirm or resend each one,
    exactly as after a worker crash. ``hold_outbox=False`` (``--send-pending``) leaves them
    pending when staff know nothing was sent since the backup.

Stop the portal, the Airflow scheduler and workers before a restore: a process that keeps a
connection open to the old SQLite file or database would write where nobody reads.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from resotrack import audit
from resotrack.catalog import Said
from resotrack.mail.models import OutboxMessage
from resotrack.recovery import RecoveryError, pg
from resotrack.recovery.inventory import (
    head_revision,
    known_revisions,
    table_counts,
    table_names,
)
from resotrack.recovery.manifest import (
    MANIFEST,
    SHA256,
    DamagedBackup,
    Manifest,
    copy_file,
    fsync_dir,
    hash_file,
    list_generations,
    sync_filesystem,
    verify_backup,
)
from resotrack.recovery.verify import VerifyReport, verify_live
from resotrack.settings import get_settings
from resotrack.store import reset_engines, session_scope
from resotrack.store.db import load_models
from resotrack.store.models import Base

Progress = Callable[[str, str], None]
ACTOR = "restore"


@dataclass
class RestoreResult:
    """What a restore did, how long each step took, and what staff must do next."""

    backup: Path
    manifest: Manifest
    home: Path
    database: str
    seconds: float
    steps: dict[str, float]
    replaced: list[str] = field(default_factory=list)
    held_messages: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)
    verify: VerifyReport | None = None

    @property
    def bytes(self) -> int:
        return self.manifest.total_bytes

    def as_dict(self) -> dict[str, Any]:
        m = self.manifest
        return {
            "backup": str(self.backup),
            "name": m.name,
            "made_at": m.started_at,
            "snapshot_at": m.database.get("snapshot_at"),
            "engine": m.engine,
            "home": str(self.home),
            "database": self.database,
            "seconds": round(self.seconds, 3),
            "steps": {k: round(v, 3) for k, v in self.steps.items()},
            "bytes": self.bytes,
            "tables": m.tables,
            "blobs": m.blobs.get("files"),
            "replaced": self.replaced,
            "held_messages": self.held_messages,
            "warnings": self.warnings,
            "next_steps": self.next_steps,
            "verify": self.verify.as_dict() if self.verify else None,
        }


def restore(
    backup_dir: Path,
    *,
    force: bool = False,
    hold_outbox: bool = True,
    progress: Progress | None = None,
) -> RestoreResult:
    """Restore the generation ``backup_dir`` into the configured home and database.

    Raises :class:`DamagedBackup` (naming each damaged part) or :class:`RecoveryError` (a
    target that holds data, another engine, a newer schema, missing tools) before writing
    anything.
    """
    say: Progress = progress or (lambda _phase, _message: None)
    folder = _generation(backup_dir.expanduser().resolve())
    settings = get_settings()
    home = settings.home.expanduser().resolve()
    url = settings.db_url
    shown = make_url(url).render_as_string(hide_password=True)
    steps: dict[str, float] = {}
    t0 = time.perf_counter()

    say("verify", f"checking {folder} against its manifest")
    check = verify_backup(folder)
    if check.manifest is None or check.problems:
        raise DamagedBackup(folder, check.problems)
    manifest = check.manifest
    steps["check backup"] = time.perf_counter() - t0

    backend = make_url(url).get_backend_name()
    if backend != manifest.engine:
        raise RecoveryError(
            f"the backup {manifest.name} holds a {manifest.engine} database, but "
            f"RESOTRACK_DATABASE_URL names a {backend} one ({shown}): restore it into "
            f"{manifest.engine}"
        )
    if manifest.revision and manifest.revision not in known_revisions():
        raise RecoveryError(
            f"the backup was made by a newer resotrack ({manifest.resotrack_version}, schema "
            f"{manifest.revision}): install that version to restore it"
        )
    tool = _restore_tool(url, manifest) if backend == "postgresql" else None
    found = _contents(home, url, manifest)
    if found and not force:
        raise RecoveryError(
            "restore refuses to overwrite data:\n"
            + "\n".join(f"  - {line}" for line in found)
            + "\nRestore into an empty home and database (set RESOTRACK_HOME and "
            "RESOTRACK_DATABASE_URL), or stop resotrack and run again with --force to replace "
            "them."
        )

    reset_engines()  # no pooled connection of ours may outlive the old database
    t = time.perf_counter()
    say("blobs", f"copying {manifest.blobs.get('files', 0):,} blobs into {home / 'blobs'}")
    _copy_files(folder, home, manifest, "blobs/", keep_good=True)
    say("published", "copying the published reports")
    _copy_files(folder, home, manifest, "published/", keep_good=False)
    steps["files"] = time.perf_counter() - t

    t = time.perf_counter()
    say("database", f"restoring the database into {shown}")
    if backend == "sqlite":
        _restore_sqlite(folder / manifest.database_file, url)
    else:
        assert tool is not None
        _restore_postgres(folder / manifest.database_file, url, tool, clean=bool(found))
    reset_engines()
    steps["database"] = time.perf_counter() - t

    t = time.perf_counter()
    _compare_counts(url, manifest)
    steps["compare"] = time.perf_counter() - t
    result = RestoreResult(
        folder, manifest, home, shown, 0.0, steps, replaced=found if force else []
    )
    result.warnings += _key_warning(folder, manifest)
    current = manifest.revision == head_revision()
    if hold_outbox and current:
        result.held_messages = _hold_outbox(url, manifest)
    result.seconds = time.perf_counter() - t0
    if current:
        say("verify", "checking the restored system")
        t = time.perf_counter()
        result.verify = verify_live(url=url, home=home)
        steps["verify"] = time.perf_counter() - t
    result.next_steps = _next_steps(result, current)
    return result


def _generation(path: Path) -> Path:
    """The generation to restore; a folder of generations is refused with their list."""
    if (path / MANIFEST).exists():
        return path
    generations = list_generations(path)
    if generations:
        complete = [g for g in generations if g.complete]
        names = "\n".join(
            f"  {g.path}{'' if g.complete else '   (incomplete)'}" for g in generations
        )
        newest = f" The newest complete one is {complete[-1].path}." if complete else ""
        raise RecoveryError(
            f"{path} holds {len(generations)} backup(s), not one: name the generation to "
            f"restore.{newest}\n{names}"
        )
    return path


def _resotrack_tables(manifest: Manifest) -> set[str]:
    load_models()
    return set(Base.metadata.tables) | set(manifest.tables) | {"alembic_version"}


def _contents(home: Path, url: str, manifest: Manifest) -> list[str]:
    """What the target already holds, in the operator's words (empty: safe to restore)."""
    found: list[str] = []
    blobs = _count_blobs(home / "blobs")
    if blobs:
        found.append(f"the home {home} already holds {blobs:,} blob(s) in blobs/")
    published = home / "published"
    if published.is_dir() and any(p.is_file() for p in published.rglob("*")):
        found.append(f"the home {home} already holds published reports in published/")
    parsed = make_url(url)
    ours = _resotrack_tables(manifest)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if path.is_file() and path.stat().st_size > 0:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                names = {
                    r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
                }
            except sqlite3.DatabaseError as exc:
                names = {f"(unreadable: {exc})"}
            finally:
                con.close()
            found.append(
                f"the SQLite database {path} exists ({len(names & ours)} resotrack tables)"
            )
        return found
    if not _pg_database_exists(parsed):
        return found
    engine = create_engine(_psycopg(parsed), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            tables = sorted(table_names(conn) & ours)
            if tables:
                rows = sum(table_counts(conn).get(t, 0) for t in tables)
                found.append(
                    f"the database {parsed.render_as_string(hide_password=True)} has "
                    f"{len(tables)} resotrack tables holding {rows:,} rows"
                )
    finally:
        engine.dispose()
    return found


def _count_blobs(root: Path) -> int:
    if not root.is_dir():
        return 0
    return sum(
        1
        for sub in root.iterdir()
        if sub.is_dir() and len(sub.name) == 2
        for p in sub.iterdir()
        if SHA256.fullmatch(sub.name + p.name)
    )


def _copy_files(
    folder: Path, home: Path, manifest: Manifest, prefix: str, *, keep_good: bool
) -> None:
    """Copy the manifest's files under ``prefix``; a blob already present and sound is kept."""
    touched = False
    for name, entry in sorted(manifest.files.items()):
        if not name.startswith(prefix):
            continue
        target = home / name
        if keep_good and target.is_file() and hash_file(target).sha256 == entry.sha256:
            continue
        written = copy_file(folder / name, target, sync=False)
        if written != entry:  # the backup changed under our feet since it was checked
            raise DamagedBackup(folder, [f"{name}: changed while it was being restored"])
        touched = True
    if touched:
        sync_filesystem(home)  # durable before the database that names them appears


def _restore_sqlite(dump: Path, url: str) -> None:
    target = Path(make_url(url).database or "")
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.parent / f".{target.name}.restoring"
    copy_file(dump, staged)
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(staged, target)
    fsync_dir(target.parent)


def _psycopg(parsed: URL) -> URL:
    return (
        parsed.set(drivername="postgresql+psycopg") if parsed.drivername == "postgresql" else parsed
    )


def _pg_database_exists(parsed: URL) -> bool:
    admin = create_engine(
        _psycopg(parsed).set(database="postgres"), poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as conn:
            return bool(
                conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"),
                    {"name": parsed.database},
                ).scalar()
            )
    except Exception as exc:
        shown = parsed.render_as_string(hide_password=True)
        raise RecoveryError(f"cannot reach the PostgreSQL server of {shown}: {exc}") from exc
    finally:
        admin.dispose()


def _create_pg_database(parsed: URL) -> None:
    admin = create_engine(
        _psycopg(parsed).set(database="postgres"), poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )
    name = str(parsed.database)
    try:
        with admin.connect() as conn:
            quoted = conn.dialect.identifier_preparer.quote_identifier(name)
            conn.execute(text(f"CREATE DATABASE {quoted}"))
    except Exception as exc:
        raise RecoveryError(
            f"the database {name} does not exist and could not be created ({exc}); create it "
            f"empty (createdb {name}) and run the restore again"
        ) from exc
    finally:
        admin.dispose()


def _restore_tool(url: str, manifest: Manifest) -> pg.Tool:
    parsed = make_url(url)
    made_with = int(manifest.database.get("tool_major") or 0)
    tool = pg.find_tool("pg_restore")
    if tool.major < made_with:
        raise RecoveryError(
            f"the dump was written by pg_dump {made_with}; {tool.path} is version {tool.major} "
            f"and cannot read it: install postgresql-client-{made_with} or set "
            "RESOTRACK_PG_BIN_DIR"
        )
    if _pg_database_exists(parsed):
        engine = create_engine(_psycopg(parsed), poolclass=NullPool)
        try:
            with engine.connect() as conn:
                major, _full = pg.server_version(conn)
        finally:
            engine.dispose()
        if tool.major < major:
            raise RecoveryError(
                f"{tool.path} is version {tool.major} but the PostgreSQL server is version "
                f"{major}: install postgresql-client-{major} or set RESOTRACK_PG_BIN_DIR"
            )
    return tool


def _restore_postgres(dump: Path, url: str, tool: pg.Tool, *, clean: bool) -> None:
    parsed = make_url(url)
    if not _pg_database_exists(parsed):
        _create_pg_database(parsed)
    dsn, env = pg.libpq(url)
    args = [
        str(tool.path),
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        f"--dbname={dsn}",
    ]
    if clean:
        args += ["--clean", "--if-exists"]
    pg.run([*args, str(dump)], env, "pg_restore (nothing was changed in the database)")


def _compare_counts(url: str, manifest: Manifest) -> None:
    """Every table holds exactly the rows the snapshot held."""
    parsed = make_url(url)
    engine = create_engine(_psycopg(parsed), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            counts = table_counts(conn)
    finally:
        engine.dispose()
    wrong = [
        f"{name}: {counts.get(name, 0):,} rows restored, {n:,} in the backup"
        for name, n in sorted(manifest.tables.items())
        if counts.get(name) != n
    ]
    if wrong:
        raise RecoveryError(
            "the restored database does not hold what the backup recorded:\n"
            + "\n".join(f"  - {line}" for line in wrong)
        )


def _key_warning(folder: Path, manifest: Manifest) -> list[str]:
    """Upload links and questionnaire signatures only verify with the key they were made with."""
    from resotrack.recovery.backup import key_fingerprint

    try:
        recorded = json.loads((folder / manifest.settings).read_text("utf-8"))["secret_key"]
        fingerprint = recorded["fingerprint"]
    except (OSError, ValueError, KeyError, TypeError):
        return ["the backup records no fingerprint of the secret key: check RESOTRACK_SECRET_KEY"]
    keys = get_settings().verification_keys  # the key then may be a retired one now
    if any(
        key_fingerprint(k, fingerprint["salt"])["digest"] == fingerprint["digest"] for k in keys
    ):
        return []
    return [
        "RESOTRACK_SECRET_KEY is not the key in use when this backup was made: the upload links "
        "already sent and the signatures of the questionnaires already dispatched will be "
        "refused. Set the original key (from your secret store) before starting resotrack."
    ]


def _hold_outbox(url: str, manifest: Manifest) -> list[int]:
    """Pending and sending emails become uncertain (see the module docstring)."""
    from resotrack.mail.config import mail_settings
    from resotrack.mail.outbox import message_id

    mail = mail_settings()
    held: list[int] = []
    with session_scope(url) as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.state.in_(["pending", "sending"]))
            .order_by(OutboxMessage.id)
        ).all()
        for row in rows:
            was = row.state
            mid = row.message_id or message_id(row.id, row.idempotency_key, mail)
            row.state = "uncertain"
            row.last_error = (
                f"held by the restore of backup {manifest.name}: it was {was} when the backup was "
                f"made and may have been sent after that; search the relay log for {mid}, then "
                "confirm or resend it"
            )
            audit.record(
                session,
                ACTOR,
                "outbox.held_after_restore",
                f"outbox:{row.id}",
                was=was,
                backup=manifest.name,
            )
            held.append(row.id)
    return held


def _next_steps(result: RestoreResult, current: bool) -> list[str]:
    """What staff do next, in English (JSON), each :class:`Said` in any language."""
    m = result.manifest
    steps: list[str] = []
    if not current:
        steps.append(
            Said(
                "run `resotrack init` to upgrade the schema from {old} to {new}, then "
                "`resotrack verify`",
                old=m.revision,
                new=head_revision(),
            )
        )
    held = result.held_messages
    if held:
        ids = ", ".join(str(i) for i in held[:10]) + (" …" if len(held) > 10 else "")
        steps.append(
            Said.n(
                "{n} email pending at backup time is held as uncertain (outbox message {ids}): "
                "check the relay log, then confirm or resend it",
                "{n} emails pending at backup time are held as uncertain (outbox messages "
                "{ids}): check the relay log, then confirm or resend each",
                len(held),
                ids=ids,
            )
        )
    steps.append(
        Said(
            "returns and decisions made after {snapshot} are not in this backup: ask the "
            "entities that uploaded since then to upload again (their receipts and the relay "
            "log say who)",
            snapshot=m.database.get("snapshot_at", m.started_at),
        )
    )
    steps.append(
        Said("set the secrets again (RESOTRACK_SECRET_KEY, passwords), then start resotrack")
    )
    return steps
