"""A command's console reads the terminal's width when it prints, not when its module loads.

rich fixes a console's width when ``COLUMNS`` is set at its making. The command modules make
their consoles at import, so a width set then (by a terminal, or by a test) stayed for the
process: a French line was folded at 80 columns in one test order and not in another.
"""

from __future__ import annotations

import importlib

import pytest
from rich.console import Console

from resotrack.terminal import LiveConsole

COMMAND_MODULES = [
    "resotrack.cli",
    "resotrack.consolidation.cli",
    "resotrack.intake.cli",
    "resotrack.publicsite.cli",
    "resotrack.recovery.cli",
    "resotrack.reminders.cli",
    "resotrack.resolutions.cli",
]


def test_the_width_is_read_at_each_print(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    fixed, live = Console(), LiveConsole()
    monkeypatch.setenv("COLUMNS", "200")
    assert fixed.width == 80  # what rich does: the reason for LiveConsole
    assert live.width == 200
    with live.capture() as captured:
        live.print("mot " * 30)
    assert "\n" not in captured.get().rstrip("\n")


def test_a_width_given_by_the_caller_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    console = LiveConsole(width=50)
    monkeypatch.setenv("COLUMNS", "200")
    assert console.width == 50


@pytest.mark.parametrize("name", COMMAND_MODULES)
def test_every_command_module_prints_through_a_live_console(name: str) -> None:
    module = importlib.import_module(name)
    consoles = [value for value in vars(module).values() if isinstance(value, Console)]
    assert consoles, f"{name} has no console of its own"
    assert all(isinstance(console, LiveConsole) for console in consoles), name
