"""All configuration, read once from ``RESOTRACK_*`` environment variables.

Every value has a working default so that a fresh checkout runs with nothing set:
the home folder is ``var/`` and the database is SQLite inside it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after changing env."""
    return Settings()
