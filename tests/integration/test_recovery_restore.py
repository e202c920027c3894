"""``resotrack restore``: damaged backups refused by name, targets protected, emails held."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from resotrack.mail.models import OutboxMessage
from resotrack.recovery import RecoveryError
from resotrack.recovery.backup import backup
from resotrack.recovery.manifest import MANIFEST, DamagedBackup, Manifest
from resotrack.recovery.restore import restore
from resotrack.settings import get_settings
from resotrack.store import reset_engines, session_scope
from resotrack.validation.models import Answer, Submission
from support.recovery_world import FEW, invoke, make_world
from support.world import queue_notice

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _admin(url: str) -> str:
    return (
        make_url(url)
        .set(drivername="postgresql+psycopg", database="postgres")
        .render_as_string(hide_password=False)
    )


@pytest.fixture
def elsewhere(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, str]]:
    """A second home and database name (not created) to restore into; dropped afterwards."""
    home = tmp_path / "other-home"
    if db_url.startswith("sqlite"):
        url = f"sqlite:///{home / 'resotrack.db'}"
    else:
        other = make_url(db_url).set(database=f"rt_other_{uuid.uuid4().hex[:10]}")
        url = other.render_as_string(hide_password=False)
    yield home, url
    reset_engines()
    if url.startswith("postgresql"):
        admin = create_engine(_admin(url), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
        admin.dispose()


def _switch(monkeypatch: pytest.MonkeyPatch, home: Path, url: str) -> None:
    monkeypatch.setenv("RESOTRACK_HOME", str(home))
    monkeypatch.setenv("RESOTRACK_DATABASE_URL", url)
    get_settings.cache_clear()
    reset_engines()


def _rows() -> tuple[list[tuple[int, str, str]], list[tuple[int, str, int, str, int | None]]]:
    with session_scope() as s:
        subs = [(x.id, x.sha256, x.state) for x in s.scalars(select(Submission).order_by("id"))]
        answers = [
            (a.id, a.entity_code, a.paragraph_number, a.status, a.submission_id)
            for a in s.scalars(select(Answer).order_by("id"))
        ]
    return subs, answers


# --- damaged backups ---------------------------------------------------------------------


@SQLITE_ONLY
def test_a_flipped_byte_in_a_blob_is_refused_naming_the_blob(
    db_url: str,
    tmp_path: Path,
    elsewhere: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_world(FEW[:1])
    folder = backup(tmp_path / "b").folder
    blob = sorted((folder / "blobs").glob("??/*"))[0]
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    blob.write_bytes(bytes(data))
    name = f"blobs/{blob.parent.name}/{blob.name}"
    _switch(monkeypatch, *elsewhere)
    with pytest.raises(DamagedBackup) as caught:
        restore(folder)
    assert caught.value.problems == [
        f"{name}: checksum mismatch (its content changed after the backup)"
    ]
    code, output = invoke(["verify", "--backup", str(tmp_path / "b")])
    assert code == 1 and f"DAMAGED {folder}" in output and name in output


@SQLITE_ONLY
def test_an_incomplete_or_edited_backup_is_refused(
    db_url: str,
    tmp_path: Path,
    elsewhere: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_world(FEW[:1])
    folder = backup(tmp_path / "b").folder
    document = json.loads((folder / MANIFEST).read_text())
    document["tables"] = {}
    document["database"]["tables"]["answer"] += 1
    (folder / MANIFEST).write_text(json.dumps(document))
    _switch(monkeypatch, *elsewhere)
    code, output = invoke(["restore", str(folder)])
    assert code == 1 and "manifest.json: checksum mismatch" in output
    (folder / MANIFEST).unlink()
    code, output = invoke(["restore", str(folder), "--json"])
    assert code == 1
    assert "manifest.json: missing: the backup is incomplete" in json.loads(output)["error"]


# --- targets -----------------------------------------------------------------------------


def test_restore_refuses_a_target_with_data_unless_forced(
    db_url: str,
    tmp_path: Path,
    elsewhere: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_world(FEW)
    before = _rows()
    folder = backup(tmp_path / "b").folder
    _switch(monkeypatch, *elsewhere)
    home, _url = elsewhere

    # a truncated copy of the backup is refused, naming the database file; nothing is written
    damaged = tmp_path / "damaged" / folder.name
    shutil.copytree(folder, damaged)
    name = Manifest.read(folder).database_file
    size = (damaged / name).stat().st_size
    (damaged / name).write_bytes((folder / name).read_bytes()[: size // 2])
    code, output = invoke(["restore", str(damaged)])
    assert code == 1
    assert f"{name}: truncated ({size // 2:,} of {size:,} bytes)" in output
    assert "cannot be restored" in output
    assert not home.exists()
    (damaged / name).unlink()
    assert f"{name}: missing" in invoke(["restore", str(damaged)])[1]

    # the whole backup restores (on PostgreSQL, into a database the restore creates)
    code, output = invoke(["restore", str(folder)])
    assert code == 0, output
    assert _rows() == before
    # the same restore again: refused, naming what is there
    code, output = invoke(["restore", str(folder)])
    assert code == 1
    assert "restore refuses to overwrite data" in output
    assert "already holds 6 blob(s)" in output and "resotrack tables" in output
    # a change after the restore, then --force puts the backup back
    with session_scope() as s:
        s.execute(text("DELETE FROM answer WHERE paragraph_number > 10"))
    assert _rows() != before
    code, output = invoke(["restore", str(folder), "--force", "--json"])
    assert code == 0, output
    report = json.loads(output)
    assert report["replaced"] and report["verify"]["ok"]
    assert _rows() == before


@SQLITE_ONLY
def test_restore_refuses_another_engine(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_world(FEW[:1])
    folder = backup(tmp_path / "b").folder
    _switch(monkeypatch, tmp_path / "h", "postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(RecoveryError, match=r"holds a sqlite database, but .* names a postgresql"):
        restore(folder)


@SQLITE_ONLY
def test_a_folder_of_generations_is_refused_with_their_list(db_url: str, tmp_path: Path) -> None:
    make_world(FEW[:1])
    first, second = backup(tmp_path / "b").folder, backup(tmp_path / "b").folder
    code, output = invoke(["restore", str(tmp_path / "b")])
    assert code == 1
    assert "holds 2 backup(s), not one" in output and f"newest complete one is {second}" in output
    assert str(first) in output


# --- what the restore says and holds -----------------------------------------------------


@SQLITE_ONLY
def test_emails_pending_at_backup_time_are_held_as_uncertain(
    db_url: str,
    tmp_path: Path,
    elsewhere: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_world(FEW[:1])
    row_id = queue_notice("restore-test:1")
    folder = backup(tmp_path / "b").folder
    _switch(monkeypatch, *elsewhere)
    code, output = invoke(["restore", str(folder)])
    assert code == 3, output  # restored, but staff must decide about the email
    assert "1 email pending at backup time is held as uncertain" in output
    assert f"outbox message {row_id} (notice to fp.sen@gov.example.org)" in output
    with session_scope() as s:
        row = s.get(OutboxMessage, row_id)
        assert row is not None and row.state == "uncertain"
        assert f"held by the restore of backup {folder.name}" in (row.last_error or "")
        assert f"<outbox-{row_id}." in (row.last_error or "")
    # staff who know nothing was sent since the backup keep them pending
    code, output = invoke(["restore", str(folder), "--force", "--send-pending"])
    assert code == 0, output
    with session_scope() as s:
        assert s.get(OutboxMessage, row_id).state == "pending"  # type: ignore[union-attr]


@SQLITE_ONLY
def test_a_different_secret_key_is_warned_about(
    db_url: str,
    tmp_path: Path,
    elsewhere: tuple[Path, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RESOTRACK_SECRET_KEY", "the-original-key")
    get_settings.cache_clear()
    make_world(FEW[:1])
    folder = backup(tmp_path / "b").folder
    _switch(monkeypatch, *elsewhere)
    monkeypatch.setenv("RESOTRACK_SECRET_KEY", "a-new-key")
    get_settings.cache_clear()
    result = restore(folder)
    assert any("RESOTRACK_SECRET_KEY is not the key" in w for w in result.warnings)
    monkeypatch.setenv("RESOTRACK_SECRET_KEY", "the-original-key")
    get_settings.cache_clear()
    assert restore(folder, force=True).warnings == []
