"""Intake: receive a returned workbook from any channel, keep it, record a Submission.

``receive(...)`` is the one way in (portal, email reply, drop folder, CLI): bytes sniffed,
stored under their SHA-256 and fsynced, the Submission committed, and only then the sender
told; ``announce(receipt)`` then wakes the ingest DAG. ``poll_mailbox()`` and
``collect_returns()`` are the email and drop-folder channels; ``cleanup_incoming()`` removes
what interrupted uploads left behind.
"""

from resotrack.intake.config import IntakeSettings
from resotrack.intake.dropfolder import collect_returns
from resotrack.intake.imap import poll_mailbox
from resotrack.intake.names import content_disposition, display_name, download_name
from resotrack.intake.receive import (
    INGEST_DAG,
    Channel,
    Receipt,
    StoredFile,
    TooLarge,
    announce,
    cleanup_incoming,
    receive,
    record_submission,
    reset_announce_backoff,
    store_file,
)
from resotrack.intake.sniff import NotAWorkbook, sniff_workbook

__all__ = [
    "INGEST_DAG",
    "Channel",
    "IntakeSettings",
    "NotAWorkbook",
    "Receipt",
    "StoredFile",
    "TooLarge",
    "announce",
    "cleanup_incoming",
    "collect_returns",
    "content_disposition",
    "display_name",
    "download_name",
    "poll_mailbox",
    "receive",
    "record_submission",
    "reset_announce_backoff",
    "sniff_workbook",
    "store_file",
]
