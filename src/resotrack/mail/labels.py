"""What an outbox row's codes (its kind, its delivery state) read as in a person's language."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from resotrack.catalog import Words


def outbox_state_label(w: Words, state: str) -> str:
    """A message's delivery state as ``w``'s reader says it; an unknown one as is."""
    labels = {
        "pending": w.p("outbox state", "pending"),
        "sending": w.p("outbox state", "sending"),
        "sent": w.p("outbox state", "sent"),
        "failed": w.p("outbox state", "failed"),
        "uncertain": w.p("outbox state", "uncertain"),
    }
    return labels.get(state, state)


def message_kind_label(w: Words, kind: str) -> str:
    """What a queued message is (``questionnaire``, ``feedback``…) as ``w``'s reader says it."""
    labels = {
        "questionnaire": w.p("message kind", "questionnaire"),
        "dispatch_summary": w.p("message kind", "dispatch summary"),
        "feedback": w.p("message kind", "feedback"),
        "receipt": w.p("message kind", "receipt"),
        "notice": w.p("message kind", "notice"),
        "reminder": w.p("message kind", "reminder"),
        "overdue": w.p("message kind", "overdue notice"),
        "escalation": w.p("message kind", "escalation"),
        "final_notice": w.p("message kind", "final notice"),
        "correction_needed": w.p("message kind", "correction needed"),
        "correction_request": w.p("message kind", "correction request"),
        "reminders_summary": w.p("message kind", "reminders summary"),
        "report_published": w.p("message kind", "report published"),
    }
    return labels.get(kind, kind)
