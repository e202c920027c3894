"""Receiving a workbook, the same for every channel: sniffing, names, storage, duplicates,
the drop folder, the CLI, and the clean-up of interrupted writes."""

from __future__ import annotations

import io
import os
import threading
import zipfile
from pathlib import Path

import pytest
import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from resotrack import intake
from resotrack.intake import (
    NotAWorkbook,
    TooLarge,
    cleanup_incoming,
    collect_returns,
    content_disposition,
    display_name,
    download_name,
    receive,
    sniff_workbook,
)
from resotrack.intake.cli import register
from resotrack.intake.names import FALLBACK, MAX_CHARS, is_windows_reserved
from resotrack.store import session_scope
from resotrack.store.blobs import blob_store
from resotrack.store.models import AuditLog
from resotrack.validation.models import Submission
from support.intake_world import World, make_workbook, world_fixture  # noqa: F401

# --- sniffing ----------------------------------------------------------------------------


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _code(data: bytes) -> str:
    with pytest.raises(NotAWorkbook) as refused:
        sniff_workbook(io.BytesIO(data))
    return refused.value.code


def test_a_real_workbook_passes() -> None:
    sniff_workbook(io.BytesIO(make_workbook(1, "SEN")))


def test_sniffing_refuses_what_is_not_an_xlsx_whatever_its_name() -> None:
    workbook = make_workbook(1, "SEN")
    assert _code(b"") == "empty"
    assert _code(b"%PDF-1.7 renamed to reponse.xlsx") == "not_xlsx"
    assert _code(b"Paragraphe;Statut\n1;fait\n") == "not_xlsx"  # a CSV
    assert _code(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500)) == "ole"  # .xls / encrypted
    docx = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
    assert _code(docx) == "not_xlsx"
    ods = _zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b""})
    assert _code(ods) == "ods"
    xlsm = _zip(
        {"[Content_Types].xml": b"", "xl/workbook.xml": b"", "xl/vbaProject.bin": b"\0" * 10}
    )
    assert _code(xlsm) == "macros"
    assert _code(workbook[: len(workbook) // 2]) == "corrupt"  # an interrupted save
    # Zip magic and the right names, but only in a local header, not the central directory.
    assert _code(b"PK\x03\x04" + b"[Content_Types].xml xl/workbook.xml" + bytes(100)) == "corrupt"


# --- file names --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("C:\\Users\\ahmed\\Desktop\\réponse finale.xlsx", "réponse finale.xlsx"),
        ("re\x00ponse.xlsx", "reponse.xlsx"),
        ("report\u202exslx.exe", "reportxslx.exe"),  # right-to-left override removed
        ("\u2067تقرير\u2069.xlsx", "تقرير.xlsx"),  # bidi isolates removed, Arabic kept
        ("line\r\nbreak.xlsx", "linebreak.xlsx"),
        ("  spaced   out .xlsx  ", "spaced out .xlsx"),
        ("..", FALLBACK),
        ("", FALLBACK),
        (None, FALLBACK),
        (b"r\xc3\xa9ponse.xlsx", "réponse.xlsx"),  # raw bytes from a multipart header
        (b"bad\xff\xfe.xlsx", "bad\ufffd\ufffd.xlsx"),
        ("CON.xlsx", "CON.xlsx"),  # shown as is; never a path, and renamed on download
    ],
)
def test_display_names_are_harmless(raw: str | bytes | None, shown: str) -> None:
    assert display_name(raw) == shown


def test_over_long_names_are_cut_keeping_the_extension() -> None:
    name = display_name("x" * 5000 + ".xlsx")
    assert len(name) <= MAX_CHARS
    assert name.endswith("….xlsx")
    assert len(display_name("y" * 5000)) <= MAX_CHARS


@pytest.mark.parametrize(
    "name", ["CON", "con.xlsx", "NUL.txt", "nul", "COM1.xlsx", "lpt9.xlsx", "AUX .xlsx", "COM¹"]
)
def test_reserved_windows_names_are_renamed_on_download(name: str) -> None:
    assert is_windows_reserved(name)
    assert download_name(name).startswith("_")
    assert not is_windows_reserved(download_name(name))


@pytest.mark.parametrize("name", ["CONFIG.xlsx", "console.xlsx", "COM10.xlsx", "NULL.xlsx"])
def test_ordinary_names_are_not_reserved(name: str) -> None:
    assert not is_windows_reserved(name)
    assert download_name(name) == name


def test_content_disposition_is_ascii_with_the_utf8_name_beside() -> None:
    header = content_disposition('تقرير "final";.xlsx')
    header.encode("ascii")  # no raw non-ASCII in a header
    assert header.startswith('attachment; filename="')
    assert "filename*=UTF-8''" in header
    assert '"final"' not in header  # quotes cannot end the parameter early


# --- receive -----------------------------------------------------------------------------


