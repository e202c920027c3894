"""Send the day's reminders for every open cycle (wiring only).

Daily at 06:00 UTC (09:00 in Jeddah), without catch-up: a missed day is not replayed, the
next run sends the latest rung due instead (see ``resotrack.reminders.plan``). "Today" is
``{"today": "YYYY-MM-DD"}`` from conf if given, else the run's logical date, else the clock;
``{"cycle_id": N}`` limits the run to one cycle. Re-running a day sends nothing twice: every
message goes through the outbox under a (cycle, entity, rung, recipient) key.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import dag, task

from resotrack.orchestration import DAILY


@dag(
    schedule=DAILY,
    catchup=False,
    max_active_runs=1,
    tags=["reminders"],
    doc_md=__doc__,
)
def send_reminders() -> None:
    @task(retries=2, retry_delay=timedelta(minutes=5))
    def remind(dag_run: Any = None) -> dict[str, Any]:
        from resotrack.reminders.run import run_for_airflow

        conf = dag_run.conf if dag_run else None
        return run_for_airflow(conf, dag_run.logical_date if dag_run else None)

    remind()


send_reminders()
