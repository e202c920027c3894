"""Bounded retries for the channels that sweep a queue (the mailbox, the drop folder).

Before an item is read, :func:`begin` counts one more try and commits it; :func:`finish`
forgets the item once it is decided (received, refused or quarantined). An item whose count
keeps growing is one that stops the sweep before it can decide: a reader crash that escaped
the sandbox, a poll killed by the system, a bug. After ``intake_max_tries`` such tries it is
quarantined with the last error instead of tried again, so it never blocks the items after it.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from resotrack import clock
from resotrack.intake.models import IntakeAttempt
from resotrack.store import session_scope

UNFINISHED = "the intake stopped while reading it (a crash or a time-out)"


def begin(channel: str, item: str) -> tuple[int, str | None]:
    """Count one more try of ``item``, committed now; (tries so far, last error)."""
    item = item[:500]
    with session_scope() as session:
        row = session.scalar(
            select(IntakeAttempt)
            .where(IntakeAttempt.channel == channel, IntakeAttempt.item == item)
            .with_for_update()
        )
        if row is None:
            row = IntakeAttempt(channel=channel, item=item, tries=0)
            session.add(row)
        row.tries += 1
        row.last_at = clock.now()
        return row.tries, row.last_error


def failed(channel: str, item: str, error: str) -> None:
    """Note why the last try of ``item`` did not finish (kept for the quarantine reason)."""
    with session_scope() as session:
        row = session.scalar(
            select(IntakeAttempt).where(
                IntakeAttempt.channel == channel, IntakeAttempt.item == item[:500]
            )
        )
        if row is not None:
            row.last_error = error[:2000]


def finish(channel: str, item: str) -> None:
    """``item`` is decided: forget its tries."""
    with session_scope() as session:
        session.execute(
            delete(IntakeAttempt).where(
                IntakeAttempt.channel == channel, IntakeAttempt.item == item[:500]
            )
        )


def gave_up(tries: int, last_error: str | None) -> str:
    """The quarantine reason of an item tried too often."""
    return f"given up after {tries - 1} tries: {last_error or UNFINISHED}"
