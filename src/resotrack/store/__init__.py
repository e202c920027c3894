"""Storage: SQLAlchemy models, sessions and migrations."""

from resotrack.store.db import get_engine, reset_engines, session_scope

__all__ = ["get_engine", "reset_engines", "session_scope"]
