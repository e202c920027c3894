"""Upload links and what the portal tells: no token in any log line, the access log keeps
running after uploads, ids that are not yours answer like ids that do not exist, the portal
clears its own stale temporary files when it starts, and a focal point's submissions are
numbered among their entity's own."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from resotrack.intake import receive
from resotrack.intake.receive import INCOMING_PREFIX
from resotrack.portal import standalone_app
from resotrack.store.blobs import blob_store
from support.intake_world import (  # noqa: F401
    PortalProcess,
    World,
    portal_process_fixture,
    world_fixture,
)
from support.portal_calls import form, home, scope, submissions, upload


@pytest.fixture(name="client")
def client_fixture(world: World) -> Iterator[TestClient]:
    with TestClient(standalone_app(), base_url="http://portal.test") as test_client:
        yield test_client


def test_the_access_log_runs_on_and_never_shows_a_token(
    world: World, portal_process: PortalProcess
) -> None:
    portal = portal_process.start(timeout=180)
    token = world.token("SEN")
    base = f"http://127.0.0.1:{portal.port}"
    body, content_type = form(world.workbook("SEN", "logged"))
    path = f"/resotrack/t/{token}/c/{world.cycle_id}/SEN"
    assert httpx.get(f"{base}/resotrack/t/{token}").status_code == 200
    posted = httpx.post(f"{base}{path}/returns", content=body, headers=content_type)
    assert posted.status_code in (200, 303)
    assert httpx.get(f"{base}/resotrack/healthz?after=upload").status_code == 200
    assert httpx.get(f"{base}/resotrack/t/{token}x/nothing").status_code in (403, 404)
    time.sleep(0.5)  # uvicorn writes its access line after the response
    portal.stop()
    log = portal.log_path.read_text(encoding="utf-8", errors="replace")
    assert "healthz?after=upload" in log  # still logging after the upload
    assert "/resotrack/t/" in log and "POST" in log
    assert token not in log and token[:24] not in log


def test_ids_that_are_not_yours_are_not_found(client: TestClient, world: World) -> None:
    upload(client, scope(world, "EGY"), world.workbook("EGY", "theirs"))
    (theirs,) = submissions()
    other = client.get(f"{home(world, 'SEN')}/returns/{theirs.id}/file")
    missing = client.get(f"{home(world, 'SEN')}/returns/999999/file")
    page = client.get(f"{home(world, 'SEN')}/returns/{theirs.id}")
    page_missing = client.get(f"{home(world, 'SEN')}/returns/999999")
    assert other.status_code == missing.status_code == 404
    assert page.status_code == page_missing.status_code == 404
    # The same page, but for the id in the address (the language switch links to it).
    mine, unknown = f"/returns/{theirs.id}/", "/returns/999999/"
    assert other.text.replace(mine, "/returns/?/") == missing.text.replace(unknown, "/returns/?/")


def test_the_portal_clears_its_stale_temporary_files_at_start(
    world: World, portal_process: PortalProcess
) -> None:
    root = blob_store().root
    root.mkdir(parents=True, exist_ok=True)
    stale = root / f"{INCOMING_PREFIX}upload-killed"
    stale.write_bytes(b"x" * 1000)
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    fresh = root / f"{INCOMING_PREFIX}upload-in-progress"
    fresh.write_bytes(b"y")
    portal_process.start(timeout=180)
    assert not stale.exists()
    assert fresh.exists()  # it may be another worker's upload, still running


def test_submission_numbers_count_the_entitys_own_uploads(client: TestClient, world: World) -> None:
    for entity in ("EGY", "NGA", "EGY"):
        receive(
            world.workbook(entity, f"earlier {len(submissions())}"),
            channel="cli",
            original_name="r.xlsx",
            cycle_id=world.cycle_id,
            entity_code=entity,
        )
    upload(client, scope(world, "SEN"), world.workbook("SEN", "mine"))
    (mine,) = [s for s in submissions() if s.entity_code == "SEN"]
    page = client.get(f"{home(world, 'SEN')}/returns/{mine.id}")
    again = upload(client, scope(world, "SEN"), world.workbook("SEN", "mine"))  # a duplicate
    duplicate = client.get(again.headers["location"].replace("http://portal.test", ""))
    assert mine.id == 4
    assert "Envoi n° 1" in page.text and "n° 4" not in page.text  # Senegal reads French
    assert "identique à l&#39;envoi n° 1" in duplicate.text and "n° 4" not in duplicate.text
