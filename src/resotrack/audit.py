"""The audit log: every state change, with who and when, written in the same transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from resotrack.store.models import AuditLog


def record(session: Session, actor: str, action: str, subject: str, **detail: Any) -> None:
    """Add an audit row; it commits (or rolls back) with the change it describes."""
    session.add(AuditLog(actor=actor, action=action, subject=subject, detail=detail))
