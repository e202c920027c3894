"""Build the implementation tables, charts and draft reports of open cycles (wiring only).

Scheduled on the ``answers`` Asset: every accepted return wakes it. Runnable by hand with
``{"cycle_id": N}`` in conf for one cycle; without it, every open cycle is considered. A cycle
whose answers have not changed since its latest build is not built again, so merged or
repeated events cost a read, not a new version.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import dag, task

from resotrack.orchestration import ANSWERS


@dag(schedule=[ANSWERS], catchup=False, max_active_runs=1, tags=["reports"], doc_md=__doc__)
def consolidate() -> None:
    @task(retries=2, retry_delay=timedelta(seconds=30))
    def build(dag_run: Any = None) -> list[dict[str, Any]]:
        from resotrack.consolidation.builds import consolidate_pending

        conf = (dag_run.conf if dag_run else None) or {}
        only = conf.get("cycle_id")
        return consolidate_pending(only=int(only) if only is not None else None)

    build()


consolidate()
