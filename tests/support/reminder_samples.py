"""Shared by several test modules (moved from test_reminders_templates.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from resotrack.reminders import messages
from resotrack.reminders.ladder import Fatigue, Rung, default_ladder
from resotrack.reminders.plan import (
    MESSAGE_KINDS,
    Contact,
    CycleFacts,
    EntityFacts,
    EntityStanding,
    Planned,
    SubmissionFact,
)

DEADLINE = date(2026, 4, 1)


LINK = "https://portal.example/resotrack/t/abc.def"


PROBLEM: dict[str, Any] = {
    "row": 5,
    "paragraph": 18,
    "column": "measures",
    "severity": "blocker",
    "message": {"en": "Measures missing.", "fr": "Mesures absentes.", "ar": "التدابير غير موجودة."},
    "fix": {"en": "Describe them.", "fr": "Décrivez-les.", "ar": "صفها."},
}


RUNG_OF: dict[str, Rung] = {
    "reminder": Rung(-7, "reminder"),
    "overdue": Rung(3, "overdue"),
    "escalation": Rung(10, "escalation"),
    "final_notice": Rung(30, "final"),
    "correction_needed": Rung(-7, "reminder"),
}


def sample(
    kind: str,
    language: str = "en",
    *,
    standing: str | None = None,
    name: str = "Amina Diallo",
    entity: str = "Senegal",
    problems: int = 1,
    today: date = date(2026, 3, 25),
    state: str = "refused",
) -> dict[str, Any]:
    """The context the run would store for ``kind``, plus what the outbox adds at send time."""
    standing = standing or ("needs_correction" if kind == "correction_needed" else "no_return")
    submission = (
        SubmissionFact(9, state, datetime(2026, 3, 20, 10, tzinfo=UTC), "12-SEN.xlsx")
        if standing == "needs_correction"
        else None
    )
    facts = EntityFacts(
        code="SEN",
        names={"en": entity, "fr": entity, "ar": entity},
        language=language,
        paragraphs=12,
        contacts=(Contact(1, "Amina Diallo", "fp@gov.example", language, "focal_point"),),
        standing=EntityStanding(
            standing,  # type: ignore[arg-type]
            submission,
            tuple([PROBLEM] * problems) if submission else (),
            "ab" * 32 if kind == "correction_needed" else None,
        ),
    )
    cycle = CycleFacts(
        1, "Follow-up of the 49th CFM", DEADLINE, default_ladder(), Fatigue(6, 3), (facts,), {}
    )
    person = Contact(1, name, "fp@gov.example", language, "focal_point")
    planned = Planned(1, facts, RUNG_OF[kind], kind, person, (), "")  # type: ignore[arg-type]
    values = messages.context(cycle, planned, today)
    values.pop("upload_link")
    values["upload_url"] = LINK
    values["attachment_names"] = [a["filename"] for a in messages.attachments(planned)]
    return values


def _maker(kind: str) -> Callable[..., dict[str, Any]]:
    return lambda **extra: {**sample(kind), **extra}


#: For tests/unit/test_mail_render.py: ``CONTEXTS.update(SAMPLE_CONTEXTS)``.
SAMPLE_CONTEXTS: dict[str, Callable[..., dict[str, Any]]] = {
    kind: _maker(kind) for kind in MESSAGE_KINDS
}
