"""The ``resotrack`` command as staff use it: exit codes, messages, what lands in the database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from conftest import SEED_000, SEED_004
from resotrack import clock
from resotrack.cli import app
from resotrack.store import session_scope
from resotrack.store.models import (
    AuditLog,
    FocalPoint,
    OutboxMessage,
    ReportingEntity,
    ResolutionVersion,
)

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_init_import_show_and_list(db_url: str, shared_dir: Path) -> None:
    assert run("init")[0] == 0
    code, output = run("init")
    assert code == 0 and "0 reporting entities added or updated" in output
    code, output = run("resolutions", "import", str(SEED_000))
    assert code == 0 and "imported 1/49-IT version 1 (5 operative paragraphs)" in output
    code, output = run("resolutions", "import", str(SEED_000))
    assert code == 0 and "unchanged" in output
    code, output = run("resolutions", "show", "1/49-IT")
    assert code == 0 and "version 1" in output and "CHARGE" in output
    code, output = run("entities", "list", "--kind", "member_state")
    assert code == 0 and "57 entities" in output and "Sénégal" in output
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(ResolutionVersion)) == 1
        assert s.scalar(select(func.count()).select_from(ReportingEntity)) > 57


def test_parse_json_needs_no_database(tmp_path: Path, shared_dir: Path) -> None:
    env = {**os.environ, "RESOTRACK_DATABASE_URL": f"sqlite:///{tmp_path}/never.db"}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from resotrack.cli import app; app()",
            "resolutions",
            "parse",
            str(SEED_004),
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    parsed = json.loads(out.stdout)
    assert parsed["symbol"] == "OIC/MCSD-2/2023/RES/FINAL"
    assert [p["number"] for p in parsed["paragraphs"]] == list(range(1, 138))
    assert {"letter", "title"} == set(parsed["sections"][0])
    assert {"number", "section", "text", "verbs", "actions", "addressees"} <= set(
        parsed["paragraphs"][0]
    )
    assert not (tmp_path / "never.db").exists()


def test_errors_are_clear_and_exit_1(db_url: str, tmp_path: Path) -> None:
    run("init")
    empty = tmp_path / "empty.txt"
    empty.write_text("", "utf-8")
    code, output = run("resolutions", "import", str(empty))
    assert code == 1 and "error:" in output and "empty" in output.lower()
    code, output = run("resolutions", "show", "NOPE")
    assert code == 1 and "no resolution with symbol 'NOPE'" in output
    bad = tmp_path / "fp.csv"
    bad.write_text("entity,name,email,language,role\nZZZ,A,a@x.org,en,cc\n", "utf-8")
    code, output = run("focal-points", "import", str(bad))
    assert code == 1 and "line 2: unknown entity 'ZZZ'" in output
    code, _ = run("resolutions", "import", str(tmp_path / "missing.txt"))
    assert code == 2  # typer: the file does not exist


def test_focal_points_and_routing_commands(db_url: str, tmp_path: Path, shared_dir: Path) -> None:
    run("init")
    csv = tmp_path / "fp.csv"
    csv.write_text("entity,name,email,language,role\nSEN,Awa,awa@example.sn,fr,focal point\n")
    code, output = run("focal-points", "import", str(csv))
    assert code == 0 and "1 added" in output
    code, output = run("focal-points", "import", str(csv))
    assert code == 0 and "0 added, 0 updated, 1 unchanged" in output
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(FocalPoint)) == 1
    run("resolutions", "import", str(SEED_004))
    sheet = tmp_path / "routing.xlsx"
    code, output = run("routing", "export", "--resolution", "OIC/MCSD-2/2023/RES/FINAL", str(sheet))
    assert code == 0 and "137 paragraphs" in output and sheet.stat().st_size > 0
    code, output = run("routing", "import", "--resolution", "OIC/MCSD-2/2023/RES/FINAL", str(sheet))
    assert code == 0 and "0 routing overrides" in output


def test_outbox_decisions_on_uncertain_and_failed_messages(db_url: str) -> None:
    with session_scope() as s:
        rows = [
            OutboxMessage(
                idempotency_key=f"cli-{state}-{i}",
                kind="feedback",
                template="feedback",
                language="en",
                to_addrs=["fp@gov.example.org"],
                state=state,
                last_error="connection lost during DATA" if state == "uncertain" else "550 no",
                claimed_at=clock.now(),
            )
            for i, state in enumerate(["uncertain", "uncertain", "failed", "sent"])
        ]
        s.add_all(rows)
        s.flush()
        uncertain_a, uncertain_b, failed, sent = (row.id for row in rows)

    code, output = run("outbox", "confirm", str(uncertain_a), str(sent))
    assert code == 1, output
    assert f"1 message(s) recorded as sent: {uncertain_a}" in output
    assert f"not uncertain (see `resotrack outbox list`), left as they are: {sent}" in output
    assert run("outbox", "resend", str(uncertain_b))[0] == 0
    code, output = run("outbox", "retry", str(failed))
    assert code == 0 and f"queued again: {failed}" in output
    code, output = run("outbox", "resend", str(uncertain_b))  # a second time: nothing to do
    assert code == 1 and "not uncertain" in output

    with session_scope() as s:
        states = {m.id: m.state for m in s.scalars(select(OutboxMessage))}
        actions = set(s.scalars(select(AuditLog.action)))
    assert states == {uncertain_a: "sent", uncertain_b: "pending", failed: "pending", sent: "sent"}
    assert {"outbox.confirmed", "outbox.resend", "outbox.retry_failed"} <= actions
