"""Mail: messages rendered per language, an outbox that sends each once at most, yagmail.

Each name is imported on first use (``lazy_loader``), not when the package loads: every
process that opens the database loads each stage's tables, and most need few of these modules.
"""

from typing import TYPE_CHECKING

import lazy_loader

if TYPE_CHECKING:
    from resotrack.mail.config import MailSettings
    from resotrack.mail.outbox import (
        Message,
        OutboxDeliveryError,
        SendReport,
        confirm_uncertain,
        enqueue,
        enqueue_many,
        list_messages,
        resend_uncertain,
        retry_failed,
        send_pending,
    )
    from resotrack.mail.render import TEMPLATES, Rendered, render
    from resotrack.mail.sender import Sender, YagmailSender

__getattr__, __dir__, _ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "config": ["MailSettings"],
        "outbox": [
            "Message",
            "OutboxDeliveryError",
            "SendReport",
            "confirm_uncertain",
            "enqueue",
            "enqueue_many",
            "list_messages",
            "resend_uncertain",
            "retry_failed",
            "send_pending",
        ],
        "render": ["TEMPLATES", "Rendered", "render"],
        "sender": ["Sender", "YagmailSender"],
    },
)

__all__ = [
    "TEMPLATES",
    "MailSettings",
    "Message",
    "OutboxDeliveryError",
    "Rendered",
    "SendReport",
    "Sender",
    "YagmailSender",
    "confirm_uncertain",
    "enqueue",
    "enqueue_many",
    "list_messages",
    "render",
    "resend_uncertain",
    "retry_failed",
    "send_pending",
]
