"""Versioned report builds: every build is kept, with the answers snapshot it came from.

A build reads a :class:`Snapshot` in one short transaction, renders every output outside any
transaction (that is the slow part), stores each file in the blob store, and only then inserts
its :class:`ReportBuild` row under the next version number. A crash mid-way leaves at most
unreferenced blobs, never a half-made build. Building a cycle whose inputs have not changed
since its latest build returns that build: the DAG runs on every answers event, and the
Secretariat should see a new version only when there is something new in it.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from resotrack import audit, clock
from resotrack.catalog import LANGUAGES, Language
from resotrack.consolidation.snapshot import Snapshot, load_snapshot
from resotrack.store.blobs import blob_store
from resotrack.store.db import session_scope
from resotrack.store.models import ReportBuild, ReportingCycle

log = logging.getLogger(__name__)

#: Bump when the outputs change for the same snapshot: the next run then builds again.
BUILDER: Final = "2"
CONTENT_TYPES: Final[dict[str, str]] = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".json": "application/json",
    ".sha256": "text/plain; charset=utf-8",
}


def content_type(name: str) -> str:
    return CONTENT_TYPES.get(Path(name).suffix.lower(), "application/octet-stream")


def slug(symbol: str) -> str:
    """A resolution symbol as a file-name part: ``OIC/MCSD-2/2023/RES/FINAL`` → ``OIC-MCSD-2-…``."""
    return re.sub(r"[^A-Za-z0-9]+", "-", symbol).strip("-") or "resolution"


@dataclass(frozen=True)
class Rendered:
    """A build's files (by name, without the version prefix) and its headline figures."""

    files: dict[str, bytes]
    summary: dict[str, Any]


def build_language(snapshot: Snapshot, language: str | None = None) -> Language:
    """The language of a build: the one staff chose, else the first resolution's."""
    from resotrack.consolidation.report_docx import report_language

    if language is not None:
        if language not in LANGUAGES:
            raise ValueError(f"a report can be built in {', '.join(LANGUAGES)}, not {language!r}")
        return language
    first = snapshot.resolutions[0].get("language") if snapshot.resolutions else None
    return report_language(first)


def render_outputs(
    snapshot: Snapshot,
    built_at: datetime,
    *,
    language: str | None = None,
    workers: int | None = None,
) -> Rendered:
    """Every output of a build, all in one language. Pure: no database, no blob store.

    The per-resolution reports are drawn in ``workers`` processes (by default one per
    core, at most :data:`MAX_WORKERS`) when the cycle has :data:`PARALLEL_FROM` resolutions
    or more, else in this process; the files are the same either way.
    """
    from resotrack.consolidation.charts import all_charts, response_rate
    from resotrack.consolidation.export_xlsx import BuildInfo, write_workbook
    from resotrack.consolidation.report_html import render_html
    from resotrack.consolidation.tables import compute

    lang = build_language(snapshot, language)
    tables = compute(snapshot)
    opened = snapshot.cycle.get("dispatched_at") or snapshot.cycle.get("opened_at")
    reminders = snapshot.cycle.get("reminders")
    info = BuildInfo(
        cycle_id=snapshot.cycle_id,
        cycle_title=str(snapshot.cycle["title"]),
        deadline=snapshot.deadline,
        snapshot_sha256=snapshot.sha256,
        built_at=built_at,
        resolutions=[r["symbol"] for r in snapshot.resolutions],
        opened_on=datetime.fromisoformat(opened).date() if opened else None,
        reminders=int(reminders) if reminders is not None else None,
    )
    names = entity_names(tables, lang)
    built_on = built_at.date()
    # The response curve is cycle-wide (``for_resolution`` keeps it), so every resolution's
    # report shows the same response-rate chart: drawn once here, not once per resolution.
    job = _ReportJob(
        tables=tables,
        info=info,
        names=names,
        language=lang,
        deadline=snapshot.deadline,
        built_on=built_on,
        rate=response_rate(tables.curve, snapshot.deadline, built_on, language=lang, svg=False),
    )
    with _ResolutionReports(job, snapshot.resolutions, workers) as reports:
        charts = all_charts(
            tables, snapshot.deadline, built_on=built_on, names=names, language=lang
        )
        files: dict[str, bytes] = {
            "tables.xlsx": write_workbook(tables, info, language=lang),
            "report.html": render_html(tables, charts, info, language=lang),
            "answers-snapshot.json": snapshot.to_bytes(),
        }
        for chart in charts:
            files[f"chart-{chart.name}.svg"] = chart.svg
            files[f"chart-{chart.name}.png"] = chart.png
        files.update(reports.results())
    return Rendered(files, {**tables.summary, "builder": BUILDER, "language": lang})


