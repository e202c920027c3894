"""Reminders: the ladder before and after a cycle's deadline, only to those who owe a return.

``plan`` holds the rules (pure), ``facts`` reads the database for them, ``run`` queues and
sends, ``ladder`` parses and edits a cycle's ladder, ``cli`` adds ``resotrack reminders``.
The names below are imported on first use, so ``resotrack.reminders.cli`` stays light.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from resotrack.reminders.facts import ReminderError, non_reporting_entities
    from resotrack.reminders.ladder import LadderError
    from resotrack.reminders.run import ReminderRun, run_reminders

_EXPORTS = {
    "LadderError": "resotrack.reminders.ladder",
    "ReminderError": "resotrack.reminders.facts",
    "ReminderRun": "resotrack.reminders.run",
    "non_reporting_entities": "resotrack.reminders.facts",
    "run_reminders": "resotrack.reminders.run",
}

__all__ = [
    "LadderError",
    "ReminderError",
    "ReminderRun",
    "non_reporting_entities",
    "run_reminders",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module), name)