def _count(model: type[Submission] | type[AuditLog]) -> int:
    with session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_receive_stores_fsynced_bytes_then_the_row(world: World) -> None:
    data = world.workbook("SEN", "first")
    receipt = receive(
        data,
        channel="cli",
        original_name="../réponse\u202e.xlsx",
        cycle_id=world.cycle_id,
        entity_code="SEN",
        sender="cli:test",
    )
    assert not receipt.duplicate and receipt.state == "received"
    assert blob_store().get(receipt.sha256) == data
    with session_scope() as session:
        row = session.get(Submission, receipt.submission_id)
        assert row is not None
        assert (row.channel, row.sender, row.entity_code, row.cycle_id) == (
            "cli",
            "cli:test",
            "SEN",
            world.cycle_id,
        )
        assert row.original_name == "réponse.xlsx"
        assert row.size == len(data) and row.state == "received" and row.report == {}
        audit = session.scalars(
            select(AuditLog).where(AuditLog.action == "submission.received")
        ).one()
        assert audit.subject == f"submission:{row.id}"


def test_the_same_bytes_again_are_one_submission(world: World) -> None:
    data = world.workbook("SEN", "again")
    kwargs = {"channel": "portal", "original_name": "a.xlsx", "cycle_id": world.cycle_id}
    first = receive(data, entity_code="SEN", **kwargs)  # type: ignore[arg-type]
    second = receive(data, entity_code="SEN", **kwargs)  # type: ignore[arg-type]
    assert second.duplicate and second.submission_id == first.submission_id
    other_entity = receive(data, entity_code="EGY", **kwargs)  # type: ignore[arg-type]
    assert not other_entity.duplicate and other_entity.submission_id != first.submission_id
    assert _count(Submission) == 2


def test_concurrent_receipts_of_the_same_bytes_make_one_row(world: World) -> None:
    data = world.workbook("NGA", "race")
    receipts = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def one() -> None:
        try:
            barrier.wait()
            receipts.append(
                receive(
                    data,
                    channel="portal",
                    original_name="race.xlsx",
                    cycle_id=world.cycle_id,
                    entity_code="NGA",
                )
            )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len({r.submission_id for r in receipts}) == 1
    assert sum(not r.duplicate for r in receipts) == 1
    assert _count(Submission) == 1


def test_refused_files_leave_nothing_behind(world: World) -> None:
    kwargs = {"channel": "portal", "original_name": "x.xlsx", "cycle_id": world.cycle_id}
    blobs_before = sorted(p.name for p in blob_store().root.rglob("*") if p.is_file())
    with pytest.raises(NotAWorkbook):
        receive(b"not a workbook at all", entity_code="SEN", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(TooLarge):
        receive(world.workbook("SEN"), entity_code="SEN", max_bytes=1000, **kwargs)  # type: ignore[arg-type]
    assert _count(Submission) == 0
    assert sorted(p.name for p in blob_store().root.rglob("*") if p.is_file()) == blobs_before


def test_announce_runs_after_the_commit(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, dict[str, object], int]] = []

    def fake_trigger(dag_id: str, conf: dict[str, object], **_: object) -> str:
        with session_scope() as session:  # another transaction sees the row: it is committed
            visible = session.get(Submission, conf["submission_id"]) is not None
        seen.append((dag_id, conf, int(visible)))
        return "run-1"

    monkeypatch.setattr("resotrack.orchestration.trigger_dag", fake_trigger)
    receipt = receive(
        world.workbook("SEN", "announce"),
        channel="cli",
        original_name="a.xlsx",
        cycle_id=world.cycle_id,
        entity_code="SEN",
    )
    assert intake.announce(receipt) == "run-1"
    assert seen == [("ingest_return", {"submission_id": receipt.submission_id}, 1)]
    duplicate = receive(
        world.workbook("SEN", "announce"),
        channel="cli",
        original_name="a.xlsx",
        cycle_id=world.cycle_id,
        entity_code="SEN",
    )
    assert intake.announce(duplicate) is None and len(seen) == 1


