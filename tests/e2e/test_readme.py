"""The README's command-line session, run as written: each line a process, in a fresh home.

Every ``uv run resotrack …`` line of the "The command line" code block runs here in order
(``uv run`` is this environment's own ``resotrack`` script), on the seed resolutions, with a
real SMTP server taking the mail and the clock moved to a fixed day, so the deadline the
README shows stays in the future. Each line must meet its expectation below, and each
expectation must meet a line: a command added to the README, or changed, fails this test until
the test runs it too.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from conftest import REPO
from support.smtp_server import SmtpServer

README = REPO / "README.md"
RESOTRACK = str(Path(sys.executable).parent / "resotrack")
#: The day the session runs on, whatever the day the test runs (the README's deadline is
#: 2027-03-31 and its reminder day 2027-03-24).
TODAY = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)


def section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def command_lines() -> list[str]:
    """The lines of the section's bash block that run resotrack, comments removed."""
    lines = []
    for line in blocks(section("The command line"), "bash")[0].splitlines():
        command = re.sub(r"\s+#.*$", "", line).strip()
        if "uv run resotrack" in command:
            lines.append(command)
    return lines


@dataclass
class Session:
    work: Path
    env: dict[str, str]
    smtp: SmtpServer

    def run(self, line: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """``line`` as the shell runs it (globs, ``VAR=value`` prefixes), in the work folder."""
        command = line.replace("uv run resotrack", shlex.quote(RESOTRACK))
        return subprocess.run(
            ["bash", "-c", command],
            cwd=self.work,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def mail_to(self, address: str) -> list[str]:
        return [
            m.message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
            for m in self.smtp.messages
            if address in m.rcpt_tos
        ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- what each line promises -------------------------------------------------------------


def ok(*texts: str) -> Callable[[Session, str, subprocess.CompletedProcess[str]], None]:
    def check(session: Session, line: str, done: subprocess.CompletedProcess[str]) -> None:
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        flat = " ".join(done.stdout.split())
        for text in texts:
            assert text in flat, f"{line}: {text!r} not in\n{done.stdout}"

    return check


def check_parse(session: Session, line: str, done: subprocess.CompletedProcess[str]) -> None:
    ok()(session, line, done)
    parsed = json.loads(done.stdout)
    assert parsed["symbol"] == "OIC/MCSD-2/2023/RES/FINAL"
    assert len(parsed["paragraphs"]) == 137


def check_import(session: Session, line: str, done: subprocess.CompletedProcess[str]) -> None:
    ok("imported 1/49-IT version 1 (5 operative paragraphs)")(session, line, done)
    again = session.run(line)
    ok("unchanged")(session, line, again)


def check_show(session: Session, line: str, done: subprocess.CompletedProcess[str]) -> None:
    ok()(session, line, done)
    shown = json.loads(done.stdout)
    assert shown["symbol"] == "1/49-IT" and len(shown["paragraphs"]) == 5


def check_export(session: Session, line: str, done: subprocess.CompletedProcess[str]) -> None:
    ok("wrote 5 paragraphs to routing.xlsx")(session, line, done)
    assert (session.work / "routing.xlsx").stat().st_size > 0


def check_institutions(session: Session, line: str, done: subprocess.CompletedProcess[str]) -> None:
    ok("SESRIC", "ICESCO")(session, line, done)
    as_json = session.run(line + " --json")
    ok()(session, line, as_json)
    codes = {e["code"] for e in json.loads(as_json.stdout)}
    assert {"SESRIC", "ICESCO"} <= codes and "SEN" not in codes


def check_open(session: Session, line: str, done: subprocess.CompletedProcess[str]) -> None:
    ok("Cycle 1 opened: 2 questionnaires", "Cycle 1: 2 questionnaires dispatched")(
        session, line, done
    )
    assert done.stdout.strip().splitlines()[-1] == "1"
    sen, egy = session.mail_to("focal.sen@gov.example"), session.mail_to("focal.egy@gov.example")
    assert len(sen) == 1 and len(egy) == 1, "each focal point gets one questionnaire"
    assert any("mission.sen@gov.example" in m.rcpt_tos for m in session.smtp.messages)  # cc
    sent = len(session.smtp.messages)
    again = session.run(line)  # after a crash, or a second click: the same cycle, no new mail
    ok("Cycle 1 with these resolutions, deadline and title exists already")(session, line, again)
    assert again.stdout.strip().splitlines()[-1] == "1"
    assert len(session.smtp.messages) == sent


def check_cycles_list(session: Session, line: str, done: subprocess.CompletedProcess[str]) -> None:
    ok("1/49-IT", "2027-03-31")(session, line, done)
    cycles = json.loads(session.run(line + " --json").stdout)
    assert [(c["id"], c["state"], c["questionnaires"]) for c in cycles] == [(1, "open", 2)]


def check_cycle_show(session: Session, line: str, done: subprocess.CompletedProcess[str]) -> None:
    ok("SEN", "EGY")(session, line, done)
    shown = json.loads(session.run(line + " --json").stdout)
    assert sorted(q["entity"] for q in shown["questionnaires"]) == ["EGY", "SEN"]


def check_dispatch(session: Session, line: str, done: subprocess.CompletedProcess[str]) -> None:
    sent = len(session.smtp.messages)
    ok("Cycle 1: 2 questionnaires dispatched")(session, line, done)
    assert len(session.smtp.messages) == sent, "a second dispatch sends nothing"


def check_outbox(session: Session, line: str, done: subprocess.CompletedProcess[str]) -> None:
    ok("focal.sen@gov.example")(session, line, done)
    rows = json.loads(session.run(line + " --json").stdout)
    assert {r["state"] for r in rows} == {"sent"} and len(rows) == 2


def check_build(session: Session, line: str, done: subprocess.CompletedProcess[str]) -> None:
    ok("wrote 2 workbooks to questionnaires")(session, line, done)
    assert {p.name for p in (session.work / "questionnaires").iterdir()} == {
        "1-EGY.xlsx",
        "1-SEN.xlsx",
    }


def check_serve(session: Session, line: str) -> None:
    """Start the portal as the README says (on a free port), open SEN's link, stop it."""
    port = free_port()
    command = line.replace("--port 8000", f"--port {port}").replace(
        "uv run resotrack", shlex.quote(RESOTRACK)
    )
    assert f"--port {port}" in command
    link = re.search(r"/t/([A-Za-z0-9._-]+)", session.mail_to("focal.sen@gov.example")[0])
    assert link, "the questionnaire email carries an upload link"
    server = subprocess.Popen(
        ["bash", "-c", f"exec {command}"],
        cwd=session.work,
        env=session.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 300  # a loaded machine imports slowly
        page = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/resotrack/t/{link.group(1)}", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert page is not None, f"the portal did not answer: {server.poll()}"
        assert page.status_code == 200 and "1/49-IT" in page.text
    finally:
        server.send_signal(signal.SIGINT)  # Ctrl-C, as the README says
        assert server.wait(timeout=30) in (0, -signal.SIGINT, 130)


def fill_sen(session: Session) -> None:
    """SEN's focal point fills the workbook in (as the demo's simulated people do)."""
    from resotrack.demo.simulate import Role, fill

    path = session.work / "questionnaires" / "1-SEN.xlsx"
    role = Role("SEN", "focal.sen@gov.example", "fr", "on_time")
    path.write_bytes(fill(path.read_bytes(), role, mistakes=False, seed=7))


def check_submit(session: Session, line: str, done: subprocess.CompletedProcess[str]) -> None:
    ok("1-SEN.xlsx: received as submission #1 for SEN in cycle 1")(session, line, done)
    again = session.run(line)
    ok("the same file was already received as submission #1")(session, line, again)


def check_ingest(session: Session, line: str, done: subprocess.CompletedProcess[str]) -> None:
    ok("Submission 1 (SEN, cycle 1): accepted", "1 answer stored")(session, line, done)
    # a return given by hand has no uploader to tell (a link's or an email's sender would be)
    assert len(session.mail_to("focal.sen@gov.example")) == 1, "only the questionnaire"
    again = session.run(line)
    ok("No return is waiting to be checked.")(session, line, again)


def check_returns_list(session: Session, line: str, done: subprocess.CompletedProcess[str]) -> None:
    ok("1-SEN.xlsx", "1 submission in cycle 1")(session, line, done)


def check_reminders(session: Session, line: str, done: subprocess.CompletedProcess[str]) -> None:
    sent = len(session.smtp.messages)
    ok("2027-03-24: 1 message would be sent")(session, line, done)
    assert "focal.egy@gov.example" in done.stdout and "focal.sen@gov.example" not in done.stdout
    assert len(session.smtp.messages) == sent


def check_consolidate(session: Session, line: str, done: subprocess.CompletedProcess[str]) -> None:
    ok("cycle 1: built build v1", "1 of 2 entities returned")(session, line, done)
    names = {p.suffix for p in (session.work / "report").iterdir()}
    assert {".xlsx", ".docx", ".html"} <= names


def check_reports(session: Session, line: str, done: subprocess.CompletedProcess[str]) -> None:
    ok("v1", "50%")(session, line, done)


def check_backup(session: Session, line: str, done: subprocess.CompletedProcess[str]) -> None:
    ok("backup written", "1 submission, 1 answer")(session, line, done)
    generations = list((session.work / "backups").glob("resotrack-*"))
    assert len(generations) == 1 and (generations[0] / "manifest.json").exists()


def check_restore(session: Session, line: str, done: subprocess.CompletedProcess[str]) -> None:
    ok("restored resotrack-", "1 submission, 1 answer")(session, line, done)
    restored = {**session.env, "RESOTRACK_HOME": str(session.work / "restored")}
    shown = subprocess.run(
        [RESOTRACK, "returns", "list", "--cycle", "1"],
        cwd=session.work,
        env=restored,
        capture_output=True,
        text=True,
        timeout=120,
    )
    ok("1-SEN.xlsx")(session, "returns list (restored)", shown)


Check = Callable[[Session, str, subprocess.CompletedProcess[str]], None]
EXPECTED: list[tuple[str, Check]] = [
    ("init", ok("reporting entities added or updated")),
    ("resolutions parse", check_parse),
    ("resolutions import", check_import),
    ("resolutions show", check_show),
    ("routing export", check_export),
    ("routing import", ok("routing overrides stored for 1/49-IT")),
    ("entities list", check_institutions),
    ("focal-points import", ok("focal_points.csv: 4 added")),
    ("cycles open", check_open),
    ("cycles list", check_cycles_list),
    ("cycles show", check_cycle_show),
    ("cycles dispatch", check_dispatch),
    ("outbox list", check_outbox),
    ("questionnaires build", check_build),
    ("portal serve", ok()),  # run by check_serve
    ("returns submit", check_submit),
    ("returns ingest", check_ingest),
    ("returns list", check_returns_list),
    ("review accept", ok("submission 1 (SEN): accepted")),
    ("reminders run", check_reminders),
    ("tokens revoke", ok("1 upload link revoked")),
    ("consolidate", check_consolidate),
    ("reports list", check_reports),
    ("backup", check_backup),
    ("verify --backup", ok("OK")),
    ("verify", ok("OK: nothing wrong found")),
    ("restore", check_restore),
]


def expectation(line: str) -> str:
    """The EXPECTED key of a README line: the longest that starts its arguments."""
    words = line.split("uv run resotrack", 1)[1].strip()
    keys = [key for key, _ in EXPECTED if words == key or words.startswith(key + " ")]
    assert keys, f"the README runs `{line}`, which tests/e2e/test_readme.py does not check"
    return max(keys, key=len)


def test_every_readme_command_is_checked() -> None:
    lines = command_lines()
    assert len(lines) >= 20
    used = [expectation(line) for line in lines]
    assert sorted(used) == sorted(key for key, _ in EXPECTED), (
        "each expectation must meet exactly one README line"
    )


def test_focal_point_example_names_every_role_and_language() -> None:
    from resotrack.catalog import LANGUAGES
    from resotrack.registry.focal_points import ROLES

    text = section("The command line")
    for language in LANGUAGES:
        assert f"`{language}`" in text
    roles = {name for name, role in ROLES.items() if " " in name or name == "cc"}
    described = {name for name in roles if f"`{name}`" in text}
    assert {ROLES[name] for name in described} == set(ROLES.values())


@pytest.mark.slow
@pytest.mark.timeout(1800)  # 27 processes; on a loaded machine each waits long for a core
def test_the_readme_session_runs_as_written(tmp_path: Path, shared_dir: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "shared").symlink_to(shared_dir)  # the README's ../shared/seeds/…
    (work / "focal_points.csv").write_text(
        blocks(section("The command line"), "csv")[0], encoding="utf-8"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("RESOTRACK_", "AIRFLOW"))
    }
    with SmtpServer() as smtp:
        env.update(
            RESOTRACK_HOME=str(work / "var"),
            RESOTRACK_SMTP_PORT=str(smtp.port),
            RESOTRACK_CLOCK_OFFSET_SECONDS=str((TODAY - datetime.now(UTC)).total_seconds()),
            COLUMNS="200",  # wide: the checks below read whole addresses on one line
        )
        session = Session(work, env, smtp)
        checks = dict(EXPECTED)
        for line in command_lines():
            key = expectation(line)
            started = time.monotonic()
            if key == "portal serve":
                check_serve(session, line)
            else:
                if key == "returns submit":
                    fill_sen(session)
                checks[key](session, line, session.run(line))
            print(f"{time.monotonic() - started:6.1f} s  {line}")  # shown when it fails
