"""The backup manifest: what a generation holds, with a SHA-256 and a size for every file.

The manifest is written last, to a temporary file that is fsynced and then renamed, so a
generation without ``manifest.json`` is one that never finished (killed, disk full, still
running) and is never restored. The manifest carries a checksum of its own content, so an
edited or damaged manifest is refused too. Paths inside a generation are POSIX, relative.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final

FORMAT: Final = "resotrack.backup/1"
MANIFEST: Final = "manifest.json"
LOCK: Final = ".resotrack-backup.lock"
CHUNK: Final = 1024 * 1024
GENERATION: Final = re.compile(r"resotrack-(\d{8}T\d{6}Z)(?:-(\d+))?")
SHA256: Final = re.compile(r"[0-9a-f]{64}")
MAX_LISTED: Final = 20  # problems named one by one in a message; the rest are counted


class DamagedBackup(ValueError):
    """A backup that does not verify; ``problems`` name each damaged part."""

    def __init__(self, folder: Path, problems: list[str]) -> None:
        self.folder = folder
        self.problems = problems
        super().__init__(
            f"the backup {folder} does not verify, so it cannot be restored:\n" + listing(problems)
        )


def listing(lines: list[str], limit: int = MAX_LISTED) -> str:
    """Indented lines for a message, the first ``limit`` of them and a count of the rest."""
    shown = [f"  - {line}" for line in lines[:limit]]
    if len(lines) > limit:
        shown.append(f"  … and {len(lines) - limit:,} more")
    return "\n".join(shown)


@dataclass(frozen=True)
class FileEntry:
    """One file of a generation: its size and content hash."""

    size: int
    sha256: str

    def as_json(self) -> dict[str, Any]:
        return {"size": self.size, "sha256": self.sha256}


# --- files -------------------------------------------------------------------------------


def hash_file(path: Path) -> FileEntry:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            size += len(chunk)
            digest.update(chunk)
    return FileEntry(size, digest.hexdigest())


def copy_file(source: Path, target: Path, *, sync: bool = True) -> FileEntry:
    """Copy ``source`` to ``target``, hashing the bytes written, in one read.

    The copy goes to a temporary name beside ``target`` and is renamed into place, so a
    half-copied file never carries the final name. ``sync=False`` skips the per-file fsync
    for a caller that copies thousands of files and then calls :func:`sync_filesystem` once
    before anything depends on them (one fsync each costs minutes per GB of small files on
    a busy disk).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".copying-")
    try:
        with source.open("rb") as src, os.fdopen(fd, "wb") as out:
            while chunk := src.read(CHUNK):
                size += len(chunk)
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            if sync:
                os.fsync(out.fileno())
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return FileEntry(size, digest.hexdigest())


def sync_filesystem(path: Path) -> None:
    """Make every write to the filesystem holding ``path`` durable: one ``syncfs`` (Linux),
    else ``sync``. Files and folder entries written before the call survive a crash after it.
    """
    fd = os.open(path, os.O_RDONLY)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        syncfs = getattr(libc, "syncfs", None)
        if syncfs is None:
            os.sync()
        elif syncfs(fd) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"syncfs failed: {os.strerror(errno)}", str(path))
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    fsync_file(path)


def write_atomically(path: Path, data: bytes) -> None:
    """Write, fsync, rename, fsync the folder: the file is whole or absent after a crash."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        Path(tmp).unlink(missing_ok=True)


def blob_name(sha256: str) -> str:
    """A blob's path inside a generation: ``blobs/ab/cdef…`` (as in the live store)."""
    return f"blobs/{sha256[:2]}/{sha256[2:]}"


