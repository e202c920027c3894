"""Benchmark: 200 concurrent portal uploads on loopback, against a named baseline.

Goals: 0 uploads lost, 0 server errors, and an upload costing a small multiple of the
baseline. The portal runs as a real uvicorn server (2 workers) on a free loopback port; 200
real questionnaire workbooks (137 rows, about 30 KB, all different) are POSTed by 50 links,
50 at a time. The baseline is the same 200 POSTs, same bodies and headers, to a trivial
endpoint of the same server that reads the body and throws it away: what is left is the price
of a receipt (token check, rate limit, streaming parse, sniff, fsynced blob, committed row).

Every acknowledged upload is then checked in the database and the blob store. It runs on the
embedded SQLite and, when ``RESOTRACK_TEST_DATABASE_URL`` names a PostgreSQL server, on a
scratch PostgreSQL database too.

Run: ``uv run python bench/bench_uploads.py``; writes its section of bench/RESULTS.md.
"""

from __future__ import annotations

import asyncio
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.routing import Mount

from results import RESULTS, write_section

REPO = Path(__file__).resolve().parents[1]
SECTION = "## Portal uploads (200 concurrent)"
REQUESTS = 200
CONCURRENCY = 50
LINKS = 50  # 4 uploads per link: under the default rate limit of 10 per 10 minutes
WORKERS = 2
TIMEOUT = 60.0
ROWS = 137
BOUNDARY = "resotrack-bench-boundary"


# --- the server side: imported by the uvicorn workers ------------------------------------


def baseline_app() -> FastAPI:
    """The standalone portal plus ``POST /resotrack/_discard``, which reads and drops a body."""
    from resotrack.portal import PREFIX, create_app

    portal = create_app()

    @portal.post("/_discard")
    async def discard(request: Request) -> JSONResponse:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return JSONResponse({"discarded": size}, status_code=201)

    root = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    root.router.routes.append(Mount(PREFIX, app=portal))
    return root


