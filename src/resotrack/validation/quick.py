"""The portal's fast path: read + identify + contract on upload, no Great Expectations.

The portal calls :func:`quick_check` synchronously while the focal point waits, so a wrong
file, a renamed column or a mistyped status is shown at once, in their language; the full
validation (quality rules, answers, feedback email) follows through the ingest DAG. The upload
is stored as a submission whatever the quick check finds: the full validation then refuses a
broken one with the annotated workbook, exactly as for a return that came by email, and
:func:`remember` keeps the quick report on the submission until that decision replaces it.

The quick check takes the same steps as the ingest (``ingest.load`` then ``ingest.prepare``):
the same sandboxed readers and limits, the same identification against the upload link's
entity and cycle (``identify.match``), the same contract with the same paragraphs, so the
problems it shows are those the full report will open with, worded the same way. Reading and
the contract run in the reader processes, so the portal process never imports pandas or
pandera, and a hostile file only ever meets a disposable process; :func:`warm_up` starts them
when the portal starts. Cost on a 137-row return, measured by ``bench/bench_ingest.py``:
milliseconds once warm.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from resotrack.validation.report import Problem
from resotrack.validation.steps import (
    Structural,
    check_structure,
    check_workbook,
    verification_keys,
)

if TYPE_CHECKING:
    from resotrack.validation.identify import Asked, Identity

log = logging.getLogger(__name__)

Outcome = Literal["ok", "invalid", "unreadable"]


@dataclass(frozen=True)
class QuickReport:
    """What the quick check found. ``outcome``: ok (no blocker; warnings may be listed),
    invalid (a blocker: the full validation will refuse it) or unreadable (the full
    validation will not open it either)."""

    outcome: Outcome
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


class _NoDatabase(Exception):
    """The database cannot be asked (the CLI on a laptop): check the structure alone."""


def _questionnaire_rows(entity: str, cycle: int) -> list[tuple[str, int]] | None:
    """The paragraphs sent to ``entity`` in ``cycle`` (None: no such questionnaire)."""
    from sqlalchemy import select

    from resotrack.questionnaires.models import Questionnaire
    from resotrack.store import session_scope

    try:
        with session_scope() as session:
            rows = session.scalar(
                select(Questionnaire.rows).where(
                    Questionnaire.cycle_id == cycle, Questionnaire.entity_code == entity
                )
            )
    except Exception as exc:  # the check still helps without the database
        log.warning("quick check: questionnaire %s/%s not looked up", cycle, entity, exc_info=True)
        raise _NoDatabase(str(exc)) from exc
    if rows is None:
        return None
    return [(str(r["resolution"]), int(r["number"])) for r in rows]


def _match(identity: Identity, entity: str, cycle: int, token_id: int | None) -> Asked:
    """``identify.match`` for an upload through ``entity``'s link in ``cycle``: the same
    checks and wording as the ingest's; the questionnaire it answers."""
    from resotrack.store import session_scope
    from resotrack.validation.identify import match, upload_of
    from resotrack.validation.models import Submission

    submission = Submission(entity_code=entity, cycle_id=cycle, channel="portal", token_id=token_id)
    with session_scope() as session:
        return match(session, upload_of(session, submission), identity)


def _still_owed(problems: list[Problem], asked: Asked, entity: str, cycle: int) -> list[Problem]:
    """In a cycle that takes partial returns, as the ingest does: a row the return left out
    (deleted from the copy) is not an error but stays owed, and is listed as such unless
    another upload already answered it."""
    from sqlalchemy import select

    from resotrack.store import session_scope
    from resotrack.validation.models import Answer
    from resotrack.validation.partial import OWED_RULES, owed, owed_problems

    left_out = {(p.resolution, p.paragraph) for p in problems if p.rule in OWED_RULES}
    if not left_out:
        return problems
    with session_scope() as session:
        rows = session.execute(
            select(Answer.resolution_symbol, Answer.paragraph_number).where(
                Answer.cycle_id == cycle,
                Answer.entity_code == entity,
                Answer.current.is_(True),
            )
        )
        answered = {(symbol, number) for symbol, number in rows}
    still = owed([key for key in asked.sent if key in left_out], answered)
    return [p for p in problems if p.rule not in OWED_RULES] + owed_problems(still)


