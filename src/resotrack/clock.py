"""The one place that reads the wall clock, so reminders and tests can travel in time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

__all__ = ["UTC", "frozen", "now", "today"]

_now: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


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
