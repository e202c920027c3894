"""Receiving a returned workbook, the same way for every channel (portal, email, drop folder, CLI).

The order is the contract (DESIGN.md, "Storage"):

1. the bytes are sniffed, then written to the blob store under their SHA-256 and fsynced;
2. a ``Submission`` row (state ``received``) is committed;
3. only then does the caller tell the sender "received";
4. then :func:`announce` asks Airflow to run ``ingest_return`` for it. When Airflow cannot be
   reached nothing is lost: the submission waits in the database and the ingest DAG's sweep
   picks it up.

A crash between 1 and 2 leaves an unreferenced blob (harmless, content-addressed) and never a
row without its bytes. The same bytes from the same entity in the same cycle are one
submission: a second receipt reports a duplicate.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from resotrack import audit, clock
from resotrack.intake.config import intake_settings
from resotrack.intake.names import display_name
from resotrack.intake.sniff import sniff_workbook
from resotrack.store import session_scope
from resotrack.store.blobs import blob_store
from resotrack.validation.lifecycle import SubmissionState
from resotrack.validation.models import Submission

log = logging.getLogger(__name__)

Channel = Literal["portal", "email", "dropfolder", "cli"]
INGEST_DAG = "ingest_return"
INCOMING_PREFIX = ".incoming-"
Source = bytes | Path | BinaryIO


class TooLarge(ValueError):
    """The file is over the size limit; nothing was kept."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        super().__init__(f"the file is larger than the limit of {max_bytes:,} bytes")


@dataclass(frozen=True)
class StoredFile:
    """Bytes safely in the blob store (fsynced), not yet recorded anywhere."""

    sha256: str
    size: int


@dataclass(frozen=True)
class Receipt:
    """What the sender may be told once :func:`receive` returns: the submission is durable."""

    submission_id: int
    sha256: str
    size: int
    duplicate: bool
    state: str
    received_at: datetime
    original_name: str

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values["received_at"] = self.received_at.isoformat()
        return values


@contextmanager
def _opened(source: Source) -> Iterator[BinaryIO]:
    """A seekable binary file for any source; an unseekable stream is spooled to disk first."""
    if isinstance(source, bytes):
        yield io.BytesIO(source)
    elif isinstance(source, Path):
        with source.open("rb") as file:
            yield file
    elif source.seekable():
        yield source
    else:
        with spool_file() as (spool, _path):
            shutil.copyfileobj(source, spool)
            spool.seek(0)
            yield spool


@contextmanager
def spool_file() -> Iterator[tuple[BinaryIO, Path]]:
    """A temporary file beside the blobs (same disk), deleted on exit.

    Its name starts with ``.incoming-``: if the process is killed before the ``finally`` runs,
    :func:`cleanup_incoming` removes it later.
    """
    root = blob_store().root
    root.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=root, prefix=f"{INCOMING_PREFIX}spool-")
    path = Path(name)
    try:
        with os.fdopen(fd, "w+b") as file:
            yield file, path
    finally:
        path.unlink(missing_ok=True)


def store_file(source: Source, *, max_bytes: int | None = None) -> StoredFile:
    """Sniff ``source`` and keep its bytes in the blob store, fsynced; nothing else.

    Raises :class:`~resotrack.intake.sniff.NotAWorkbook` or :class:`TooLarge` (nothing kept).
    """
    limit = max_bytes or intake_settings().upload_max_bytes
    with _opened(source) as file:
        file.seek(0, os.SEEK_END)
        if file.tell() > limit:
            raise TooLarge(limit)
        file.seek(0)
        sniff_workbook(file)
        try:
            sha256, size = blob_store().put_stream(file, max_bytes=limit)
        except ValueError as exc:  # grew while we read it
            raise TooLarge(limit) from exc
    return StoredFile(sha256, size)


