"""Lineage of a 150-resolution session against the previous session, against reading them.

The sessions are SYNTHETIC, made from the two seeds (142 real paragraphs): each resolution of
session 1 takes 20 seed paragraphs and a title of its own, and 40 % of each paragraph's longer
words are replaced by words drawn from the seeds' vocabulary (so the same seed paragraph reads
differently in each resolution, as the same formula does across real resolutions). Session 2
renews every resolution with ``tests/renewal.renew`` (rewordings, dropped, added, moved and
renumbered paragraphs) and is adopted two years later.

Figures, in the same run and on the same database:

* **read**: reading every paragraph of both sessions (id and text) from the database: the
  least any lineage must do;
* **lineage (batch)**: ``link_all`` over the 150 resolutions of session 2 (what
  ``resotrack resolutions relink`` does);
* **lineage at import**: the time ``link_version`` took inside the 150 imports of session 2.

Run ``uv run python bench/bench_lineage.py [--record] [--db URL]``; ``--record`` rewrites only
the "## Lineage (150 resolutions)" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
SEEDS = REPO.parent / "shared" / "seeds"
HEADING = "## Lineage (150 resolutions)"


def synthetic_session(count: int, per: int, seed: int) -> list[object]:
    from resotrack.resolutions import parse_file
    from resotrack.resolutions.model import ParsedParagraph

    seeds = [parse_file(p) for p in sorted(SEEDS.glob("*.txt"))]
    pool = [p for parsed in seeds for p in parsed.paragraphs]
    vocabulary = sorted({w for p in pool for w in re.findall(r"\w{6,}", p.text)})
    rng = random.Random(seed)
    base = seeds[-1]
    session = []
    for i in range(1, count + 1):
        paragraphs = []
        for n, source in enumerate(rng.sample(pool, per), start=1):
            words = source.text.split(" ")
            for k, word in enumerate(words):
                if len(word) >= 6 and k > 0 and rng.random() < 0.4:
                    words[k] = rng.choice(vocabulary)
            paragraphs.append(ParsedParagraph(n, None, " ".join(words), ()))
        title = f"Résolution {i}/50 sur {' '.join(rng.sample(vocabulary, 3))}"
        session.append(
            replace(
                base,
                symbol=f"SYN/50/{i}",
                document_symbol=f"SYN/50/{i}",
                title=title,
                sections=(),
                paragraphs=tuple(paragraphs),
                adopted_on=date(2023, 6, 1),
                text_sha256=f"{seed:08d}{i:056d}",
            )
        )
    return session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolutions", type=int, default=150)
    parser.add_argument("--paragraphs", type=int, default=20)
    parser.add_argument("--db", help="database URL (default: a new SQLite file)")
    parser.add_argument("--record", action="store_true")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="bench-lineage-")
    url = args.db or f"sqlite:///{folder}/bench.db"
    os.environ["RESOTRACK_HOME"] = folder
    os.environ["RESOTRACK_DATABASE_URL"] = url

    from sqlalchemy import select

    from resotrack.resolutions import lineage
    from resotrack.resolutions.importer import store_parsed
    from resotrack.resolutions.models import OperativeParagraph
    from resotrack.store import migrate, session_scope
    from support.renewal import ADDED_FR, renew

    migrate.upgrade(url)
    first = synthetic_session(args.resolutions, args.paragraphs, seed=50)
    with session_scope() as s:
        for parsed in first:
            store_parsed(s, parsed, source_text="synthetic", source="bench", actor="bench")  # type: ignore[arg-type]

    spent: list[float] = []
    real_link = lineage.link_version

    def timed_link(session, version):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return real_link(session, version)
        finally:
            spent.append(time.perf_counter() - started)

    lineage.link_version = timed_link  # type: ignore[assignment]
    truths: dict[str, dict[int, int | None]] = {}
    with session_scope() as s:
        for i, parsed in enumerate(first):
            symbol = parsed.symbol.replace("/50/", "/51/")  # type: ignore[attr-defined]
            renewed, truth = renew(
                parsed,  # type: ignore[arg-type]
                seed=i,
                symbol=symbol,
                adopted_on=date(2025, 6, 1),
                added=(ADDED_FR[i % 8], ADDED_FR[(i + 3) % 8]),
                moves=2,
            )
            truths[symbol] = truth
            store_parsed(s, renewed, source_text="synthetic", source="bench", actor="bench")
    lineage.link_version = real_link  # type: ignore[assignment]

    def read() -> int:
        with session_scope() as s:
            return len(s.execute(select(OperativeParagraph.id, OperativeParagraph.text)).all())

    reads = []
    for _ in range(5):
        started = time.perf_counter()
        paragraphs = read()
        reads.append(time.perf_counter() - started)
    read_s = statistics.median(reads)

    started = time.perf_counter()
    with session_scope() as s:
        lineage.link_all(s, list(truths))
    batch_s = time.perf_counter() - started
    import_s = sum(spent)

    carried = found = false = review = 0
    with session_scope() as s:
        for symbol, truth in truths.items():
            for m in lineage.lineage_of(s, symbol):
                old = truth[m.paragraph]
                right = old is not None and m.predecessor is not None
                right = right and m.predecessor == {  # type: ignore[comparison-overlap]
                    **m.predecessor,  # type: ignore[dict-item]
                    "symbol": symbol.replace("/51/", "/50/"),
                    "paragraph": old,
                }
                carried += old is not None
                found += right
                false += m.predecessor is not None and not right
                review += m.state == "review"

    lines = [
        f"Measured {date.today().isoformat()} with `uv run python bench/bench_lineage.py"
        f"{' --record' if args.record else ''}` (Python {platform.python_version()}, "
        f"{platform.machine()}, {'SQLite' if url.startswith('sqlite') else 'PostgreSQL'}). "
        "Sessions are **synthetic** (from the two seeds, see the script's docstring): "
        f"{args.resolutions} resolutions × {args.paragraphs} paragraphs each, renewed.",
        "",
        "| what | time |",
        "|---|---|",
        f"| read every paragraph of both sessions ({paragraphs:,}), median of 5 | "
        f"{read_s * 1e3:.1f} ms |",
        f"| lineage of session 2 in one batch (`link_all`) | {batch_s:.2f} s |",
        f"| lineage at import, summed over the {len(truths)} imports | {import_s:.2f} s |",
        f"| ratio batch / read | {batch_s / read_s:,.0f}x |",
        f"| ratio at import / read | {import_s / read_s:,.0f}x |",
        "",
        f"Carried-over paragraphs linked right: {found:,} of {carried:,} "
        f"({found / carried:.1%}); wrong links above the review threshold: {false}; "
        f"proposals left to staff review: {review}. Target: lineage ≤ 30 s.",
        "",
        f"Load average at the end of the run: {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores (a shared machine): absolute times move with it, ratios less.",
    ]
    body = "\n".join(lines)
    print(body)
    if args.record:
        from results import write_section

        write_section(HEADING, body)


if __name__ == "__main__":
    main()
