"""Mail settings, read from ``RESOTRACK_SMTP_*`` and ``RESOTRACK_MAIL_*`` environment variables.

The SMTP password is read from the environment only: nothing here prompts, reads a keyring
or a ``~/.yagmail`` file, so an unattended worker never hangs waiting for input.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from resotrack.settings import get_settings


class MailSettings(BaseSettings):
    """How resotrack sends mail; every field has a default that works with a local relay."""

    model_config = SettingsConfigDict(env_prefix="RESOTRACK_", extra="ignore")

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_security: Literal["none", "ssl", "starttls"] = "none"
    smtp_user: str = Field(default="", description="Empty: an unauthenticated local relay.")
    smtp_password: SecretStr = SecretStr("")
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    smtp_ca_file: str | None = Field(
        default=None, description="PEM bundle to trust for TLS (a private CA); system CAs if unset."
    )

    mail_from: str = "resotrack@localhost"
    mail_from_name: str = "resotrack"
    mail_reply_to: str | None = Field(
        default=None, description="Where replies go (the returns mailbox); the sender if unset."
    )
    mail_secretariat: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Distribution list for summaries, comma-separated."
    )
    mail_portal_url: str = "http://127.0.0.1:8080/resotrack"
    mail_upload_links: str = Field(
        default="resotrack.tokens:UPLOAD_LINKS",
        description="Who issues upload links (module:attribute, see mail.outbox.UploadLinks).",
    )

    mail_max_attempts: int = Field(default=5, ge=1)
    mail_backoff_base_seconds: float = Field(default=30.0, ge=0)
    mail_run_retries: int = Field(
        default=2, ge=0, description="Extra rounds one send_pending run gives a refused message."
    )
    mail_run_max_wait_seconds: float = Field(
        default=300.0, ge=0, description="Longest sleep before an in-run retry; beyond it, stop."
    )
    mail_lease_seconds: float = Field(
        default=600.0,
        gt=0,
        description="A claim older than this means its worker died mid-send: uncertain.",
    )

    @field_validator("mail_secretariat", mode="before")
    @classmethod
    def _split_addresses(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
        return value

    # Fields are named after their environment variables; code may use these plainer names.
    @property
    def from_address(self) -> str:
        return self.mail_from

    @property
    def secretariat(self) -> list[str]:
        return self.mail_secretariat

    @property
    def from_domain(self) -> str:
        """The domain of the sender address, used to make Message-IDs globally unique."""
        return self.mail_from.rpartition("@")[2] or "localhost"

    def upload_url(self, token: str) -> str:
        """The personal upload link for a raw token."""
        return f"{self.mail_portal_url.rstrip('/')}/t/{token}"


def mail_settings() -> MailSettings:
    """The process's mail settings, a section of ``resotrack.settings.get_settings()``."""
    return get_settings().section(MailSettings)
