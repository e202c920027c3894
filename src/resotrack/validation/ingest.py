"""The ingest sweep: validate every submission still ``received``, oldest first.

Each submission moves ``received → validating → accepted | accepted_with_warnings | refused
| unreadable``. The first step is a claim, one atomic conditional update (``WHERE state =
'received'``) that also writes a claim token into the report; the decision commits only if
the token is still ours. So two runs never decide the same upload, and a re-run after a
crash changes nothing that was decided. A live run renews its claims every quarter of
``lease_seconds`` (:class:`Lease`); a claim not renewed for a whole lease belongs to a run
that died, and the next run puts it back to ``received`` (nothing was written for it, since
answers, report and email commit together).

Returns are validated in batches: read, identify and contract per file, then one Great
Expectations run for the whole batch, then the decisions, a few dozen per transaction (one
per submission when one of them cannot be recorded).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
import sys
import threading
import uuid
from collections import OrderedDict, deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from resotrack import audit, clock
from resotrack.questionnaires.models import CycleResolution
from resotrack.registry.models import FocalPoint
from resotrack.resolutions.models import Resolution, ResolutionVersion
from resotrack.settings import get_settings
from resotrack.store import session_scope
from resotrack.store.blobs import BlobNotFound, blob_store
from resotrack.tokens.models import UploadToken
from resotrack.validation.config import ValidationSettings, settings
from resotrack.validation.decide import (
    XLSX,
    ClaimLost,
    Decision,
    Recipient,
    recipient_for,
    record,
    record_many,
)
from resotrack.validation.identify import (
    Asked,
    FindQuestionnaire,
    NotIdentified,
    Upload,
    asked,
    match,
    meta_fields,
    upload_of,
    verify,
)
from resotrack.validation.lifecycle import SubmissionState
from resotrack.validation.models import Answer, Submission
from resotrack.validation.partial import OWED_RULES, carried, owed, owed_problems
from resotrack.validation.read import Refusal
from resotrack.validation.report import Problem
from resotrack.validation.steps import Checked, check_workbook, verification_keys

if TYPE_CHECKING:
    from resotrack.validation.quality import QualityInput

RECEIVED, VALIDATING = SubmissionState.RECEIVED, SubmissionState.VALIDATING
log = logging.getLogger(__name__)
ACTOR: Final = "validation"
#: Batches claimed and being read while one is decided: the readers never wait for the
#: decisions, nor the decisions for the readers (one batch ahead left them taking turns).
_BATCHES_AHEAD: Final = 2
#: Decisions recorded in one transaction (see :func:`_record_group`).
_DECISIONS_PER_COMMIT: Final = 25


# --- claims ------------------------------------------------------------------------------


def pending_ids(limit: int | None = None) -> list[int]:
    """Submissions waiting for validation, oldest first."""
    with session_scope() as session:
        query = (
            select(Submission.id)
            .where(Submission.state == RECEIVED)
            .order_by(Submission.received_at, Submission.id)
        )
        if limit is not None:
            query = query.limit(limit)
        return list(session.scalars(query))


def _mark(token: str) -> dict[str, str]:
    """What a claim records: whose it is (token, host:pid) and when it was last renewed."""
    return {
        "token": token,
        "at": clock.steady().isoformat(),
        "by": f"{socket.gethostname()}:{os.getpid()}",
    }


def _claim_token() -> Any:
    """``report.claim.token`` as an SQL expression (JSON path: SQLite and PostgreSQL)."""
    return Submission.report[("claim", "token")].as_string()


def claim(submission_id: int, token: str | None = None) -> str | None:
    """``received → validating`` atomically; the claim token, or None if someone else has it."""
    return claim_many([submission_id], token).get(submission_id)


def claim_many(ids: Sequence[int], token: str | None = None) -> dict[int, str]:
    """Claim a batch in one transaction (one commit, not one per submission); the ids this run
    won, each with the claim token (``token``, by default a new one)."""
    if not ids:
        return {}
    mark = _mark(token or uuid.uuid4().hex)
    with session_scope() as session:
        won = list(
            session.scalars(
                update(Submission)
                .where(Submission.id.in_(list(ids)), Submission.state == RECEIVED)
                .values(state=VALIDATING, report={"claim": mark})
                .returning(Submission.id)
                .execution_options(synchronize_session=False)
            )
        )
        for submission_id in won:
            audit.record(session, ACTOR, "submission.validating", f"submission:{submission_id}")
    return {submission_id: mark["token"] for submission_id in won}


def renew(token: str) -> int:
    """Move the lease of every claim still held under ``token`` to now; how many.

    One statement, guarded by the token: a claim recovered and taken by another run
    meanwhile is not touched.
    """
    with session_scope() as session:
        result = session.execute(
            update(Submission)
            .where(Submission.state == VALIDATING, _claim_token() == token)
            .values(report={"claim": _mark(token)})
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


class Lease:
    """Keeps a run's claims alive while the run lives: a thread renews them every quarter lease.

    Why: a claim's age is how other runs tell a dead worker from a slow one. Renewing lets the
    lease be short (a worker lost with its host gives its submissions back within a minute)
    without ever taking work from a live run, however long its batch takes. Correctness never
    rests on the lease: a decision commits only under its own claim token (:class:`ClaimLost`).
    """

    def __init__(self, token: str, seconds: float) -> None:
        self.token = token
        self.interval = max(0.2, seconds / 4)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="validation-lease", daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                renew(self.token)
            except Exception:  # the database may be back at the next turn; the token guards
                log.exception("renewing the validation claims of run %s failed", self.token)

    def __enter__(self) -> Lease:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def release(submission_id: int, token: str, error: str) -> None:
    """Give a claim back after an unexpected error, so a later sweep tries again."""
    from resotrack.validation.decide import lock_submission

    with session_scope() as session:
        row = lock_submission(session, submission_id)
        if row is None or row.state != VALIDATING:
            return
        if (row.report or {}).get("claim", {}).get("token") != token:
            return
        row.state, row.report = RECEIVED, {"last_error": error[:1000]}
        audit.record(
            session, ACTOR, "submission.released", f"submission:{submission_id}", error=error[:300]
        )


def _stale(report: Any, cutoff: dt.datetime) -> bool:
    """A claim not renewed since ``cutoff`` (or unreadable): its run is dead."""
    at = ((report or {}).get("claim") or {}).get("at")
    try:
        claimed = dt.datetime.fromisoformat(at) if at else None
    except (TypeError, ValueError):
        claimed = None
    return claimed is None or claimed <= cutoff


def recover_stale_claims(lease_seconds: float | None = None) -> list[int]:
    """Put back to ``received`` the claims of runs that died (not renewed for a lease)."""
    from resotrack.validation.decide import lock_submission

    lease = lease_seconds if lease_seconds is not None else settings().lease_seconds
    cutoff = clock.steady() - dt.timedelta(seconds=lease)
    with session_scope() as session:  # a cheap read first: live claims are never locked
        rows = session.execute(
            select(Submission.id, Submission.report).where(Submission.state == VALIDATING)
        ).all()
    recovered = []
    for submission_id in [sid for sid, report in rows if _stale(report, cutoff)]:
        with session_scope() as session:
            row = lock_submission(session, submission_id)
            if row is None or row.state != VALIDATING or not _stale(row.report, cutoff):
                continue  # decided, released or renewed meanwhile
            row.state, row.report = RECEIVED, {"recovered_claim": row.report}
            audit.record(
                session, ACTOR, "submission.claim_recovered", f"submission:{submission_id}"
            )
            recovered.append(submission_id)
    if recovered:
        log.warning("recovered %d stale validation claim(s): %s", len(recovered), recovered)
    return recovered


# --- what the questionnaire sent ---------------------------------------------------------

_SENT_CACHE: OrderedDict[str, dict[tuple[str, int], dict[str, Any]] | None] = OrderedDict()
_ADOPTED_CACHE: dict[tuple[str, int], dict[str, dt.date | None]] = {}
_CACHE_LOCK = threading.Lock()


def sent_answers(
    sha256: str | None, conf: ValidationSettings
) -> dict[tuple[str, int], dict[str, Any]] | None:
    """The answer cells of the workbook as sent (prefill), by paragraph; cached per blob."""
    if not sha256:
        return None
    with _CACHE_LOCK:
        if sha256 in _SENT_CACHE:
            _SENT_CACHE.move_to_end(sha256)
            return _SENT_CACHE[sha256]
    found: dict[tuple[str, int], dict[str, Any]] | None = None
    try:
        sent = check_workbook(blob_store().get(sha256), None, conf)
        found = {
            (row["resolution"], row["paragraph"]): row
            for row in sent.contract.records()
            if isinstance(row["paragraph"], int)
        }
    except (BlobNotFound, Refusal) as exc:
        log.warning("questionnaire workbook %s unavailable for comparison: %s", sha256, exc)
    with _CACHE_LOCK:
        _SENT_CACHE[sha256] = found
        while len(_SENT_CACHE) > 256:
            _SENT_CACHE.popitem(last=False)
    return found


def adoption_dates(cycle_id: int) -> dict[str, dt.date | None]:
    """Each resolution of the cycle (its pinned version) with its adoption date."""
    key = (get_settings().db_url, cycle_id)
    with _CACHE_LOCK:
        if key in _ADOPTED_CACHE:
            return _ADOPTED_CACHE[key]
    with session_scope() as session:
        rows = session.execute(
            select(Resolution.symbol, ResolutionVersion.adopted_on)
            .join(ResolutionVersion, ResolutionVersion.resolution_id == Resolution.id)
            .join(CycleResolution, CycleResolution.resolution_version_id == ResolutionVersion.id)
            .where(CycleResolution.cycle_id == cycle_id)
        ).all()
    found = {symbol: adopted for symbol, adopted in rows}
    with _CACHE_LOCK:  # a cycle's versions are pinned when it opens: never stale
        if len(_ADOPTED_CACHE) > 1024:
            _ADOPTED_CACHE.clear()
        _ADOPTED_CACHE[key] = found
    return found


# --- one submission ----------------------------------------------------------------------


@dataclass
class Loaded:
    """A claimed submission, its bytes, and the sandbox's reading of them (done ahead)."""

    submission_id: int
    token: str
    upload: Upload
    recipient: Recipient | None
    cycle_id: int | None
    original_name: str
    questionnaire_id: int | None
    sent: tuple[tuple[str, int], ...] | None
    sha256: str
    data: bytes = b""
    checked: Checked | None = None
    refusal: Refusal | None = None


