"""Register the resolutions dropped in ``<RESOTRACK_HOME>/inbox/resolutions/`` (wiring only).

Runs on the sweep and by hand. ``import_inbox`` is idempotent, so a retry or an overlapping
trigger changes nothing; the ``resolutions`` Asset gets an event only when a new version was
imported (an empty sweep ends *skipped*, see ``emit_if_changed``).
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import dag, task

from resotrack.orchestration import RESOLUTIONS, SWEEP, emit_if_changed


@dag(schedule=SWEEP, catchup=False, max_active_runs=1, tags=["resolutions"], doc_md=__doc__)
def register_resolution() -> None:
    @task(outlets=[RESOLUTIONS])
    def import_inbox(outlet_events: Any = None) -> list[dict[str, Any]]:
        from resotrack.resolutions import import_inbox

        results = [result.as_dict() for result in import_inbox()]
        new = [
            {key: r[key] for key in ("symbol", "version", "paragraphs")}
            for r in results
            if r["created"]
        ]
        return emit_if_changed(outlet_events, RESOLUTIONS, results, changed=new)

    import_inbox()


register_resolution()
