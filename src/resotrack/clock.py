"""The one place that reads the wall clock, so reminders and tests can travel in time.

``RESOTRACK_CLOCK_OFFSET_SECONDS`` (a number, default 0) moves every reading by that much, in
every process that inherits it: a trial or a test of the command line (``tests/test_readme.py``)
then runs on the same calendar whatever the day it runs, while time still passes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

__all__ = ["UTC", "frozen", "now", "today"]

_OFFSET = timedelta(seconds=float(os.environ.get("RESOTRACK_CLOCK_OFFSET_SECONDS") or 0))
_now: Callable[[], datetime] = lambda: datetime.now(UTC) + _OFFSET  # noqa: E731


def now() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return _now()


def today() -> date:
    return now().date()


@contextmanager
def frozen(at: datetime) -> Iterator[None]:
    """Make :func:`now` return ``at`` inside the block (time-travel tests, ``--today``)."""
    global _now
    previous = _now
    fixed = at if at.tzinfo else at.replace(tzinfo=UTC)
    _now = lambda: fixed  # noqa: E731
    try:
        yield
    finally:
        _now = previous
