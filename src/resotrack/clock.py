"""The one place that reads the wall clock, so reminders, tests and the demo can travel in time.

``RESOTRACK_CLOCK_OFFSET_SECONDS`` (a number, default 0) moves every reading by that much, in
every process that inherits it: a trial or a test of the command line (``tests/e2e/test_readme.py``)
then runs on the same calendar whatever the day it runs, while time still passes.

``RESOTRACK_CLOCK_FILE`` names a file holding a further offset in seconds, read again whenever
it changes: a clock that can be moved while processes run. The demo plays its simulated days
by writing the day into it, so the portal, the mail drop and the ingest, each in its own
process, stamp a return with the simulated day it was received on (:func:`move`).

:func:`now` is the calendar (when a return was received, a deadline, an email's date);
:func:`steady` is how long something has run (a claim's lease, a worker's heartbeat), which a
moved calendar must not make look stale: it follows the fixed offset only.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

__all__ = ["UTC", "frozen", "move", "moved_by", "now", "steady", "today"]

FILE_ENV = "RESOTRACK_CLOCK_FILE"
_OFFSET = timedelta(seconds=float(os.environ.get("RESOTRACK_CLOCK_OFFSET_SECONDS") or 0))
_steady: Callable[[], datetime] = lambda: datetime.now(UTC) + _OFFSET  # noqa: E731
_frozen: datetime | None = None
#: (path, inode, mtime_ns, size) of the clock file last read, and the offset it held.
_seen: tuple[tuple[str, int, int, int], timedelta] | None = None


def moved_by() -> timedelta:
    """The offset the clock file holds now (zero without one, or when it cannot be read)."""
    global _seen
    path = os.environ.get(FILE_ENV)
    if not path:
        return timedelta(0)
    try:
        stat = os.stat(path)
    except OSError:
        return timedelta(0)
    key = (path, stat.st_ino, stat.st_mtime_ns, stat.st_size)
    if _seen is not None and _seen[0] == key:
        return _seen[1]
    try:
        offset = timedelta(seconds=float(Path(path).read_text("ascii").strip() or 0))
    except (OSError, ValueError):
        return timedelta(0)
    _seen = (key, offset)
    return offset


def now() -> datetime:
    """The current time on the calendar, timezone-aware (UTC)."""
    if _frozen is not None:
        return _frozen
    return _steady() + moved_by()


def steady() -> datetime:
    """The current time as leases measure it: never moved by the clock file."""
    return _frozen if _frozen is not None else _steady()


def today() -> date:
    return now().date()


def move(path: Path, by: timedelta) -> None:
    """Write ``by`` into the clock file at ``path`` atomically: every process reading it (see
    the module docstring) is then ``by`` ahead of the fixed offset."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(f"{by.total_seconds():.0f}\n")
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Make :func:`now` and :func:`steady` return ``at`` inside the block (time-travel tests,
    ``--today``)."""
    global _frozen
    previous = _frozen
    _frozen = at if at.tzinfo else at.replace(tzinfo=UTC)
    try:
        yield
    finally:
        _frozen = previous
