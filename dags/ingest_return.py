"""Validate returned workbooks and tell each sender (wiring only).

Triggered by intake through the REST API with ``{"submission_id": N}`` in conf, and on the
sweep for every submission still ``received``. The work runs in the warm validation service
(Great Expectations stays imported there); ``answers`` gets an event only when answers changed.
Retries: a task lost with its worker (SIGKILL, host gone) is failed by the scheduler and run
again elsewhere; the re-run recovers the dead run's claims and sends the feedback it left.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import dag, task

from resotrack.orchestration import ANSWERS, SWEEP, emit_if_changed


@dag(schedule=SWEEP, catchup=False, max_active_runs=4, tags=["returns"], doc_md=__doc__)
def ingest_return() -> None:
    @task(outlets=[ANSWERS], retries=3, retry_delay=timedelta(seconds=15))
    def ingest(dag_run: Any = None, outlet_events: Any = None) -> list[dict[str, Any]]:
        from resotrack.validation import changed, ingest_pending

        only = ((dag_run.conf if dag_run else None) or {}).get("submission_id")
        results = ingest_pending(only=int(only) if only is not None else None, service=True)
        return emit_if_changed(outlet_events, ANSWERS, results, changed=changed(results))

    ingest()


ingest_return()
