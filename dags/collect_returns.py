"""Receive the workbooks dropped in ``<RESOTRACK_HOME>/inbox/returns/`` (wiring only).

On the sweep: each file, identified by its signed ``_meta``, is received like an upload and moved
to ``done/`` (or ``failed/`` with a reason); stale upload temp files go (``cleanup_incoming``)."""

from __future__ import annotations

from typing import Any

from airflow.sdk import dag, task

from resotrack.orchestration import SUBMISSIONS, SWEEP, emit_if_changed


@dag(schedule=SWEEP, catchup=False, max_active_runs=1, tags=["returns"], doc_md=__doc__)
def collect_returns() -> None:
    @task(outlets=[SUBMISSIONS])
    def collect(outlet_events: Any = None) -> list[dict[str, Any]]:
        from resotrack.intake import dropfolder

        results = dropfolder.collect_returns()
        new = [
            {"file": r["file"], "submission_id": r["submission_id"]}
            for r in results
            if "submission_id" in r and not r["duplicate"]
        ]
        return emit_if_changed(outlet_events, SUBMISSIONS, results, changed=new)

    @task
    def remove_stale_temp_files() -> int:
        from resotrack.intake import cleanup_incoming

        return cleanup_incoming()

    collect()
    remove_stale_temp_files()


collect_returns()
