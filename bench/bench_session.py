"""Benchmark: a session's worth of resolutions in one cycle (issue 18), cost per row.

For each size (synthetic resolutions made from seed 000, ~18 rows per member state each), on a
fresh SQLite database: import the texts, route each resolution's last paragraph (addressed to
the Secretary-General) to the registry's other institutions too, so that every entity of the
registry has rows; open a cycle over the session for every entity, build every entity's
questionnaire, and quick-check one entity's filled return (read + contract in the sandbox);
ingest it; build the report. Each step's time is divided by the rows it handles (per entity
rows × entities, or one return's rows) and compared with the 10-resolution size of the same
run. The report's CPU time counts its worker processes too.

Run: ``uv run python bench/bench_session.py --sizes 1 10 50 150``; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
SEED = REPO.parent / "shared" / "seeds" / "000_538a0b500d10359b.txt"


def one(size: int, folder: Path) -> dict[str, float]:
    os.environ["RESOTRACK_HOME"] = str(folder / "var")
    os.environ["RESOTRACK_DATABASE_URL"] = f"sqlite:///{folder / 'app.db'}"
    os.environ["RESOTRACK_SECRET_KEY"] = "bench-key"
    from resotrack import clock
    from resotrack.questionnaires.cycles import open_cycle, session_symbols
    from resotrack.questionnaires.dispatch import ensure_built, load_cycle, questionnaire_spec
    from resotrack.questionnaires.workbook import build_workbook
    from resotrack.registry import sync_entities
    from resotrack.registry.models import ReportingEntity
    from resotrack.resolutions import import_file
    from resotrack.resolutions.models import RoutingOverride
    from resotrack.resolutions.queries import get_resolution
    from resotrack.resolutions.synthetic import write_session
    from resotrack.settings import get_settings
    from resotrack.store import reset_engines, session_scope
    from resotrack.store.migrate import upgrade
    from resotrack.validation.answers import earlier_answers
    from resotrack.validation.steps import check_workbook
    from support.return_fixtures import answers_for

    get_settings.cache_clear()
    reset_engines()
    upgrade()
    with session_scope() as session:
        sync_entities(session)
    files = write_session(SEED, folder / "texts", size)
    found: dict[str, float] = {}
    t = time.perf_counter()
    for path in files:
        import_file(path)
    found["import"] = time.perf_counter() - t
    with session_scope() as session:
        symbols = session_symbols(session, "quarante-neuvième session")
        others = session.scalars(
            select(ReportingEntity.code).where(
                ReportingEntity.kind == "institution", ReportingEntity.active
            )
        ).all()
        for symbol in symbols:
            resolution = get_resolution(session, symbol)
            last = max(p.number for p in resolution.current.paragraphs)
            session.add_all(
                RoutingOverride(
                    resolution_id=resolution.id,
                    paragraph_number=last,
                    entity_code=code,
                    included=True,
                    note="bench: every institution reports on it",
                )
                for code in others
            )
    t = time.perf_counter()
    with session_scope() as session:
        cycle_id = open_cycle(session, symbols, clock.today() + timedelta(days=60)).id
    found["open"] = time.perf_counter() - t
    t = time.perf_counter()
    with session_scope() as session:
        cycle = load_cycle(session, cycle_id)
        rows = [len(q.rows) for q in cycle.questionnaires]
        for q in cycle.questionnaires:
            ensure_built(session, cycle, q, earlier_answers=earlier_answers)
        q = max(cycle.questionnaires, key=lambda q: len(q.rows))
        spec = questionnaire_spec(session, cycle, q, earlier_answers=earlier_answers)
    found["build"] = time.perf_counter() - t
    spec = replace(
        spec, rows=tuple(replace(r, prefill=answers_for(r.number, "fr")) for r in spec.rows)
    )
    data = build_workbook(spec, signing_key=b"bench-key")
    sent = [(r.resolution, r.number) for r in spec.rows]
    check_workbook(data, sent)  # the sandbox warms up
    t = time.perf_counter()
    check_workbook(data, sent)
    found["quick"] = time.perf_counter() - t
    from resotrack.consolidation.builds import build_report
    from resotrack.store.blobs import blob_store
    from resotrack.validation import ingest_pending
    from resotrack.validation.models import Submission
    from resotrack.validation.quality import warm

    warm()  # Great Expectations' import is paid once per process, not by the first size
    with session_scope() as session:
        session.add(
            Submission(
                cycle_id=cycle_id,
                entity_code=spec.entity_code,
                sha256=blob_store().put(data),
                size=len(data),
                original_name="return.xlsx",
                channel="cli",
                state="received",
                report={},
                received_at=clock.now(),
            )
        )
    t = time.perf_counter()
    (result,) = ingest_pending()
    found["ingest"] = time.perf_counter() - t
    assert result.get("outcome") == "accepted", result
    if size <= REPORT_MAX:
        t, cpu = time.perf_counter(), cpu_seconds()
        build_report(cycle_id, force=True, workers=WORKERS)
        found["report"] = time.perf_counter() - t
        found["report_cpu"] = cpu_seconds() - cpu
    found["entities"] = len(rows)
    found["rows_all"] = sum(rows)
    found["rows_one"] = len(spec.rows)
    return found


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the report's workers)."""
    me, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--plot", help="write the per-row cost curves to this PNG")
    parser.add_argument("--report-max", type=int, default=10_000, help="build reports up to")
    parser.add_argument("--workers", type=int, help="report worker processes (default: cores)")
    args = parser.parse_args()
    global REPORT_MAX, WORKERS
    REPORT_MAX = args.report_max
    WORKERS = args.workers
    results = {}
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            results[size] = one(size, Path(tmp))
        print(size, results[size], flush=True)
    base = results.get(10)
    if args.plot and base:
        plot(results, base, Path(args.plot))
    print(
        "| resolutions | entities | rows, all entities | rows, one return | import s | "
        "open s | questionnaires s | quick check s | ingest s | report s | report CPU s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for size, r in results.items():
        print(
            f"| {size} | {r['entities']:.0f} | {r['rows_all']:,.0f} | {r['rows_one']:,.0f} "
            + "".join(f"| {r[step]:.2f} " if step in r else "| — " for step in STEPS)
            + (f"| {r['report_cpu']:.2f} |" if "report_cpu" in r else "| — |")
        )
    if base:
        print()
        print("Per-row cost relative to 10 resolutions (1.00 = linear):")
        print()
        print("| resolutions | " + " | ".join(STEPS) + " |")
        print("|---|" + "---|" * len(STEPS))
        for size, r in results.items():
            cells = [f"{per_row(r, base, s):.2f}" if s in r else "—" for s in STEPS]
            print(f"| {size} | " + " | ".join(cells) + " |")


#: The report is built up to this size only (``--report-max``): it costs minutes per size.
REPORT_MAX = 10_000
#: Worker processes for the report's per-resolution files (``--workers``; None: the default).
WORKERS: int | None = None

#: Each step, and the rows its work grows with.
STEPS = ("import", "open", "build", "quick", "ingest", "report")
ROWS = {
    "import": "rows_one",
    "open": "rows_all",
    "build": "rows_all",
    "quick": "rows_one",
    "ingest": "rows_one",
    "report": "rows_all",
}


def per_row(r: dict[str, float], base: dict[str, float], step: str) -> float:
    rows = ROWS[step]
    return (r[step] / r[rows]) / (base[step] / base[rows])


def plot(results: dict[int, dict[str, float]], base: dict[str, float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(results)
    fig, ax = plt.subplots(figsize=(7, 4))
    for step in STEPS:
        have = [s for s in sizes if step in results[s]]
        ax.plot(have, [per_row(results[s], base, step) for s in have], marker="o", label=step)
    ax.axhline(1.5, color="grey", linestyle="--", linewidth=1, label="goal: 1.5× of 10")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("resolutions in the cycle (≈18 rows each per member state)")
    ax.set_ylabel("per-row cost / per-row cost at 10")
    ax.set_title("A session's worth: cost per row against 10 resolutions")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    main()
