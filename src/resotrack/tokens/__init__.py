"""Personal upload links: signed, expiring, revocable tokens stored only as a SHA-256 hash.

The signature lets the portal refuse a forged or expired link before touching the database;
the stored hash lets staff revoke a link and means a leaked table reveals no usable link.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from resotrack import audit, clock
from resotrack.registry.models import FocalPoint
from resotrack.settings import get_settings
from resotrack.tokens.models import UploadToken

SALT = "resotrack.upload-token"
_REPLY_CONTEXT = b"resotrack.reply-address.v1\n"
REPLY_TAG = re.compile(r"\brt-(\d{1,10})-(\d{1,10})-([0-9a-f]{20})\b", re.IGNORECASE)
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
    replace: bool = False,
) -> str:
    """Create a link token for ``focal_point`` in ``cycle_id``; only its hash is stored.

    ``replace``: revoke the focal point's other live links for the cycle first, so that
    sending again (a reminder, a retry) leaves one live link, not one per email.
    """
    if replace:
        session.execute(
            update(UploadToken)
            .where(
                UploadToken.focal_point_id == focal_point.id,
                UploadToken.cycle_id == cycle_id,
                UploadToken.revoked_at.is_(None),
            )
            .values(revoked_at=clock.now(), revoked_by="replaced"),
            execution_options={"synchronize_session": False},
        )
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


# --- signed reply addresses (email returns) ------------------------------------------------


def _reply_mac(key: bytes, focal_point_id: int, cycle_id: int) -> str:
    text = f"{focal_point_id}:{cycle_id}".encode()
    return hmac.new(key, _REPLY_CONTEXT + text, hashlib.sha256).hexdigest()[:20]


def _keys() -> list[bytes]:
    return [k.encode("utf-8") for k in get_settings().verification_keys]


def reply_tag(focal_point_id: int, cycle_id: int) -> str:
    """``rt-<focal point>-<cycle>-<signature>``: lower case, safe in an address's local part.
    Signed with the secret key like the upload link (another domain separation); it grants
    nothing but "a reply that came here is this focal point's, for this cycle"."""
    return f"rt-{focal_point_id}-{cycle_id}-{_reply_mac(_keys()[0], focal_point_id, cycle_id)}"


def reply_address(mailbox: str, focal_point_id: int, cycle_id: int) -> str:
    """``mailbox`` plus-addressed with the focal point's tag (``returns+rt-…@example.org``)."""
    local, _, domain = mailbox.rpartition("@")
    local = local.split("+", 1)[0]
    return f"{local}+{reply_tag(focal_point_id, cycle_id)}@{domain}"


def verify_reply_tags(texts: Iterable[str]) -> set[tuple[int, int]]:
    """The (focal point, cycle) of every validly signed tag in ``texts`` (any accepted key)."""
    found: set[tuple[int, int]] = set()
    keys = _keys()
    for text in texts:
        for fp, cycle, mac in REPLY_TAG.findall(text or ""):
            given = mac.lower().encode()
            if any(
                hmac.compare_digest(_reply_mac(k, int(fp), int(cycle)).encode(), given)
                for k in keys
            ):
                found.add((int(fp), int(cycle)))
    return found


class UploadLinks:
    """The outbox's link issuer (``resotrack.mail.outbox.UploadLinks``): a token per message,
    replacing the focal point's earlier links for the cycle, and the signed reply address."""

    def issue(self, session: Session, focal_point_id: int, cycle_id: int) -> str:
        focal_point = session.get(FocalPoint, focal_point_id)
        if focal_point is None or not focal_point.active:
            raise LookupError(f"focal point {focal_point_id} is no longer active")
        # One live link per focal point and cycle: sending again revokes the earlier ones.
        return issue(session, focal_point, cycle_id, replace=True)

    def revoke(self, session: Session, token: str, *, actor: str) -> None:
        revoke(session, token=token, actor=actor)

    def reply_address(self, mailbox: str, focal_point_id: int, cycle_id: int) -> str:
        return reply_address(mailbox, focal_point_id, cycle_id)


UPLOAD_LINKS: Final = UploadLinks()