class Questionnaires:
    """The questionnaires a run meets, each looked up once (an ``identify.FindQuestionnaire``).

    A return's questionnaire is read twice (to read the file against it, then to identify
    it) and a run holds many returns to the same few; what validation needs of one never
    changes once its cycle is open. Not kept until its workbook is built (its hash is set then).
    """

    def __init__(self) -> None:
        self._found: dict[tuple[int, str], Asked] = {}
        self._lock = threading.Lock()

    def __call__(self, session: Session, cycle_id: int, entity_code: str) -> Asked | None:
        key = (cycle_id, entity_code)
        with self._lock:
            if key in self._found:
                return self._found[key]
        found = asked(session, cycle_id, entity_code)
        if found is not None and found.workbook_sha256 is not None:
            with self._lock:
                self._found[key] = found
        return found


def load(
    submission_id: int, token: str, conf: ValidationSettings, find: FindQuestionnaire = asked
) -> Loaded:
    """Everything about one submission that needs no decision: runs on a reading thread."""
    with session_scope() as session:
        submission = session.get(Submission, submission_id)
        if submission is None:
            raise LookupError(f"submission {submission_id} disappeared")
        described = describe(session, submission, token, find)
    return read(described, conf)  # no transaction held while the sandbox reads


def describe(
    session: Session, submission: Submission, token: str, find: FindQuestionnaire = asked
) -> Loaded:
    """What the submission came with and the questionnaire it should answer (not yet read)."""
    upload = upload_of(session, submission)
    questionnaire = (
        find(session, upload.cycle_id, upload.entity_code)
        if upload.cycle_id is not None and upload.entity_code is not None
        else None
    )
    return Loaded(
        submission_id=submission.id,
        token=token,
        upload=upload,
        recipient=recipient_for(session, submission),
        cycle_id=submission.cycle_id,
        original_name=submission.original_name,
        questionnaire_id=questionnaire.questionnaire_id if questionnaire else None,
        sent=questionnaire.sent if questionnaire else None,
        sha256=submission.sha256,
    )