# --- the manifest ------------------------------------------------------------------------


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass
class Manifest:
    """Everything a restore needs to know about a generation.

    ``database`` holds engine (sqlite | postgresql), file, alembic_revision, tables (rows per
    table in the snapshot), snapshot_at and, for PostgreSQL, server and tool versions.
    ``blobs`` holds files, bytes, referenced (by rows of the snapshot) and unreferenced.
    ``settings`` names the settings file. ``problems`` lists what was wrong in the *live*
    system when the backup ran (a referenced blob missing, a corrupt one): the backup is
    still whole, but staff must know.
    """

    name: str
    started_at: str
    finished_at: str
    resotrack_version: str
    database: dict[str, Any]
    blobs: dict[str, Any]
    published: dict[str, Any]
    settings: str
    files: dict[str, FileEntry]
    problems: list[str] = field(default_factory=list)

    @property
    def engine(self) -> str:
        return str(self.database["engine"])

    @property
    def database_file(self) -> str:
        return str(self.database["file"])

    @property
    def revision(self) -> str | None:
        value = self.database.get("alembic_revision")
        return str(value) if value else None

    @property
    def tables(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in dict(self.database.get("tables", {})).items()}

    @property
    def total_bytes(self) -> int:
        return sum(entry.size for entry in self.files.values())

    def document(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "format": FORMAT,
            "name": self.name,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "resotrack_version": self.resotrack_version,
            "database": self.database,
            "blobs": self.blobs,
            "published": self.published,
            "settings": self.settings,
            "problems": self.problems,
            "files": {name: self.files[name].as_json() for name in sorted(self.files)},
        }
        body["checksum"] = hashlib.sha256(_canonical(body)).hexdigest()
        return body

    def write(self, folder: Path) -> None:
        """Write ``manifest.json`` atomically: the last step of a backup."""
        data = json.dumps(self.document(), indent=1, ensure_ascii=False).encode("utf-8")
        write_atomically(folder / MANIFEST, data + b"\n")

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        """Read and check ``manifest.json``; :class:`DamagedBackup` names what is wrong."""
        path = folder / MANIFEST
        try:
            document = json.loads(path.read_bytes())
        except FileNotFoundError:
            raise DamagedBackup(folder, [INCOMPLETE]) from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise DamagedBackup(folder, [f"{MANIFEST}: damaged (not valid JSON: {exc})"]) from exc
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            found = document.get("format") if isinstance(document, dict) else None
            raise DamagedBackup(
                folder, [f"{MANIFEST}: not a resotrack backup manifest (format {found!r})"]
            )
        claimed = document.pop("checksum", None)
        if claimed != hashlib.sha256(_canonical(document)).hexdigest():
            raise DamagedBackup(
                folder, [f"{MANIFEST}: checksum mismatch (edited or damaged after the backup)"]
            )
        try:
            return cls(
                name=document["name"],
                started_at=document["started_at"],
                finished_at=document["finished_at"],
                resotrack_version=document["resotrack_version"],
                database=dict(document["database"]),
                blobs=dict(document["blobs"]),
                published=dict(document["published"]),
                settings=document["settings"],
                files={
                    name: FileEntry(int(v["size"]), str(v["sha256"]))
                    for name, v in document["files"].items()
                },
                problems=list(document.get("problems", [])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DamagedBackup(folder, [f"{MANIFEST}: incomplete ({exc!r} missing)"]) from exc


INCOMPLETE: Final = (
    f"{MANIFEST}: missing: the backup is incomplete (it was interrupted, or is still running)"
)


# --- checking a generation ---------------------------------------------------------------


@dataclass
class BackupCheck:
    """The result of checking a generation against its manifest."""

    folder: Path
    manifest: Manifest | None
    problems: list[str]
    warnings: list[str]

    @property
    def ok(self) -> bool:
        return self.manifest is not None and not self.problems

    def as_dict(self) -> dict[str, Any]:
        m = self.manifest
        return {
            "backup": str(self.folder),
            "ok": self.ok,
            "name": m.name if m else None,
            "started_at": m.started_at if m else None,
            "engine": m.engine if m else None,
            "files": len(m.files) if m else None,
            "bytes": m.total_bytes if m else None,
            "problems": self.problems,
            "warnings": self.warnings,
            "recorded_live_problems": m.problems if m else [],
        }


def _order(name: str) -> tuple[int, str]:
    """Database first, then settings and reports, blobs last: the important parts lead."""
    if name.startswith("database"):
        return 0, name
    return (2, name) if name.startswith("blobs/") else (1, name)


def _inside(folder: Path, name: str) -> bool:
    parts = Path(name).parts
    return bool(parts) and not Path(name).is_absolute() and ".." not in parts


def verify_backup(folder: Path) -> BackupCheck:
    """Check every file of a generation against the manifest: size first, then SHA-256.

    Each problem names the part, e.g. ``database.dump: truncated (1,024 of 88,117 bytes)``
    or ``blobs/ab/cdef…: checksum mismatch``. Files the manifest does not list are warnings:
    restore ignores them.
    """
    if not folder.is_dir():
        return BackupCheck(folder, None, [f"{folder}: no such backup folder"], [])
    try:
        manifest = Manifest.read(folder)
    except DamagedBackup as exc:
        return BackupCheck(folder, None, exc.problems, [])
    problems: list[str] = []
    if manifest.database_file not in manifest.files:
        problems.append(f"{MANIFEST}: lists no database file ({manifest.database_file})")
    for name in sorted(manifest.files, key=_order):
        entry = manifest.files[name]
        if not _inside(folder, name):
            problems.append(f"{name}: the manifest names a path outside the backup")
            continue
        path = folder / name
        if not path.is_file():
            problems.append(f"{name}: missing")
            continue
        size = path.stat().st_size
        if size < entry.size:
            problems.append(f"{name}: truncated ({size:,} of {entry.size:,} bytes)")
            continue
        if size > entry.size:
            problems.append(f"{name}: longer than recorded ({size:,} bytes, not {entry.size:,})")
            continue
        if hash_file(path).sha256 != entry.sha256:
            problems.append(f"{name}: checksum mismatch (its content changed after the backup)")
            continue
        if name.startswith("blobs/") and name != blob_name(entry.sha256):
            problems.append(f"{name}: holds blob {entry.sha256}, not the one its name says")
    listed = set(manifest.files) | {MANIFEST, LOCK}
    warnings = [
        f"{name}: not in the manifest (restore ignores it)"
        for name in sorted(_files(folder))
        if name not in listed
    ]
    return BackupCheck(folder, manifest, problems, warnings)


def _files(folder: Path) -> Iterator[str]:
    for root, _dirs, files in os.walk(folder):
        for file in files:
            yield (Path(root) / file).relative_to(folder).as_posix()


# --- generations -------------------------------------------------------------------------


@dataclass(frozen=True)
class Generation:
    """One ``resotrack-YYYYMMDDTHHMMSSZ[-n]`` folder of a backup directory."""

    path: Path
    complete: bool

    @property
    def sort_key(self) -> tuple[str, int]:
        match = GENERATION.fullmatch(self.path.name)
        assert match is not None
        return match.group(1), int(match.group(2) or 0)


def generation_name(at: datetime, attempt: int = 0) -> str:
    base = f"resotrack-{at:%Y%m%dT%H%M%SZ}"
    return base if attempt == 0 else f"{base}-{attempt}"


def list_generations(directory: Path) -> list[Generation]:
    """The generations in ``directory``, oldest first; ``complete`` means a manifest exists."""
    if not directory.is_dir():
        return []
    found = [
        Generation(path, (path / MANIFEST).is_file())
        for path in directory.iterdir()
        if path.is_dir() and GENERATION.fullmatch(path.name)
    ]
    return sorted(found, key=lambda g: g.sort_key)
