"""Send every waiting cycle's questionnaires (wiring only).

Triggered by ``resotrack cycles open`` through the REST API with ``{"cycle_id": N}`` in conf,
and on the sweep for cycles whose trigger never arrived. Dispatch and delivery are idempotent:
a retry or a re-run never sends an email twice (see ``resotrack.mail.outbox``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import dag, task

from resotrack.orchestration import SWEEP


@dag(schedule=SWEEP, catchup=False, max_active_runs=1, tags=["questionnaires"], doc_md=__doc__)
def dispatch_questionnaires() -> None:
    @task(retries=3, retry_delay=timedelta(seconds=30), retry_exponential_backoff=2.0)
    def dispatch(dag_run: Any = None) -> list[dict[str, Any]]:
        from resotrack.questionnaires.dispatch import dispatch_pending
        from resotrack.validation.answers import earlier_answers

        conf = (dag_run.conf if dag_run else None) or {}
        only = conf.get("cycle_id")
        return dispatch_pending(
            earlier_answers=earlier_answers, only=int(only) if only is not None else None
        )

    dispatch()


dispatch_questionnaires()