def describe_many(ids: Sequence[int], token: str, find: FindQuestionnaire) -> dict[int, Loaded]:
    """:func:`describe` for a batch, with three queries for all of it (its submissions, their
    upload links and the links' focal points) instead of three round trips per submission.
    Submissions that no longer exist are left out."""
    if not ids:
        return {}
    with session_scope() as session:
        submissions = session.scalars(select(Submission).where(Submission.id.in_(ids))).all()
        # Loaded into the session and held here (its identity map keeps objects only while
        # they are referenced): describe's lookups by id find them there, with no query.
        links = {s.token_id for s in submissions if s.token_id is not None}
        tokens = session.scalars(select(UploadToken).where(UploadToken.id.in_(sorted(links)))).all()
        people = {link.focal_point_id for link in tokens}
        persons = session.scalars(select(FocalPoint).where(FocalPoint.id.in_(sorted(people)))).all()
        described = {s.id: describe(session, s, token, find) for s in submissions}
        del tokens, persons
        return described


def read(loaded: Loaded, conf: ValidationSettings) -> Loaded:
    """Read the upload's file in the sandbox, against the questionnaire it should answer."""
    loaded.data = blob_store().get(loaded.sha256)
    try:
        loaded.checked = check_workbook(loaded.data, loaded.sent, conf)
    except Refusal as refusal:
        loaded.refusal = refusal
    return loaded