def record_submission(
    session: Session,
    stored: StoredFile,
    *,
    channel: Channel,
    original_name: str | bytes | None,
    cycle_id: int,
    entity_code: str,
    sender: str | None = None,
    token_id: int | None = None,
) -> Receipt:
    """Add the Submission for stored bytes in the caller's transaction (not committed here).

    Concurrent receipts of the same bytes insert one row: ``INSERT ... ON CONFLICT DO NOTHING``
    on the (cycle, entity, sha256) constraint, then a re-read. This stands in for a SAVEPOINT,
    which pysqlite mishandles (a savepoint that opens the transaction commits on release).
    """
    now = clock.now()
    values = {
        "cycle_id": cycle_id,
        "entity_code": entity_code,
        "sha256": stored.sha256,
        "size": stored.size,
        "original_name": display_name(original_name),
        "channel": channel,
        "sender": sender[:254] if sender else None,
        "token_id": token_id,
        "state": SubmissionState.RECEIVED,
        "report": {},
        "received_at": now,
    }
    dialect = session.get_bind().dialect.name
    insert: postgresql.Insert | sqlite.Insert
    if dialect == "postgresql":
        insert = postgresql.insert(Submission).values(values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        insert = sqlite.insert(Submission).values(values).on_conflict_do_nothing()
    else:  # the two databases resotrack supports
        raise NotImplementedError(f"intake does not support {dialect}")
    inserted = session.execute(insert.returning(Submission.id)).scalar_one_or_none()
    row = session.scalars(
        select(Submission).where(
            Submission.cycle_id == cycle_id,
            Submission.entity_code == entity_code,
            Submission.sha256 == stored.sha256,
        )
    ).one()
    if inserted is not None:
        audit.record(
            session,
            sender or channel,
            "submission.received",
            f"submission:{row.id}",
            channel=channel,
            entity_code=entity_code,
            cycle_id=cycle_id,
            sha256=stored.sha256,
            size=stored.size,
        )
    received_at = row.received_at
    if received_at.tzinfo is None:  # SQLite returns naive datetimes
        received_at = received_at.replace(tzinfo=clock.UTC)
    return Receipt(
        submission_id=row.id,
        sha256=row.sha256,
        size=row.size,
        duplicate=inserted is None,
        state=row.state,
        received_at=received_at,
        original_name=row.original_name,
    )


def receive(
    source: Source,
    *,
    channel: Channel,
    original_name: str | bytes | None,
    cycle_id: int,
    entity_code: str,
    sender: str | None = None,
    token_id: int | None = None,
    max_bytes: int | None = None,
) -> Receipt:
    """Store and record one returned workbook; when this returns, tell the sender "received".

    Then call :func:`announce` with the receipt. Raises ``NotAWorkbook`` or ``TooLarge``
    before anything is stored.
    """
    stored = store_file(source, max_bytes=max_bytes)
    with session_scope() as session:
        receipt = record_submission(
            session,
            stored,
            channel=channel,
            original_name=original_name,
            cycle_id=cycle_id,
            entity_code=entity_code,
            sender=sender,
            token_id=token_id,
        )
    log.info(
        "%s submission %s from %s (%s, %s bytes)",
        "duplicate of" if receipt.duplicate else "received",
        receipt.submission_id,
        sender or channel,
        entity_code,
        receipt.size,
    )
    return receipt


_backoff_lock = threading.Lock()
_quiet_until = 0.0
ANNOUNCE_BACKOFF_SECONDS = 30.0
ANNOUNCE_TIMEOUT_SECONDS = 15.0
"""A busy API server (SQLite metadata, two cores) can take seconds to answer; the trigger runs
after the focal point has their answer, so waiting for it beats leaving the upload to the
five-minute sweep."""


def announce(submission: Receipt | int) -> str | None:
    """Ask Airflow to ingest a new submission now; a duplicate or an unreachable Airflow is fine.

    Returns the DAG run id, or None: the ingest DAG's sweep will find the submission. After a
    failed trigger, further ones are skipped for ``ANNOUNCE_BACKOFF_SECONDS``, so a burst of
    uploads while Airflow is down (or its host drops packets, each try then waiting for its
    timeout) does not tie up the portal's worker threads knocking on a closed door.
    """
    global _quiet_until
    if isinstance(submission, Receipt):
        if submission.duplicate:
            return None
        submission = submission.submission_id
    with _backoff_lock:
        if time.monotonic() < _quiet_until:
            log.info("Airflow failed recently: submission %s is left to the sweep", submission)
            return None
    from resotrack.orchestration import trigger_dag

    run = trigger_dag(INGEST_DAG, {"submission_id": submission}, timeout=ANNOUNCE_TIMEOUT_SECONDS)
    if run is None:
        with _backoff_lock:
            _quiet_until = time.monotonic() + ANNOUNCE_BACKOFF_SECONDS
    return run


def reset_announce_backoff() -> None:
    """Forget an earlier failed trigger (tests, or an operator who just restarted Airflow)."""
    global _quiet_until
    with _backoff_lock:
        _quiet_until = 0.0


def cleanup_incoming(max_age_seconds: float | None = None) -> int:
    """Delete temp files of interrupted writes (``.incoming-*``) older than an hour; returns count.

    A killed upload or a crash mid-write leaves such a file beside the blobs; no Submission
    ever points at one (rows are written only after the blob is renamed into place). The
    ``collect_returns`` DAG runs this on its sweep.
    """
    age = (
        max_age_seconds
        if max_age_seconds is not None
        else intake_settings().incoming_max_age_seconds
    )
    root = blob_store().root
    if not root.is_dir():
        return 0
    cutoff = clock.now().timestamp() - age
    removed = 0
    for path in root.glob(f"{INCOMING_PREFIX}*"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # another sweep or its writer got there first
            continue
    if removed:
        log.info("removed %d stale temp file(s) from %s", removed, root)
    return removed
