"""Personal upload links: signed, expiring, revocable tokens stored only as a SHA-256 hash.

The signature lets the portal refuse a forged or expired link before touching the database;
the stored hash lets staff revoke a link and means a leaked table reveals no usable link.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from resotrack import audit, clock
from resotrack.settings import get_settings
from resotrack.store.models import FocalPoint, UploadToken

SALT = "resotrack.upload-token"
DEFAULT_VALIDITY = timedelta(days=120)


class TokenRefused(PermissionError):
    """A link that grants nothing; ``reason`` is one of forged, expired, revoked, unknown."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


@dataclass(frozen=True)
class Grant:
    """What a valid token allows: one focal point's entity and cycle, nothing else."""

    token_id: int
    focal_point_id: int
    entity_code: str
    cycle_id: int
    expires_at: datetime


def _serializer() -> URLSafeTimedSerializer:
    """Signs with the current key; verifies with it or a retired one (itsdangerous takes the
    last key of the list to sign and tries every one to verify)."""
    keys = get_settings().verification_keys
    return URLSafeTimedSerializer([*reversed(keys[1:]), keys[0]], salt=SALT)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue(
    session: Session,
    focal_point: FocalPoint,
    cycle_id: int,
    *,
    valid_for: timedelta = DEFAULT_VALIDITY,
) -> str:
    """Create a link token for ``focal_point`` in ``cycle_id``; only its hash is stored."""
    token = _serializer().dumps({"n": secrets.token_urlsafe(18), "c": cycle_id})
    session.add(
        UploadToken(
            token_sha256=token_hash(token),
            focal_point_id=focal_point.id,
            cycle_id=cycle_id,
            entity_code=focal_point.entity_code,
            issued_at=clock.now(),
            expires_at=clock.now() + valid_for,
        )
    )
    session.flush()
    return token


def verify(session: Session, token: str) -> Grant:
    """The grant of a token, or :class:`TokenRefused` with a reason a person can act on."""
    max_age = int(DEFAULT_VALIDITY.total_seconds())
    try:
        _serializer().loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise TokenRefused("expired", "this upload link has expired") from exc
    except BadSignature as exc:
        raise TokenRefused("forged", "this upload link is not valid") from exc
    row = session.scalar(select(UploadToken).where(UploadToken.token_sha256 == token_hash(token)))
    if row is None:
        raise TokenRefused("unknown", "this upload link is not valid")
    if row.revoked_at is not None:
        raise TokenRefused("revoked", "this upload link was withdrawn by the Secretariat")
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=clock.UTC)
    if expires <= clock.now():
        raise TokenRefused("expired", "this upload link has expired")
    return Grant(row.id, row.focal_point_id, row.entity_code, row.cycle_id, expires)


def revoke(
    session: Session,
    *,
    token: str | None = None,
    entity_code: str | None = None,
    email: str | None = None,
    cycle_id: int | None = None,
    actor: str = "staff",
) -> int:
    """Revoke matching live tokens; returns how many. At least one criterion is required."""
    if not (token or entity_code or email):
        raise ValueError("say which links to revoke: a token, an entity or a focal point's email")
    query = update(UploadToken).where(UploadToken.revoked_at.is_(None))
    if token:
        query = query.where(UploadToken.token_sha256 == token_hash(token))
    if entity_code:
        # codes are kept as registered (``IsDB``); staff may type them in any case
        query = query.where(func.upper(UploadToken.entity_code) == entity_code.upper())
    if email:
        ids = select(FocalPoint.id).where(FocalPoint.email.ilike(email))
        query = query.where(UploadToken.focal_point_id.in_(ids))
    if cycle_id is not None:
        query = query.where(UploadToken.cycle_id == cycle_id)
    count = session.execute(
        query.values(revoked_at=clock.now(), revoked_by=actor),
        execution_options={"synchronize_session": False},
    ).rowcount  # type: ignore[attr-defined]
    audit.record(
        session,
        actor,
        "tokens.revoked",
        entity_code or email or "token",
        count=count,
        cycle_id=cycle_id,
    )
    return int(count)


class UploadLinks:
    """The outbox's link issuer (``resotrack.mail.outbox.UploadLinks``): a token per message."""

    def issue(self, session: Session, focal_point_id: int, cycle_id: int) -> str:
        focal_point = session.get(FocalPoint, focal_point_id)
        if focal_point is None or not focal_point.active:
            raise LookupError(f"focal point {focal_point_id} is no longer active")
        return issue(session, focal_point, cycle_id)

    def revoke(self, session: Session, token: str, *, actor: str) -> None:
        revoke(session, token=token, actor=actor)


UPLOAD_LINKS: Final = UploadLinks()
