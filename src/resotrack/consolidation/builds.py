"""Versioned report builds: every build is kept, with the answers snapshot it came from.

A build reads a :class:`Snapshot` in one short transaction, renders every output outside any
transaction (that is the slow part), stores each file in the blob store, and only then inserts
its :class:`ReportBuild` row under the next version number. A crash mid-way leaves at most
unreferenced blobs, never a half-made build. Building a cycle whose inputs have not changed
since its latest build returns that build: the DAG runs on every answers event, and the
Secretariat should see a new version only when there is something new in it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from resotrack import audit, clock
from resotrack.catalog import LANGUAGES, NP_, Language, ValueNames
from resotrack.consolidation.drafts import Block, StaffText, identifier, plain
from resotrack.consolidation.models import ReportBuild, ReportEdit
from resotrack.consolidation.snapshot import Snapshot, load_snapshot
from resotrack.questionnaires.models import ReportingCycle
from resotrack.store.blobs import blob_store
from resotrack.store.db import session_scope

if TYPE_CHECKING:
    from resotrack.consolidation.export_xlsx import BuildInfo
    from resotrack.consolidation.report_docx import ReportDocx

#: What a report build's state is called.
BUILD_STATES: Final = ValueNames(
    "build state",
    {
        "built": NP_("build state", "built"),
        "awaiting_approval": NP_("build state", "awaiting approval"),
        "approved": NP_("build state", "approved"),
        "published": NP_("build state", "published"),
        "rejected": NP_("build state", "rejected"),
    },
)

log = logging.getLogger(__name__)

#: Bump when the outputs change for the same snapshot: the next run then builds again.
BUILDER: Final = "3"
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
    """A build's files (by name, without the version prefix) and its headline figures;
    ``blocks``: per resolution, the blocks of its Word draft (kept beside the build, not
    published: what an uploaded draft is compared with)."""

    files: dict[str, bytes]
    summary: dict[str, Any]
    blocks: dict[str, dict[str, Block]] = field(default_factory=dict)


#: Resolution symbol → block key → staff's text.
Edits = Mapping[str, Mapping[str, StaffText]]


def edits_fingerprint(edits: Edits) -> str:
    """What staff's texts are, in one hash: a build with other texts is a new build."""
    items = [
        [symbol, key, plain(text.paragraphs), text.replaced, text.edited_by]
        for symbol, blocks in sorted(edits.items())
        for key, text in sorted(blocks.items())
    ]
    return hashlib.sha256(json.dumps(items, ensure_ascii=False).encode()).hexdigest()


def draft_digest(snapshot_sha256: str, edits: str, language: str, symbol: str) -> str:
    """Names one draft: the same inputs, staff's texts and language give the same digest."""
    seed = f"{BUILDER} {snapshot_sha256} {edits} {language} {symbol}"
    return hashlib.sha256(seed.encode()).hexdigest()[:24]


def build_language(snapshot: Snapshot, language: str | None = None) -> Language:
    """The language of a build: the one staff chose, else the first resolution's."""
    from resotrack.consolidation.report_docx import report_language

    if language is not None:
        if language not in LANGUAGES:
            raise ValueError(f"a report can be built in {', '.join(LANGUAGES)}, not {language!r}")
        return language
    first = snapshot.resolutions[0].get("language") if snapshot.resolutions else None
    return report_language(first)


def build_info(snapshot: Snapshot, built_at: datetime, lang: Language) -> BuildInfo:
    """What the outputs say about the build."""
    from resotrack.consolidation.export_xlsx import BuildInfo

    opened = snapshot.cycle.get("dispatched_at") or snapshot.cycle.get("opened_at")
    reminders = snapshot.cycle.get("reminders")
    return BuildInfo(
        cycle_id=snapshot.cycle_id,
        cycle_title=str(snapshot.cycle["title"]),
        deadline=snapshot.deadline,
        snapshot_sha256=snapshot.sha256,
        built_at=built_at,
        resolutions=[r["symbol"] for r in snapshot.resolutions],
        opened_on=datetime.fromisoformat(opened).date() if opened else None,
        reminders=int(reminders) if reminders is not None else None,
        theme=theme_label(snapshot.theme, lang),
    )


