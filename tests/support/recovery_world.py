"""The world the recovery tests and the drill run on, and the drill itself.

A cycle of seed 004 for the member states, questionnaires built as dispatch leaves them, one
return per state received through the real ``intake.receive`` (blob fsynced, then the row,
then the receipt), each accepted with its answers. Validation is not run: the submission is
marked accepted and its answers written as ``validation.decide`` writes them, which keeps the
drill to seconds; what recovery must keep is the rows and the files, however they were made.

``run_drill`` is shared with ``bench/bench_recovery.py``. A helper module: it holds no test
(it is named ``test_recovery_*`` because that is where the recovery tests live).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from resotrack import clock
from resotrack.intake import receive
from resotrack.questionnaires.i18n import STATUSES
from resotrack.questionnaires.spec import QuestionnaireSpec
from resotrack.questionnaires.workbook import build_workbook
from resotrack.settings import get_settings
from resotrack.store import reset_engines, session_scope
from resotrack.validation.models import Submission
from support import world as base
from support.world import CREATED

FEW = ("SEN", "EGY", "PAK")


@dataclass
class World(base.World):
    cycle_id: int
    specs: dict[str, QuestionnaireSpec]
    accepted: dict[str, int] = field(default_factory=dict)  # entity → submission id
    returns: dict[str, bytes] = field(default_factory=dict)  # entity → its first return

    @property
    def entities(self) -> list[str]:
        return sorted(self.specs)


def member_states() -> list[str]:
    return list(World.member_states())


def _values(entity: str, number: int, version: int) -> dict[str, Any]:
    status = STATUSES[(number + len(entity) + version) % len(STATUSES)]
    return {
        "status": status,
        "measures": f"{entity}: programme no. {number}, version {version} of the return.",
        "start_date": date(2023, 9, 1) + timedelta(days=number),
        "national_body": f"Ministry of Planning of {entity}",
        "challenges": None if number % 4 else "Budget constraints.",
        "support_requested": None,
        "evidence": f"https://gov.example.org/{entity.lower()}/{number}",
    }


def filled(spec: QuestionnaireSpec, version: int = 0) -> bytes:
    """The entity's questionnaire with every row answered, signed like the real thing."""
    rows = tuple(
        replace(row, prefill=_values(spec.entity_code, row.number, version)) for row in spec.rows
    )
    key = get_settings().secret_key.get_secret_value().encode()
    return build_workbook(replace(spec, rows=rows), signing_key=key, created=CREATED)


def make_world(entities: Sequence[str] | None = None, *, accept: bool = True) -> World:
    """Seed 004 × ``entities`` (default: the 57 member states), one accepted return each."""
    World.register_entities()
    World.import_resolution()
    codes = list(entities) if entities is not None else member_states()
    cycle_id = World.open_cycle(codes, clock.today() + timedelta(days=60), title="Drill")
    built = World.build_questionnaires(cycle_id, specs=True)
    specs = {code: b.spec for code, b in built.items() if b.spec is not None}
    world = World(cycle_id, specs)
    for code in world.entities:
        world.returns[code] = filled(specs[code])
        receipt = receive(
            world.returns[code],
            channel="cli",
            original_name=f"{code}-return.xlsx",
            cycle_id=cycle_id,
            entity_code=code,
            sender="drill",
        )
        if accept:
            accept_return(world, code, receipt.submission_id)
    return world


def accept_return(world: World, entity: str, submission_id: int, version: int = 0) -> None:
    """What validation does for a clean return: state accepted, one answer per row."""
    now = clock.now()
    with session_scope() as s:
        sub = s.get(Submission, submission_id)
        assert sub is not None
        sub.state, sub.decided_at = "accepted", now
        World.add_answers(
            s,
            sub,
            [
                {
                    "resolution_symbol": row.resolution,
                    "paragraph_number": row.number,
                    "current": True,
                    **_values(entity, row.number, version),
                }
                for row in world.specs[entity].rows
            ],
            accepted_at=now,
        )
    world.accepted[entity] = submission_id


