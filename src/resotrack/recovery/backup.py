"""``resotrack backup``: one consistent, timestamped generation, taken while the pipeline runs.

Why this order
    1. The database snapshot first. SQLite: the online backup API copies the whole file in
       one step inside a read transaction (WAL lets uploads keep committing meanwhile).
       PostgreSQL: a REPEATABLE READ transaction exports its snapshot, ``pg_dump -Fc`` dumps
       exactly that snapshot, and the row counts and blob references written in the
       manifest are read in the same transaction.
    2. Then the blobs. Intake writes and fsyncs a blob *before* it commits the row that
       names it, and blobs are never changed or deleted, so every blob a row of the snapshot
       names is already in the store when the copy starts. Blobs that arrive during the
       copy may be copied too: they are harmless (no row of the snapshot names them) and
       the manifest counts them as unreferenced. An upload is therefore in the backup whole
       (row and file) or not at all.
    3. The published reports, the settings without secrets, and last the manifest, written
       atomically: a generation without a manifest is incomplete and is never restored.

What is not in a backup: the secret key and passwords (keep them in your secret store), files
still waiting in the drop folders (not received yet), logs and Great Expectations data docs
(rebuilt). Backups are full copies: generations share nothing, so damage to one never
spreads to another.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import secrets
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr
from pydantic_settings import BaseSettings
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from resotrack import clock
from resotrack.recovery import RecoveryError, pg
from resotrack.recovery.inventory import alembic_revision, referenced, table_counts
from resotrack.recovery.manifest import (
    LOCK,
    SHA256,
    FileEntry,
    Manifest,
    blob_name,
    copy_file,
    fsync_dir,
    fsync_file,
    generation_name,
    hash_file,
    list_generations,
    sync_filesystem,
    write_atomically,
)
from resotrack.settings import get_settings

Progress = Callable[[str, str], None]
"""Called with (phase, message) as a backup moves on: database, blobs, published, manifest."""

SETTINGS_FILE = "settings.json"
SQLITE_FILE = "database.sqlite"
DUMP_FILE = "database.dump"
_SECRET_WORDS = ("password", "secret", "token", "key")
_SETTINGS_CLASSES = (
    ("core", "resotrack.settings", "Settings"),
    ("mail", "resotrack.mail.config", "MailSettings"),
    ("intake", "resotrack.intake.config", "IntakeSettings"),
    ("validation", "resotrack.validation.config", "ValidationSettings"),
    ("recovery", "resotrack.recovery.config", "RecoverySettings"),
)


@dataclass
class BackupResult:
    """A finished generation; ``problems`` are the live system's, found while copying."""

    folder: Path
    manifest: Manifest
    seconds: float
    pruned: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return self.manifest.problems

    def as_dict(self) -> dict[str, Any]:
        m = self.manifest
        return {
            "backup": str(self.folder),
            "name": m.name,
            "engine": m.engine,
            "started_at": m.started_at,
            "snapshot_at": m.database.get("snapshot_at"),
            "finished_at": m.finished_at,
            "seconds": round(self.seconds, 3),
            "files": len(m.files),
            "bytes": m.total_bytes,
            "tables": m.tables,
            "blobs": m.blobs,
            "problems": m.problems,
            "warnings": self.warnings,
            "pruned": [str(p) for p in self.pruned],
        }


@dataclass
class _Snapshot:
    info: dict[str, Any]
    owners: dict[str, list[str]]


# --- the command -------------------------------------------------------------------------


