"""Mail: messages rendered per language, an outbox that sends each once at most, yagmail."""

from resotrack.catalog import LANGUAGES
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

__all__ = [
    "LANGUAGES",
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
