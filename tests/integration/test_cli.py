"""The ``resotrack`` command as staff use it: exit codes, messages, what lands in the database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from typer.testing import CliRunner

from conftest import SEED_000, SEED_004
from resotrack import clock
from resotrack.cli import app
from resotrack.mail.models import OutboxMessage
from resotrack.questionnaires.models import ReportingCycle
from resotrack.registry.models import FocalPoint, ReportingEntity
from resotrack.resolutions.models import ResolutionVersion
from resotrack.store import session_scope
from resotrack.store.models import AuditLog
from support.smtp_server import SmtpServer

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
    assert code == 0 and "57 entities" in output and "Senegal" in output
    code, output = run("entities", "list", "--kind", "member_state", "--json")
    assert code == 0 and "Sénégal" in {e["name_fr"] for e in json.loads(output)}
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(ResolutionVersion)) == 1
        assert (s.scalar(select(func.count()).select_from(ReportingEntity)) or 0) > 57


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
    assert f"1 message recorded as sent: {uncertain_a}" in output
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


def test_cycles_open_is_idempotent_and_dispatches_without_airflow(
    db_url: str, tmp_path: Path, shared_dir: Path, smtp_server: SmtpServer, monkeypatch: Any
) -> None:
    monkeypatch.setenv("RESOTRACK_SMTP_PORT", str(smtp_server.port))
    monkeypatch.delenv("RESOTRACK_AIRFLOW_API_URL", raising=False)
    run("init")
    run("resolutions", "import", str(SEED_000))
    csv = tmp_path / "fp.csv"
    csv.write_text("entity,name,email,language,role\nSEN,Awa,awa@example.sn,fr,focal point\n")
    run("focal-points", "import", str(csv))
    deadline = f"{clock.today() + timedelta(days=60):%Y-%m-%d}"
    args = ["cycles", "open", "--resolution", "1/49-IT", "--deadline", deadline, "--entities"]

    code, output = run(*args, "SEN", "--no-dispatch")
    assert code == 0 and "Cycle 1 opened: 1 questionnaire" in output
    assert output.strip().splitlines()[-1] == "1" and not smtp_server.received()
    code, output = run(*args, "SEN")  # the same again: no second cycle, the waiting one goes out
    assert code == 0 and "Cycle 1 with these resolutions" in output
    assert "Cycle 1: 1 questionnaire dispatched" in output
    assert output.strip().splitlines()[-1] == "1"
    assert [m.rcpt_tos for m in smtp_server.received()] == [("awa@example.sn",)]
    code, output = run(*args, "SEN")
    assert code == 0 and "Already dispatched." in output and len(smtp_server.received()) == 1
    code, output = run("cycles", "dispatch", "1")  # by hand, as the DAG does: nothing twice
    assert code == 0 and "Cycle 1: 1 questionnaire dispatched" in output
    assert len(smtp_server.received()) == 1
    code, output = run(*args, "SEN", "--new", "--no-dispatch")
    assert code == 0 and "Cycle 2 opened" in output and output.strip().splitlines()[-1] == "2"
    code, output = run("cycles", "dispatch")  # every waiting cycle
    assert code == 0 and "Cycle 2: 1 questionnaire dispatched" in output
    code, output = run("cycles", "dispatch")
    assert code == 0 and "No cycle is waiting to be dispatched." in output
    code, output = run("cycles", "dispatch", "9")
    assert code == 1 and "there is no cycle 9" in output
    monkeypatch.setenv("RESOTRACK_AIRFLOW_API_URL", "http://127.0.0.1:9")  # configured, down
    code, output = run(*args, "SEN", "--new")
    assert code == 0 and "Airflow did not answer: dispatching here." in output
    assert "Cycle 3: 1 questionnaire dispatched" in output
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(ReportingCycle)) == 3


def test_returns_ingest_with_nothing_pending(db_url: str) -> None:
    code, output = run("returns", "ingest")
    assert code == 0 and "No return is waiting to be checked." in output
    code, output = run("returns", "ingest", "--json")
    assert code == 0 and json.loads(output) == []
