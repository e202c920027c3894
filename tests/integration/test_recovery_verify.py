"""``resotrack verify``: blobs, answers and the outbox of the live system."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from resotrack import clock
from resotrack.mail.models import OutboxMessage
from resotrack.recovery.inventory import head_revision
from resotrack.recovery.manifest import blob_name
from resotrack.recovery.verify import verify_live
from resotrack.settings import get_settings
from resotrack.store import session_scope
from resotrack.validation.models import Answer, Submission
from support.recovery_world import FEW, invoke, make_world

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _sha(submission_id: int) -> str:
    with session_scope() as s:
        row = s.get(Submission, submission_id)
        assert row is not None
        return row.sha256


@SQLITE_ONLY  # the drill runs verify on PostgreSQL
def test_a_deleted_blob_is_reported(db_url: str) -> None:
    world = make_world(FEW)
    code, output = invoke(["verify", "--json"])
    report = json.loads(output)
    assert code == 0 and report["ok"], output
    assert report["counts"]["submissions"] == len(FEW)
    assert report["counts"]["blobs_referenced"] == 2 * len(FEW)
    assert {name: c["ok"] for name, c in report["checks"].items()} == {
        "schema": True,
        "blobs": True,
        "answers": True,
        "outbox": True,
    }

    sid = world.accepted["PAK"]
    sha = _sha(sid)
    (get_settings().home / blob_name(sha)).unlink()
    code, output = invoke(["verify"])
    assert code == 1
    assert (
        f"{blob_name(sha)}: missing from the blob store; needed by submission {sid} (PAK, "
        f"cycle {world.cycle_id})"
    ) in output
    assert "NOT OK: 1 problem" in output
    report = json.loads(invoke(["verify", "--json"])[1])
    assert report["checks"]["blobs"]["problems"] == [
        {
            "check": "blobs",
            "subject": blob_name(sha),
            "message": f"missing from the blob store; needed by submission {sid} (PAK, cycle "
            f"{world.cycle_id})",
        }
    ]


@SQLITE_ONLY
def test_a_changed_blob_is_reported(db_url: str) -> None:
    world = make_world(FEW[:1])
    sha = _sha(world.accepted["SEN"])
    path = get_settings().home / blob_name(sha)
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    report = verify_live()
    assert not report.ok
    (finding,) = report.problems
    assert finding.subject == blob_name(sha)
    assert finding.message.startswith("checksum mismatch (the file hashes to ")


@SQLITE_ONLY
def test_answers_must_come_from_accepted_submissions(db_url: str) -> None:
    world = make_world(FEW)
    sen, egy, pak = (world.accepted[c] for c in FEW)
    with session_scope() as s:
        s.execute(update(Submission).where(Submission.id == egy).values(state="refused"))
        s.execute(
            update(Submission).where(Submission.id == pak).values(state="correction_requested")
        )
        first = s.scalars(select(Answer).where(Answer.submission_id == sen).limit(1)).one()
        s.add(
            Answer(
                cycle_id=world.cycle_id,
                entity_code="SEN",
                resolution_symbol=first.resolution_symbol,
                paragraph_number=first.paragraph_number,
                submission_id=None,
                current=True,
                status="not_started",
            )
        )
    report = verify_live()
    lines = [p.line() for p in report.checks["answers"].problems]
    egy_answers = len(world.specs["EGY"].rows)
    assert lines[0].startswith(f"SEN in cycle {world.cycle_id}: 1 answer comes from no submission")
    assert lines[1] == (
        f"submission {egy} (EGY, cycle {world.cycle_id}): is 'refused', yet {egy_answers} "
        "answers come from it; only accepted returns give answers"
    )
    assert lines[2] == (
        f"SEN §{first.paragraph_number} of {first.resolution_symbol}, cycle {world.cycle_id}: "
        "2 answers are marked current; exactly one must be"
    )
    assert len(lines) == 3  # a return sent back for correction keeps its answers as history


@SQLITE_ONLY
def test_stuck_emails_are_reported(db_url: str) -> None:
    make_world(FEW[:1])
    now = clock.now()
    states: list[tuple[str, dict[str, object]]] = [
        ("sending", {"claimed_at": now - timedelta(hours=1)}),  # its worker died
        ("sending", {"claimed_at": now - timedelta(seconds=5)}),  # being sent now: fine
        ("uncertain", {"last_error": "connection lost during DATA"}),
        ("failed", {"attempts": 5, "last_error": "550 mailbox unavailable"}),
        ("pending", {"next_attempt_at": now - timedelta(hours=3)}),  # nobody delivers
        ("pending", {"next_attempt_at": now + timedelta(minutes=5)}),  # backing off: fine
        ("sent", {"sent_at": now}),
    ]
    with session_scope() as s:
        for i, (state, extra) in enumerate(states):
            s.add(
                OutboxMessage(
                    idempotency_key=f"verify:{i}",
                    kind="notice",
                    template="notice",
                    language="en",
                    to_addrs=[f"fp{i}@gov.example.org"],
                    state=state,
                    created_at=now - timedelta(hours=4),
                    **extra,
                )
            )
    report = verify_live()
    lines = [p.line() for p in report.checks["outbox"].problems]
    assert [line.split(":")[0] for line in lines] == [
        "outbox message 1 (notice to fp0@gov.example.org)",
        "outbox message 3 (notice to fp2@gov.example.org)",
        "outbox message 4 (notice to fp3@gov.example.org)",
        "outbox message 5 (notice to fp4@gov.example.org)",
    ]
    assert "past the 600 s lease" in lines[0]
    assert "uncertain" in lines[1] and "confirm or resend" in lines[1]
    assert "failed after 5 attempts (550 mailbox unavailable)" in lines[2]
    assert "more than 1 h past due" in lines[3]
    assert report.counts["outbox_pending"] == 2


@SQLITE_ONLY
def test_a_schema_that_is_not_current_stops_the_check(db_url: str) -> None:
    with session_scope() as s:
        s.execute(text("UPDATE alembic_version SET version_num = '0003'"))
    code, output = invoke(["verify"])
    assert code == 1
    expected = f"schema revision 0003; run `resotrack init` to upgrade it to {head_revision()}"
    assert expected in output
    assert "not checked: blobs, answers, outbox" in output


@SQLITE_ONLY
def test_a_missing_database_is_reported(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    gone = Path(get_settings().home) / "nowhere.db"
    monkeypatch.setenv("RESOTRACK_DATABASE_URL", f"sqlite:///{gone}")
    get_settings.cache_clear()
    report = verify_live()
    assert not report.ok and f"the database file {gone} does not exist" in report.text()
