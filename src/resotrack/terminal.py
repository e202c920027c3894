"""Terminal output shared by every stage's commands: tables that fit the width, JSON for scripts.

Imports only rich and the standard library, so any layer's CLI module may use it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

#: A longer cell folds onto more lines: for choosing columns it counts this many characters.
FOLD_AT = 28


class LiveConsole(Console):
    """A command module's console: it reads the terminal's width (or ``COLUMNS``) at each print.

    rich fixes a console's width for good when ``COLUMNS`` is set at its making, and a module's
    console is made when the module is first imported: the width of that moment would then hold
    for the whole process (in a test run, for every later command of the worker), whatever the
    terminal is when the command prints."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        if options.get("width") is None:
            self._width = None
        if options.get("height") is None:
            self._height = None


def emit_json(value: object) -> None:
    """``value`` as indented JSON on stdout (dates as ISO text), nothing else."""
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=_iso) + "\n")


def listing(
    value: object,
    *,
    as_json: bool,
    columns: Sequence[tuple[str, int]],
    rows: Callable[[], Sequence[Sequence[Any]]],
    console: Console | None = None,
    before: Sequence[str] = (),
    after: Sequence[str] = (),
) -> None:
    """What a list or show command prints: ``value`` as JSON with ``--json`` (nothing else),
    else the ``before`` lines (rich markup), a :func:`fitted` table of ``columns`` and
    ``rows()``, and the ``after`` lines (a count, a note)."""
    if as_json:
        emit_json(value)
        return
    console = console or Console()
    for line in before:
        console.print(line)
    console.print(fitted(columns, rows()))
    for line in after:
        console.print(line, highlight=False)


def _iso(value: object) -> str:
    isoformat = getattr(value, "isoformat", None)
    return str(isoformat()) if callable(isoformat) else str(value)


def fitted(
    columns: Sequence[tuple[str, int]],
    rows: Sequence[Sequence[Any]],
    *,
    width: int | None = None,
    **options: Any,
) -> Table:
    """A table that fits the terminal.

    ``columns`` are (header, priority). While the table is wider than the terminal, the
    column with the highest priority number goes (the rightmost of equals; priority 0 always
    stays), and what still does not fit folds onto more lines instead of being cut.
    """
    room = width if width is not None else Console().width
    natural = [
        min(
            FOLD_AT,
            max(
                [len(header)]
                + [max((len(x) for x in str(row[i]).splitlines()), default=0) for row in rows]
            ),
        )
        + 3
        for i, (header, _) in enumerate(columns)
    ]
    keep = list(range(len(columns)))
    while sum(natural[i] for i in keep) + 1 > room:
        droppable = [i for i in keep if columns[i][1] > 0]
        if not droppable:
            break
        worst = max(columns[i][1] for i in droppable)
        keep.remove(max(i for i in droppable if columns[i][1] == worst))
    table = Table(**options)
    for i in keep:
        table.add_column(columns[i][0], overflow="fold")
    for row in rows:
        table.add_row(*(str(row[i]) for i in keep))
    return table
