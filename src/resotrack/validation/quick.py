"""The portal's fast path: read + identify + contract on upload, no Great Expectations.

The portal calls :func:`quick_check` synchronously while the focal point waits, so a wrong
file, a renamed column or a mistyped status is shown at once, in their language; the full
validation (quality rules, answers, feedback email) follows through the ingest DAG. Nothing
is written. Reading and the contract run in the sandboxed reader processes, so the portal
process never imports pandas or pandera; the readers load them once when they start (about a
second), which :func:`warm_up` triggers at start-up. Cost on a 137-row return, measured by
``bench/bench_ingest.py``: milliseconds once warm.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from resotrack.validation.steps import check_structure, signing_key

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuickReport:
    """What the quick check found. ``outcome``: ok (no blocker; warnings may be listed),
    invalid (a blocker: the full validation would refuse it) or unreadable."""

    outcome: Literal["ok", "invalid", "unreadable"]
    problems: list[dict[str, Any]] = field(default_factory=list)
    entity_code: str | None = None
    cycle_id: int | None = None
    questionnaire_id: int | None = None
    language: str | None = None
    rows: int = 0
    elapsed_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def messages(self, language: str) -> list[str]:
        """One line per problem in ``language``: what is wrong, then how to fix it."""
        lang = language if language in ("ar", "en", "fr") else "en"
        return [f"{p['message'][lang]} {p['fix'][lang]}" for p in self.problems]

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "problems": self.problems,
            "entity_code": self.entity_code,
            "cycle_id": self.cycle_id,
            "questionnaire_id": self.questionnaire_id,
            "language": self.language,
            "rows": self.rows,
            "elapsed_ms": self.elapsed_ms,
        }


def _questionnaire_rows(entity: str, cycle: int) -> list[tuple[str, int]] | None:
    """The paragraphs sent to ``entity`` in ``cycle``, or None if the database cannot say."""
    from sqlalchemy import select

    from resotrack.store import session_scope
    from resotrack.store.models import Questionnaire

    try:
        with session_scope() as session:
            rows = session.scalar(
                select(Questionnaire.rows).where(
                    Questionnaire.cycle_id == cycle, Questionnaire.entity_code == entity
                )
            )
    except Exception:  # the check still helps without the database
        log.warning("quick check: questionnaire %s/%s not looked up", cycle, entity, exc_info=True)
        return None
    if rows is None:
        return None
    return [(str(r["resolution"]), int(r["number"])) for r in rows]


def quick_check(
    data: bytes,
    *,
    expected_entity: str | None,
    expected_cycle: int | None,
    sent: Sequence[tuple[str, int]] | None = None,
    lookup_sent: bool = True,
) -> QuickReport:
    """Check an upload's structure now; see :class:`QuickReport`.

    The paragraphs asked are ``sent`` if given, else looked up in the database when
    ``lookup_sent`` (the identity must then match the expected entity and cycle).
    """
    from resotrack.validation.report import sort_key

    started = time.perf_counter()
    if sent is None and lookup_sent and expected_entity and expected_cycle is not None:
        sent = _questionnaire_rows(expected_entity, expected_cycle)
    result = check_structure(
        data,
        key=signing_key(),
        expected_entity=expected_entity,
        expected_cycle=expected_cycle,
        sent=sent,
        resolve=(lambda identity: _questionnaire_rows(identity.entity_code, identity.cycle_id))
        if lookup_sent and sent is None
        else None,
    )
    problems = sorted(result.problems, key=sort_key)
    outcome: Literal["ok", "invalid", "unreadable"] = (
        "unreadable" if result.unreadable else "invalid" if result.blocked else "ok"
    )
    identity = result.identity
    contract = result.contract
    return QuickReport(
        outcome=outcome,
        problems=[p.as_dict() for p in problems[:200]],
        entity_code=identity.entity_code if identity else None,
        cycle_id=identity.cycle_id if identity else None,
        questionnaire_id=identity.questionnaire_id if identity else None,
        language=identity.language if identity else None,
        rows=len(contract.index) if contract is not None and contract.usable else 0,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
    )


def warm_up() -> None:
    """Start the reader processes now (call at portal start-up): they load pandas and pandera
    once, so that no upload waits for it. The portal process itself never imports pandas."""
    from resotrack.validation.sandbox import shared_sandbox

    sandbox = shared_sandbox()
    for _ in sandbox.pids():
        sandbox.call("probe", b"")


__all__ = ["QuickReport", "quick_check", "warm_up"]
