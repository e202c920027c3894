"""Dispatch of seed 004 to the 57 member states over a real SMTP server on loopback.

Each focal point must receive exactly one message whose workbook reads back, holds the
paragraphs routing gives its entity, and carries a valid signature, however often the
dispatch runs, and even when it is killed half way.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import cast

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import select

from conftest import SEED_004
from resotrack import clock
from resotrack.mail import OutboxDeliveryError, confirm_uncertain, resend_uncertain
from resotrack.mail.models import OutboxMessage
from resotrack.questionnaires import read_meta, status_label, verify_meta
from resotrack.questionnaires.cycles import CycleError, open_cycle
from resotrack.questionnaires.dispatch import build_questionnaire, dispatch_pending, load_cycle
from resotrack.questionnaires.models import ReportingCycle
from resotrack.registry import import_focal_points, sync_entities
from resotrack.registry.models import FocalPoint, ReportingEntity
from resotrack.resolutions import import_file
from resotrack.resolutions.routing import routing_for
from resotrack.settings import get_settings
from resotrack.store import session_scope
from resotrack.validation.answers import earlier_answers
from resotrack.validation.models import Answer
from support.airflow_env import AirflowHome
from support.smtp_server import SmtpServer

SYMBOL = "OIC/MCSD-2/2023/RES/FINAL"
SECRETARIAT = "follow-up@oic.example.org"


def _states() -> list[ReportingEntity]:
    with session_scope() as s:
        return list(
            s.scalars(select(ReportingEntity).where(ReportingEntity.kind == "member_state"))
        )


@pytest.fixture
def mail_env(db_url: str, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> SmtpServer:
    monkeypatch.setenv("RESOTRACK_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("RESOTRACK_MAIL_SECRETARIAT", SECRETARIAT)
    monkeypatch.setenv("RESOTRACK_MAIL_BACKOFF_BASE_SECONDS", "0")
    monkeypatch.setenv("RESOTRACK_MAIL_RUN_RETRIES", "1")
    monkeypatch.setenv("RESOTRACK_SECRET_KEY", "test-signing-key")
    get_settings.cache_clear()
    return smtp_server


@pytest.fixture
def cycle_id(mail_env: SmtpServer, tmp_path: Path, shared_dir: Path) -> int:
    """Seed 004 × 57 member states, one focal point each in its working language."""
    with session_scope() as s:
        sync_entities(s)
    import_file(SEED_004)
    states = _states()
    lines = ["entity,name,email,language,role"]
    lines += [
        f"{e.code},Focal {e.code},fp.{e.code.lower()}@gov.example.org,{e.language},focal point"
        for e in states
    ]
    lines.append("SEN,Copie Sénégal,cc.sen@gov.example.org,fr,cc")
    csv = tmp_path / "focal.csv"
    csv.write_text("\n".join(lines) + "\n", "utf-8")
    with session_scope() as s:
        import_focal_points(s, csv)
    with session_scope() as s:
        cycle = open_cycle(
            s, [SYMBOL], clock.today() + timedelta(days=60), entities=[e.code for e in states]
        )
        return cycle.id


def _focal_messages(server: SmtpServer) -> Counter[str]:
    return Counter(rcpt for m in server.received() for rcpt in m.rcpt_tos if rcpt.startswith("fp."))


def _check_attachment(server: SmtpServer, cycle: int) -> int:
    """Every focal point's attachment: readable, right rows, valid signature."""
    key = b"test-signing-key"
    with session_scope() as s:
        routing = routing_for(s, SYMBOL)
    checked = 0
    for received in server.received():
        recipient = received.rcpt_tos[0]
        if not recipient.startswith("fp."):
            continue
        code = recipient.split("@")[0].removeprefix("fp.").upper()
        (part,) = [p for p in received.message.iter_attachments()]
        assert part.get_filename() == f"{cycle}-{code}.xlsx"
        data = part.get_payload(decode=True)
        assert isinstance(data, bytes)
        meta = read_meta(data)
        fields = {k: v for k, v in meta.items() if k != "signature"}
        assert verify_meta(fields, meta["signature"], key)
        assert (meta["entity_code"], meta["cycle_id"]) == (code, str(cycle))
        rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("Return")
        numbers = [
            int(float(cast(float, r[1]))) for r in rows.to_python()[1:] if r and str(r[1]).strip()
        ]
        assert numbers == routing.paragraphs_for(code)
        checked += 1
    return checked