def test_airflow_down_loses_nothing(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    receipts = [
        receive(
            world.workbook("SEN", f"down {n}"),
            channel="cli",
            original_name="a.xlsx",
            cycle_id=world.cycle_id,
            entity_code="SEN",
        )
        for n in range(3)
    ]
    assert intake.announce(receipts[0]) is None  # the no_airflow fixture: connection refused
    tries: list[object] = []
    monkeypatch.setattr("resotrack.orchestration.trigger_dag", lambda *a, **k: tries.append(a))
    assert intake.announce(receipts[1]) is None
    assert tries == []  # backing off: no knocking on a closed door for every upload
    with session_scope() as session:
        for receipt in receipts:
            row = session.get(Submission, receipt.submission_id)
            assert row is not None and row.state == "received"  # waiting for the sweep
    intake.reset_announce_backoff()
    intake.announce(receipts[2])
    assert len(tries) == 1


def test_cleanup_incoming_removes_only_old_temp_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESOTRACK_HOME", str(tmp_path))
    from resotrack.settings import get_settings

    get_settings.cache_clear()
    root = blob_store().root
    root.mkdir(parents=True)
    old, fresh = root / ".incoming-old", root / ".incoming-fresh"
    blob = root / "ab" / ("cd" * 31)
    blob.parent.mkdir()
    for path in (old, fresh, blob):
        path.write_bytes(b"x")
    two_hours_ago = os.stat(old).st_mtime - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    os.utime(blob, (two_hours_ago, two_hours_ago))
    assert cleanup_incoming() == 1
    assert not old.exists() and fresh.exists() and blob.exists()
    assert cleanup_incoming(max_age_seconds=0) == 1
    get_settings.cache_clear()


# --- drop folder -------------------------------------------------------------------------


def test_drop_folder_receives_identified_workbooks_and_explains_the_rest(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESOTRACK_RETURNS_SETTLE_SECONDS", "0")
    inbox = intake.IntakeSettings().returns_inbox
    inbox.mkdir(parents=True)
    (inbox / "senegal.xlsx").write_bytes(world.workbook("SEN", "dropped"))
    (inbox / "renamed.xlsx").write_bytes(b"just text, renamed")
    forged = make_workbook(world.cycle_id, "EGY", key=b"not the secret key")
    (inbox / "forged.xlsx").write_bytes(forged)
    (inbox / "CON.xlsx").write_bytes(world.workbook("NGA", "reserved name"))
    (inbox / ".hidden.xlsx").write_bytes(b"ignored")

    results = {r["file"]: r for r in collect_returns()}
    assert set(results) == {"senegal.xlsx", "renamed.xlsx", "forged.xlsx", "CON.xlsx"}
    assert "submission_id" in results["senegal.xlsx"]
    assert "submission_id" in results["CON.xlsx"]
    assert "not an Excel workbook" in results["renamed.xlsx"]["error"]
    assert "signature" in results["forged.xlsx"]["error"]
    done = sorted(p.name for p in (inbox / "done").iterdir())
    failed = sorted(p.name for p in (inbox / "failed").iterdir())
    assert len(done) == 2 and all(n.endswith(("senegal.xlsx", "CON.xlsx")) for n in done)
    assert len(failed) == 4  # two files, two .reason.txt
    reason = next(
        p for p in (inbox / "failed").iterdir() if p.name.endswith("renamed.xlsx.reason.txt")
    )
    assert "not an Excel workbook" in reason.read_text(encoding="utf-8")
    assert (inbox / ".hidden.xlsx").exists()
    with session_scope() as session:
        rows = session.scalars(select(Submission).order_by(Submission.id)).all()
        assert [(r.channel, r.entity_code, r.original_name) for r in rows] == [
            ("dropfolder", "NGA", "CON.xlsx"),
            ("dropfolder", "SEN", "senegal.xlsx"),
        ]
    assert collect_returns() == []  # nothing left to do


def test_drop_folder_waits_for_files_still_being_copied(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESOTRACK_RETURNS_SETTLE_SECONDS", "60")
    inbox = intake.IntakeSettings().returns_inbox
    inbox.mkdir(parents=True)
    (inbox / "copying.xlsx").write_bytes(world.workbook("SEN"))
    assert collect_returns() == []
    assert (inbox / "copying.xlsx").exists()


# --- CLI ---------------------------------------------------------------------------------


def _cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """resotrack (test harness)."""

    register(app)
    return app


def test_cli_submit_list_and_quarantine(world: World, tmp_path: Path) -> None:
    runner = CliRunner()
    app = _cli()
    file = tmp_path / "retour sénégal.xlsx"
    file.write_bytes(world.workbook("SEN", "cli"))

    result = runner.invoke(app, ["returns", "submit", str(file), "--entity", "sen"])
    assert result.exit_code == 0, result.output
    assert "received as submission #" in result.output
    assert f"cycle {world.cycle_id}" in result.output  # found from the signed _meta
    again = runner.invoke(app, ["returns", "submit", str(file), "--entity", "SEN"])
    assert again.exit_code == 0 and "already received" in again.output

    bogus = tmp_path / "bogus.xlsx"
    bogus.write_bytes(b"plain text")
    refused = runner.invoke(
        app, ["returns", "submit", str(bogus), "--entity", "SEN", "--cycle", str(world.cycle_id)]
    )
    assert refused.exit_code == 1 and "plain text (CSV)" in refused.output
    not_asked = runner.invoke(
        app,
        ["returns", "submit", str(file), "--entity", "EGY", "--cycle", str(world.other_cycle_id)],
    )
    assert not_asked.exit_code == 1 and "no open questionnaire" in not_asked.output

    listed = runner.invoke(app, ["returns", "list", "--cycle", str(world.cycle_id)])
    assert (
        listed.exit_code == 0
        and "SEN" in listed.output
        and "1 submission in cycle" in listed.output
    )
    quarantine = runner.invoke(app, ["returns", "quarantine"])
    assert quarantine.exit_code == 0 and "0 messages" in quarantine.output