@dataclass
class Work:
    """A submission on its way to its decision."""

    decision: Decision
    data: bytes | None = None
    checked: Checked | None = None
    quality: QualityInput | None = None


def prepare(loaded: Loaded, conf: ValidationSettings, find: FindQuestionnaire = asked) -> Work:
    """Identify the workbook, take the contract's verdict, line up the quality rules."""
    recipient = loaded.recipient
    summary: dict[str, Any] = {
        "stage": "read",
        "language": recipient.language if recipient else None,
        "file": loaded.original_name,
    }
    decision = Decision(loaded.submission_id, loaded.token, [], False, [], summary, recipient)
    work = Work(decision, data=loaded.data, checked=loaded.checked)
    if loaded.refusal is not None or loaded.checked is None:
        refusal = loaded.refusal or Refusal("read.damaged")
        decision.unreadable = True
        decision.problems.append(Problem(refusal.rule, values=refusal.values))
        return work
    summary["stage"] = "identify"
    try:
        identity = verify(meta_fields(loaded.checked.meta_rows), verification_keys())
        with session_scope() as session:  # no query for a known questionnaire by link
            questionnaire = match(session, loaded.upload, identity, find=find)
            sent, sent_sha = questionnaire.sent, questionnaire.workbook_sha256
            summary.update(
                questionnaire_id=questionnaire.questionnaire_id,
                template_version=identity.template_version,
                language=summary["language"] or questionnaire.language,
            )
    except NotIdentified as exc:
        decision.problems.append(exc.problem)
        return work
    summary["stage"] = "contract"
    if questionnaire.questionnaire_id != loaded.questionnaire_id or sent != loaded.sent:
        try:  # read against the wrong questionnaire (or none): check again, rarely
            work.checked = check_workbook(loaded.data, sent, conf)
        except Refusal as refusal:
            decision.unreadable = True
            decision.problems.append(Problem(refusal.rule, values=refusal.values))
            return work
    contract = work.checked.contract if work.checked else None
    assert contract is not None
    decision.problems += [
        p for p in contract.problems if not (questionnaire.partial and p.rule in OWED_RULES)
    ]
    if contract.columns is not None:
        decision.rows = contract.records()
        summary["rows"] = len(decision.rows)
        if contract.usable and loaded.cycle_id is not None:
            from resotrack.validation.quality import QualityInput

            summary["stage"] = "quality"
            prefill = sent_answers(sent_sha, conf)
            if questionnaire.partial:
                _take_part(decision, prefill, sent, loaded.cycle_id, identity.entity_code)
            work.quality = QualityInput(
                key=loaded.submission_id,
                rows=decision.rows,
                sent=prefill,
                adopted=adoption_dates(loaded.cycle_id),
            )
    return work