def test_each_focal_point_gets_exactly_one_workbook(mail_env: SmtpServer, cycle_id: int) -> None:
    summaries = dispatch_pending(earlier_answers=earlier_answers, only=cycle_id)
    assert summaries[0]["questionnaires"] == 57 and summaries[0]["problems"] == []
    counts = _focal_messages(mail_env)
    assert len(counts) == 57 and set(counts.values()) == {1}
    assert _check_attachment(mail_env, cycle_id) == 57
    senegal = next(m for m in mail_env.received() if "fp.sen@gov.example.org" in m.rcpt_tos)
    assert "cc.sen@gov.example.org" in senegal.rcpt_tos  # the cc role is copied
    assert sum(SECRETARIAT in m.rcpt_tos for m in mail_env.received()) == 1

    # Running it again, through the sweep this time, sends nothing more.
    assert dispatch_pending(earlier_answers=earlier_answers) == []
    dispatch_pending(earlier_answers=earlier_answers, only=cycle_id)
    assert len(mail_env.received()) == 58
    with session_scope() as s:
        cycle = s.get(ReportingCycle, cycle_id)
        assert cycle is not None and cycle.state == "open"
        states = Counter(s.scalars(select(OutboxMessage.state)))
    assert states == {"sent": 58}


def test_bad_registry_data_reaches_the_secretariat(mail_env: SmtpServer, cycle_id: int) -> None:
    with session_scope() as s:
        fp = s.scalar(select(FocalPoint).where(FocalPoint.entity_code == "MLI"))
        assert fp is not None
        fp.email = "mali-at-gov"  # slipped in by hand, not through the checked import
        gone = s.scalar(select(FocalPoint).where(FocalPoint.entity_code == "TGO"))
        assert gone is not None
        gone.active = False
    (summary,) = dispatch_pending(earlier_answers=earlier_answers, only=cycle_id)
    problems = "\n".join(summary["problems"])
    assert "MLI" in problems and "mali-at-gov" in problems
    assert "TGO" in problems and "no active focal point" in problems
    assert len(_focal_messages(mail_env)) == 55
    (report,) = [m for m in mail_env.received() if SECRETARIAT in m.rcpt_tos]
    body = report.message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "mali-at-gov" in text and "TGO" in text


def test_smtp_down_keeps_everything_pending_then_delivers_once(
    mail_env: SmtpServer, cycle_id: int
) -> None:
    mail_env.stop()
    with pytest.raises(OutboxDeliveryError):
        dispatch_pending(earlier_answers=earlier_answers, only=cycle_id)
    with session_scope() as s:
        states = Counter(s.scalars(select(OutboxMessage.state)))
    assert set(states) == {"pending"} and states["pending"] == 58
    mail_env.start()
    with session_scope() as s:  # the backoff has passed
        for m in s.scalars(select(OutboxMessage)):
            m.next_attempt_at = None
    dispatch_pending(earlier_answers=earlier_answers)
    counts = _focal_messages(mail_env)
    assert len(counts) == 57 and set(counts.values()) == {1}


