"""Shared by several test modules (moved from test_portal.py)."""

from __future__ import annotations

import warnings

import httpx
from sqlalchemy import select

from resotrack.store import session_scope
from resotrack.validation.models import Submission
from support.intake_world import REPO, World, world_fixture  # noqa: F401

with warnings.catch_warnings():  # starlette would rather have httpx2; httpx works
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient


BOUNDARY = "resotrack-test-boundary"


def home(world: World, entity: str = "SEN") -> str:
    return f"/resotrack/t/{world.token(entity)}"


def scope(
    world: World, entity: str, *, token_of: str | None = None, cycle: int | None = None
) -> str:
    """The path of ``entity``'s things in a cycle, reached with ``token_of``'s link."""
    token = world.token(token_of or entity)
    return f"/resotrack/t/{token}/c/{cycle or world.cycle_id}/{entity}"


def form(data: bytes, filename: bytes = b"reponse.xlsx") -> tuple[bytes, dict[str, str]]:
    """A multipart body written by hand, so file names can hold any byte (NUL, RLO, ...)."""
    body = (
        f"--{BOUNDARY}\r\n".encode()
        + b'Content-Disposition: form-data; name="file"; filename="'
        + filename
        + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
        + data
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    return body, {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


def upload(
    client: TestClient, path: str, data: bytes, filename: bytes = b"r.xlsx", **headers: str
) -> httpx.Response:
    body, content_type = form(data, filename)
    response: httpx.Response = client.post(
        f"{path}/returns", content=body, headers=content_type | headers, follow_redirects=False
    )
    return response


def submissions() -> list[Submission]:
    with session_scope() as session:
        return list(session.scalars(select(Submission).order_by(Submission.id)))
