"""Intake settings, read from ``RESOTRACK_*`` environment variables.

Kept beside the code that uses them, reached through ``intake_settings()`` (a section of
``resotrack.settings.get_settings()``, built once per process). Every
field has a default that works on one machine; IMAP polling stays off until a host is set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from resotrack.settings import get_settings

MB = 1024 * 1024


class IntakeSettings(BaseSettings):
    """Limits for uploads, the returns mailbox and the drop folder."""

    model_config = SettingsConfigDict(env_prefix="RESOTRACK_", extra="ignore")

    upload_max_bytes: int = Field(
        default=10 * MB, gt=0, description="Largest accepted workbook, on every channel."
    )
    upload_rate_limit: int = Field(
        default=10, ge=0, description="Uploads per link within the window; 0 turns the limit off."
    )
    upload_rate_window_seconds: int = Field(default=600, gt=0)

    imap_host: str = Field(default="", description="Returns mailbox server; empty: no polling.")
    imap_port: int | None = Field(default=None, description="Default: 993 for ssl, else 143.")
    imap_security: Literal["ssl", "starttls", "none"] = Field(
        default="ssl", description="'none' is for a server on loopback only."
    )
    imap_user: str = ""
    imap_password: SecretStr = SecretStr("")
    imap_mailbox: str = "INBOX"
    imap_ca_file: str | None = Field(
        default=None, description="PEM bundle to trust for TLS (a private CA); system CAs if unset."
    )
    imap_timeout_seconds: float = Field(default=30.0, gt=0)
    imap_mark_seen: bool = Field(
        default=True, description="Flag processed messages \\Seen (the database decides anyway)."
    )
    imap_batch: int = Field(default=200, gt=0, description="Most messages handled in one poll.")
    imap_acknowledge: bool = Field(
        default=True, description="Queue a 'received' email for every accepted workbook."
    )

    intake_max_tries: int = Field(
        default=3,
        ge=1,
        description="A mail or dropped file that stops the sweep this many times is quarantined.",
    )
    imap_trusted_authserv_id: str = Field(
        default="",
        description="authserv-id of the MTA whose Authentication-Results are trusted (it must "
        "strip such headers from incoming mail); empty: only signed reply addresses count.",
    )
    imap_max_attachments: int = Field(
        default=5, ge=1, description="A message with more attachments is quarantined whole."
    )
    imap_max_message_bytes: int = Field(
        default=20 * MB,
        gt=0,
        description="A larger message is not downloaded: quarantined from its headers alone.",
    )
    returns_settle_seconds: float = Field(
        default=5.0, ge=0, description="Leave drop-folder files younger than this (still copying)."
    )
    incoming_max_age_seconds: int = Field(
        default=3600, gt=0, description="Temp files of interrupted uploads older than this go."
    )
    portal_contact: str = Field(
        default="", description="Address shown to focal points; the mail reply-to if empty."
    )

    @property
    def imap_port_or_default(self) -> int:
        if self.imap_port:
            return self.imap_port
        return 993 if self.imap_security == "ssl" else 143

    @property
    def returns_inbox(self) -> Path:
        """The drop folder: ``<home>/inbox/returns`` with ``done/`` and ``failed/`` inside."""
        return get_settings().inbox / "returns"

    def contact_address(self) -> str:
        """Whom a focal point should write to about a refused link or upload."""
        if self.portal_contact:
            return self.portal_contact
        from resotrack.mail.config import mail_settings

        mail = mail_settings()
        return mail.mail_reply_to or mail.mail_from


def intake_settings() -> IntakeSettings:
    """The process's intake settings, a section of ``resotrack.settings.get_settings()``."""
    return get_settings().section(IntakeSettings)
