"""Back up resotrack every night, then check the live system (wiring only).

``back_up`` writes a generation to ``RESOTRACK_BACKUP_DIR`` (database snapshot, blobs, published
reports, settings without secrets, manifest), reads it back and keeps the newest
``RESOTRACK_BACKUP_KEEP`` (7). ``verify`` then checks blobs, answers and the outbox. A failure
of either emails the Secretariat through the outbox and fails the task. The recovery procedure
is in the README, "Production → Backups and recovery".
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import dag, task

from resotrack.orchestration import NIGHTLY


@dag(
    schedule=NIGHTLY,
    catchup=False,
    max_active_runs=1,
    tags=["operations"],
    doc_md=__doc__,
)
def backup() -> None:
    @task
    def back_up(dag_run: Any = None) -> dict[str, Any]:
        from resotrack.recovery.nightly import nightly_backup

        return nightly_backup(run_key=dag_run.run_id if dag_run else "manual")

    @task(trigger_rule="all_done")
    def verify(dag_run: Any = None) -> dict[str, Any]:
        from resotrack.recovery.nightly import nightly_verify

        return nightly_verify(run_key=dag_run.run_id if dag_run else "manual")

    back_up() >> verify()


backup()
