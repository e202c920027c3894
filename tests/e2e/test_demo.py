"""``make demo`` end to end: the story's non-interactive mode (``--no-wait``) on a fresh home.

One run of ``python -m resotrack.demo`` as a user would start it: Airflow standalone on the
demo's embedded PostgreSQL, the mail sink, the real portal over HTTP, the real DAGs. The test
reads the summary the demo saves as JSON (the same figures it prints), looks at the mail folder
and the report files, and checks that nothing the demo started is still running afterwards. It
runs on its own ports, so a demo left running on the default ones does not disturb it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from resotrack.demo import processes

REPO = Path(__file__).resolve().parents[2]
#: To the summary: about two minutes on an idle two-core machine; up to three times that while
#: other test runs share it (make demo's goal is ten minutes, installing included).
BUDGET_SECONDS = 420


@pytest.fixture
def own_folder() -> Iterator[Path]:
    """A folder outside pytest's ``tmp_path``: under root the demo's PostgreSQL runs as another
    account, which must pass through every folder above its data, and another pytest session
    on the machine may close pytest's base folder to others (mode 0700) at any moment."""
    folder = Path(tempfile.mkdtemp(prefix="resotrack-demo-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _free_ports() -> tuple[int, int]:
    """An API port whose two neighbours (Airflow's log servers) are free too, and an SMTP port."""
    for _ in range(200):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            api = int(sock.getsockname()[1])
        if api < 60000 and not any(processes.port_in_use(p) for p in range(api, api + 4)):
            return api, api + 3
    raise RuntimeError("no block of four free ports found")


def _demo(home: Path, api: int, smtp: int, timeout: float) -> tuple[int, str]:
    """Run the demo as a user would; on overtime, interrupt it like Ctrl-C so it cleans up."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "RESOTRACK_"))}
    env["COLUMNS"] = "200"
    argv = [sys.executable, "-m", "resotrack.demo", "--no-wait", "--home", str(home)]
    argv += ["--api-port", str(api), "--smtp-port", str(smtp)]
    process = subprocess.Popen(
        argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=90)
        pytest.fail(f"the demo did not finish in time:\n{out[-6000:]}")
    return process.returncode, out


def _mail(folder: Path) -> list[EmailMessage]:
    return [
        message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in sorted((folder / "new").iterdir())
    ]


def _check_mail(home: Path, facts: dict[str, Any]) -> None:
    """Every focal point asked got a workbook and an upload link; counts match the outbox."""
    kept = _mail(home / "mail")
    sent = facts["mail"]["sent_by_kind"]
    assert len(kept) == facts["mail"]["in_maildir"] >= sum(sent.values())
    workbooks: dict[str, int] = defaultdict(int)
    links: set[str] = set()
    for message in kept:
        to = str(message["X-Envelope-To"]).lower().split(", ")
        if any(a.get_filename("").endswith(".xlsx") for a in message.iter_attachments()):
            for address in to:
                workbooks[address] += 1
        body = message.get_body(preferencelist=("plain",))
        if body is not None and re.search(r"https?://\S+/t/\S+", str(body.get_content())):
            links.update(to)
    asked = {a for a in workbooks if a.startswith("fp.")}
    assert len(asked) == facts["simulation"]["focal_points"] == sent["questionnaire"]
    assert asked <= links
    assert "fp.isdb@example.org" in asked  # entity codes keep their case (IsDB)


def _check_story(facts: dict[str, Any]) -> None:
    assert [r["symbol"] for r in facts["resolutions"]] == ["1/49-IT", "OIC/MCSD-2/2023/RES/FINAL"]
    assert facts["entities"]["member_states"] == 57
    cycle, sim = facts["cycle"], facts["simulation"]
    assert cycle["questionnaires"] >= 57 and not cycle["reused"]
    assert sim["focal_points"] == cycle["questionnaires"]  # every entity has a focal point
    planned = sim["planned"]
    assert sim["problems"] == []
    assert planned["with_errors"] > 0 and planned["late"] > 0 and planned["never"] > 0
    assert sim["corrections"] == planned["with_errors"]
    assert sum(sim["first_uploads"].values()) == sim["focal_points"] - planned["never"]
    replied = facts["entities_replied"] / cycle["questionnaires"]
    assert 0.6 <= replied <= 0.8, replied  # "about 70 % reply"
    subs = facts["submissions"]
    assert subs["refused"] == planned["with_errors"]  # every hurried first try, no other
    assert subs.get("accepted_with_warnings", 0) > 0
    assert not set(subs) & {"received", "validating"}  # all decided
    sent = facts["mail"]["sent_by_kind"]
    assert sent["feedback"] == sum(subs.values())
    assert sent["reminder"] > 0 and sent["overdue"] > 0 and sent["escalation"] > 0
    assert facts["mail"]["not_sent"] == 0


def _check_airflow(home: Path, facts: dict[str, Any]) -> None:
    """Airflow ran on the demo's PostgreSQL throughout: no restart, no sweep started by hand,
    and every upload's trigger reached Airflow (one ingest run per upload)."""
    airflow = facts["airflow"]
    assert airflow["metadata_database"].startswith("PostgreSQL 18.")
    assert Path(airflow["postgres_data"]) == home / "postgres"
    assert (home / "postgres" / "PG_VERSION").read_text().strip() == "18"
    assert airflow["component_checks"] > 0
    runs = airflow["ingest_runs"]
    assert runs is not None and runs.get("by_hand", 0) == 0
    assert runs.get("upload", 0) == airflow["uploads"] == sum(facts["submissions"].values())
    assert not (home / "airflow" / "airflow.db").exists()  # not standalone's SQLite


def _check_report(facts: dict[str, Any]) -> None:
    report = facts["report"]
    assert report["state"] == "awaiting_approval" and report["run_id"]
    names = {p.suffix for p in Path(report["folder"]).iterdir()}
    assert {".docx", ".xlsx", ".html"} <= names
    # Uploads are received on the simulated day: the late ones count as late in the report.
    found = re.match(r"(\d+) of \d+ entities returned, (\d+) on time", report["headline"])
    assert found is not None, report["headline"]
    if facts["simulation"]["first_uploads"].get("late"):
        assert int(found[2]) < int(found[1]), report["headline"]
    assert facts["dashboard_status"] == 200  # the dashboard answered the printed login


@pytest.mark.slow
@pytest.mark.airflow
@pytest.mark.timeout(BUDGET_SECONDS + 240)
def test_the_demo_tells_the_whole_story_and_leaves_nothing_running(own_folder: Path) -> None:
    home = own_folder / "var"
    api, smtp = _free_ports()
    record = home / "demo" / "processes.json"
    try:
        started = time.monotonic()
        code, screen = _demo(home, api, smtp, timeout=BUDGET_SECONDS + 120)
        took = time.monotonic() - started
        assert code == 0, screen[-6000:]
        facts: dict[str, Any] = json.loads((home / "demo" / "summary.json").read_text())
        for stage in ("resotrack init", "airflow standalone", "dispatch_questionnaires"):
            assert stage in screen
        assert "resotrack demo — summary" in screen and "Where to look" in screen
        passwords = json.loads((home / "airflow/simple_auth_manager_passwords.json").read_text())
        assert f"login admin / {passwords['admin']}" in screen
        assert re.search(r"Stopped: \d+ processes .*none left; ports freed", screen)
        assert facts["seconds_to_summary"] <= BUDGET_SECONDS, facts["seconds_to_summary"]
        _check_story(facts)
        _check_mail(home, facts)
        _check_report(facts)
        _check_airflow(home, facts)
        print(f"demo: {took:.0f} s in all, {facts['seconds_to_summary']} s to the summary")
    finally:
        marker = f"RESOTRACK_DEMO_HOME={home}"
        left = processes.stop_leftovers(processes.recorded_sessions(record), marker)
    assert left == [], [f"{p.pid} {p.command}" for p in left]
    assert processes.wait_ports_free((api, api + 1, api + 2, smtp), timeout=10) == []


def test_a_port_in_use_is_named_and_nothing_starts(tmp_path: Path) -> None:
    api, smtp = _free_ports()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", smtp))
        holder.listen()
        code, screen = _demo(tmp_path / "var", api, smtp, timeout=60)
    assert code == 1
    assert f"port {smtp} (the mail sink, --smtp-port) is in use" in " ".join(screen.split())
    assert not (tmp_path / "var" / "resotrack.db").exists()
    assert not (tmp_path / "var" / "postgres").exists()
    assert processes.belonging([], f"RESOTRACK_DEMO_HOME={tmp_path / 'var'}") == []
