"""A reporting cycle to remind about (helpers for the reminder tests; no tests here).

Seed 004 goes to member states with one focal point each, in its working language, and a
permanent mission contact (except those named in ``no_mission``); Senegal has a copy
contact and Cameroon a second, English-speaking focal point. The questionnaires are really
dispatched through the outbox on :data:`DAY0`, so the fatigue gap sees them, and the
deadline is :data:`DAY0` + 30 days. Replies are simulated by :meth:`World.reply`, which
records a submission in the state validation would have given it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from resotrack import clock
from resotrack.mail import send_pending
from resotrack.mail.models import OutboxMessage
from resotrack.questionnaires.dispatch import dispatch_cycle
from resotrack.settings import get_settings
from resotrack.store import session_scope
from resotrack.store.blobs import blob_store
from resotrack.validation.answers import earlier_answers
from resotrack.validation.models import Submission
from support import world as base
from support.smtp_server import Received, SmtpServer
from support.world import fp_email

SECRETARIAT = "follow-up@oic.example.org"
DAY0 = date(2026, 3, 2)
DEADLINE = DAY0 + timedelta(days=30)

#: Stored the way validation stores a refused return's problems.
PROBLEMS: list[dict[str, Any]] = [
    {
        "row": 5,
        "paragraph": 18,
        "column": "measures",
        "severity": "blocker",
        "rule": "contract.required",
        "message": {
            "en": "The measures taken are not described.",
            "fr": "Les mesures prises ne sont pas décrites.",
            "ar": "لم تُوصف التدابير المتخذة.",
        },
        "fix": {
            "en": "Describe briefly what was done.",
            "fr": "Décrivez brièvement ce qui a été fait.",
            "ar": "صِف بإيجاز ما تم إنجازه.",
        },
    },
    {
        "row": 7,
        "paragraph": 21,
        "column": "start_date",
        "severity": "warning",
        "rule": "quality.date",
        "message": {"en": "The date is in the future.", "fr": "La date est future.", "ar": "x"},
        "fix": {"en": "Check the year.", "fr": "Vérifiez l'année.", "ar": "y"},
    },
]


@contextmanager
def on(day: date, hour: int = 6) -> Iterator[None]:
    """Travel to ``day`` (06:00 UTC, when the DAG runs)."""
    with clock.frozen(datetime.combine(day, time(hour), UTC)):
        yield


def fp(code: str) -> str:
    return fp_email(code)


def pm(code: str) -> str:
    return f"pm.{code.lower()}@mission.example.org"


CC_SEN = "cc.sen@gov.example.org"
FP2_CMR = "fp2.cmr@gov.example.org"


@dataclass
class World(base.World):
    cycle_id: int
    server: SmtpServer
    codes: list[str]
    languages: dict[str, str]

    @staticmethod
    def day(n: int) -> date:
        return DAY0 + timedelta(days=n)

    def reply(
        self,
        code: str,
        state: str,
        *,
        problems: Iterable[dict[str, Any]] = (),
        annotated: bytes | None = None,
    ) -> int:
        """Record a return of ``code`` as validation would have decided it, now."""
        report: dict[str, Any] = {"outcome": state, "problems": list(problems), "summary": {}}
        if annotated is not None:
            report["summary"]["annotated_sha256"] = blob_store().put(annotated)
        now = clock.now()
        with session_scope() as s:
            row = World.add_return(
                s,
                self.cycle_id,
                code,
                received_at=now,
                sha256=hashlib.sha256(f"{code}{now.isoformat()}{state}".encode()).hexdigest(),
                size=1000,
                original_name=f"{self.cycle_id}-{code}.xlsx",
                state=state,
                sender=fp(code),
                report=report,
                decided_at=None if state == "received" else now,
            )
            return row.id

    def decide(self, submission_id: int, state: str) -> None:
        with session_scope() as s:
            row = s.get(Submission, submission_id)
            assert row is not None
            row.state, row.decided_at = state, clock.now()

    def outbox_by_message_id(self) -> dict[str, OutboxMessage]:
        with session_scope() as s:
            rows = list(s.scalars(select(OutboxMessage)))
            s.expunge_all()
        return {str(row.message_id): row for row in rows if row.message_id}

    def messages_since(self, count: int) -> list[Received]:
        return self.server.received()[count:]


def build_world(
    server: SmtpServer,
    tmp_path: Path,
    *,
    entities: Iterable[str] | None = None,
    no_mission: Iterable[str] = ("TCD",),
) -> World:
    """Open and dispatch the cycle on :data:`DAY0`; ``entities`` None: the 57 member states."""
    with on(DAY0):
        World.register_entities()
        languages = World.member_states()
        World.import_resolution()
        codes = sorted(entities) if entities is not None else sorted(languages)
        skip = set(no_mission)
        lines = []
        for code in codes:
            lang = languages[code]
            lines.append(World.focal_line(code, lang))
            if code not in skip:
                lines.append(
                    World.focal_line(
                        code, lang, name=f"Mission {code}", email=pm(code), role="permanent mission"
                    )
                )
        if "SEN" in codes:
            lines.append(
                World.focal_line("SEN", "fr", name="Copie Sénégal", email=CC_SEN, role="cc")
            )
        if "CMR" in codes:
            lines.append(World.focal_line("CMR", "en", name="Second Focal CMR", email=FP2_CMR))
        World.register_focal_points(tmp_path, lines)
        cycle_id = World.open_cycle(codes, DEADLINE, title="Follow-up MCSD-2")
        with session_scope() as s:
            dispatch_cycle(s, cycle_id, earlier_answers=earlier_answers)
        send_pending()
    return World(cycle_id, server, codes, {c: languages[c] for c in codes})


@pytest.fixture
def mail_env(db_url: str, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> SmtpServer:
    monkeypatch.setenv("RESOTRACK_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("RESOTRACK_MAIL_SECRETARIAT", SECRETARIAT)
    monkeypatch.setenv("RESOTRACK_MAIL_BACKOFF_BASE_SECONDS", "0")
    monkeypatch.setenv("RESOTRACK_MAIL_RUN_RETRIES", "1")
    monkeypatch.setenv("RESOTRACK_SECRET_KEY", "test-signing-key")
    get_settings.cache_clear()
    return smtp_server


def plain(message: Received) -> str:
    body = message.message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())
