"""bench/RESULTS.md, one section per benchmark: each run replaces its own section only.

Benchmarks run as scripts (``python bench/bench_x.py``), so this folder is on ``sys.path`` and
they import this module as ``results``.
"""

from __future__ import annotations

import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def _pattern(heading: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(heading)}\n(.*?)(?=^## |\Z)", re.MULTILINE | re.DOTALL)


def read_section(heading: str) -> str | None:
    """The body of the section under ``heading`` (without the heading), or None."""
    if not RESULTS.exists():
        return None
    found = _pattern(heading).search(RESULTS.read_text(encoding="utf-8"))
    return found.group(1) if found else None


def write_section(heading: str, body: str) -> None:
    """Replace the section under ``heading`` (or append it), leaving other sections alone."""
    current = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    section = f"{heading}\n\n{body.strip()}\n"
    pattern = _pattern(heading)
    if pattern.search(current):
        updated = pattern.sub(lambda _: section + "\n", current, count=1)
    else:
        updated = current.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(updated.rstrip("\n") + "\n", encoding="utf-8")