def backup(
    out_dir: Path, *, keep: int | None = None, progress: Progress | None = None
) -> BackupResult:
    """Write a new generation ``out_dir/resotrack-<UTC time>/``; keep the newest ``keep``.

    Raises :class:`RecoveryError` when no backup could be made (the partial folder is
    removed). Problems of the live system (a blob a row needs is missing or damaged) do not
    stop the backup: they are listed in the manifest and in the result.
    """
    settings = get_settings()
    home = settings.home.resolve()
    out = out_dir.expanduser().resolve()
    warnings = _check_destination(out, home)
    say: Progress = progress or (lambda _phase, _message: None)
    out.mkdir(parents=True, exist_ok=True)
    with locked(out):
        _check_space(out, home, settings.db_url)
        started = clock.now()
        t0 = time.perf_counter()
        folder = _new_folder(out, started)
        try:
            files: dict[str, FileEntry] = {}
            say("database", f"taking the database snapshot into {folder}")
            snap = _snapshot(settings.db_url, folder, files)
            say("blobs", "copying the blob store")
            blobs, problems = _copy_blobs(home / "blobs", folder, files, snap.owners)
            say("published", "copying the published reports")
            published = _copy_tree(home / "published", folder, "published", files)
            write_atomically(
                folder / SETTINGS_FILE, _json(settings_snapshot()).encode("utf-8") + b"\n"
            )
            files[SETTINGS_FILE] = hash_file(folder / SETTINGS_FILE)
            sync_filesystem(folder)  # every file durable before the manifest says so
            manifest = Manifest(
                name=folder.name,
                started_at=started.isoformat(),
                finished_at=clock.now().isoformat(),
                resotrack_version=_version(),
                database=snap.info,
                blobs=blobs,
                published={"files": published},
                settings=SETTINGS_FILE,
                files=files,
                problems=problems,
            )
            say("manifest", "writing the manifest")
            manifest.write(folder)
            fsync_dir(out)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        pruned = _prune_locked(out, keep) if keep else []
    seconds = time.perf_counter() - t0
    say("done", f"backup {folder.name} written in {seconds:.1f} s")
    return BackupResult(folder, manifest, seconds, pruned, warnings)


def prune(out_dir: Path, keep: int) -> list[Path]:
    """Keep the ``keep`` newest complete generations; remove older ones and incomplete ones."""
    out = out_dir.expanduser().resolve()
    with locked(out):
        return _prune_locked(out, keep)


def _prune_locked(out: Path, keep: int) -> list[Path]:
    if keep < 1:
        raise ValueError("keep at least one generation")
    generations = list_generations(out)
    complete = [g for g in generations if g.complete]
    # Under the lock no backup is writing, so a generation without a manifest is a dead one.
    doomed = [g for g in generations if not g.complete] + complete[: max(0, len(complete) - keep)]
    for generation in doomed:
        shutil.rmtree(generation.path)
    return [g.path for g in doomed]