def render_draft(
    snapshot: Snapshot,
    symbol: str,
    built_at: datetime,
    *,
    language: str | None = None,
    edits: Mapping[str, StaffText] | None = None,
    charts: bool = True,
    fingerprint: str = "",
) -> ReportDocx:
    """The Word draft on one resolution of ``snapshot`` (``charts=False``: without its
    figures, quicker: what a test of its words needs)."""
    from resotrack.consolidation.charts import all_charts
    from resotrack.consolidation.report_docx import render_report
    from resotrack.consolidation.tables import compute, for_resolution

    lang = build_language(snapshot, language)
    tables = compute(snapshot)
    resolution = next(r for r in snapshot.resolutions if r["symbol"] == symbol)
    narrowed = for_resolution(tables, symbol)
    drawn = {}
    if charts:
        names = entity_names(tables, lang)
        drawn = {
            c.name: c
            for c in all_charts(
                narrowed,
                snapshot.deadline,
                built_on=built_at.date(),
                names=names,
                language=lang,
                svg=False,
            )
        }
    return render_report(
        narrowed,
        resolution,
        build_info(snapshot, built_at, lang),
        drawn,
        language=lang,
        edits=edits,
        identifier=identifier(
            snapshot.cycle_id,
            symbol,
            lang,
            draft_digest(snapshot.sha256, fingerprint, lang, symbol),
        ),
    )


def render_outputs(
    snapshot: Snapshot,
    built_at: datetime,
    *,
    language: str | None = None,
    edits: Edits | None = None,
    workers: int | None = None,
) -> Rendered:
    """Every output of a build, all in one language, with staff's texts where they edited
    the Word drafts. Pure: no database, no blob store.

    The per-resolution reports are drawn in ``workers`` processes (by default one per
    core, at most :data:`MAX_WORKERS`) when the cycle has :data:`PARALLEL_FROM` resolutions
    or more, else in this process; the files are the same either way.
    """
    from resotrack.consolidation.charts import all_charts, response_rate
    from resotrack.consolidation.export_xlsx import write_workbook
    from resotrack.consolidation.report_html import render_html
    from resotrack.consolidation.tables import compute

    lang = build_language(snapshot, language)
    edits = edits or {}
    fingerprint = edits_fingerprint(edits)
    tables = compute(snapshot)
    info = build_info(snapshot, built_at, lang)
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
        cycle_id=snapshot.cycle_id,
        edits=dict(edits),
        drafts={
            str(r["symbol"]): draft_digest(snapshot.sha256, fingerprint, lang, str(r["symbol"]))
            for r in snapshot.resolutions
        },
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
        blocks: dict[str, dict[str, Block]] = {}
        for symbol, (name, data, mine) in reports.results().items():
            files[name] = data
            blocks[symbol] = mine
    edited = sorted(
        f"{symbol} {key}" for symbol, mine in blocks.items() for key, b in mine.items() if b.edited
    )
    stale = sorted(
        f"{symbol} {key}" for symbol, mine in blocks.items() for key, b in mine.items() if b.stale
    )
    summary = {**tables.summary, "builder": BUILDER, "language": lang}
    summary |= {"edits": fingerprint, "drafts": job.drafts, "edited": edited, "stale": stale}
    if snapshot.theme is not None:
        summary["theme"] = snapshot.theme
    return Rendered(files, summary, blocks)


def theme_label(code: str | None, language: Language) -> str | None:
    """A theme's name in ``language`` (None for None): people read names, never codes."""
    if code is None:
        return None
    from resotrack.resolutions.themes import themes

    found = themes().get(code)
    return found.name(language) if found is not None else code


