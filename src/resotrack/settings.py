"""All configuration, read once from ``RESOTRACK_*`` environment variables.

Every value has a working default so that a fresh checkout runs with nothing set:
the home folder is ``var/`` and the database is SQLite inside it.

One object per process holds it all: :func:`get_settings` returns the root, and each stage's
own section (``MailSettings``, ``IntakeSettings``, ``ValidationSettings``,
``RecoverySettings``, defined beside the code that uses them, since this module is the bottom
layer) is reached through it with ``get_settings().section(MailSettings)`` (each stage has a
short accessor, e.g. ``resotrack.mail.config.mail_settings()``), built on first use and kept
with the root. The root is made again only when the ``RESOTRACK_*`` environment changes (tests
set variables between calls; a deployment never does); :func:`reset_settings` forgets it.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from pydantic import Field, PrivateAttr, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

Section = TypeVar("Section", bound=BaseSettings)
PREFIX = "RESOTRACK_"


class Settings(BaseSettings):
    """resotrack's settings; override any field with ``RESOTRACK_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="RESOTRACK_", extra="ignore")

    home: Path = Field(default=Path("var"), description="Folder for data, inboxes and blobs.")
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL of the application database; empty means SQLite in home.",
    )
    secret_key: SecretStr = Field(
        default=SecretStr("change-me-in-production"),
        description="Key for signing upload tokens and questionnaire metadata.",
    )
    previous_secret_keys: list[SecretStr] = Field(
        default_factory=list,
        description="Keys retired by a rotation, as a JSON list: upload links and questionnaire "
        "signatures made with them are still accepted; nothing new is signed with them.",
    )
    max_resolution_bytes: int = Field(default=5 * 1024 * 1024)
    airflow_api_url: str = Field(
        default="http://127.0.0.1:8080", description="Airflow's REST API, to trigger DAG runs."
    )
    airflow_username: str = Field(default="admin")
    airflow_password: SecretStr = Field(default=SecretStr(""))

    _sections: dict[type[BaseSettings], BaseSettings] = PrivateAttr(default_factory=dict)

    def section(self, kind: type[Section]) -> Section:
        """A stage's settings (``MailSettings``...), read from the environment once, with the
        root, and kept with it."""
        found = self._sections.get(kind)
        if found is None:
            found = self._sections[kind] = kind()
        assert isinstance(found, kind)
        return found

    @property
    def verification_keys(self) -> list[str]:
        """Every key a signature may have been made with: the current one first."""
        previous = [k.get_secret_value() for k in self.previous_secret_keys]
        return [self.secret_key.get_secret_value(), *previous]

    @property
    def db_url(self) -> str:
        """The database URL, defaulting to ``sqlite:///<home>/resotrack.db``."""
        return self.database_url or f"sqlite:///{self.home / 'resotrack.db'}"

    @property
    def inbox(self) -> Path:
        return self.home / "inbox"

    @property
    def resolutions_inbox(self) -> Path:
        """Drop folder watched by the ``register_resolution`` DAG."""
        return self.inbox / "resolutions"


def _environment() -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(PREFIX)))


@lru_cache(maxsize=1)
def _root(environment: tuple[tuple[str, str], ...]) -> Settings:
    return Settings()


class _Process:
    """``get_settings()``: the process-wide settings, made again only if the environment's
    ``RESOTRACK_*`` variables changed since."""

    def __call__(self) -> Settings:
        return _root(_environment())

    def cache_clear(self) -> None:
        """Forget the settings: the next call reads the environment again."""
        _root.cache_clear()

    def __repr__(self) -> str:
        return "get_settings()"


get_settings = _Process()


def reset_settings() -> None:
    """Forget the settings and every section (tests that change the environment)."""
    get_settings.cache_clear()


def section(kind: type[Section]) -> Section:
    """``get_settings().section(kind)``."""
    return get_settings().section(kind)


__all__ = ["PREFIX", "Settings", "get_settings", "reset_settings", "section"]
