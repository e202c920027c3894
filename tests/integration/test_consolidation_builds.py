"""Versioned builds, staff review of returns, and publication without Airflow (SQLite and
PostgreSQL, a real SMTP server on loopback).

- Every build is kept with the answers snapshot it came from; unchanged inputs do not make a
  new version; an old build can be recomputed from its own snapshot.
- Asking for a correction reopens the return (the entity owes one again) and emails the focal
  point the comment with a personal upload link, once.
- Publishing copies the files with a SHA-256 checksum file and emails the Secretariat, once;
  rejecting keeps the comment and publishes nothing.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from resotrack.consolidation.builds import BUILDER, build_report, consolidate_pending
from resotrack.consolidation.cli import register
from resotrack.consolidation.models import ReportBuild, SubmissionReview
from resotrack.consolidation.publish import (
    PublishError,
    checksum_name,
    publish_build,
    reject_build,
)
from resotrack.consolidation.review import (
    ReviewError,
    accept_submission,
    request_correction,
)
from resotrack.consolidation.snapshot import Snapshot, load_snapshot
from resotrack.consolidation.tables import NO_REPLY, compute
from resotrack.mail import send_pending
from resotrack.mail.models import OutboxMessage
from resotrack.questionnaires.cycles import open_cycle
from resotrack.settings import get_settings
from resotrack.store import session_scope
from resotrack.store.blobs import blob_store
from resotrack.store.models import AuditLog
from resotrack.validation.models import Answer, Submission
from support.consolidation_world import (  # noqa: F401
    SECRETARIAT,
    SYMBOL,
    Script,
    scripted_fixture,
)
from support.smtp_server import SmtpServer


@pytest.fixture
def mail(scripted: Script, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> SmtpServer:
    monkeypatch.setenv("RESOTRACK_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("RESOTRACK_MAIL_BACKOFF_BASE_SECONDS", "0")
    monkeypatch.setenv("RESOTRACK_MAIL_RUN_RETRIES", "0")
    get_settings.cache_clear()
    return smtp_server


def _cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def _of_kind(script: Script, kind: int) -> str:
    return next(c for c in script.codes if script.kinds[c] == kind)


# --- builds ------------------------------------------------------------------------------


def test_builds_are_versioned_and_kept_with_their_snapshot(scripted: Script) -> None:
    cycle = scripted.cycle_id
    first = build_report(cycle, built_by="test")
    assert first.created and first.version == 1
    prefix = f"cycle-{cycle}-v1-"
    names = sorted(first.outputs)
    assert all(name.startswith(prefix) for name in names)
    assert {n.removeprefix(prefix) for n in names} == {
        "tables.xlsx",
        "report.html",
        "answers-snapshot.json",
        f"report-{SYMBOL.replace('/', '-')}.docx",
        *(f"chart-{c}.{ext}" for c in ("heatmap", "response_rate", "status_by_section")
          for ext in ("svg", "png")),
    }  # fmt: skip
    with session_scope() as s:
        snapshot = load_snapshot(s, cycle)
        row = s.get(ReportBuild, first.build_id)
        assert row is not None and row.state == "built" and row.built_by == "test"
        assert row.summary["builder"] == BUILDER
        stored = blob_store().get(row.snapshot_sha256)
        assert stored == snapshot.to_bytes()
        assert row.answers_sha256 == snapshot.answers_sha256
        assert all(blob_store().exists(sha) for sha in row.outputs.values())

    # Nothing changed: the same build comes back, no new version.
    again = build_report(cycle)
    assert not again.created and again.build_id == first.build_id

    # A changed answer makes version 2; --force makes version 3 from the same inputs.
    code = _of_kind(scripted, 1)
    number = scripted.rows[code][0]
    with session_scope() as s:
        answer = s.scalars(
            select(Answer).where(
                Answer.entity_code == code,
                Answer.paragraph_number == number,
                Answer.current.is_(True),
            )
        ).one()
        old_status = answer.status
        answer.status = "not_started" if old_status != "not_started" else "in_progress"
        new_status = answer.status
    second = build_report(cycle)
    forced = build_report(cycle, force=True)
    assert (second.version, forced.version) == (2, 3) and second.created and forced.created
    with session_scope() as s:
        rows = {b.version: b for b in s.scalars(select(ReportBuild))}
        assert rows[1].answers_sha256 != rows[2].answers_sha256
        assert rows[2].snapshot_sha256 == rows[3].snapshot_sha256
        built = s.scalar(select(func.count()).where(AuditLog.action == "report.built"))
        assert built == 3
        # Version 1 is recomputed from its own snapshot, not from today's answers.
        v1 = compute(Snapshot.from_bytes(blob_store().get(rows[1].snapshot_sha256)))
        v2 = compute(Snapshot.from_bytes(blob_store().get(rows[2].snapshot_sha256)))
    assert v1.matrix.loc[(SYMBOL, number), code] == old_status
    assert v2.matrix.loc[(SYMBOL, number), code] == new_status


def test_consolidate_pending_builds_the_open_cycles(scripted: Script) -> None:
    with session_scope() as s:
        waiting = open_cycle(s, [SYMBOL], scripted.deadline, entities=["SEN"]).id
    results = consolidate_pending()
    assert [r["cycle_id"] for r in results] == [scripted.cycle_id]
    assert consolidate_pending()[0]["created"] is False  # a second event: nothing new
    assert consolidate_pending(only=waiting)[0]["cycle_id"] == waiting  # by hand, any cycle


def test_cli_consolidate_writes_the_files(scripted: Script, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "out"
    result = runner.invoke(
        _cli(), ["consolidate", "--cycle", str(scripted.cycle_id), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "built build v1" in result.output
    assert len(list(out.iterdir())) == 10
    again = runner.invoke(
        _cli(), ["consolidate", "--cycle", str(scripted.cycle_id), "--out", str(out)]
    )
    assert "unchanged since build v1" in again.output
    missing = runner.invoke(_cli(), ["consolidate", "--cycle", "999", "--out", str(out)])
    assert missing.exit_code == 1 and "no cycle 999" in missing.output
    arabic = tmp_path / "ar"
    command = ["consolidate", "--cycle", str(scripted.cycle_id), "--out", str(arabic)]
    in_arabic = runner.invoke(_cli(), [*command, "--language", "ar"])
    assert in_arabic.exit_code == 0 and "built build v2" in in_arabic.output  # a new language
    html = next(arabic.glob("*report.html")).read_text("utf-8")
    assert '<html lang="ar" dir="rtl">' in html
    wrong = runner.invoke(_cli(), [*command, "--language", "de"])
    assert wrong.exit_code == 1 and "ar, en, fr" in wrong.output


# --- review ------------------------------------------------------------------------------


def test_a_correction_request_reopens_the_return_and_emails_the_focal_point(
    scripted: Script, mail: SmtpServer
) -> None:
    code = _of_kind(scripted, 1)
    submission = scripted.submission_of[code]
    comment = "Paragraphe 5 : la colonne des mesures est vide.\n\nMerci d'indiquer la loi."
    with session_scope() as s:
        result = request_correction(s, submission, reviewer="amina", comment=comment)
    assert result.state == "correction_requested" and len(result.messages) == 1
    send_pending()
    (message,) = mail.received()
    assert message.rcpt_tos == (f"fp.{code.lower()}@gov.example.org",)
    body = message.message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "la colonne des mesures est vide" in text and "Merci d'indiquer la loi." in text
    assert "/t/" in text  # a fresh personal upload link to send the corrected workbook
    assert "Correction demandée" in str(message.message["Subject"])  # the focal point's French

    with session_scope() as s:
        sub = s.get(Submission, submission)
        assert sub is not None and sub.state == "correction_requested"
        (review,) = s.scalars(select(SubmissionReview)).all()
        assert (review.decision, review.previous_state, review.reviewer) == (
            "correction_requested",
            "accepted",
            "amina",
        )
        tables = compute(load_snapshot(s, scripted.cycle_id))
    entity = tables.entities.set_index("entity").loc[code]
    assert not entity["returned"]  # the entity owes a return again
    assert (tables.matrix[code] == NO_REPLY).all()

    # Asking again sends nothing more; accepting a return sent back is refused.
    with session_scope() as s:
        repeat = request_correction(s, submission, reviewer="amina", comment="again")
        assert repeat.messages == [] and repeat.warnings
    with pytest.raises(ReviewError, match="correction_requested"), session_scope() as s:
        accept_submission(s, submission, reviewer="amina")
    send_pending()
    assert len(mail.received()) == 1


def test_review_refusals_and_acceptance(scripted: Script, mail: SmtpServer) -> None:
    refused = scripted.submission_of[scripted.codes[0]]  # kind 0: its file was refused
    with pytest.raises(ReviewError, match="refused"), session_scope() as s:
        request_correction(s, refused, reviewer="amina", comment="fix it")
    code = _of_kind(scripted, 2)
    with session_scope() as s:
        older = s.scalars(
            select(Submission.id).where(Submission.entity_code == code).order_by(Submission.id)
        ).first()
    assert older is not None
    with pytest.raises(ReviewError, match="superseded"), session_scope() as s:
        request_correction(s, older, reviewer="amina", comment="fix it")
    with pytest.raises(ReviewError, match="comment"), session_scope() as s:
        request_correction(s, scripted.submission_of[code], reviewer="amina", comment="  ")
    with session_scope() as s:
        accepted = accept_submission(
            s, scripted.submission_of[code], reviewer="amina", comment="fine"
        )
    assert accepted.state == "accepted"
    runner = CliRunner()
    cli = runner.invoke(
        _cli(),
        ["review", "correct", str(scripted.submission_of[code]), "-m", "Annex missing"],
    )
    assert cli.exit_code == 0, cli.output
    assert "correction requested; 1 focal point emailed" in cli.output
    assert len(mail.received()) == 1
    with session_scope() as s:
        decisions = [r.decision for r in s.scalars(select(SubmissionReview))]
        kinds = [m.kind for m in s.scalars(select(OutboxMessage))]
    assert decisions == ["accepted", "correction_requested"]
    assert kinds == ["correction_request"]


# --- publication without Airflow ---------------------------------------------------------


def test_publish_copies_with_checksums_and_emails_the_secretariat_once(
    scripted: Script, mail: SmtpServer
) -> None:
    build = build_report(scripted.cycle_id)
    result = publish_build(build.build_id, reviewer="amina", comment="Good to go")
    send_pending()
    folder = get_settings().home / "published" / str(scripted.cycle_id)
    assert Path(result.folder) == folder
    sums = (folder / checksum_name(scripted.cycle_id, 1)).read_text()
    listed = {name: sha for sha, name in (line.split("  ", 1) for line in sums.splitlines())}
    assert sorted(listed) == sorted(build.outputs)
    for name, sha in listed.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == sha
    with session_scope() as s:
        row = s.get(ReportBuild, build.build_id)
        assert row is not None and row.state == "published"
        assert (row.reviewer, row.comment) == ("amina", "Good to go")
        assert row.checksum == hashlib.sha256(sums.encode()).hexdigest() == result.checksum
        assert row.published_path == str(folder)
    (message,) = mail.received()
    assert message.rcpt_tos == (SECRETARIAT,)
    attached = sorted(p.get_filename() or "" for p in message.message.iter_attachments())
    assert [n.rsplit(".", 1)[1] for n in attached] == ["docx", "xlsx"]
    text = message.message.get_body(("plain",))
    assert text is not None and "Good to go" in text.get_content()

    # Publishing again (a retried task) finishes quietly: no second email.
    publish_build(build.build_id, reviewer="amina", comment="Good to go")
    send_pending()
    assert len(mail.received()) == 1


def test_reject_keeps_the_comment_and_publishes_nothing(scripted: Script, mail: SmtpServer) -> None:
    build = build_report(scripted.cycle_id)
    with session_scope() as s:
        reject_build(s, build.build_id, reviewer="omar", comment="Section C is incomplete")
    with session_scope() as s:
        row = s.get(ReportBuild, build.build_id)
        assert row is not None
        assert (row.state, row.reviewer, row.comment) == (
            "rejected",
            "omar",
            "Section C is incomplete",
        )
    assert not (get_settings().home / "published").exists()
    with pytest.raises(PublishError, match="rejected"):
        publish_build(build.build_id, reviewer="amina")
    assert not (get_settings().home / "published").exists()
    send_pending()
    assert mail.received() == []


def test_cli_reports_list_approve_reject(scripted: Script, mail: SmtpServer) -> None:
    runner = CliRunner()
    first = build_report(scripted.cycle_id).build_id
    second = build_report(scripted.cycle_id, force=True).build_id
    rejected = runner.invoke(_cli(), ["reports", "reject", str(first), "-m", "Too early"])
    assert rejected.exit_code == 0, rejected.output
    approved = runner.invoke(_cli(), ["reports", "approve", str(second), "-m", "OK"])
    assert approved.exit_code == 0, approved.output
    assert "published to" in approved.output
    listed = runner.invoke(_cli(), ["reports", "list", "--json"])
    rows = {r["id"]: r for r in json.loads(listed.output)}
    assert (rows[first]["state"], rows[first]["comment"]) == ("rejected", "Too early")
    assert rows[second]["state"] == "published"
    again = runner.invoke(_cli(), ["reports", "reject", str(second), "-m", "no"])
    assert again.exit_code == 1 and "published" in again.output
    assert len(mail.received()) == 1