def _as_ingest(
    data: bytes, entity: str, cycle: int, token_id: int | None
) -> tuple[list[Problem], bool, Structural]:
    """Read, identify and contract-check ``data`` as the ingest would; (problems, unreadable,
    what was found)."""
    from resotrack.validation.identify import NotIdentified, meta_fields, verify
    from resotrack.validation.read import Refusal

    found = Structural()
    sent = _questionnaire_rows(entity, cycle)
    try:
        found.checked = check_workbook(data, sent)
        found.identity = verify(meta_fields(found.checked.meta_rows), verification_keys())
        asked = _match(found.identity, entity, cycle, token_id)
        if list(asked.sent) != sent:  # it answers another questionnaire: check against it
            found.checked = check_workbook(data, list(asked.sent))
    except Refusal as refusal:
        return [Problem(refusal.rule, values=refusal.values)], True, found
    except NotIdentified as exc:
        return [exc.problem], False, found
    problems = list(found.checked.contract.problems)
    if asked.partial:
        problems = _still_owed(problems, asked, entity, cycle)
    return problems, False, found


def quick_check(
    data: bytes,
    *,
    expected_entity: str | None,
    expected_cycle: int | None,
    token_id: int | None = None,
    sent: Sequence[tuple[str, int]] | None = None,
    lookup_sent: bool = True,
) -> QuickReport:
    """Check an upload's structure now; see :class:`QuickReport`.

    With the expected entity and cycle (an upload link's) and the database at hand, the
    check is the ingest's own (see the module's docstring). Otherwise, or with ``sent`` given,
    or ``lookup_sent`` false, only the workbook itself is checked: signature, expected entity
    and cycle if given, and the contract against ``sent`` (or the signed row count).
    """
    from resotrack.validation.decide import MAX_STORED_PROBLEMS
    from resotrack.validation.report import sort_key

    started = time.perf_counter()
    found: Structural | None = None
    if sent is None and lookup_sent and expected_entity and expected_cycle is not None:
        try:
            problems, unreadable, found = _as_ingest(
                data, expected_entity, expected_cycle, token_id
            )
        except _NoDatabase:
            found = None
    if found is None:
        found = check_structure(
            data,
            key=verification_keys(),
            expected_entity=expected_entity,
            expected_cycle=expected_cycle,
            sent=sent,
        )
        problems, unreadable = found.problems, found.unreadable
    problems = sorted(problems, key=sort_key)
    outcome: Outcome = (
        "unreadable"
        if unreadable
        else "invalid"
        if any(p.severity == "blocker" for p in problems)
        else "ok"
    )
    identity = found.identity
    contract = found.contract
    return QuickReport(
        outcome=outcome,
        problems=[p.as_dict() for p in problems[:MAX_STORED_PROBLEMS]],
        entity_code=identity.entity_code if identity else None,
        cycle_id=identity.cycle_id if identity else None,
        questionnaire_id=identity.questionnaire_id if identity else None,
        language=identity.language if identity else None,
        rows=len(contract.index) if contract is not None and contract.usable else 0,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
    )


def remember(submission_id: int, report: QuickReport) -> bool:
    """Keep ``report`` on a submission still waiting for the ingest (``report["quick"]``), so
    its page shows it until the full report replaces it; False if the ingest already took it.

    One conditional UPDATE: a claim that won the race is never overwritten (its token lives
    in the same column).
    """
    from sqlalchemy import update

    from resotrack.store import session_scope
    from resotrack.validation.lifecycle import SubmissionState
    from resotrack.validation.models import Submission

    with session_scope() as session:
        changed = session.execute(
            update(Submission)
            .where(Submission.id == submission_id, Submission.state == SubmissionState.RECEIVED)
            .values(report={"quick": report.as_dict()})
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
    return bool(changed)


def warm_up() -> None:
    """Start the reader processes now (call at portal start-up) and wait until each is ready:
    they load pandas and pandera and run the contract once, so that no upload waits for it.
    The portal process itself never imports pandas."""
    from resotrack.validation.sandbox import shared_sandbox

    sandbox = shared_sandbox()
    for _ in sandbox.pids():
        sandbox.call("probe", b"")


__all__ = ["QuickReport", "quick_check", "remember", "warm_up"]