def entity_names(tables: Any, language: Language) -> dict[str, str]:
    """Entity code → its name in ``language`` (English, then the code, when it has none)."""
    e = tables.entities
    column = {"fr": "name_fr", "ar": "name_ar"}.get(language, "name_en")
    return {
        str(code): str(name or fallback or code)
        for code, name, fallback in zip(e["entity"], e[column], e["name_en"], strict=True)
    }


#: From this many resolutions on, their reports are drawn in worker processes.
PARALLEL_FROM: Final = 8
#: At most this many worker processes, whatever the number of cores.
MAX_WORKERS: Final = 4


@dataclass(frozen=True)
class _ReportJob:
    """What every resolution's report needs (sent once to each worker process)."""

    tables: Any
    info: Any
    names: dict[str, str]
    language: Language
    deadline: date
    built_on: date
    rate: Any  # the response-rate chart, the same for every resolution


def _resolution_report(job: _ReportJob, resolution: dict[str, Any]) -> tuple[str, bytes]:
    """One resolution's draft report (docx, with its charts drawn as PNG)."""
    from resotrack.consolidation.charts import status_by_section, status_matrix
    from resotrack.consolidation.report_docx import render_docx
    from resotrack.consolidation.tables import for_resolution

    narrowed = for_resolution(job.tables, resolution["symbol"])
    drawn = {
        "heatmap": status_matrix(narrowed.matrix, job.names, language=job.language, svg=False),
        "response_rate": job.rate,
        "status_by_section": status_by_section(narrowed.sections, language=job.language, svg=False),
    }
    data = render_docx(narrowed, resolution, job.info, drawn, language=job.language)
    return f"report-{slug(resolution['symbol'])}.docx", data


_WORKER_JOB: _ReportJob | None = None


def _worker_start(job: _ReportJob) -> None:
    global _WORKER_JOB
    _WORKER_JOB = job


def _worker_report(resolution: dict[str, Any]) -> tuple[str, bytes]:
    assert _WORKER_JOB is not None, "the worker was started without its job"
    return _resolution_report(_WORKER_JOB, resolution)


def default_workers() -> int:
    """One worker per core this process may use, at most :data:`MAX_WORKERS`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


def start_method() -> str:
    """fork is cheap (nothing to import again) but unsafe beside other threads: spawn then."""
    import threading

    return "fork" if threading.active_count() == 1 else "spawn"


class _ResolutionReports:
    """The per-resolution reports, started on entry (in worker processes when worth it) so
    that this process draws the cycle-wide outputs meanwhile; :meth:`results` in the
    cycle's resolution order."""

    def __init__(
        self, job: _ReportJob, resolutions: Sequence[dict[str, Any]], workers: int | None
    ) -> None:
        self.job = job
        self.resolutions = list(resolutions)
        self.workers = default_workers() if workers is None else workers
        self._pool: Any = None
        self._pending: Any = None

    def __enter__(self) -> _ResolutionReports:
        if self.workers > 1 and len(self.resolutions) >= PARALLEL_FROM:
            try:
                self._start()
            except (AssertionError, OSError) as exc:  # e.g. a daemonic process: no children
                log.warning("report workers unavailable (%s); drawing in this process", exc)
                self._close()
        return self

    def _start(self) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self._pool = ProcessPoolExecutor(
            min(self.workers, len(self.resolutions)),
            mp_context=multiprocessing.get_context(start_method()),
            initializer=_worker_start,
            initargs=(self.job,),
        )
        self._pending = [self._pool.submit(_worker_report, r) for r in self.resolutions]

    def results(self) -> dict[str, bytes]:
        if self._pending is not None:
            from concurrent.futures.process import BrokenProcessPool

            try:
                return dict(future.result() for future in self._pending)
            except BrokenProcessPool as exc:
                log.warning("report workers failed (%s); drawing in this process", exc)
                self._close()
        return dict(_resolution_report(self.job, r) for r in self.resolutions)

    def _close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = self._pending = None

    def __exit__(self, *exc: object) -> None:
        self._close()


@dataclass
class BuildResult:
    """What a build did, JSON-ready for the DAG and the CLI."""

    build_id: int
    cycle_id: int
    version: int
    created: bool
    outputs: dict[str, str] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "build_id": self.build_id,
            "cycle_id": self.cycle_id,
            "version": self.version,
            "created": self.created,
            "outputs": sorted(self.outputs),
            "summary": self.summary,
        }

    @classmethod
    def of(cls, build: ReportBuild, created: bool) -> BuildResult:
        return cls(
            build.id,
            build.cycle_id,
            build.version,
            created,
            dict(build.outputs),
            dict(build.summary),
        )


def prefix(cycle_id: int, version: int) -> str:
    return f"cycle-{cycle_id}-v{version}-"


