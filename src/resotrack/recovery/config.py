"""Recovery settings, read from ``RESOTRACK_*`` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from resotrack.settings import get_settings


class RecoverySettings(BaseSettings):
    """Where nightly backups go, how many are kept, and where the PostgreSQL tools are."""

    model_config = SettingsConfigDict(env_prefix="RESOTRACK_", extra="ignore")

    backup_dir: Path | None = Field(
        default=None,
        description="Folder the nightly backup writes generations to: another disk or host, "
        "never the home itself (a backup must survive the loss of the machine).",
    )
    backup_keep: int = Field(default=7, ge=1, description="Complete generations kept.")
    pg_bin_dir: Path | None = Field(
        default=None,
        description="Folder holding pg_dump and pg_restore of the server's major version; "
        "PATH if unset.",
    )
    verify_outbox_grace_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="A pending email this long past its due time counts as stuck.",
    )


def recovery_settings() -> RecoverySettings:
    """The process's recovery settings, a section of ``resotrack.settings.get_settings()``."""
    return get_settings().section(RecoverySettings)