def test_killed_half_way_then_rerun_delivers_each_exactly_once(
    mail_env: SmtpServer, cycle_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from resotrack.questionnaires.dispatch import dispatch_pending; "
            "from resotrack.validation.answers import earlier_answers; "
            "dispatch_pending(earlier_answers=earlier_answers)",
        ],
        env=dict(os.environ),
    )
    mail_env.hold(after=20)  # the 20th message is taken, its sender waits for the reply
    deadline = time.monotonic() + 120
    while len(mail_env.received()) < 20 and time.monotonic() < deadline:
        assert worker.poll() is None, "the dispatch ended before its 20th message"
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    mail_env.release()
    killed_at = len(mail_env.received())
    assert killed_at == 20  # killed half-way, at the same point however loaded the machine

    # After the lease, the rerun finishes the work; a row caught mid-send is set aside.
    monkeypatch.setenv("RESOTRACK_MAIL_LEASE_SECONDS", "0.001")
    with contextlib.suppress(OutboxDeliveryError):  # raised when a row was found uncertain
        dispatch_pending(earlier_answers=earlier_answers)
    assert set(_focal_messages(mail_env).values()) == {1}  # nobody got two

    # Staff reconcile uncertain rows against the server's log by Message-ID.
    delivered = mail_env.by_message_id()
    with session_scope() as s:
        uncertain = list(s.scalars(select(OutboxMessage).where(OutboxMessage.state == "uncertain")))
        arrived = [m.id for m in uncertain if m.message_id in delivered]
        missing = [m.id for m in uncertain if m.message_id not in delivered]
        if arrived:
            confirm_uncertain(s, arrived, actor="test")
        if missing:
            resend_uncertain(s, missing, actor="test")
    dispatch_pending(earlier_answers=earlier_answers)
    counts = _focal_messages(mail_env)
    assert len(counts) == 57 and set(counts.values()) == {1}
    assert _check_attachment(mail_env, cycle_id) == 57


def test_previous_answers_are_prefilled(cycle_id: int) -> None:
    with session_scope() as s:
        s.add(
            Answer(
                cycle_id=cycle_id,
                entity_code="SEN",
                resolution_symbol=SYMBOL,
                paragraph_number=18,
                status="in_progress",
                measures="Programme national « Famille et médias »",
            )
        )
    with session_scope() as s:
        second = open_cycle(s, [SYMBOL], clock.today() + timedelta(days=90), entities=["SEN"])
        data = build_questionnaire(
            s, load_cycle(s, second.id), second.questionnaires[0], earlier_answers=earlier_answers
        )
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("Return").to_python()
    header = [str(c) for c in rows[0]]
    row18 = next(r for r in rows[1:] if str(r[1]).strip() in {"18", "18.0"})
    assert status_label("in_progress", "fr") in row18
    assert "Programme national « Famille et médias »" in row18
    assert len(header) == len(row18)


def test_opening_a_cycle_refuses_bad_requests(cycle_id: int) -> None:
    today = clock.today()
    with session_scope() as s, pytest.raises(CycleError, match="not in the future"):
        open_cycle(s, [SYMBOL], today)
    with session_scope() as s, pytest.raises(CycleError, match="unknown or inactive"):
        open_cycle(s, [SYMBOL], today + timedelta(days=9), entities=["ATLANTIS"])
    with session_scope() as s, pytest.raises(CycleError, match="no paragraph"):
        open_cycle(s, [SYMBOL], today + timedelta(days=9), entities=["IRCICA"])


# Under Airflow on one database, the DAG tests sharing them out (the stage's own tests
# run on both): each costs 25-35 s, and the suite must stay under 20 minutes on two cores.
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
@pytest.mark.airflow
def test_dispatch_dag_under_airflow(
    mail_env: SmtpServer, cycle_id: int, airflow_home: AirflowHome
) -> None:
    airflow_home.dags_test("dispatch_questionnaires", {"cycle_id": cycle_id})
    assert len(_focal_messages(mail_env)) == 57
    airflow_home.dags_test("dispatch_questionnaires", {"cycle_id": cycle_id})
    counts = _focal_messages(mail_env)
    assert len(counts) == 57 and set(counts.values()) == {1}
    assert _check_attachment(mail_env, cycle_id) == 57


def test_entity_codes_may_be_typed_in_any_case(cycle_id: int) -> None:
    """IsDB is registered in mixed case; staff typing ``isdb`` or ``sen`` mean the same."""
    with session_scope() as s:
        cycle = open_cycle(
            s, [SYMBOL], clock.today() + timedelta(days=30), entities=["isdb", "sen", "SEN"]
        )
        assert sorted(q.entity_code for q in cycle.questionnaires) == ["IsDB", "SEN"]


def test_revoking_by_entity_code_ignores_its_case(cycle_id: int) -> None:
    from resotrack import tokens

    with session_scope() as s:
        person = FocalPoint(
            entity_code="IsDB", name="B", email="b@isdb.example.org", language="en", role="cc"
        )
        s.add(person)
        s.flush()
        tokens.issue(s, person, cycle_id)
    with session_scope() as s:
        assert tokens.revoke(s, entity_code="ISDB") == 1
