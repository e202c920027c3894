"""Take returned workbooks from replies in the returns mailbox (wiring only).

Every three minutes. Each message is processed once whatever the schedule does (the database
records its mailbox, UIDVALIDITY and UID), so a retry or an overlapping run changes nothing.
The poll itself triggers ``ingest_return`` for each new submission; the ``submissions`` Asset
gets an event only when one came in (an empty poll ends *skipped*, see ``emit_if_changed``).
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import dag, task

from resotrack.orchestration import MAIL_POLL, SUBMISSIONS, emit_if_changed


@dag(schedule=MAIL_POLL, catchup=False, max_active_runs=1, tags=["returns"], doc_md=__doc__)
def poll_mailbox() -> None:
    @task(outlets=[SUBMISSIONS])
    def poll(outlet_events: Any = None) -> list[dict[str, Any]]:
        from resotrack.intake import imap

        results = imap.poll_mailbox()
        new = [
            {"uid": r["uid"], "submissions": r["new_submission_ids"]}
            for r in results
            if r["new_submission_ids"]
        ]
        return emit_if_changed(outlet_events, SUBMISSIONS, results, changed=new)

    poll()


poll_mailbox()