def latest_build(session: Session, cycle_id: int) -> ReportBuild | None:
    return session.scalar(
        select(ReportBuild)
        .where(ReportBuild.cycle_id == cycle_id)
        .order_by(ReportBuild.version.desc())
        .limit(1)
    )


def build_report(
    cycle_id: int,
    *,
    built_by: str = "consolidate",
    force: bool = False,
    url: str | None = None,
    language: str | None = None,
    workers: int | None = None,
) -> BuildResult:
    """Build ``cycle_id`` unless its latest build saw the same inputs in the same language
    (``force`` builds anyway). ``language`` (ar, en, fr): every output of the build speaks
    it; by default the first resolution's. ``workers``: see :func:`render_outputs`."""
    with session_scope(url) as session:
        snapshot = load_snapshot(session, cycle_id)
        latest = latest_build(session, cycle_id)
        lang = build_language(snapshot, language)
        if (
            latest is not None
            and not force
            and latest.snapshot_sha256 == snapshot.sha256
            and latest.summary.get("builder") == BUILDER
            and latest.summary.get("language") == lang
        ):
            log.info("cycle %s: inputs unchanged since build v%s", cycle_id, latest.version)
            return BuildResult.of(latest, created=False)

    built_at = clock.now()
    rendered = render_outputs(snapshot, built_at, language=lang, workers=workers)
    store = blob_store()
    blobs = {name: store.put(data) for name, data in rendered.files.items()}
    snapshot_sha = blobs["answers-snapshot.json"]
    for attempt in range(5):
        try:
            with session_scope(url) as session:
                version = 1 + (
                    session.scalar(
                        select(func.max(ReportBuild.version)).where(
                            ReportBuild.cycle_id == cycle_id
                        )
                    )
                    or 0
                )
                head = prefix(cycle_id, version)
                build = ReportBuild(
                    cycle_id=cycle_id,
                    version=version,
                    built_at=built_at,
                    built_by=built_by,
                    answers_sha256=snapshot.answers_sha256,
                    snapshot_sha256=snapshot_sha,
                    outputs={head + name: sha for name, sha in sorted(blobs.items())},
                    summary=rendered.summary,
                    state="built",
                )
                session.add(build)
                session.flush()
                audit.record(
                    session,
                    built_by,
                    "report.built",
                    f"report_build:{build.id}",
                    cycle_id=cycle_id,
                    version=version,
                    snapshot_sha256=snapshot_sha,
                )
                return BuildResult.of(build, created=True)
        except IntegrityError:  # another build took this version number: take the next
            log.info("cycle %s: version race (attempt %d); retrying", cycle_id, attempt + 1)
    raise RuntimeError(f"cycle {cycle_id}: could not allocate a build version after 5 attempts")


def open_cycles(session: Session) -> list[int]:
    return list(
        session.scalars(
            select(ReportingCycle.id)
            .where(ReportingCycle.state == "open")
            .order_by(ReportingCycle.id)
        )
    )


def consolidate_pending(
    *, only: int | None = None, built_by: str = "consolidate"
) -> list[dict[str, Any]]:
    """Build every open cycle (or just ``only``); unchanged cycles are not rebuilt.

    Each cycle is built on its own: one that fails does not hold back the others, and the
    error is raised once they are all done, so the Airflow task fails visibly.
    """
    with session_scope() as session:
        cycle_ids = [only] if only is not None else open_cycles(session)
    results: list[dict[str, Any]] = []
    errors: list[str] = []
    for cycle_id in cycle_ids:
        try:
            results.append(build_report(cycle_id, built_by=built_by).as_dict())
        except Exception as exc:
            log.exception("cycle %s: consolidation failed", cycle_id)
            errors.append(f"cycle {cycle_id}: {type(exc).__name__}: {exc}")
    if errors:
        raise RuntimeError("consolidation failed for " + "; ".join(errors))
    return results


def get_build(session: Session, build_id: int) -> ReportBuild:
    build = session.get(ReportBuild, build_id)
    if build is None:
        raise LookupError(
            f"there is no report build {build_id}; `resotrack reports list` shows them"
        )
    return build


def list_builds(session: Session, cycle_id: int | None = None) -> list[ReportBuild]:
    query = select(ReportBuild).order_by(ReportBuild.cycle_id, ReportBuild.version)
    if cycle_id is not None:
        query = query.where(ReportBuild.cycle_id == cycle_id)
    return list(session.scalars(query))


def write_outputs(outputs: dict[str, str], folder: Path) -> list[Path]:
    """Copy a build's files out of the blob store into ``folder`` (created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    store = blob_store()
    written = []
    for name, sha in sorted(outputs.items()):
        target = folder / name
        target.write_bytes(store.get(sha))
        written.append(target)
    return written
