"""What validation found, in one shape for every stage, the database and the feedback email.

A :class:`Problem` names a place (Excel row, paragraph, column), a rule id and a severity;
its wording comes from :mod:`resotrack.validation.messages` in Arabic, English and French, so
the stored report serves staff in any language and the email speaks the recipient's. The
stored shape (``Submission.report``) is::

    {"outcome": "accepted" | "accepted_with_warnings" | "refused" | "unreadable",
     "problems": [{"row", "paragraph", "column", "cell", "severity", "rule",
                   "message": {"ar", "en", "fr"}, "fix": {"ar", "en", "fr"}}],
     "summary": {...}}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["blocker", "warning"]
Outcome = Literal["accepted", "accepted_with_warnings", "refused", "unreadable"]

# The submission states an outcome becomes are ``lifecycle.SubmissionState``.


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a return, where it is, and how to fix it.

    ``row`` is the Excel row number the focal point sees (the header is row 1); ``column``
    is a column key of the Return sheet (``measures``), ``cell`` an A1 reference when known.
    ``values`` fill the placeholders of the rule's wording.
    """

    rule: str
    severity: Severity = "blocker"
    row: int | None = None
    paragraph: int | None = None
    resolution: str | None = None
    column: str | None = None
    cell: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def as_dict(self) -> dict[str, Any]:
        """The stored form, with the wording in all three languages."""
        from resotrack.validation.messages import describe

        message, fix = describe(self)
        return {
            "row": self.row,
            "paragraph": self.paragraph,
            "resolution": self.resolution,
            "column": self.column,
            "cell": self.cell,
            "severity": self.severity,
            "rule": self.rule,
            "message": message,
            "fix": fix,
        }


def outcome_of(problems: Iterable[Problem], *, unreadable: bool = False) -> Outcome:
    """Blockers refuse, warnings alone accept with a word to the sender."""
    if unreadable:
        return "unreadable"
    severities = {p.severity for p in problems}
    if "blocker" in severities:
        return "refused"
    if "warning" in severities:
        return "accepted_with_warnings"
    return "accepted"


def sort_key(problem: Problem) -> tuple[int, int, str, str]:
    """Workbook order: whole-file problems first, then by row, then column."""
    return (
        0 if problem.row is None else 1,
        problem.row or 0,
        problem.column or "",
        problem.rule,
    )


__all__ = [
    "Outcome",
    "Problem",
    "Severity",
    "outcome_of",
    "sort_key",
]
