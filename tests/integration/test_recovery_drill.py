"""The disaster recovery drill, on SQLite and on PostgreSQL.

1. a cycle with returns: 57 member states, each return received through ``intake.receive``
   and accepted with its answers;
2. a backup while uploads continue (a thread keeps receiving corrected returns; the backup
   waits after its snapshot until two more have been acknowledged, so some land between the
   snapshot and the blob copy);
3. the database is lost (dropped / file deleted) and the home deleted;
4. ``resotrack restore`` into a fresh home and a fresh, empty database;
5. ``resotrack verify`` passes;
6. the consolidated tables equal those computed before the loss, for what the backup held;
7. every upload acknowledged before the backup started is there, and every upload that is
   there has its file: an upload is in the backup whole or not at all.

The recovery point measured is the one at backup time: nothing acknowledged before the backup
started is lost (with a nightly backup, up to 24 h of returns can be lost by design).
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest
from pandas.testing import assert_frame_equal
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from resotrack.settings import get_settings
from resotrack.store.blobs import BlobStore
from support.recovery_world import invoke, run_drill

pytestmark = pytest.mark.slow


def _admin(url: str) -> str:
    return (
        make_url(url)
        .set(drivername="postgresql+psycopg", database="postgres")
        .render_as_string(hide_password=False)
    )


def test_drill(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    live_url = db_url
    made: list[str] = []

    def destroy() -> None:
        if live_url.startswith("sqlite"):
            path = Path(make_url(live_url).database or "")
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            return
        admin = create_engine(_admin(live_url), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = make_url(live_url).database
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()

    def fresh_database(home: Path) -> str:
        if live_url.startswith("sqlite"):
            return f"sqlite:///{home / 'resotrack.db'}"
        name = f"rt_restored_{uuid.uuid4().hex[:10]}"
        admin = create_engine(_admin(live_url), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))  # empty: from template1
        admin.dispose()
        made.append(name)
        return make_url(live_url).set(database=name).render_as_string(hide_password=False)

    def drop_made() -> None:
        from resotrack.store import reset_engines

        reset_engines()
        if made:
            admin = create_engine(_admin(live_url), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                for name in made:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

    request.addfinalizer(drop_made)
    figures, seen = run_drill(
        work=tmp_path, fresh_database=fresh_database, destroy=destroy, invoke=invoke
    )

    # 2. uploads were acknowledged before the backup, and during it
    assert figures.uploads_acked_before >= 57 + 3
    assert figures.uploads_acked_during >= 2
    # 3-4. a new home and database
    assert get_settings().home == seen["home"]
    assert not Path(make_url(live_url).database or "x").exists() or live_url.startswith("postgres")
    # 5. verify passes
    assert seen["verify_code"] == 0, seen["verify_out"]
    assert "OK: nothing wrong found" in seen["verify_out"]
    assert seen["restore_report"]["verify"]["ok"] is True
    # 6. the consolidation's input and every table computed from it are those before the loss
    from resotrack.consolidation.tables import compute

    trimmed, restored = seen["trimmed"], seen["restored"]
    assert restored.answers.rows == seen["live"].answers.rows
    assert restored.to_bytes() == trimmed.to_bytes()
    before, after = compute(trimmed), compute(restored)
    for name in ("matrix", "paragraphs", "entities", "sections", "addressees", "narrative"):
        assert_frame_equal(getattr(after, name), getattr(before, name), check_like=False)
    assert after.summary == before.summary
    assert after.summary["entities_returned"] == figures.states == 57
    # 7. everything acknowledged before the backup started is there, with its file
    restored_subs = seen["restored_subs"]
    store = BlobStore(seen["home"] / "blobs")
    assert figures.acked_before_missing == 0
    for ack in seen["before"]:
        assert restored_subs[ack.submission_id] == (ack.sha256, "received", ack.entity)
    for ack in seen["uploader"].acks:
        if ack.submission_id in restored_subs:  # whole: its file is there and sound
            assert store.path(ack.sha256).is_file()
            assert hashlib.sha256(store.get(ack.sha256)).hexdigest() == ack.sha256
    print(f"\ndrill figures: {figures}")
