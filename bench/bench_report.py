"""The Secretary-General's report: build time against the bare read of the answers.

Two worlds, each in its own SQLite database:

- **seed 004 × 57 replies**: the resolution's 137 operative paragraphs, every member state
  replying in its own language (tests/support/report_world.py, the world the report tests render);
- **250k answers** (``--large``): bench_consolidate's synthetic cycle (two resolutions of 250
  paragraphs, ~560 entities), the report of its first resolution.

The baseline, measured in the same run on the same database, is ``pandas.read_sql`` of the
cycle's current answers. Timed: the snapshot read, the tables, the report's three charts
(PNG), the Word report (synthesis, annexes) and the whole build (every output: xlsx, HTML,
SVG and PNG charts, one docx per resolution). Best of ``--rounds``.

Run: ``.venv/bin/python bench/bench_report.py [--large]``; writes its section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from results import RESULTS, write_section

REPO = Path(__file__).resolve().parents[1]
SECTION = "## Secretary-General's report (docx)"


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def one_round(url: str, cycle_id: int, language: str) -> dict[str, float]:
    import pandas as pd
    from sqlalchemy import select

    from resotrack.consolidation.builds import entity_names, render_outputs
    from resotrack.consolidation.charts import all_charts
    from resotrack.consolidation.export_xlsx import BuildInfo
    from resotrack.consolidation.report_docx import render_docx
    from resotrack.consolidation.snapshot import load_snapshot
    from resotrack.consolidation.tables import compute, for_resolution
    from resotrack.store import get_engine, session_scope
    from resotrack.validation.models import Answer

    t: dict[str, float] = {}
    query = select(
        Answer.entity_code,
        Answer.resolution_symbol,
        Answer.paragraph_number,
        Answer.status,
        Answer.measures,
        Answer.submission_id,
        Answer.accepted_at,
    ).where(Answer.cycle_id == cycle_id, Answer.current.is_(True))
    with get_engine(url).connect() as conn:
        t["baseline"], frame = timed(lambda: pd.read_sql(query, conn))
    t["_answers"] = float(len(frame))

    def load() -> Any:
        with session_scope(url) as session:
            return load_snapshot(session, cycle_id)

    t["read the snapshot"], snapshot = timed(load)
    t["tables (pandas)"], tables = timed(lambda: compute(snapshot))
    built = datetime(2030, 7, 1, 9, tzinfo=UTC)
    resolution = snapshot.resolutions[0]
    narrowed = for_resolution(tables, resolution["symbol"])
    names = entity_names(tables, language)  # type: ignore[arg-type]
    t["three charts of the report (PNG)"], charts = timed(
        lambda: all_charts(
            narrowed,
            snapshot.deadline,
            built_on=built.date(),
            names=names,
            language=language,
            svg=False,
        )  # type: ignore[arg-type]
    )
    info = BuildInfo(
        cycle_id,
        "bench",
        snapshot.deadline,
        "0" * 64,
        built,
        [r["symbol"] for r in snapshot.resolutions],
    )
    t["Word report of one resolution"], docx = timed(
        lambda: render_docx(
            narrowed, resolution, info, {c.name: c for c in charts}, language=language
        )  # type: ignore[arg-type]
    )
    t["_docx_mb"] = len(docx) / 1e6
    t["_paragraphs"] = float(len(narrowed.paragraphs))
    t["_entities"] = float(len(narrowed.entities))
    t["whole build (every output)"], _ = timed(
        lambda: render_outputs(snapshot, built, language=language)
    )
    return t


STEPS = (
    "read the snapshot",
    "tables (pandas)",
    "three charts of the report (PNG)",
    "Word report of one resolution",
    "whole build (every output)",
)


def world_small(url: str) -> int:
    sys.path.insert(0, str(REPO / "tests"))
    from support.report_world import make_world

    return make_world().cycle_id


def world_large(url: str, answers: int) -> int:
    from bench_consolidate import populate

    return populate(url, answers, 250, 4)


def run(name: str, make: Callable[[str], int], rounds: int, language: str) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        os.environ["RESOTRACK_HOME"] = str(Path(tmp) / "var")
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        os.environ["RESOTRACK_DATABASE_URL"] = url
        from resotrack.settings import get_settings
        from resotrack.store import migrate, reset_engines

        get_settings.cache_clear()
        reset_engines()
        migrate.upgrade(url)
        seconds, cycle_id = timed(lambda: make(url))
        print(f"{name}: populated in {seconds:.1f} s")
        best: dict[str, float] = {}
        for round_no in range(1, rounds + 1):
            t = one_round(url, cycle_id, language)
            print(f"{name} round {round_no}: " + ", ".join(f"{k} {v:.2f}" for k, v in t.items()))
            for key, value in t.items():
                best[key] = min(best.get(key, value), value) if not key.startswith("_") else value
        reset_engines()
    base = best["baseline"]
    lines = [
        f"**{name}**: {int(best['_answers']):,} current answers; the report covers "
        f"{int(best['_paragraphs'])} paragraphs and {int(best['_entities'])} entities "
        f"(docx {best['_docx_mb']:.1f} MB).",
        "",
        "| step | seconds | vs baseline |",
        "|---|---:|---:|",
        f"| **baseline**: `pandas.read_sql` of the cycle's current answers | {base:.2f} | 1.0× |",
    ]
    lines += [f"| {key} | {best[key]:.2f} | {best[key] / base:.0f}× |" for key in STEPS]
    return [*lines, ""]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--language", default="fr", choices=("ar", "en", "fr"))
    parser.add_argument("--large", action="store_true", help="also 250k answers")
    parser.add_argument("--answers", type=int, default=250_000)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        f"Run {datetime.now():%Y-%m-%dT%H:%M} on {platform.machine()}, Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, SQLite, report in "
        f"`{args.language}`; best of {args.rounds} rounds in one process; load average {load} "
        f"when it started (the machine is shared). Command: `.venv/bin/python "
        f"bench/bench_report.py{' --large' if args.large else ''}`.",
        "",
    ]
    lines += run("Seed 004, 57 replies × 137 paragraphs", world_small, args.rounds, args.language)
    if args.large:
        lines += run(
            f"{args.answers:,} answers (synthetic)",
            lambda url: world_large(url, args.answers),
            1,
            args.language,
        )
    body = "\n".join(lines)
    print("\n" + body)
    if not args.no_write:
        write_section(SECTION, body)
        print(f"\nwritten to {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
