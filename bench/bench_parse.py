"""How long parsing seed 004 takes, against just reading the file, in the same run.

The ratio is what to watch: absolute times depend on the machine, the ratio much less.
Run it with ``uv run python bench/bench_parse.py [--runs 50]``; it prints the figures and
rewrites only the "## Parse (seed 004)" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from resotrack.resolutions import parse_file
from results import RESULTS, write_section

REPO = Path(__file__).resolve().parents[1]
SEED_004 = REPO.parent / "shared" / "seeds" / "004_7627369674135aea.txt"
HEADING = "## Parse (seed 004)"


def median_seconds(action: Callable[[], object], runs: int) -> float:
    """Median wall time of ``runs`` calls, after one warm-up call (imports, caches)."""
    action()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def read_only() -> str:
    """What parse_file does before parsing: read the bytes, decode them."""
    return SEED_004.read_bytes().decode("utf-8")


def section(runs: int, read: float, parse: float, paragraphs: int) -> str:
    return "\n".join(
        [
            HEADING,
            "",
            f"Measured {date.today().isoformat()} with `uv run python bench/bench_parse.py "
            f"--runs {runs}` (Python {platform.python_version()}, {platform.machine()}).",
            "",
            "| what | median of runs | per run |",
            "|---|---|---|",
            f"| read + decode the file ({SEED_004.stat().st_size:,} bytes) | {runs} "
            f"| {read * 1e3:.3f} ms |",
            f"| `parse_file` (read + parse, {paragraphs} paragraphs) | {runs} "
            f"| {parse * 1e3:.2f} ms |",
            f"| ratio parse / read | | {parse / read:,.0f}x |",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50, help="timed runs of each (median)")
    parser.add_argument("--no-write", action="store_true", help="print only, keep RESULTS.md")
    args = parser.parse_args()
    if not SEED_004.is_file():
        raise SystemExit(f"seed 004 not found at {SEED_004} (shared/ must be beside the repo)")
    paragraphs = len(parse_file(SEED_004).paragraphs)
    read = median_seconds(read_only, args.runs)
    parse = median_seconds(lambda: parse_file(SEED_004), args.runs)
    print(f"read + decode  : {read * 1e3:8.3f} ms (median of {args.runs})")
    print(
        f"parse_file     : {parse * 1e3:8.2f} ms (median of {args.runs}, {paragraphs} paragraphs)"
    )
    print(f"ratio          : {parse / read:8,.0f}x")
    if not args.no_write:
        write_section(HEADING, section(args.runs, read, parse, paragraphs).removeprefix(HEADING))
        print(f"updated {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
