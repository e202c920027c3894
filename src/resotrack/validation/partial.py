"""Partial returns: a return may answer only part of its questionnaire (a ministry's share).

In a cycle that does not require a whole return, a row of the Return sheet is *carried* by a
return when one of its answer cells says something the workbook did not say when it was sent
(a blank row, or a row left as pre-filled, is not carried). Only carried rows are checked by
the quality rules and stored; the others stay owed, and the answers other uploads gave them
stay current (:func:`resotrack.validation.decide.store_returns` replaces per paragraph).
A return that carries no row at all is still refused ("it came back unchanged").
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, Final

from resotrack.questionnaires.spec import ANSWER_FIELDS
from resotrack.questionnaires.spec import paragraph_ranges as ranges
from resotrack.validation.report import Problem

ANSWER_CELLS: Final = ANSWER_FIELDS
#: Paragraphs a return may leave out (removed rows) without being refused, in a partial cycle.
OWED_RULES: Final = frozenset({"contract.paragraph_missing"})
STILL_OWED: Final = "partial.still_owed"


def carries(row: Mapping[str, Any], sent: Mapping[str, Any] | None) -> bool:
    """The row answers something: a cell not blank and not as it was sent."""
    if sent is None:
        return any(row.get(c) is not None for c in ANSWER_CELLS)
    return any(row.get(c) is not None and row.get(c) != sent.get(c) for c in ANSWER_CELLS)


def carried(
    rows: Sequence[Mapping[str, Any]],
    sent: Mapping[tuple[str, int], Mapping[str, Any]] | None,
) -> list[dict[str, Any]]:
    """The rows a partial return answers, in sheet order."""
    return [
        dict(row)
        for row in rows
        if carries(row, sent.get((row["resolution"], row["paragraph"])) if sent else None)
    ]


def owed(
    asked: Sequence[tuple[str, int]], answered: Collection[tuple[str, int]]
) -> dict[str, list[int]]:
    """The paragraphs asked and not answered, by resolution, in questionnaire order."""
    found: dict[str, list[int]] = {}
    for resolution, number in asked:
        if (resolution, number) not in answered:
            found.setdefault(resolution, []).append(number)
    return found


def owed_problems(still: Mapping[str, Sequence[int]]) -> list[Problem]:
    """One remark per resolution that still has unanswered paragraphs."""
    return [
        Problem(
            STILL_OWED,
            severity="warning",
            resolution=resolution,
            values={"paragraphs": ranges(numbers)},
        )
        for resolution, numbers in still.items()
        if numbers
    ]


__all__ = ["OWED_RULES", "STILL_OWED", "carried", "carries", "owed", "owed_problems"]