def answered_keys(cycle_id: int, entity_code: str) -> set[tuple[str, int]]:
    """The paragraphs that have a current answer of ``entity_code`` in the cycle."""
    with session_scope() as session:
        rows = session.execute(
            select(Answer.resolution_symbol, Answer.paragraph_number).where(
                Answer.cycle_id == cycle_id,
                Answer.entity_code == entity_code,
                Answer.current.is_(True),
            )
        )
        return {(symbol, number) for symbol, number in rows}


def _take_part(
    decision: Decision,
    prefill: dict[tuple[str, int], dict[str, Any]] | None,
    sent: Sequence[tuple[str, int]],
    cycle_id: int,
    entity_code: str,
) -> None:
    """Keep the rows a partial return answers, and say what stays owed.

    A return answering nothing keeps all its rows, so the quality rules refuse it as
    unchanged, as in a cycle that requires whole returns.
    """
    answered = carried(decision.rows, prefill)
    if not answered:
        return
    decision.rows = answered
    decision.summary["answered"] = len(answered)
    keys = {(row["resolution"], row["paragraph"]) for row in answered}
    still = owed(sent, answered_keys(cycle_id, entity_code) | keys)
    decision.summary["owed"] = {resolution: len(n) for resolution, n in still.items()}
    decision.problems += owed_problems(still)


def _annotate(work: Work) -> tuple[str, bytes | None] | None:
    """The annotated copy of the sender's workbook (None when there is nothing to mark)."""
    decision = work.decision
    if (
        decision.recipient is None
        or not decision.problems
        or work.checked is None
        or work.data is None
    ):
        return None
    from resotrack.questionnaires.workbook import RETURN_SHEET
    from resotrack.validation import feedback
    from resotrack.validation.messages import feedback_text

    language = decision.recipient.language
    language = language if language in ("ar", "en", "fr") else "en"
    stored = decision.stored_problems()
    header = feedback.request(
        problems=decision.problems[: len(stored)],
        stored=stored,
        names=work.checked.contract.names,
        outcome=decision.outcome,
        language=language,
        return_sheet=RETURN_SHEET,
        details=[(feedback_text("file", language), str(decision.summary.get("file") or ""))],
    )
    return language, feedback.annotate(work.data, header)


def _attach(work: Work, annotated: bytes | None) -> None:
    if annotated is None:
        return
    decision = work.decision
    sha = blob_store().put(annotated)
    decision.summary["annotated_sha256"] = sha
    decision.attachment = {
        "filename": f"feedback-{decision.submission_id}.xlsx",
        "sha256": sha,
        "content_type": XLSX,
    }


# --- the run -----------------------------------------------------------------------------

Started = list[tuple[int, str, "Future[Loaded]"]]


@dataclass(frozen=True)
class _Run:
    """What the batches of one run share."""

    conf: ValidationSettings
    token: str
    readers: ThreadPoolExecutor
    annotators: ThreadPoolExecutor
    questionnaires: Questionnaires