# --- set-up ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def database(kind: str, home: Path) -> Iterator[str]:
    """A migrated scratch database of ``kind``; dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from resotrack.store import migrate, reset_engines

    if kind == "sqlite":
        url = f"sqlite:///{home / 'resotrack.db'}"
        migrate.upgrade(url)
        reset_engines()
        yield url
        return
    admin_url = make_url(os.environ["RESOTRACK_TEST_DATABASE_URL"])
    if admin_url.drivername == "postgresql":
        admin_url = admin_url.set(drivername="postgresql+psycopg")
    name = f"rt_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url)
        reset_engines()
        yield url
    finally:
        reset_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Upload:
    url: str
    body: bytes


def prepare(base_url: str) -> list[Upload]:
    """50 entities with a focal point, a questionnaire and a link; 200 distinct workbooks."""
    from resotrack import clock, tokens
    from resotrack.questionnaires import QuestionnaireSpec, QuestionRow, build_workbook
    from resotrack.questionnaires.models import Questionnaire, ReportingCycle
    from resotrack.registry import list_entities, sync_entities
    from resotrack.registry.models import FocalPoint
    from resotrack.settings import get_settings
    from resotrack.store import session_scope

    key = get_settings().secret_key.get_secret_value().encode()
    links: list[tuple[str, str, str]] = []
    with session_scope() as session:
        sync_entities(session)
        cycle = ReportingCycle(
            title="Bench cycle", deadline=clock.today() + timedelta(days=30), state="open"
        )
        session.add(cycle)
        session.flush()
        for entity in list_entities(session, "member_state")[:LINKS]:
            person = FocalPoint(
                entity_code=entity.code,
                name=f"Focal {entity.code}",
                email=f"focal.{entity.code.lower()}@example.org",
                language=entity.language,
                role="focal_point",
            )
            session.add(person)
            session.add(
                Questionnaire(
                    cycle_id=cycle.id,
                    entity_code=entity.code,
                    language=entity.language,
                    template_version="2026.1",
                )
            )
            session.flush()
            links.append((entity.code, entity.language, tokens.issue(session, person, cycle.id)))
        cycle_id = cycle.id
    uploads = []
    for n in range(REQUESTS):
        code, language, token = links[n % LINKS]
        spec = QuestionnaireSpec(
            questionnaire_id=n + 1,
            cycle_id=cycle_id,
            entity_code=code,
            entity_name=code,
            language=language,  # type: ignore[arg-type]
            deadline=date(2030, 6, 30),
            rows=tuple(
                QuestionRow(
                    resolution="OIC/BENCH/1",
                    number=i + 1,
                    section="A",
                    verb="REQUESTS",
                    text=f"Requests member states to act on item {i + 1} (upload {n}). " * 3,
                )
                for i in range(ROWS)
            ),
        )
        body = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="return-{n}.xlsx"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        body += build_workbook(spec, signing_key=key) + f"\r\n--{BOUNDARY}--\r\n".encode()
        uploads.append(Upload(f"{base_url}/t/{token}/c/{cycle_id}/{code}/returns", body))
    return uploads


@contextmanager
def server(env: dict[str, str], log: Path) -> Iterator[str]:
    """uvicorn with WORKERS workers serving ``baseline_app``; yields the portal's base URL."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "bench_uploads:baseline_app",
        "--app-dir",
        str(REPO / "bench"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(WORKERS),
        "--log-level",
        "warning",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/resotrack"
    try:
        deadline = time.monotonic() + 60
        ready = 0
        while ready < 3:  # a few answers in a row: both workers are up
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the portal did not start:\n{log.read_text()[-3000:]}")
            try:
                ready += httpx.get(f"{base}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                ready = 0
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


# --- load --------------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    latencies: list[float]
    statuses: list[int]
    errors: list[str]
    seconds: float
    submission_ids: list[int]
    body_bytes: int

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    @property
    def server_errors(self) -> int:
        return sum(1 for s in self.statuses if s >= 500)

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds


async def fire(name: str, targets: list[tuple[str, bytes]]) -> Run:
    """POST every target, CONCURRENCY at a time, each with TIMEOUT seconds."""
    gate = asyncio.Semaphore(CONCURRENCY)
    latencies: list[float] = []
    statuses: list[int] = []
    errors: list[str] = []
    ids: list[int] = []
    headers = {
        "content-type": f"multipart/form-data; boundary={BOUNDARY}",
        "accept": "application/json",
    }
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(timeout=TIMEOUT, limits=limits) as client:

        async def one(url: str, body: bytes) -> None:
            async with gate:
                started = time.perf_counter()
                try:
                    response = await client.post(url, content=body, headers=headers)
                except httpx.HTTPError as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
                    return
                latencies.append(time.perf_counter() - started)
                statuses.append(response.status_code)
                if response.status_code == 201 and "submission_id" in response.json():
                    ids.append(int(response.json()["submission_id"]))
                elif response.status_code != 201:
                    errors.append(f"HTTP {response.status_code}: {response.text[:200]}")

        started = time.perf_counter()
        await asyncio.gather(*(one(url, body) for url, body in targets))
        seconds = time.perf_counter() - started
    body_bytes = sum(len(body) for _url, body in targets)
    return Run(name, latencies, statuses, errors, seconds, ids, body_bytes)


def lost(run: Run) -> list[str]:
    """Acknowledged uploads missing from the database or the blob store (must be none)."""
    from sqlalchemy import select

    from resotrack.store import session_scope
    from resotrack.store.blobs import blob_store
    from resotrack.validation.models import Submission

    with session_scope() as session:
        rows = {s.id: s for s in session.scalars(select(Submission))}
    missing = [f"#{i} not in the database" for i in run.submission_ids if i not in rows]
    missing += [
        f"#{s.id} blob missing"
        for s in rows.values()
        if not blob_store().exists(s.sha256) or blob_store().path(s.sha256).stat().st_size != s.size
    ]
    unacknowledged = REQUESTS - len(run.submission_ids)
    if unacknowledged:
        missing.append(f"{unacknowledged} upload(s) not acknowledged")
    if len(rows) != len(run.submission_ids):
        missing.append(f"{len(rows)} rows for {len(run.submission_ids)} acknowledgements")
    return missing


def bench(kind: str) -> tuple[Run, Run, list[str]]:
    home = Path(tempfile.mkdtemp(prefix=f"resotrack-bench-{kind}-"))
    try:
        with database(kind, home) as url:
            env = {
                **os.environ,
                "RESOTRACK_HOME": str(home / "var"),
                "RESOTRACK_DATABASE_URL": url,
                "RESOTRACK_AIRFLOW_API_URL": "http://127.0.0.1:9",  # down: the sweep's job
            }
            os.environ.update({k: env[k] for k in ("RESOTRACK_HOME", "RESOTRACK_DATABASE_URL")})
            from resotrack.settings import get_settings

            get_settings.cache_clear()
            with server(env, home / "server.log") as base:
                uploads = prepare(base)
                warm = [(f"{base}/_discard", u.body) for u in uploads[:10]]
                asyncio.run(fire("warm-up", warm))
                baseline = asyncio.run(
                    fire("baseline", [(f"{base}/_discard", u.body) for u in uploads])
                )
                portal = asyncio.run(fire("uploads", [(u.url, u.body) for u in uploads]))
            missing = lost(portal)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return baseline, portal, missing


def describe(kind: str, baseline: Run, portal: Run, missing: list[str]) -> list[str]:
    def ms(value: float) -> str:
        return f"{value * 1000:.0f}"

    rows = []
    for run in (baseline, portal):
        label = "baseline: POST, body discarded" if run is baseline else "upload: portal receipt"
        mb = run.body_bytes / run.seconds / 1024 / 1024
        rows.append(
            f"| {kind} | {label} | {ms(run.percentile(0.5))} | {ms(run.percentile(0.95))} | "
            f"{ms(max(run.latencies, default=0))} | {run.throughput:.0f} | {mb:.1f} | "
            f"{len(run.errors)} | {run.server_errors} |"
        )
    return rows


def main() -> None:
    kinds = ["sqlite"]
    if os.environ.get("RESOTRACK_TEST_DATABASE_URL", "").startswith("postgresql"):
        kinds.append("postgresql")
    table = [
        "| database | run | p50 (ms) | p95 (ms) | max (ms) | req/s | MB/s | failed | 5xx |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    verdicts = []
    ok = True
    average_kb = 0.0
    for kind in kinds:
        print(f"== {kind}: {REQUESTS} uploads, {CONCURRENCY} at a time, {WORKERS} workers")
        baseline, portal, missing = bench(kind)
        rows = describe(kind, baseline, portal, missing)
        average_kb = portal.body_bytes / REQUESTS / 1024
        table += rows
        print("\n".join(rows))
        ratio_p50 = portal.percentile(0.5) / baseline.percentile(0.5)
        ratio_rate = baseline.throughput / portal.throughput
        good = not missing and not portal.errors and portal.server_errors == 0
        ok &= good
        verdicts.append(
            f"- {kind}: {len(portal.submission_ids)}/{REQUESTS} acknowledged and found in the "
            f"database and blob store, {len(missing)} lost, {portal.server_errors} server "
            f"errors; an upload's p50 is {ratio_p50:.1f}× the baseline's, throughput "
            f"{ratio_rate:.1f}× lower. " + ("OK" if good else f"FAILED: {missing + portal.errors}")
        )
        print(verdicts[-1])
    body = "\n".join(
        [
            f"Run {time.strftime('%Y-%m-%dT%H:%M')} on {platform.machine()} "
            f"({os.cpu_count()} CPUs), Python {platform.python_version()}, uvicorn with "
            f"{WORKERS} workers on loopback; client in the same machine (httpx, asyncio).",
            f"{REQUESTS} POSTs of real questionnaire workbooks ({ROWS} rows, {average_kb:.0f} KB "
            "on average, all different) "
            f"through {LINKS} personal links, {CONCURRENCY} at a time, {TIMEOUT:.0f} s timeout "
            "each. Baseline: the same POSTs, bodies and headers to an endpoint of the same "
            "server that reads the body and discards it. An upload's answer is sent after its "
            "bytes are fsynced and its row committed. Airflow is down: after the first failed "
            "trigger the portal leaves ingestion to the sweep for 30 s (see intake.announce).",
            "",
            *table,
            "",
            *verdicts,
        ]
    )
    write_section(SECTION, body)
    print(f"\nwritten to {RESULTS.relative_to(REPO)}")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