def entity_names(tables: Any, language: Language) -> dict[str, str]:
    """Entity code → its name in ``language`` (English, then the code, when it has none), as
    a sentence shows it: ``République islamique d'Iran``, not the registry's bracketed form."""
    from resotrack.registry.grammar import display_name

    e = tables.entities
    column = {"fr": "name_fr", "ar": "name_ar"}.get(language, "name_en")
    return {
        str(code): display_name(str(name or fallback or code))
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
    cycle_id: int
    edits: dict[str, Any]  # symbol → staff's texts by block
    drafts: dict[str, str]  # symbol → the draft's digest


def _resolution_report(
    job: _ReportJob, resolution: dict[str, Any]
) -> tuple[str, tuple[str, bytes, dict[str, Block]]]:
    """One resolution's draft report (docx, with its charts drawn as PNG) and its blocks."""
    from resotrack.consolidation.charts import status_by_section, status_matrix
    from resotrack.consolidation.report_docx import render_report
    from resotrack.consolidation.tables import for_resolution

    symbol = str(resolution["symbol"])
    narrowed = for_resolution(job.tables, symbol)
    drawn = {
        "heatmap": status_matrix(narrowed.matrix, job.names, language=job.language, svg=False),
        "response_rate": job.rate,
        "status_by_section": status_by_section(narrowed.sections, language=job.language, svg=False),
    }
    report = render_report(
        narrowed,
        resolution,
        job.info,
        drawn,
        language=job.language,
        edits=job.edits.get(symbol),
        identifier=identifier(job.cycle_id, symbol, job.language, job.drafts[symbol]),
    )
    return symbol, (f"report-{slug(symbol)}.docx", report.data, report.blocks)


_WORKER_JOB: _ReportJob | None = None


def _worker_start(job: _ReportJob) -> None:
    global _WORKER_JOB
    _WORKER_JOB = job


def _worker_report(
    resolution: dict[str, Any],
) -> tuple[str, tuple[str, bytes, dict[str, Block]]]:
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

    def results(self) -> dict[str, tuple[str, bytes, dict[str, Block]]]:
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


def load_edits(session: Session, cycle_id: int, language: str) -> dict[str, dict[str, StaffText]]:
    """Staff's texts for the drafts of ``cycle_id`` in ``language``: symbol → key → text."""
    from resotrack.consolidation.drafts import Para

    found: dict[str, dict[str, StaffText]] = {}
    rows = session.execute(
        select(ReportEdit, ReportBuild.built_at)
        .join(ReportBuild, ReportBuild.id == ReportEdit.build_id)
        .where(ReportEdit.cycle_id == cycle_id, ReportEdit.language == language)
    )
    for row, replaced_at in rows:
        found.setdefault(row.resolution_symbol, {})[row.block] = StaffText(
            paragraphs=tuple(Para.of_json(p) for p in row.paragraphs),
            replaced=row.replaced,
            edited_by=row.edited_by,
            edited_on=row.edited_at.date(),
            replaced_on=replaced_at.date(),
        )
    return found


def build_blocks(build: ReportBuild) -> dict[str, dict[str, dict[str, Any]]]:
    """The blocks of a build's drafts (symbol → key → generated, shown, ...); empty for a
    build made before drafts had blocks."""
    sha = build.summary.get("blocks_sha256")
    if not sha:
        return {}
    data: dict[str, dict[str, dict[str, Any]]] = json.loads(blob_store().get(str(sha)))
    return data


def build_report(
    cycle_id: int,
    *,
    built_by: str = "consolidate",
    force: bool = False,
    url: str | None = None,
    language: str | None = None,
    theme: str | None = None,
    workers: int | None = None,
) -> BuildResult:
    """Build ``cycle_id`` unless its latest build saw the same inputs in the same language
    (``force`` builds anyway). ``language`` (ar, en, fr): every output of the build speaks
    it; by default the first resolution's. ``theme`` (a theme code): the tables and reports
    cover only the paragraphs tagged with it, and their titles say so. ``workers``: see
    :func:`render_outputs`."""
    with session_scope(url) as session:
        snapshot = load_snapshot(session, cycle_id, theme)
        latest = latest_build(session, cycle_id)
        lang = build_language(snapshot, language)
        edits = load_edits(session, cycle_id, lang)
        if (
            latest is not None
            and not force
            and latest.snapshot_sha256 == snapshot.sha256
            and latest.summary.get("builder") == BUILDER
            and latest.summary.get("language") == lang
            and latest.summary.get("edits", edits_fingerprint({})) == edits_fingerprint(edits)
            and latest.summary.get("theme") == theme
        ):
            log.info("cycle %s: inputs unchanged since build v%s", cycle_id, latest.version)
            return BuildResult.of(latest, created=False)

    built_at = clock.now()
    rendered = render_outputs(snapshot, built_at, language=lang, edits=edits, workers=workers)
    store = blob_store()
    blobs = {name: store.put(data) for name, data in rendered.files.items()}
    blocks = {
        symbol: {key: b.as_json() for key, b in mine.items()}
        for symbol, mine in rendered.blocks.items()
    }
    summary = {
        **rendered.summary,
        "blocks_sha256": store.put(json.dumps(blocks, ensure_ascii=False, sort_keys=True).encode()),
    }
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
                    summary=summary,
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
