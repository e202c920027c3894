"""What each planned message says: the template context, its attachments, the staff notice.

The words live in the templates (``resotrack/mail/templates/<kind>/message.*``, translated by
the ``mail`` catalog); this module only gathers the facts they need, in the recipient's
language: dates in Gregorian and Hijri, the problems of a refused return, the annotated copy
of the workbook.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Final

from resotrack import catalog
from resotrack.questionnaires.dates import format_deadline
from resotrack.questionnaires.i18n import as_language, text
from resotrack.registry import grammar
from resotrack.reminders.plan import CycleFacts, Planned, Problem

XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Problems listed in the email; the annotated workbook shows them all.
MAX_LISTED: Final = 8


def _words(value: Any, language: str) -> str:
    """A stored wording: ``{"ar", "en", "fr"}`` (validation's form) or a plain string."""
    if isinstance(value, Mapping):
        found = value.get(language) or value.get("en") or next(iter(value.values()), "")
        return str(found or "")
    return "" if value is None else str(value)


def _column(key: Any, language: str) -> str:
    if not key:
        return ""
    with contextlib.suppress(KeyError, ValueError):
        return text(f"column.{key}", as_language(language))
    return str(key)


def problem_lines(
    problems: Sequence[Mapping[str, Any]], language: str
) -> tuple[list[dict[str, Any]], int]:
    """The first :data:`MAX_LISTED` problems, blockers first, and how many more there are."""
    ordered = sorted(problems, key=lambda p: p.get("severity") != "blocker")
    lines = [
        {
            "row": p.get("row"),
            "paragraph": p.get("paragraph"),
            "column": _column(p.get("column"), language),
            "message": _words(p.get("message"), language),
            "fix": _words(p.get("fix"), language),
        }
        for p in ordered[:MAX_LISTED]
    ]
    return lines, max(0, len(problems) - len(lines))


def owed_lines(owed: Mapping[str, Sequence[int]], language: str) -> list[str]:
    """One line per resolution with paragraphs still owed: "Resolution 3/49-POL: paragraphs
    1–4, 9" (words from the ``session`` catalog)."""
    from resotrack.catalog import Words
    from resotrack.catalog import language as catalog_language
    from resotrack.questionnaires.spec import paragraph_ranges as ranges

    words = Words(catalog_language(language), "session")
    return [
        words.n(
            "Resolution {resolution}: paragraph {paragraphs}",
            "Resolution {resolution}: paragraphs {paragraphs}",
            len(numbers),
            resolution=f"\u2066{resolution}\u2069" if language == "ar" else resolution,
            paragraphs=ranges(numbers).replace(", ", "، ") if language == "ar" else ranges(numbers),
        )
        for resolution, numbers in owed.items()
        if numbers
    ]


def context(cycle: CycleFacts, message: Planned, today: date) -> dict[str, Any]:
    """Everything any reminder template may use; each template takes what it needs.

    ``ladder`` is not shown to anyone: it records which rung this is and the day it was
    planned for, which the next runs read back to apply rules 2 and 3 of :mod:`.plan`.
    """
    language = as_language(message.language)
    entity = message.entity
    standing = entity.standing
    problems, more = problem_lines(standing.problems, language)
    submission = standing.submission
    return {
        "name": message.to.name,
        **grammar.fields(entity.code, entity.kind, entity.names, language),
        "cycle_title": cycle.title,
        "deadline_text": format_deadline(cycle.deadline, language),
        "past_deadline": today > cycle.deadline,
        "paragraphs": entity.owed_count,
        "owed": owed_lines(entity.owed, language) if entity.owes_part else [],
        # Arabic counts take six forms (and the case of the sentence): "الفقرتين المطلوبتين".
        "paragraphs_text": catalog.ngettext(
            language, "reminders", "{n} paragraph", "{n} paragraphs", entity.owed_count
        ),
        "standing": standing.standing,
        "correction_reason": submission.state if submission else None,
        "file_name": submission.file_name if submission else None,
        "received_text": (
            format_deadline(submission.received_at.date(), language) if submission else None
        ),
        "problems": problems,
        "more": more,
        "has_annotated_copy": bool(
            message.kind == "correction_needed" and standing.annotated_sha256
        ),
        "focal_points": [p.name for p in entity.contacts if p.role == "focal_point"],
        "upload_link": {"focal_point_id": message.to.id, "cycle_id": cycle.id},
        "ladder": {
            "offset": message.rung.offset,
            "kind": message.rung.kind,
            "day": today.isoformat(),
        },
    }


def attachments(message: Planned) -> list[dict[str, str]]:
    """A correction request carries the annotated copy of the refused workbook, if kept."""
    standing = message.entity.standing
    if message.kind != "correction_needed" or not standing.annotated_sha256:
        return []
    number = standing.submission.id if standing.submission else 0
    return [
        {
            "filename": f"feedback-{number}.xlsx",
            "sha256": standing.annotated_sha256,
            "content_type": XLSX,
        }
    ]


def staff_notice(cycle: CycleFacts, today: date, problems: Sequence[Problem]) -> dict[str, Any]:
    """The Secretariat's summary (``notice`` template, English), as dispatch reports its own."""
    count = len(problems)
    return {
        "subject": f"Reminders for “{cycle.title}”: {count} to check",
        "paragraphs": [
            f"The reminder run of {today:%Y-%m-%d} for “{cycle.title}” could not reach "
            f"everyone it should have. {count} problem(s) need the Secretariat:",
            *[f"• {p.text}." for p in problems],
            "Each problem is reported once. Once the registry is fixed (resotrack "
            "focal-points import), the next daily run sends what is still due.",
        ],
    }