def _start(ids: Sequence[int], shared: _Run) -> tuple[Started, list[dict[str, Any]]]:
    """Claim ``ids`` and start reading them on the pool (the readers work ahead)."""
    started: Started = []
    skipped: list[dict[str, Any]] = []
    token = shared.token
    won = claim_many(ids, token)
    described = describe_many([i for i in ids if i in won], token, shared.questionnaires)
    for submission_id in ids:
        if submission_id not in won:
            skipped.append({"submission_id": submission_id, "skipped": _state(submission_id)})
            continue
        if submission_id in described:
            future = shared.readers.submit(read, described[submission_id], shared.conf)
        else:
            future = Future()
            future.set_exception(LookupError(f"submission {submission_id} disappeared"))
        started.append((submission_id, token, future))
    return started, skipped


def _finish(started: Started, shared: _Run) -> list[dict[str, Any]]:
    """Identify, run the quality rules once for the batch, annotate, decide each."""
    results: list[dict[str, Any]] = []
    works: list[Work] = []
    for submission_id, token, future in started:
        try:
            works.append(prepare(future.result(), shared.conf, shared.questionnaires))
        except Exception as exc:  # a bug or a lost blob: give the claim back, go on
            log.exception("validation of submission %s failed", submission_id)
            release(submission_id, token, f"{type(exc).__name__}: {exc}")
            results.append(
                {"submission_id": submission_id, "error": f"{type(exc).__name__}: {exc}"}
            )
    checked = [w for w in works if w.quality is not None]
    if checked:
        from resotrack.validation.quality import check_quality

        first = min(w.decision.submission_id for w in checked)
        last = max(w.decision.submission_id for w in checked)
        name = f"submission-{first}" if first == last else f"submissions-{first}-{last}"
        found = check_quality(
            [w.quality for w in checked if w.quality is not None], today=clock.today(), name=name
        )
        for work in checked:
            work.decision.problems += found.get(work.decision.submission_id, [])
    # Their own pool: behind the readers' queue they would wait for the next batches' reads.
    annotations = [shared.annotators.submit(_annotate, work) for work in works]
    ready: list[Decision] = []
    for work, annotation in zip(works, annotations, strict=True):
        try:
            made = annotation.result()
            _attach(work, made[1] if made else None)
            ready.append(work.decision)
        except Exception as exc:
            results.append(_failed(work.decision, exc))
    for start in range(0, len(ready), _DECISIONS_PER_COMMIT):
        results += _record_group(ready[start : start + _DECISIONS_PER_COMMIT])
    return results


def _record_group(decisions: Sequence[Decision]) -> list[dict[str, Any]]:
    """Record ``decisions`` in one transaction, or each in its own if any of them fails.

    One commit per decision was a third of a decision's cost on PostgreSQL (a round trip
    and a WAL flush each). A group is all or nothing, so when one decision cannot be
    recorded (a lost claim, a bad address, a bug) nothing of the group was written, and
    they are recorded one by one: the others still commit, that one is skipped or released.
    """
    if len(decisions) > 1:
        try:
            with session_scope() as session:
                return record_many(session, decisions)
        except Exception:
            log.info("recording %d decisions together failed; one by one", len(decisions))
    results: list[dict[str, Any]] = []
    for decision in decisions:
        try:
            with session_scope() as session:
                results.append(record(session, decision))
        except ClaimLost as exc:
            results.append({"submission_id": decision.submission_id, "skipped": str(exc)})
        except Exception as exc:
            results.append(_failed(decision, exc))
    return results


def _failed(decision: Decision, exc: Exception) -> dict[str, Any]:
    """Log an unexpected error and give the claim back, so a later sweep tries again."""
    log.exception("deciding submission %s failed", decision.submission_id, exc_info=exc)
    release(decision.submission_id, decision.claim, f"{type(exc).__name__}: {exc}")
    return {"submission_id": decision.submission_id, "error": f"{type(exc).__name__}: {exc}"}


def _state(submission_id: int) -> str:
    with session_scope() as session:
        row = session.get(Submission, submission_id)
        return f"state is {row.state}" if row is not None else "no such submission"