@contextmanager
def locked(out: Path) -> Iterator[None]:
    """One backup (or prune) at a time per backup directory."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / LOCK).open("a") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RecoveryError(
                f"another backup is writing to {out} right now; wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _check_destination(out: Path, home: Path) -> list[str]:
    for copied in (home / "blobs", home / "published"):
        if out == copied or copied in out.parents:
            raise RecoveryError(
                f"the backup cannot go to {out}: it is inside {copied}, which the backup copies"
            )
    if out == home:
        raise RecoveryError(f"the backup cannot go to {out}: it is RESOTRACK_HOME itself")
    if home in out.parents:
        return [
            f"{out} is inside RESOTRACK_HOME ({home}): a backup there is lost with the "
            "machine. Copy it to another host, or back up to another disk."
        ]
    return []


def _check_space(out: Path, home: Path, url: str) -> None:
    """Refuse early rather than fill the disk half way (the partial folder would be removed)."""
    need = _tree_bytes(home / "blobs") + _tree_bytes(home / "published")
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        db = Path(parsed.database)
        need += sum(p.stat().st_size for p in (db, Path(f"{db}-wal")) if p.is_file())
    free = shutil.disk_usage(out).free
    if need > free:
        raise RecoveryError(
            f"not enough space in {out}: the backup needs about {_size(need)}, "
            f"{_size(free)} are free"
        )


def _tree_bytes(root: Path) -> int:
    total = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += (Path(folder) / name).stat().st_size
            except FileNotFoundError:
                continue
    return total


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TB"  # pragma: no cover


def _new_folder(out: Path, started: Any) -> Path:
    """A new generation named after ``started``, sorting after every one of the same second."""
    stamp = generation_name(started)
    taken = [g.sort_key[1] for g in list_generations(out) if g.path.name.startswith(stamp)]
    first = max(taken) + 1 if taken else 0
    for attempt in range(first, first + 1000):
        folder = out / generation_name(started, attempt)
        try:
            folder.mkdir(mode=0o700)  # returns and addresses: for operators only
            return folder
        except FileExistsError:
            continue
    raise RecoveryError(f"{out} already holds 1,000 backups from this second")  # pragma: no cover


def _version() -> str:
    try:
        return version("resotrack")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def _json(value: Any) -> str:
    import json

    return json.dumps(value, indent=1, ensure_ascii=False, sort_keys=True, default=str)


# --- the database ------------------------------------------------------------------------


def _snapshot(url: str, folder: Path, files: dict[str, FileEntry]) -> _Snapshot:
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return _sqlite_snapshot(url, folder, files)
    if backend == "postgresql":
        return _postgres_snapshot(url, folder, files)
    raise RecoveryError(f"backups support SQLite and PostgreSQL, not {backend}")


def _facts(conn: Connection) -> tuple[dict[str, Any], dict[str, list[str]]]:
    owners = referenced(conn)
    info = {"alembic_revision": alembic_revision(conn), "tables": table_counts(conn)}
    return info, owners


def _sqlite_snapshot(url: str, folder: Path, files: dict[str, FileEntry]) -> _Snapshot:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise RecoveryError(f"{url} is not a database file that can be backed up")
    source = Path(database)
    if not source.is_file():
        raise RecoveryError(
            f"the SQLite database {source} does not exist: nothing to back up "
            "(check RESOTRACK_HOME and RESOTRACK_DATABASE_URL)"
        )
    partial = folder / f".{SQLITE_FILE}.partial"
    snapshot_at = clock.now()
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)  # every page in one step, inside one read transaction
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal
            check = str(dst.execute("PRAGMA quick_check").fetchone()[0])
        finally:
            dst.close()
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise RecoveryError(f"the SQLite backup of {source} failed: {exc}") from exc
    finally:
        src.close()
    if check != "ok":
        raise RecoveryError(f"the SQLite database {source} is damaged (quick_check: {check})")
    engine = create_engine(
        "sqlite://",
        creator=lambda: sqlite3.connect(f"file:{partial}?mode=ro", uri=True),
        poolclass=NullPool,
    )
    try:
        with engine.connect() as conn:
            info, owners = _facts(conn)
    finally:
        engine.dispose()
    fsync_file(partial)
    os.replace(partial, folder / SQLITE_FILE)
    files[SQLITE_FILE] = hash_file(folder / SQLITE_FILE)
    info = {
        "engine": "sqlite",
        "file": SQLITE_FILE,
        "method": "sqlite3 online backup API",
        "sqlite_version": sqlite3.sqlite_version,
        "snapshot_at": snapshot_at.isoformat(),
        **info,
    }
    return _Snapshot(info, owners)


def _postgres_snapshot(url: str, folder: Path, files: dict[str, FileEntry]) -> _Snapshot:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = create_engine(parsed, poolclass=NullPool)
    partial = folder / f".{DUMP_FILE}.partial"
    dsn, env = pg.libpq(url)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            major, full = pg.server_version(conn)
            dump = pg.find_tool("pg_dump", major)
            restore = pg.find_tool("pg_restore", major)
            snapshot_id = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            snapshot_at = clock.now()
            pg.run(
                [
                    str(dump.path),
                    "--format=custom",
                    f"--snapshot={snapshot_id}",
                    "--lock-wait-timeout=120s",
                    f"--file={partial}",
                    f"--dbname={dsn}",
                ],
                env,
                "pg_dump",
            )
            info, owners = _facts(conn)  # the same snapshot as the dump
            conn.rollback()
    except RecoveryError:
        partial.unlink(missing_ok=True)
        raise
    except Exception as exc:
        partial.unlink(missing_ok=True)
        raise RecoveryError(
            f"the PostgreSQL database {parsed.render_as_string(hide_password=True)} could not "
            f"be read: {exc}"
        ) from exc
    finally:
        engine.dispose()
    # The dump must be readable by pg_restore before it is called a backup.
    pg.run([str(restore.path), "--list", str(partial)], env, "reading back the dump")
    fsync_file(partial)
    os.replace(partial, folder / DUMP_FILE)
    files[DUMP_FILE] = hash_file(folder / DUMP_FILE)
    info = {
        "engine": "postgresql",
        "file": DUMP_FILE,
        "method": "pg_dump --format=custom on an exported snapshot",
        "server_version": full,
        "server_major": major,
        "tool": f"pg_dump {dump.version}",
        "tool_major": dump.major,
        "snapshot_at": snapshot_at.isoformat(),
        **info,
    }
    return _Snapshot(info, owners)


# --- files -------------------------------------------------------------------------------


def _copy_blobs(
    root: Path, folder: Path, files: dict[str, FileEntry], owners: dict[str, list[str]]
) -> tuple[dict[str, Any], list[str]]:
    """Copy every blob present now (see the module docstring for why that is consistent)."""
    problems: list[str] = []
    copied: set[str] = set()
    size = 0
    skipped = 0
    for sub in sorted(root.iterdir()) if root.is_dir() else []:
        if not (sub.is_dir() and len(sub.name) == 2):
            skipped += not sub.name.startswith(".")
            continue
        for path in sorted(sub.iterdir()):
            sha = sub.name + path.name
            if path.name.startswith("."):
                continue  # a write in progress
            if not SHA256.fullmatch(sha):
                skipped += 1
                continue
            name = blob_name(sha)
            try:
                entry = copy_file(path, folder / name, sync=False)
            except FileNotFoundError:
                continue
            if entry.sha256 != sha:
                (folder / name).unlink()
                problems.append(
                    f"{name}: damaged in the live store (its content hashes to "
                    f"{entry.sha256[:12]}…), not copied; an older backup may hold a good copy"
                    + _needed_by(owners.get(sha))
                )
                continue
            files[name] = entry
            copied.add(sha)
            size += entry.size
    missing = sorted(sha for sha in owners if sha not in copied)
    damaged = {p.split(":")[0] for p in problems}
    for sha in missing:
        if blob_name(sha) not in damaged:
            problems.append(
                f"{blob_name(sha)}: missing from the live store{_needed_by(owners[sha])}"
            )
    info = {
        "files": len(copied),
        "bytes": size,
        "referenced": len(owners),
        "unreferenced": len(copied - owners.keys()),
        "missing": len(missing),
        "skipped_non_blob_files": skipped,
    }
    return info, problems


def _needed_by(owners: list[str] | None) -> str:
    if not owners:
        return ""
    more = f" and {len(owners) - 3} more" if len(owners) > 3 else ""
    return f"; needed by {', '.join(owners[:3])}{more}"


def _copy_tree(root: Path, folder: Path, prefix: str, files: dict[str, FileEntry]) -> int:
    """Copy the regular files under ``root`` (temporary ``.*`` files left out)."""
    count = 0
    for parent, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if name.startswith("."):
                continue
            source = Path(parent) / name
            rel = f"{prefix}/{source.relative_to(root).as_posix()}"
            try:
                files[rel] = copy_file(source, folder / rel, sync=False)
            except FileNotFoundError:
                continue
            count += 1
    return count


# --- settings ----------------------------------------------------------------------------


def _redact(value: str) -> str:
    """A URL without its password (``postgresql://user:***@host/db``)."""
    if "://" not in value or "@" not in value:
        return value
    try:
        parts = urlsplit(value)
    except ValueError:
        return "(not saved: looks like a URL with credentials)"
    if parts.password is None:
        return value
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, str):
        return _redact(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def settings_snapshot() -> dict[str, Any]:
    """Every resotrack setting: which were set in the environment and, secrets aside, their
    values; for the secret key, a salted scrypt fingerprint so that a restore can tell
    whether the key in use is the one the upload links and signatures were made with."""
    environ = {name.upper(): name for name in os.environ}
    sections: dict[str, dict[str, Any]] = {}
    for section, module, name in _SETTINGS_CLASSES:
        try:
            cls: type[BaseSettings] = getattr(import_module(module), name)
            values = cls()
        except Exception as exc:  # a stage's settings that do not load must not stop a backup
            sections[section] = {"error": f"{name} could not be read: {exc}"}
            continue
        prefix = str(cls.model_config.get("env_prefix", "")).upper()
        entries: dict[str, Any] = {}
        for field_name in type(values).model_fields:
            env = f"{prefix}{field_name.upper()}"
            value = getattr(values, field_name)
            secret = isinstance(value, SecretStr) or any(w in field_name for w in _SECRET_WORDS)
            entries[field_name] = {
                "env": env,
                "set": env in environ,
                "value": "(secret: not saved)" if secret else _plain(value),
            }
        sections[section] = entries
    key = get_settings().secret_key.get_secret_value()
    return {
        "about": (
            "resotrack settings when this backup was made. Secrets (the secret key, "
            "passwords) are never saved: restore them from your secret store."
        ),
        "environment": sorted(n for n in environ if n.startswith("RESOTRACK_")),
        "settings": sections,
        "secret_key": {
            "set": "RESOTRACK_SECRET_KEY" in environ,
            "is_default": key == "change-me-in-production",
            "fingerprint": key_fingerprint(key),
        },
    }


def key_fingerprint(key: str, salt: str | None = None) -> dict[str, Any]:
    """A salted scrypt digest of the secret key: tells keys apart without revealing one."""
    salt = salt or secrets.token_hex(16)
    digest = hashlib.scrypt(key.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1, dklen=16)
    return {"kdf": "scrypt", "n": 2**14, "r": 8, "p": 1, "salt": salt, "digest": digest.hex()}
