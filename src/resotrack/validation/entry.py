"""The ingest's entry point, light on purpose: the Airflow task imports only this.

With the warm service in use, the task process never imports SQLAlchemy models, xlsxwriter,
pandas or Great Expectations for validation: it sends one request over a Unix socket and
returns the service's answer (a list of summaries, the task's XCom).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any

log = logging.getLogger(__name__)


def _service_enabled() -> bool:
    """``RESOTRACK_VALIDATION_USE_SERVICE`` (default on), read without pydantic."""
    value = os.environ.get("RESOTRACK_VALIDATION_USE_SERVICE", "true").strip().lower()
    return value not in ("0", "false", "no", "off")


def ingest_pending(only: int | None = None, *, service: bool = False) -> list[dict[str, Any]]:
    """Validate pending submissions (or just ``only``); one summary dict per submission.

    ``service=True`` (the Airflow task) hands the work to the warm validation service of this
    configuration, started on first use, so Great Expectations is imported once per service,
    not once per task; if the service cannot be reached it runs here instead.
    """
    if service and _service_enabled():
        from resotrack.validation.service import ServiceUnavailable, call

        try:
            results: list[dict[str, Any]] = call("ingest", only=only)
            return results
        except ServiceUnavailable as exc:
            log.warning("validation service unavailable (%s); validating in this process", exc)
    from resotrack.validation.ingest import run

    return run(only)


def changed(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The summaries whose answers changed (what the ANSWERS asset event lists)."""
    return [
        {k: r[k] for k in ("submission_id", "cycle_id", "entity_code", "answers_changed")}
        for r in results
        if r.get("answers_changed")
    ]


__all__ = ["changed", "ingest_pending"]
