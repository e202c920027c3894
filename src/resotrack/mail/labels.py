"""What an outbox row's codes (its kind, its delivery state) are called in a person's language."""

from __future__ import annotations

from typing import Final

from resotrack.catalog import NP_, ValueNames

#: What a message's delivery state is called.
OUTBOX_STATES: Final = ValueNames(
    "outbox state",
    {
        "pending": NP_("outbox state", "waiting to be sent"),
        "sending": NP_("outbox state", "being sent"),
        "sent": NP_("outbox state", "sent"),
        "failed": NP_("outbox state", "not delivered"),
        "uncertain": NP_("outbox state", "delivery uncertain"),
    },
)
#: What each kind of message is called.
MESSAGE_KINDS: Final = ValueNames(
    "message kind",
    {
        "questionnaire": NP_("message kind", "questionnaire"),
        "dispatch_summary": NP_("message kind", "dispatch summary"),
        "feedback": NP_("message kind", "feedback"),
        "receipt": NP_("message kind", "receipt"),
        "notice": NP_("message kind", "notice"),
        "reminder": NP_("message kind", "reminder"),
        "overdue": NP_("message kind", "overdue notice"),
        "escalation": NP_("message kind", "escalation"),
        "final_notice": NP_("message kind", "final notice"),
        "correction_needed": NP_("message kind", "correction needed"),
        "correction_request": NP_("message kind", "correction request"),
        "reminders_summary": NP_("message kind", "reminders summary"),
        "report_published": NP_("message kind", "report published"),
    },
)