def invoke(args: list[str]) -> tuple[int, str]:
    """Run ``resotrack ARGS`` (the recovery commands) in process: (exit code, output).

    With ``--json`` the output is stdout alone, so that it parses."""
    import typer
    from typer.testing import CliRunner

    from resotrack.recovery.cli import register

    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, args)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout if "--json" in args else result.output


# --- uploads that keep coming during a backup ---------------------------------------------


@dataclass(frozen=True)
class Ack:
    """An upload the sender was told about: when (perf_counter), and what."""

    at: float
    submission_id: int
    sha256: str
    entity: str


class Uploader(threading.Thread):
    """Keeps receiving returns through intake until stopped, recording each receipt."""

    def __init__(self, world: World, payloads: Sequence[tuple[str, bytes]]) -> None:
        super().__init__(daemon=True, name="uploader")
        self.world = world
        self.payloads = list(payloads)
        self.acks: list[Ack] = []
        self.errors: list[BaseException] = []
        self._stop_event = threading.Event()
        self._changed = threading.Condition()

    def run(self) -> None:
        try:
            for entity, data in self.payloads:
                if self._stop_event.is_set():
                    return
                receipt = receive(
                    data,
                    channel="portal",
                    original_name=f"{entity}-correction.xlsx",
                    cycle_id=self.world.cycle_id,
                    entity_code=entity,
                    sender=f"fp.{entity.lower()}@gov.example.org",
                )
                with self._changed:
                    self.acks.append(
                        Ack(time.perf_counter(), receipt.submission_id, receipt.sha256, entity)
                    )
                    self._changed.notify_all()
                time.sleep(0.005)
        except BaseException as exc:  # reported by the test
            self.errors.append(exc)
        finally:
            with self._changed:
                self._stop_event.set()
                self._changed.notify_all()

    def wait_for(self, count: int, timeout: float = 20.0) -> None:
        with self._changed:
            self._changed.wait_for(
                lambda: len(self.acks) >= count or self._stop_event.is_set(), timeout
            )

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=30)


def corrections(world: World, count: int) -> list[tuple[str, bytes]]:
    """``count`` re-sent returns, round-robin over the entities, all different bytes.

    Each is the entity's return with a zip comment naming the attempt: a valid workbook for
    intake's sniffing, built in microseconds (only the file's survival matters here)."""
    codes = world.entities
    out = []
    for i in range(count):
        code = codes[i % len(codes)]
        data = world.returns[code]
        comment = f"resent {i}".encode()
        # End of central directory: the last 22 bytes when there is no comment yet.
        assert data[-22:-18] == b"PK\x05\x06" and data[-2:] == b"\0\0"
        out.append((code, data[:-2] + len(comment).to_bytes(2, "little") + comment))
    return out


# --- the drill ---------------------------------------------------------------------------


@dataclass
class DrillFigures:
    engine: str
    states: int
    submissions_at_backup: int
    answers: int
    uploads_acked_before: int
    uploads_acked_during: int
    uploads_acked_during_kept: int
    acked_before_missing: int
    backup_seconds: float
    backup_bytes: int
    blobs: int
    restore_seconds: float
    restore_steps: dict[str, float]
    verify_seconds: float
    snapshot_lag_seconds: float


