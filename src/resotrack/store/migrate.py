"""Create or upgrade the application database with Alembic (``resotrack init``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from resotrack.settings import get_settings

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", (url or get_settings().db_url).replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None) -> None:
    """Bring the database to the newest schema; a no-op when it is already there."""
    command.upgrade(alembic_config(url), "head")


def revision(message: str, rev_id: str | None = None, url: str | None = None) -> None:
    """Autogenerate a migration from the models (developers only)."""
    command.revision(alembic_config(url), message=message, rev_id=rev_id, autogenerate=True)
