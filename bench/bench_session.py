"""Benchmark: a session's worth of resolutions in one cycle (issue 18), cost per row.

For each size (synthetic resolutions made from seed 000, ~18 rows per member state each), on a
fresh SQLite database: import the texts, open a cycle over the session for every entity
routing names, build every entity's questionnaire, and quick-check one entity's filled
return (read + contract in the sandbox). Each step's time is divided by the rows it handles
(per entity rows × entities, or one return's rows) and compared with the 10-resolution size
of the same run.

Run: ``uv run python bench/bench_session.py --sizes 1 10 50 150``; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

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
    from resotrack.resolutions import import_file
    from resotrack.resolutions.synthetic import write_session
    from resotrack.settings import get_settings
    from resotrack.store import reset_engines, session_scope
    from resotrack.store.migrate import upgrade
    from resotrack.validation.steps import check_workbook
    from return_fixtures import answers_for

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
    t = time.perf_counter()
    with session_scope() as session:
        symbols = session_symbols(session, "quarante-neuvième session")
        cycle_id = open_cycle(session, symbols, clock.today() + timedelta(days=60)).id
    found["open"] = time.perf_counter() - t
    t = time.perf_counter()
    with session_scope() as session:
        cycle = load_cycle(session, cycle_id)
        rows = [len(q.rows) for q in cycle.questionnaires]
        for q in cycle.questionnaires:
            ensure_built(session, cycle, q)
        q = max(cycle.questionnaires, key=lambda q: len(q.rows))
        spec = questionnaire_spec(session, cycle, q)
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
    found["entities"] = len(rows)
    found["rows_all"] = sum(rows)
    found["rows_one"] = len(spec.rows)
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 50])
    args = parser.parse_args()
    results = {}
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            results[size] = one(size, Path(tmp))
        print(size, results[size], flush=True)
    base = results.get(10)
    print("| resolutions | entities | rows (all) | rows (one) | import s | open s | build s "
          "| quick check s | build per row vs 10 | quick per row vs 10 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for size, r in results.items():
        ratio_b = ratio_q = "—"
        if base:
            ratio_b = f"{(r['build'] / r['rows_all']) / (base['build'] / base['rows_all']):.2f}"
            ratio_q = f"{(r['quick'] / r['rows_one']) / (base['quick'] / base['rows_one']):.2f}"
        print(
            f"| {size} | {r['entities']:.0f} | {r['rows_all']:.0f} | {r['rows_one']:.0f} "
            f"| {r['import']:.2f} | {r['open']:.2f} | {r['build']:.2f} | {r['quick']:.2f} "
            f"| {ratio_b} | {ratio_q} |"
        )


if __name__ == "__main__":
    main()