def run_drill(
    *,
    work: Path,
    fresh_database: Callable[[Path], str],
    destroy: Callable[[], None],
    invoke: Callable[[list[str]], tuple[int, str]],
    uploads: int = 40,
    entities: Sequence[str] | None = None,
) -> tuple[DrillFigures, dict[str, Any]]:
    """The drill, steps 1 to 7 (see tests/integration/test_recovery_drill.py).

    ``fresh_database(home)`` returns the URL of a new, empty database; ``destroy`` loses the
    live database; ``invoke`` runs a ``resotrack`` command line and returns (exit code,
    output). Returns the figures and what the caller asserts on.
    """
    from resotrack.consolidation.snapshot import Table, load_snapshot
    from resotrack.recovery.backup import backup

    engine = "postgresql" if get_settings().db_url.startswith("postgresql") else "sqlite"
    # 1. a cycle with returns
    world = make_world(entities)
    payloads = corrections(world, uploads)

    # 2. back up while uploads continue
    uploader = Uploader(world, payloads)
    uploader.start()
    uploader.wait_for(3)
    lag: list[float] = []

    def progress(phase: str, _message: str) -> None:
        if phase == "blobs":  # the snapshot is taken: let two more uploads land meanwhile
            lag.append(time.perf_counter() - started)
            uploader.wait_for(len(uploader.acks) + 2)

    started = time.perf_counter()
    result = backup(work / "backups", progress=progress)
    finished = time.perf_counter()
    uploader.stop()
    assert not uploader.errors, uploader.errors
    before = [a for a in uploader.acks if a.at < started]
    during = [a for a in uploader.acks if started <= a.at <= finished]
    with session_scope() as s:
        live = load_snapshot(s, world.cycle_id)
    live_home = get_settings().home

    # 3. lose the database and the home
    reset_engines()
    destroy()
    import shutil

    shutil.rmtree(live_home)

    # 4. restore into a fresh home and database
    import os

    home = work / "fresh-home"
    os.environ["RESOTRACK_HOME"] = str(home)
    os.environ["RESOTRACK_DATABASE_URL"] = fresh_database(home)
    get_settings.cache_clear()
    reset_engines()
    t0 = time.perf_counter()
    code, restore_out = invoke(["restore", str(result.folder), "--json"])
    restore_seconds = time.perf_counter() - t0
    assert code == 0, restore_out
    import json

    restored_report = json.loads(restore_out)

    # 5. verify passes
    t0 = time.perf_counter()
    code, verify_out = invoke(["verify"])
    verify_seconds = time.perf_counter() - t0

    # 6. consolidated tables, 7. acknowledged uploads
    with session_scope() as s:
        restored = load_snapshot(s, world.cycle_id)
        restored_subs = {
            sub.id: (sub.sha256, sub.state, sub.entity_code)
            for sub in s.scalars(select(Submission))
        }
    kept = {row[0] for row in restored.submissions.rows}
    trimmed = replace(
        live,
        submissions=Table(
            live.submissions.columns, [r for r in live.submissions.rows if r[0] in kept]
        ),
        _bytes=[],
    )
    figures = DrillFigures(
        engine=engine,
        states=len(world.entities),
        submissions_at_backup=result.manifest.tables["submission"],
        answers=result.manifest.tables["answer"],
        # the cycle's returns and the uploader's first ones: all acknowledged before the backup
        uploads_acked_before=len(world.accepted) + len(before),
        uploads_acked_during=len(during),
        uploads_acked_during_kept=sum(1 for a in during if a.submission_id in restored_subs),
        acked_before_missing=sum(
            1
            for sid in [*world.accepted.values(), *(a.submission_id for a in before)]
            if sid not in restored_subs
        ),
        backup_seconds=finished - started,
        backup_bytes=result.manifest.total_bytes,
        blobs=int(result.manifest.blobs["files"]),
        restore_seconds=restore_seconds,
        restore_steps=restored_report["steps"],
        verify_seconds=verify_seconds,
        snapshot_lag_seconds=lag[0] if lag else 0.0,
    )
    return figures, {
        "world": world,
        "uploader": uploader,
        "before": before,
        "during": during,
        "live": live,
        "trimmed": trimmed,
        "restored": restored,
        "restored_subs": restored_subs,
        "verify_code": code,
        "verify_out": verify_out,
        "restore_report": restored_report,
        "backup": result,
        "home": home,
    }