def split(ids: Sequence[int], size: int) -> list[list[int]]:
    """``ids`` in batches of at most ``size``, smaller at both ends of a long run.

    Nothing is decided until a whole batch is read, and after the last read only the
    decisions work: a quarter and a half batch first and last shorten both waits. Measured
    on 1,000 returns: a third of the run's time was spent in them with equal batches of 200.
    """
    ends: list[int] = []
    for step in (max(1, size // 4), max(1, size // 2)):
        if len(ids) - 2 * (sum(ends) + step) >= size:
            ends.append(step)
    middle = len(ids) - 2 * sum(ends)
    count = -(-middle // size)
    sizes = [*ends, *(middle // count + (i < middle % count) for i in range(count)), *ends[::-1]]
    batches, at = [], 0
    for n in sizes if ids else []:
        batches.append(list(ids[at : at + n]))
        at += n
    return batches


@contextlib.contextmanager
def _quick_gil_handover() -> Iterator[None]:
    """Threads hand the GIL over every millisecond (Python's default is 5) while a run lasts.

    The decisions and the Great Expectations run share the interpreter with the threads
    feeding the readers, and pandas gives the GIL up briefly thousands of times per batch:
    each time, a feeding thread could keep it up to the full interval. Measured on 600
    returns: one GX run per 200 returns took 0.69 to 0.77 s, against 0.24 s once no thread
    competed; at 1 ms, 0.33 to 0.37 s, and the whole run went from 19.6 to 12.5 ms a return.
    Process-wide, so it is put back afterwards.
    """
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, 0.001))
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def run(only: int | None = None, *, send: bool = True, docs: bool = True) -> list[dict[str, Any]]:
    """Validate ``only``, or every pending submission; then send what the outbox holds.

    Batches overlap: while one batch is identified, checked by GX and decided here, the
    sandboxed readers already read and contract-check the next two. Every claim of the run
    shares one token, renewed by a :class:`Lease` until the run ends. The outbox is run even when
    nothing was decided here: feedback committed by a run that died before sending it goes
    out with the next run (once: the outbox claims each message).
    """
    conf = settings()
    recover_stale_claims(conf.lease_seconds)
    ids = [only] if only is not None else pending_ids()
    batches = split(ids, conf.batch_size)
    results: list[dict[str, Any]] = []
    token = uuid.uuid4().hex
    with (
        _quick_gil_handover(),
        Lease(token, conf.lease_seconds),
        ThreadPoolExecutor(max_workers=conf.workers, thread_name_prefix="validation") as readers,
        ThreadPoolExecutor(max_workers=conf.workers, thread_name_prefix="annotate") as annotators,
    ):
        shared = _Run(conf, token, readers, annotators, Questionnaires())
        waiting = iter(batches)
        ahead: deque[tuple[Started, list[dict[str, Any]]]] = deque()

        def top_up() -> None:
            while len(ahead) < _BATCHES_AHEAD and (batch := next(waiting, None)) is not None:
                ahead.append(_start(batch, shared))

        top_up()
        while ahead:
            started, skipped = ahead.popleft()
            top_up()  # the readers go on with the next batches while this one is decided
            results += skipped
            results += _finish(started, shared)
    if send:
        deliver()
    if docs and any("outcome" in r for r in results):
        publish_docs()
    return results


def deliver() -> None:
    """Send what is queued (the feedback among it); a mail outage is the outbox's to retry."""
    from resotrack.mail import OutboxDeliveryError, send_pending

    try:
        send_pending()
    except OutboxDeliveryError as exc:
        log.warning("some email could not be sent yet (the outbox retries): %s", exc)


def publish_docs() -> None:
    """Rebuild the Secretariat's GX Data Docs with the runs just validated."""
    from resotrack.settings import get_settings
    from resotrack.validation.quality import build_data_docs

    try:
        build_data_docs(get_settings().home)
    except Exception:  # documentation must never fail an ingest
        log.exception("building the GX Data Docs failed")


# ``changed`` and ``ingest_pending`` (the entry points) live in ``entry``, which calls ``run``
# here or through the validation service: importing them from here would make a cycle.
__all__ = [
    "claim",
    "claim_many",
    "pending_ids",
    "recover_stale_claims",
    "renew",
    "run",
]
