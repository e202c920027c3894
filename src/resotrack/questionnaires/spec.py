"""What goes into one questionnaire: plain values, so the workbook build needs no database.

The dispatch stage assembles a ``QuestionnaireSpec`` from the cycle, the entity and the routed
paragraphs; ``build_workbook`` turns it into bytes. Keeping the two apart is what lets tests
and benchmarks build real workbooks without a database or Airflow.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Final

from resotrack.catalog import LANGUAGES, Language

#: Bump when the Return sheet's columns or the _meta keys change: the reader dispatches on it.
TEMPLATE_VERSION: Final = "2026.1"
#: What a focal point answers on each row of a Return sheet, in the sheet's order.
ANSWER_FIELDS: Final = (
    "status",
    "measures",
    "start_date",
    "national_body",
    "challenges",
    "support_requested",
    "evidence",
)

# Entity codes end up in file names (``12-EG.xlsx``): keep them to safe characters.
_SAFE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class QuestionRow:
    """One operative paragraph asked of the entity, with last cycle's answers if any.

    ``prefill`` is keyed by answer column (``status``, ``measures``, ``start_date``, …);
    ``status`` holds a canonical code, ``start_date`` a ``date`` (or text as it was typed).
    ``note``, when set, is attached to the row's status cell (e.g. that the prefill is last
    cycle's answer to the paragraph this one renews).
    """

    resolution: str
    number: int
    section: str | None
    verb: str
    text: str
    prefill: Mapping[str, str | date | None] = field(default_factory=dict, hash=False)
    note: str | None = field(default=None, hash=False)


@dataclass(frozen=True, kw_only=True)
class QuestionnaireSpec:
    """Everything the workbook for one entity in one reporting cycle says."""

    questionnaire_id: int
    cycle_id: int
    entity_code: str
    entity_name: str
    language: Language
    deadline: date
    upload_url: str | None = None
    reply_to: str | None = None
    template_version: str = TEMPLATE_VERSION
    rows: tuple[QuestionRow, ...]

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise ValueError(f"language must be one of {LANGUAGES}, not {self.language!r}")
        if not _SAFE_CODE.fullmatch(self.entity_code):
            raise ValueError(f"entity code {self.entity_code!r} is not safe in a file name")
        if not isinstance(self.rows, tuple):
            raise TypeError("rows must be a tuple (the spec is immutable)")
        seen: set[tuple[str, int]] = set()
        for row in self.rows:
            key = (row.resolution, row.number)
            if key in seen:
                # The reader matches answers to paragraphs by (resolution, number).
                raise ValueError(f"paragraph {row.number} of {row.resolution} appears twice")
            seen.add(key)


def paragraph_ranges(numbers: Iterable[int]) -> str:
    """``[1, 2, 3, 5, 7, 8]`` → ``1–3, 5, 7–8``: a long list of paragraphs read at a glance."""
    ordered = sorted(set(numbers))
    parts: list[str] = []
    start = previous = None
    for n in [*ordered, None]:
        if n is not None and previous is not None and n == previous + 1:
            previous = n
            continue
        if start is not None:
            parts.append(str(start) if start == previous else f"{start}–{previous}")
        start = previous = n
    return ", ".join(parts)
