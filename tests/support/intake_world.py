"""Shared set-up for the intake, portal and IMAP tests: helpers and fixtures, no tests.

Import what you need (``from test_intake_support import world_fixture, make_workbook``); the
``world`` fixture builds, on the ``db_url`` database (SQLite and PostgreSQL), two open cycles,
a few reporting entities with one focal point each and a personal link per focal point,
plus an expired and a revoked link. Workbooks are real questionnaires built by
``resotrack.questionnaires.build_workbook`` with a signed ``_meta`` sheet.
"""

from __future__ import annotations

import io
import os
import random
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from resotrack import clock, tokens
from resotrack.intake.receive import reset_announce_backoff
from resotrack.questionnaires import QuestionnaireSpec, QuestionRow, build_workbook
from resotrack.questionnaires.models import Questionnaire, ReportingCycle
from resotrack.registry.models import FocalPoint
from resotrack.settings import get_settings
from resotrack.store import session_scope
from resotrack.store.blobs import blob_store
from support import world as base
from support.world import CREATED
from support.world import REPO as REPO

#: Nothing listens on the discard port: triggering Airflow fails at once, as when it is down.
NO_AIRFLOW = "http://127.0.0.1:9"
LANGUAGES = {"SEN": "fr", "EGY": "ar", "NGA": "en", "PAK": "en", "MAR": "ar", "TUR": "en"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def signing_key() -> bytes:
    return get_settings().secret_key.get_secret_value().encode("utf-8")


def make_workbook(
    cycle_id: int,
    entity_code: str,
    *,
    questionnaire_id: int = 1,
    language: str = "en",
    note: str = "",
    pad_bytes: int = 0,
    key: bytes | None = None,
) -> bytes:
    """A real questionnaire workbook; ``note`` makes distinct bytes, ``pad_bytes`` a bigger file."""
    spec = QuestionnaireSpec(
        questionnaire_id=questionnaire_id,
        cycle_id=cycle_id,
        entity_code=entity_code,
        entity_name=entity_code,
        language=language,  # type: ignore[arg-type]
        deadline=date(2030, 6, 30),
        rows=(
            QuestionRow(
                resolution="OIC/TEST/1",
                number=1,
                section="A",
                verb="REQUESTS",
                text=f"Requests member states to report. {note}".strip(),
            ),
        ),
    )
    data = build_workbook(spec, signing_key=key or signing_key(), created=CREATED)
    if pad_bytes:
        buffer = io.BytesIO(data)
        with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr("docProps/padding.bin", random.randbytes(pad_bytes))
        data = buffer.getvalue()
    return data


@dataclass
class Person:
    """One focal point and their personal link."""

    focal_point_id: int
    entity_code: str
    email: str
    language: str
    token: str


@dataclass
class World(base.World):
    """Two open cycles: every entity reports in ``cycle_id``, the first also in the other."""

    cycle_id: int
    other_cycle_id: int
    people: dict[str, Person]
    expired_token: str = ""
    revoked_token: str = ""
    questionnaire_ids: dict[str, int] = field(default_factory=dict)

    def token(self, entity: str) -> str:
        return self.people[entity].token

    def workbook(self, entity: str, note: str = "", **kwargs: object) -> bytes:
        return make_workbook(
            self.cycle_id,
            entity,
            questionnaire_id=self.questionnaire_ids.get(entity, 1),
            language=self.people[entity].language,
            note=note,
            **kwargs,  # type: ignore[arg-type]
        )


def build_world(entities: tuple[str, ...] = ("SEN", "EGY", "NGA")) -> World:
    """Entities, focal points, two open cycles, questionnaires (built and stored) and links."""
    with session_scope() as session:
        World.register_entities(session)
        deadline = clock.today() + timedelta(days=30)
        cycle = ReportingCycle(title="Test cycle 2026", deadline=deadline, state="open")
        other = ReportingCycle(title="Another cycle", deadline=deadline, state="open")
        session.add_all([cycle, other])
        session.flush()
        people: dict[str, Person] = {}
        questionnaires: dict[str, int] = {}
        for code in entities:
            language = LANGUAGES.get(code, "en")
            person = FocalPoint(
                entity_code=code,
                name=f"Focal {code}",
                email=f"focal.{code.lower()}@example.org",
                language=language,
                role="focal_point",
            )
            session.add(person)
            q = Questionnaire(
                cycle_id=cycle.id,
                entity_code=code,
                language=language,
                template_version="2026.1",
                rows=[{"resolution": "OIC/TEST/1", "number": 1}],  # what make_workbook sends
            )
            session.add(q)
            session.flush()
            workbook = make_workbook(cycle.id, code, questionnaire_id=q.id, language=language)
            q.workbook_sha256 = blob_store().put(workbook)
            q.built_at = clock.now()
            questionnaires[code] = q.id
            people[code] = Person(
                person.id, code, person.email, language, tokens.issue(session, person, cycle.id)
            )
        first = entities[0]
        session.add(
            Questionnaire(
                cycle_id=other.id, entity_code=first, language="en", template_version="2026.1"
            )
        )
        fp = session.get(FocalPoint, people[first].focal_point_id)
        assert fp is not None
        expired = tokens.issue(session, fp, cycle.id, valid_for=timedelta(seconds=-5))
        revoked = tokens.issue(session, fp, cycle.id)
        tokens.revoke(session, token=revoked, actor="test")
        return World(cycle.id, other.id, people, expired, revoked, questionnaires)


@pytest.fixture(name="world")
def world_fixture(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """The world on a fresh database; Airflow is down (the REST trigger hits a closed port),
    which uploads must not care about."""
    monkeypatch.setenv("RESOTRACK_AIRFLOW_API_URL", NO_AIRFLOW)
    reset_announce_backoff()
    yield build_world()
    reset_announce_backoff()


# --- a real portal process ---------------------------------------------------------------


class PortalProcess:
    """``python -m resotrack.portal`` on a free loopback port, as a subprocess."""

    def __init__(
        self, log_path: Path, *, workers: int = 1, env: Mapping[str, str] | None = None
    ) -> None:
        self.port = free_port()
        self.workers = workers
        self.log_path = log_path
        self.extra_env = dict(env or {})
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/resotrack"

    def start(self, timeout: float = 300) -> PortalProcess:
        """Start it and wait until it answers; on a loaded machine its imports alone can take
        a minute, so the wait is long (it ends as soon as the portal answers)."""
        command = [sys.executable, "-m", "resotrack.portal", "--port", str(self.port)]
        command += ["--workers", str(self.workers)]
        # The environment is read now, so a test can change RESOTRACK_* before starting.
        env = {**os.environ, "RESOTRACK_AIRFLOW_API_URL": NO_AIRFLOW, **self.extra_env}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the portal exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"the portal did not start:\n{self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flushing; what a power cut looks like."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@pytest.fixture(name="portal_process")
def portal_process_fixture(tmp_path: Path) -> Iterator[PortalProcess]:
    """A factory-made portal process, stopped at teardown whatever happened."""
    portal = PortalProcess(tmp_path / "portal.log")
    try:
        yield portal
    finally:
        portal.stop()


def far_meta_cell(data: bytes, ref: str) -> bytes:
    """``data`` with one more cell in its ``_meta`` sheet, at ``ref`` (``XFD1048576``): a
    small file whose sheet a naive reader allocates row by column. The ``<dimension>`` is
    left as it was, as an attacker would leave it."""
    row = "".join(ch for ch in ref if ch.isdigit())
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            blob = source.read(info)
            if info.filename == "xl/worksheets/sheet4.xml":  # _meta, the fourth sheet
                cell = f'<row r="{row}"><c r="{ref}" t="inlineStr"><is><t>x</t></is></c></row>'
                blob = blob.replace(b"</sheetData>", cell.encode() + b"</sheetData>")
            target.writestr(info.filename, blob)
    return buffer.getvalue()


def run_python(code: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter, as a poll or sweep runs (a crash must not take pytest
    with it); its address space capped at 3 GB so that a runaway read fails rather than swap."""
    import resource

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    return subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **(env or {})},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        preexec_fn=cap,
    )
