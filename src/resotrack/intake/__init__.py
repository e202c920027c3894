"""Intake: receive a returned workbook from any channel, keep it, record a Submission.

``receive(...)`` is the one way in (portal, email reply, drop folder, CLI): bytes sniffed,
stored under their SHA-256 and fsynced, the Submission committed, and only then the sender
told; ``announce(receipt)`` then wakes the ingest DAG. ``poll_mailbox()`` and
``collect_returns()`` are the email and drop-folder channels; ``cleanup_incoming()`` removes
what interrupted uploads left behind.

Each name below is imported on first use (PEP 562), not when the package loads: the command
line loads every stage's package at start, and most of its commands need none of the channels.

Each name is imported on first use (``lazy_loader``), not when the package loads: the command
line loads every stage's package at start, and most commands need few of these modules.
"""

from typing import TYPE_CHECKING

import lazy_loader

if TYPE_CHECKING:
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

__getattr__, __dir__, _ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "config": ["IntakeSettings"],
        "dropfolder": ["collect_returns"],
        "imap": ["poll_mailbox"],
        "names": ["content_disposition", "display_name", "download_name"],
        "receive": [
            "INGEST_DAG",
            "Channel",
            "Receipt",
            "StoredFile",
            "TooLarge",
            "announce",
            "cleanup_incoming",
            "receive",
            "record_submission",
            "reset_announce_backoff",
            "store_file",
        ],
        "sniff": ["NotAWorkbook", "sniff_workbook"],
    },
)

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
