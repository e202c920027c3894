"""The portal as a real uvicorn process on loopback: a 50 MB upload is cut off without filling
the disk, and ``kill -9`` in the middle of a burst of uploads loses nothing that was
acknowledged and half-stores nothing that was not."""

from __future__ import annotations

import asyncio
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from resotrack.intake import cleanup_incoming
from resotrack.store import session_scope
from resotrack.store.blobs import blob_store
from resotrack.validation.models import Submission
from support.intake_world import (  # noqa: F401
    PortalProcess,
    World,
    portal_process_fixture,
    world_fixture,
)

pytestmark = pytest.mark.slow

BOUNDARY = "resotrack-process-boundary"
MB = 1024 * 1024


def _disk_usage(root: Path) -> int:
    total = 0
    for path in root.rglob("*"):
        try:
            if path.is_file():
                total += path.stat().st_size
        except FileNotFoundError:
            continue
    return total


class DiskWatch:
    """Samples the blob store's size while an upload runs; remembers the peak."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _disk_usage(self.root))
            time.sleep(0.005)

    def __enter__(self) -> DiskWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _disk_usage(self.root))


def _multipart(data: bytes, name: str = "r.xlsx") -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


HEADERS = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


@pytest.fixture
def portal(portal_process: PortalProcess, world: World) -> Iterator[PortalProcess]:
    yield portal_process.start()


@pytest.mark.parametrize("declare_length", [False, True], ids=["chunked", "content-length"])
def test_a_50_mb_upload_to_the_real_server_stops_at_the_limit(
    portal: PortalProcess, world: World, declare_length: bool
) -> None:
    total = 50 * MB
    sent = 0
    head = _multipart(b"")[: -len(f"\r\n--{BOUNDARY}--\r\n")]
    chunk = bytes(256 * 1024)

    def body() -> Iterator[bytes]:
        nonlocal sent
        yield head
        while sent < total:
            sent += len(chunk)
            yield chunk
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    headers = dict(HEADERS)
    if declare_length:
        headers["content-length"] = str(len(head) + total + len(f"\r\n--{BOUNDARY}--\r\n"))
    url = f"{portal.url}/t/{world.token('SEN')}/c/{world.cycle_id}/SEN/returns"
    root = blob_store().root
    root.mkdir(parents=True, exist_ok=True)
    before = _disk_usage(root)
    status: int | None = None
    started = time.monotonic()
    with DiskWatch(root) as watch:
        try:
            response = httpx.post(url, content=body(), headers=headers, timeout=60)
            status = response.status_code
            assert "trop volumineux" in response.text
        except httpx.TransportError:
            status = None  # the server hung up mid-send, as it may: the answer was 413
    elapsed = time.monotonic() - started
    print(f"50 MB upload: status {status}, {sent:,} bytes sent, peak +{watch.peak - before:,}")
    assert status in (413, None)
    assert sent < total, "the server read the whole 50 MB"
    assert watch.peak - before <= 10 * MB + MB, f"{watch.peak - before:,} bytes written"
    assert elapsed < 30
    with session_scope() as session:
        assert session.scalars(select(Submission)).all() == []
    assert list(root.glob(".incoming-*")) == []
    # The server is still fine.
    assert httpx.get(f"{portal.url}/healthz").status_code == 200


async def _burst(
    requests: list[tuple[str, bytes]], acknowledged: list[int], kill: threading.Event
) -> list[BaseException | None]:
    """POST everything at once; note each acknowledgement; ask for the kill at half-way."""
    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def one(url: str, body: bytes) -> BaseException | None:
            try:
                response = await client.post(
                    url, content=body, headers=HEADERS | {"accept": "application/json"}
                )
            except httpx.TransportError as exc:
                return exc
            if response.status_code != 201:
                return AssertionError(f"HTTP {response.status_code}: {response.text[:200]}")
            acknowledged.append(int(response.json()["submission_id"]))
            if len(acknowledged) >= len(requests) // 2:
                kill.set()
            return None

        return await asyncio.gather(*(one(url, body) for url, body in requests))


def test_kill_9_during_a_burst_loses_no_acknowledged_upload(
    portal_process: PortalProcess, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESOTRACK_UPLOAD_RATE_LIMIT", "100")  # 40 uploads over three links
    portal = portal_process.start()
    entities = list(world.people)
    requests = []
    for n in range(40):
        entity = entities[n % len(entities)]
        data = world.workbook(entity, f"burst {n}", pad_bytes=300 * 1024)
        url = f"{portal.url}/t/{world.token(entity)}/c/{world.cycle_id}/{entity}/returns"
        requests.append((url, _multipart(data, f"burst-{n}.xlsx")))
    acknowledged: list[int] = []
    kill = threading.Event()

    def killer() -> None:
        if kill.wait(60):
            portal.kill()  # SIGKILL, mid-burst

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    results = asyncio.run(_burst(requests, acknowledged, kill))
    thread.join(10)
    assert portal.process is not None and portal.process.returncode == -9, "never killed"
    assert len(acknowledged) >= 20
    failures = [r for r in results if r is not None]
    print(f"burst: {len(acknowledged)} acknowledged, {len(failures)} cut off")
    assert all(isinstance(f, httpx.TransportError) for f in failures), failures

    # Every acknowledged upload is in the database (state received) and in the blob store.
    with session_scope() as session:
        rows = {s.id: s for s in session.scalars(select(Submission))}
    for submission_id in acknowledged:
        assert submission_id in rows, f"acknowledged #{submission_id} was lost"
        assert rows[submission_id].state == "received"
    # No row without its bytes, acknowledged or not.
    for row in rows.values():
        data = blob_store().get(row.sha256)
        assert len(data) == row.size
    # Temp files of interrupted uploads may remain, never referenced; the sweep removes them.
    stray = list(blob_store().root.glob(".incoming-*"))
    print(f"after kill: {len(rows)} rows, {len(stray)} stray temp files")
    for path in stray:
        old = time.time() - 7200
        os.utime(path, (old, old))
    assert cleanup_incoming() == len(stray)

    # A restarted portal shows every acknowledged upload in its entity's history.
    restarted = PortalProcess(portal.log_path).start()
    try:
        shown: set[int] = set()
        for entity in entities:
            page = httpx.get(f"{restarted.url}/t/{world.token(entity)}", timeout=10)
            assert page.status_code == 200
            shown |= {int(n) for n in re.findall(r'id="submission-(\d+)"', page.text)}
        assert set(acknowledged) <= shown
    finally:
        restarted.stop()
