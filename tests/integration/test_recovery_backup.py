"""``resotrack backup``: layout, manifest, no secrets, generations, locks, tools, live damage."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from resotrack.recovery import RecoveryError
from resotrack.recovery.backup import backup, locked, prune
from resotrack.recovery.inventory import head_revision
from resotrack.recovery.manifest import (
    GENERATION,
    MANIFEST,
    Manifest,
    blob_name,
    list_generations,
    verify_backup,
)
from resotrack.settings import get_settings
from resotrack.store import session_scope
from resotrack.validation.models import Submission
from support.recovery_world import FEW, invoke, make_world

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
POSTGRES_ONLY = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def _live_blobs() -> set[str]:
    root = get_settings().home / "blobs"
    return {
        f"blobs/{p.parent.name}/{p.name}"
        for p in root.glob("??/*")
        if p.is_file() and not p.name.startswith(".")
    }


def test_backup_holds_database_blobs_settings_and_a_manifest_and_no_secret(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = {
        "RESOTRACK_SECRET_KEY": "s3cret-signing-key-0123456789",
        "RESOTRACK_SMTP_PASSWORD": "smtp-pa55word-xyz",
        "RESOTRACK_IMAP_PASSWORD": "imap-pa55word-xyz",
        "RESOTRACK_AIRFLOW_PASSWORD": "airflow-pa55word-xyz",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    if db_url.startswith("postgresql"):  # trust auth: the server ignores the password
        secrets["database"] = "db-pa55word-xyz"
        url = db_url.replace("postgres@", "postgres:db-pa55word-xyz@", 1)
        assert url != db_url
        monkeypatch.setenv("RESOTRACK_DATABASE_URL", url)
    get_settings.cache_clear()
    make_world(FEW)
    code, output = invoke(["backup", "--out", str(tmp_path / "b"), "--json"])
    assert code == 0, output
    report = json.loads(output)
    folder = Path(report["backup"])
    assert GENERATION.fullmatch(folder.name)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    check = verify_backup(folder)
    assert check.ok and check.warnings == [], check.problems
    manifest = check.manifest
    assert manifest is not None
    engine = "postgresql" if db_url.startswith("postgresql") else "sqlite"
    database = "database.dump" if engine == "postgresql" else "database.sqlite"
    assert (manifest.engine, manifest.database_file) == (engine, database)
    assert {n for n in manifest.files if n.startswith("blobs/")} == _live_blobs()
    assert set(manifest.files) == _live_blobs() | {database, "settings.json"}
    assert manifest.tables["submission"] == len(FEW) and manifest.tables["answer"] > 0
    assert manifest.revision == head_revision()
    # questionnaires and returns: every blob a row needs, nothing else
    assert manifest.blobs["referenced"] == 2 * len(FEW) == manifest.blobs["files"]
    assert manifest.blobs["unreferenced"] == 0 and manifest.problems == []
    with session_scope() as s:
        shas = set(s.scalars(select(Submission.sha256)))
    assert {blob_name(sha) for sha in shas} <= set(manifest.files)

    # no secret anywhere in the backup; which settings were set is recorded
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for value in secrets.values():
                assert value.encode() not in data, f"{value} is in {path.name}"
    recorded = json.loads((folder / "settings.json").read_text())
    assert recorded["settings"]["core"]["secret_key"] == {
        "env": "RESOTRACK_SECRET_KEY",
        "set": True,
        "value": "(secret: not saved)",
    }
    assert recorded["secret_key"]["set"] and not recorded["secret_key"]["is_default"]
    assert "RESOTRACK_SMTP_PASSWORD" in recorded["environment"]
    assert recorded["settings"]["core"]["home"]["set"] is True
    if engine == "postgresql":
        assert ":***@" in recorded["settings"]["core"]["database_url"]["value"]


@SQLITE_ONLY
def test_each_run_is_a_new_generation_and_keep_prunes(db_url: str, tmp_path: Path) -> None:
    make_world(FEW[:1])
    out = tmp_path / "b"
    dead = out / "resotrack-20000101T000000Z"  # a run killed half way: no manifest
    dead.mkdir(parents=True)
    (dead / "database.sqlite").write_bytes(b"half")
    folders = [backup(out).folder for _ in range(3)]
    assert len(set(folders)) == 3
    assert [g.path for g in list_generations(out) if g.complete] == folders
    assert [g.complete for g in list_generations(out)] == [False, True, True, True]
    removed = prune(out, keep=2)
    assert set(removed) == {dead, folders[0]}
    assert [g.path for g in list_generations(out)] == folders[1:]
    result = backup(out, keep=2)
    assert [g.path for g in list_generations(out)] == [folders[2], result.folder]
    assert result.pruned == [folders[1]]


@SQLITE_ONLY
def test_a_second_backup_into_the_same_folder_waits_its_turn(db_url: str, tmp_path: Path) -> None:
    make_world(FEW[:1])
    out = tmp_path / "b"
    with locked(out), pytest.raises(RecoveryError, match="another backup is writing"):
        backup(out)
    assert list_generations(out) == []


@SQLITE_ONLY
def test_backup_refuses_to_write_inside_what_it_copies(db_url: str) -> None:
    make_world(FEW[:1])
    with pytest.raises(RecoveryError, match=r"inside .*blobs"):
        backup(get_settings().home / "blobs" / "backups")
    result = backup(get_settings().home / "backups")
    assert any("lost with the machine" in w for w in result.warnings)


@SQLITE_ONLY
def test_a_blob_missing_from_the_live_store_is_named_in_the_manifest(
    db_url: str, tmp_path: Path
) -> None:
    world = make_world(FEW[:2])
    sid = world.accepted["EGY"]
    with session_scope() as s:
        sha = s.get(Submission, sid).sha256  # type: ignore[union-attr]
    (get_settings().home / blob_name(sha)).unlink()
    code, output = invoke(["backup", "--out", str(tmp_path / "b")])
    assert code == 1
    assert f"{blob_name(sha)}: missing from the live store; needed by submission {sid}" in output
    (folder,) = [g.path for g in list_generations(tmp_path / "b")]
    assert verify_backup(folder).ok  # the backup is whole: it holds what there was
    assert Manifest.read(folder).blobs["missing"] == 1


@POSTGRES_ONLY
def test_missing_or_old_pg_dump_is_said_clearly(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_world(FEW[:1])
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("RESOTRACK_PG_BIN_DIR", str(bin_dir))
    with pytest.raises(RecoveryError) as caught:
        backup(tmp_path / "b")
    message = str(caught.value)
    assert "pg_dump is not installed" in message and "postgresql-client-15" in message
    assert list_generations(tmp_path / "b") == []  # no partial generation left behind

    for tool in ("pg_dump", "pg_restore"):
        fake = bin_dir / tool
        fake.write_text(f"#!/bin/sh\necho '{tool} (PostgreSQL) 9.6.24'\n")
        fake.chmod(0o755)
    with pytest.raises(RecoveryError, match=r"version 9 but the PostgreSQL server is version 15"):
        backup(tmp_path / "b")
    assert list_generations(tmp_path / "b") == []


@SQLITE_ONLY
def test_the_manifest_is_written_last(db_url: str, tmp_path: Path) -> None:
    """A generation is complete only once its manifest exists; it appears in one rename."""
    make_world(FEW[:1])
    seen: list[tuple[str, bool]] = []

    def progress(phase: str, _message: str) -> None:
        for g in list_generations(tmp_path / "b"):
            seen.append((phase, (g.path / MANIFEST).exists()))

    backup(tmp_path / "b", progress=progress)
    assert [s for s in seen if s[0] != "done"] and not any(
        exists for phase, exists in seen if phase != "done"
    )
    assert ("done", True) in seen
    leftovers = [p for p in (tmp_path / "b").rglob(".*") if p.name != ".resotrack-backup.lock"]
    assert leftovers == []
    assert os.listdir(tmp_path / "b")
