"""Figures of the distributed run: 100 returns on a Celery cluster with a worker killed.

Runs ``tests/e2e/test_cluster.py::test_100_returns_ingested_once_despite_a_killed_worker`` (it
starts scheduler, dag-processor, triggerer, api-server and two Celery workers as processes on
the local PostgreSQL and Redis), reads the figures the test leaves in ``figures.json``, and
replaces this benchmark's section of bench/RESULTS.md. The test's own assertions (each return
decided once, each feedback email sent at most once) must pass for figures to be written.

Run: ``uv run python bench/bench_cluster.py`` (needs RESOTRACK_TEST_DATABASE_URL, as the tests).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from results import RESULTS, write_section

REPO = Path(__file__).resolve().parents[1]
HEADING = "## Cluster: 100 returns, two Celery workers, one killed"
TEST = "tests/e2e/test_cluster.py::test_100_returns_ingested_once_despite_a_killed_worker"


def run_test() -> tuple[dict[str, Any], float]:
    """Run the cluster test once; its figures and the wall time of the whole pytest run."""
    env = dict(os.environ)
    env.setdefault("RESOTRACK_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    base = tempfile.mkdtemp(prefix="bench-cluster-")
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", TEST, "-q", "-p", "no:cacheprovider",
         f"--basetemp={base}"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    wall = time.perf_counter() - started
    if result.returncode != 0:  # keep everything for the post-mortem
        log = Path(base) / "pytest.log"
        log.write_text(result.stdout + result.stderr, "utf-8")
        sys.stdout.write(result.stdout[-6000:] + result.stderr[-3000:])
        raise SystemExit(
            f"the cluster test failed (exit {result.returncode}); output in {log}, "
            f"cluster logs under {base}"
        )
    figures = json.loads(next(Path(base).glob("cluster*/figures.json")).read_text("utf-8"))
    shutil.rmtree(base, ignore_errors=True)
    return figures, wall


def section(figures: dict[str, Any], wall: float) -> str:
    load = os.getloadavg()[0]
    rows = [
        ("pytest run (cluster start, 100 returns, checks, teardown)", f"{wall:.0f} s"),
        ("first 60 uploads received and triggered (REST)", f"{figures['submit_s']} s"),
        ("the other 40, uploaded while w1 is dead", f"{figures['submit_rest_s']} s"),
        ("worker w1 SIGKILLed after", f"{figures['killed_after_s']} s"),
        ("returns decided when it died", str(figures["decided_at_kill"])),
        ("its validation claims at the kill", str(figures["claimed_by_victim_at_kill"])),
        ("killed task retried on another worker after (kill to retry start / end)",
         f"{figures['retry_started_after_kill_s']} s / {figures['retry_done_after_kill_s']} s"),
        ("w1 back (restart) after", f"{figures.get('victim_restarted_s')} s"),
        ("all 100 ingest_return runs finished after", f"{figures['runs_done_s']} s"),
        ("median wait of a run for its task / task duration", f"{figures.get('wait_p50_s')} s"
         f" / {figures.get('task_p50_s')} s"),
        ("runs retried by Airflow (killed tasks)", str(len(figures["retried_runs"]))),
        ("left undecided after all runs (claims not recovered)",
         json.dumps(figures["stranded_after_runs"])),
        ("feedback pending at the kill, sent by later runs",
         str(figures["pending_at_kill_then_sent"])),
        ("tasks per node (all tries)", json.dumps(figures["hosts"])),
        ("feedback emails", json.dumps(figures["outbox"])),
        ("uncertain (kill inside an SMTP exchange)", json.dumps(figures["uncertain"]) or "{}"),
    ]  # fmt: skip
    lines = [
        HEADING,
        "",
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M} on {platform.machine()} "
        f"({os.cpu_count()} CPUs, load average {load:.1f} at the end), Python "
        f"{platform.python_version()}, Airflow 3.3.2 CeleryExecutor, PostgreSQL and Redis on "
        "loopback; every returned workbook valid (57 first returns, 43 revisions). The test "
        "asserts each return decided once, its rows stored once, and each feedback email "
        "delivered once (after staff reconcile any uncertain one by Message-ID). Test "
        "settings: validation claim lease 10 s (renewed every 2.5 s), outbox lease 30 s, task "
        "heartbeat timeout 20 s, `ingest_return` retries 3 × 15 s (the DAG's own).",
        "",
        "| what | figure |",
        "|---|---:|",
        *[f"| {what} | {value} |" for what, value in rows],
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    figures, wall = run_test()
    text = section(figures, wall)
    print(text)
    write_section(HEADING, text.removeprefix(HEADING))
    print(f"\nwritten to {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
