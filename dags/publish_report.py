"""Ask the Secretariat to approve a report build, then publish it or record the rejection.

Triggered by hand (UI or REST) with ``{"build_id": N}`` or ``{"cycle_id": N}`` (its latest
build) in conf. The ``approve`` task waits for a person (Airflow's Required actions page, or
``PATCH /api/v2/dags/publish_report/dagRuns/{run}/taskInstances/approve/-1/hitlDetails``),
who may leave a comment. Approve: ``publish`` copies the files to
``<home>/published/<cycle>/`` with their SHA-256 checksums and emails the Secretariat's list.
Reject: ``publish`` is skipped and ``record_decision`` keeps the comment; nothing is published.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import Param, dag, task

from resotrack.orchestration import DECISION, RecordedApproval

PREPARED = "ti.xcom_pull(task_ids='prepare')"


@dag(
    schedule=None,
    catchup=False,
    tags=["reports"],
    doc_md=__doc__,
    params={
        "build_id": Param(None, type=["null", "integer"], description="Report build to approve"),
        "cycle_id": Param(None, type=["null", "integer"], description="Or: its latest build"),
    },
)
def publish_report() -> None:
    @task(multiple_outputs=False)
    def prepare(dag_run: Any = None) -> dict[str, Any]:
        from resotrack.consolidation.publish import prepare_approval

        conf = (dag_run.conf if dag_run else None) or {}
        build_id, cycle_id = conf.get("build_id"), conf.get("cycle_id")
        return prepare_approval(
            build_id=int(build_id) if build_id is not None else None,
            cycle_id=int(cycle_id) if cycle_id is not None else None,
            run_id=dag_run.run_id if dag_run else None,
        )

    approve = RecordedApproval(
        task_id="approve",
        subject="{{ " + PREPARED + "['subject'] }}",
        body="{{ " + PREPARED + "['body'] }}",
        params={"comment": Param("", type="string", description="Why (kept with the build)")},
        response_timeout=timedelta(days=30),
    )

    @task(retries=2, retry_delay=timedelta(seconds=30), multiple_outputs=False)
    def publish(ti: Any = None) -> dict[str, Any]:
        from resotrack.consolidation.publish import publish_approved

        build_id = int(ti.xcom_pull(task_ids="prepare")["build_id"])
        return publish_approved(build_id, ti.xcom_pull(task_ids="approve", key=DECISION))

    @task(trigger_rule="none_failed", multiple_outputs=False)
    def record_decision(ti: Any = None) -> dict[str, Any]:
        from resotrack.consolidation.publish import record_decision

        build_id = int(ti.xcom_pull(task_ids="prepare")["build_id"])
        return record_decision(build_id, ti.xcom_pull(task_ids="approve", key=DECISION))

    prepare() >> approve >> publish() >> record_decision()


publish_report()
