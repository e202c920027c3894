"""The focal point's pages, reached from their personal link ``/t/{token}``.

A token grants one focal point's entity and cycle, nothing else. Paths name what they touch
(``/t/{token}/c/{cycle}/{entity}/...``, ``/t/{token}/returns/{id}``) and every handler checks
the name against the grant, so asking for another entity or cycle is a plain 403.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from resotrack import clock, tokens
from resotrack.catalog import Language
from resotrack.intake.config import intake_settings
from resotrack.intake.names import content_disposition, workbook_download_name
from resotrack.intake.queries import list_submissions
from resotrack.intake.receive import TooLarge, announce, receive, spool_file
from resotrack.intake.sniff import NotAWorkbook
from resotrack.portal import i18n
from resotrack.portal.pages import LinkRefused, PageError, link, render, wants_json
from resotrack.portal.ratelimit import RateLimited, count_upload
from resotrack.portal.upload import ENVELOPE_BYTES, BadForm, FormStream, boundary_of
from resotrack.questionnaires.models import Questionnaire, ReportingCycle
from resotrack.registry import grammar
from resotrack.registry.models import FocalPoint, ReportingEntity
from resotrack.store import session_scope
from resotrack.store.blobs import BlobNotFound, blob_store
from resotrack.tokens.models import UploadToken
from resotrack.validation.models import Submission

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_TOKEN_CHARS = 400
#: The ingest's bookkeeping in a report (claims, internal errors): never shown to focal points.
BOOKKEEPING = frozenset({"claim", "last_error", "recovered_claim"})
#: Report keys kept out of "Details": shown in their own right, or bookkeeping.
SHOWN_APART = frozenset({"outcome", "problems", "warnings", "summary", "quick"})

log = logging.getLogger(__name__)

router = APIRouter()
LangQuery = Annotated[str | None, Query(max_length=10)]


@dataclass(frozen=True)
class Visit:
    """Who is visiting, through which link, and what it grants (plain values, no session)."""

    token: str
    token_id: int
    lang: Language
    person_name: str
    email: str
    entity_code: str
    entity_name: str
    #: The entity's name in every form a sentence needs (registry.grammar): "le Bénin", "au Bénin".
    entity_words: dict[str, str]
    cycle_id: int
    cycle_title: str
    cycle_state: str
    deadline: date
    expires_at: datetime

    def home(self, request: Request) -> str:
        return link(request, f"/t/{self.token}", lang=self.lang)

    def forbidden(self) -> PageError:
        words = self.entity_words
        return PageError(
            403,
            "forbidden",
            cycle=self.cycle_id,
            entity=words["entity"],
            of_entity=words["of_entity"],
            to_entity=words["to_entity"],
        )


def _language_of_link(token: str) -> str | None:
    """The focal point's language for a refused link we can still recognise."""
    with session_scope() as session:
        return session.scalar(
            select(FocalPoint.language)
            .join(UploadToken, UploadToken.focal_point_id == FocalPoint.id)
            .where(UploadToken.token_sha256 == tokens.token_hash(token))
        )


def visit(request: Request, token: str, lang: LangQuery = None) -> Visit:
    """FastAPI dependency: the grant of ``token``, or a refusal page in the visitor's language."""
    accepted = i18n.from_accept_language(request.headers.get("accept-language"))
    if len(token) > MAX_TOKEN_CHARS:
        raise LinkRefused("forged", i18n.choose(lang, accepted))
    with session_scope() as session:
        try:
            grant = tokens.verify(session, token)
        except tokens.TokenRefused as exc:
            known = _language_of_link(token) if exc.reason in ("expired", "revoked") else None
            raise LinkRefused(exc.reason, i18n.choose(lang, known, accepted)) from exc
        person = session.get(FocalPoint, grant.focal_point_id)
        entity = session.get(ReportingEntity, grant.entity_code)
        cycle = session.get(ReportingCycle, grant.cycle_id)
        if person is None or entity is None or cycle is None:  # deleted under the link
            raise LinkRefused("unknown", i18n.choose(lang, accepted))
        language = i18n.choose(lang, person.language, accepted)
        request.state.lang = language
        return Visit(
            token=token,
            token_id=grant.token_id,
            lang=language,
            person_name=person.name,
            email=person.email,
            entity_code=entity.code,
            entity_name=entity.name(language),
            entity_words=grammar.words(entity, language).fields(),
            cycle_id=cycle.id,
            cycle_title=cycle.title,
            cycle_state=cycle.state,
            deadline=cycle.deadline,
            expires_at=grant.expires_at,
        )


VisitDep = Annotated[Visit, Depends(visit)]


def scoped(cycle_id: int, entity: str, v: VisitDep) -> Visit:
    """FastAPI dependency: the visit, if the path's entity and cycle are the ones it grants."""
    if cycle_id != v.cycle_id or entity.upper() != v.entity_code.upper():
        raise v.forbidden()
    return v


ScopedDep = Annotated[Visit, Depends(scoped)]


def _deadline_note(v: Visit) -> str:
    days = (v.deadline - clock.today()).days
    if days > 0:
        return i18n.text("days_left", v.lang, days=days)
    return i18n.text("due_today" if days == 0 else "overdue", v.lang)


def _row(request: Request, v: Visit, s: Submission) -> dict[str, Any]:
    """One submission as the templates show it."""
    key = f"state.{s.state}"
    return {
        "id": s.id,
        "received": f"{s.received_at:%Y-%m-%d %H:%M} UTC",
        "received_at": s.received_at,
        "name": s.original_name,
        "size": s.size,
        "channel": i18n.text(f"channel.{s.channel}", v.lang)
        if i18n.has(f"channel.{s.channel}")
        else s.channel,
        "state": s.state,
        "state_label": i18n.text(key, v.lang) if i18n.has(key) else s.state,
        "sender": s.sender,
        "report": {k: v for k, v in (s.report or {}).items() if k not in BOOKKEEPING},
        "href": link(request, f"/t/{v.token}/returns/{s.id}", lang=v.lang),
        "file_href": link(request, f"/t/{v.token}/returns/{s.id}/file"),
    }


def _history(request: Request, v: Visit) -> list[dict[str, Any]]:
    with session_scope() as session:
        return [_row(request, v, s) for s in list_submissions(session, v.cycle_id, v.entity_code)]


def _has_questionnaire(v: Visit) -> bool:
    with session_scope() as session:
        found = session.scalar(
            select(Questionnaire.id).where(
                Questionnaire.cycle_id == v.cycle_id, Questionnaire.entity_code == v.entity_code
            )
        )
    return found is not None


def _scope_paths(request: Request, v: Visit) -> dict[str, str]:
    base = f"/t/{v.token}/c/{v.cycle_id}/{v.entity_code}"
    return {
        "questionnaire_href": link(request, f"{base}/questionnaire"),
        "upload_action": link(request, f"{base}/returns", lang=v.lang),
        "home_href": v.home(request),
    }


@router.get("/t/{token}", name="home")
def home(request: Request, v: VisitDep) -> Response:
    """The focal point's page: cycle and deadline, questionnaire, upload form, history."""
    context = {
        "v": v,
        "title": v.entity_name,
        "deadline_text": _day_text(v.deadline, v.lang),
        "deadline_note": _deadline_note(v),
        "cycle_state": i18n.text(f"cycle_state.{v.cycle_state}", v.lang)
        if i18n.has(f"cycle_state.{v.cycle_state}")
        else v.cycle_state,
        "expires": _day_text(v.expires_at.date(), v.lang),
        "has_questionnaire": _has_questionnaire(v),
        "max_size": intake_settings().upload_max_bytes,
        "history": _history(request, v),
        **_scope_paths(request, v),
    }
    return render(request, "home.html", context, language=v.lang)


def _day_text(day: date, language: Language) -> str:
    """A date as the questionnaire writes it: Gregorian then Hijri, in words."""
    from resotrack.questionnaires.dates import format_deadline

    try:
        return format_deadline(day, language)
    except (OverflowError, ValueError):  # outside the Hijri table
        return f"{day:%Y-%m-%d}"


@router.get("/t/{token}/c/{cycle_id}/{entity}/returns", name="returns")
def returns(request: Request, v: ScopedDep) -> Response:
    """The history alone (what the home page also shows)."""
    if wants_json(request):
        rows = _history(request, v)
        keys = ("id", "received", "name", "size", "state", "report")
        return JSONResponse([{k: r[k] for k in keys} for r in rows])
    context = {"v": v, "title": i18n.text("history_heading", v.lang)}
    context |= {"history": _history(request, v), **_scope_paths(request, v)}
    return render(request, "returns.html", context, language=v.lang)


@router.get("/t/{token}/c/{cycle_id}/{entity}/questionnaire", name="questionnaire")
def questionnaire(v: ScopedDep) -> Response:
    """The entity's questionnaire workbook, as dispatched (built on first request if needed)."""
    from resotrack.questionnaires.dispatch import ensure_built, load_cycle
    from resotrack.questionnaires.workbook import questionnaire_filename
    from resotrack.validation.answers import earlier_answers

    with session_scope() as session:
        cycle = load_cycle(session, v.cycle_id)
        q = next((q for q in cycle.questionnaires if q.entity_code == v.entity_code), None)
        if q is None:
            raise PageError(404, "no_questionnaire")
        sha = ensure_built(session, cycle, q, earlier_answers=earlier_answers)
    try:
        data = blob_store().get(sha)
    except BlobNotFound as exc:
        raise PageError(404, "no_questionnaire") from exc
    name = questionnaire_filename(v.cycle_id, v.entity_code)
    headers = {"Content-Disposition": content_disposition(name)}
    return Response(data, media_type=XLSX, headers=headers)


@router.post("/t/{token}/c/{cycle_id}/{entity}/returns", name="upload")
async def upload(request: Request, background: BackgroundTasks, v: ScopedDep) -> Response:
    """Receive a workbook: streamed to disk under the size limit, sniffed, stored, recorded.

    The answer ("received", a redirect to the result page) is sent only after the bytes are
    fsynced and the Submission committed; the ingest DAG is triggered after the answer left.
    """
    settings = intake_settings()
    limit = settings.upload_max_bytes
    if v.cycle_state == "closed":
        raise PageError(403, "cycle_closed")
    try:
        boundary = boundary_of(request.headers.get("content-type"))
    except BadForm as exc:
        raise PageError(400, "bad_request") from exc
    try:
        await run_in_threadpool(count_upload, v.token_id, settings)
    except RateLimited as exc:
        wait = max(1, round((exc.retry_at - clock.now()).total_seconds() / 60))
        raise PageError(
            429,
            "rate_limited",
            headers={"Retry-After": str(wait * 60)},
            files=i18n.Count("files", exc.limit),
            window=i18n.Count("minutes", max(1, exc.window_seconds // 60)),
            time=f"{exc.retry_at:%H:%M}",
            wait=i18n.Count("minutes", wait),
        ) from exc
    too_large = PageError(413, "too_large", max=i18n.size_text(limit, v.lang))
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + ENVELOPE_BYTES:
        raise too_large  # refused before reading a byte
    with spool_file() as (spool, path):
        form = FormStream(boundary, spool, max_file_bytes=limit)
        try:
            async for chunk in request.stream():
                form.feed(chunk)
            form.close()
        except TooLarge as exc:
            raise too_large from exc
        except BadForm as exc:
            raise PageError(400, "bad_request") from exc
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is left to read an answer
        if form.filename is None or form.file_bytes == 0:
            raise PageError(400, "no_file")
        spool.flush()
        try:
            receipt = await run_in_threadpool(
                receive,
                path,
                channel="portal",
                original_name=form.filename,
                cycle_id=v.cycle_id,
                entity_code=v.entity_code,
                sender=v.email,
                token_id=v.token_id,
                max_bytes=limit,
            )
        except NotAWorkbook as exc:
            raise PageError(415, "not_workbook", message_key=f"sniff.{exc.code}") from exc
        except TooLarge as exc:
            raise too_large from exc
        received = time.perf_counter()
        quick = None
        if not receipt.duplicate:  # a duplicate's page shows the report it already has
            quick = await run_in_threadpool(_quick_check, path, v, receipt.submission_id)
        checked = time.perf_counter()
    background.add_task(announce, receipt)
    timing = {
        "Server-Timing": f"quick;dur={(checked - received) * 1000:.1f}"
        + (f";desc={quick['outcome']}" if quick else "")
    }
    result = link(request, f"/t/{v.token}/returns/{receipt.submission_id}")
    if wants_json(request):
        body = receipt.as_dict() | {"url": result, "quick": quick}
        return JSONResponse(body, status_code=200 if receipt.duplicate else 201, headers=timing)
    flag = {"duplicate": 1} if receipt.duplicate else {"received": 1}
    target = link(request, f"/t/{v.token}/returns/{receipt.submission_id}", lang=v.lang, **flag)
    return RedirectResponse(target, status_code=303, headers=timing)


def _quick_check(path: Path, v: Visit, submission_id: int) -> dict[str, Any] | None:
    """The quick check of a new upload, kept on its submission for its page; None if it
    could not run. The upload is stored either way, and the full validation follows: a
    failure here costs the focal point the early answer, never their file."""
    from resotrack.validation.quick import quick_check, remember

    try:
        report = quick_check(
            path.read_bytes(),
            expected_entity=v.entity_code,
            expected_cycle=v.cycle_id,
            token_id=v.token_id,
        )
        remember(submission_id, report)
    except Exception:
        log.exception("quick check of submission %s failed; the ingest will judge", submission_id)
        return None
    log.info(
        "quick check of submission %s: %s, %d problem(s), %.0f ms",
        submission_id,
        report.outcome,
        len(report.problems),
        report.elapsed_ms,
    )
    return report.as_dict()


def _own_submission(v: Visit, submission_id: int) -> Submission:
    with session_scope() as session:
        s = session.get(Submission, submission_id)
        # Another entity's id answers exactly as a missing one: which ids exist is not told.
        if s is None or s.entity_code != v.entity_code or s.cycle_id != v.cycle_id:
            raise PageError(404, "not_found")
        session.expunge(s)
        return s


def _number(s: Submission) -> int:
    """The submission's number among its entity's own in the cycle (1 for their first): the
    number a focal point is shown, whatever other entities sent before."""
    with session_scope() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Submission)
                .where(
                    Submission.entity_code == s.entity_code,
                    Submission.cycle_id == s.cycle_id,
                    Submission.id <= s.id,
                )
            )
            or 0
        )


@router.get("/t/{token}/returns/{submission_id}", name="submission")
def submission(
    request: Request,
    v: VisitDep,
    submission_id: int,
    received: Annotated[int, Query()] = 0,
    duplicate: Annotated[int, Query()] = 0,
) -> Response:
    """One return: its state and, once checked, the validation report."""
    s = _own_submission(v, submission_id)
    row = _row(request, v, s)
    row["number"] = _number(s)
    report = row["report"]
    quick = report.get("quick") if s.state == "received" else None
    quick = quick if isinstance(quick, dict) else None
    if wants_json(request):
        keys = ("id", "received", "name", "size", "state")
        return JSONResponse({k: row[k] for k in keys} | {"quick": quick})
    shown = quick if quick is not None else report
    outcome = report.get("outcome")
    annotated = _annotated_sha256(report)
    context = {
        "v": v,
        "s": row,
        "title": i18n.text("result_title", v.lang, id=row["number"]),
        "just_received": bool(received) and s.state == "received",
        "duplicate": bool(duplicate),
        "quick": quick,
        "quick_text": i18n.text(f"quick.{quick['outcome']}", v.lang, rows=quick.get("rows", 0))
        if quick is not None and i18n.has(f"quick.{quick.get('outcome')}")
        else None,
        "outcome": outcome,
        "outcome_text": _outcome_text(outcome, v.lang),
        "problems": [_problem(p, v.lang) for p in _list(shown, "problems")],
        "warnings": [_warning_text(w) for w in _list(report, "warnings")],
        "other_report": {k: val for k, val in report.items() if k not in SHOWN_APART},
        "annotated_href": link(request, f"/t/{v.token}/returns/{s.id}/feedback")
        if annotated is not None
        else None,
        "home_href": v.home(request),
    }
    return render(request, "result.html", context, language=v.lang)


def _list(report: dict[str, Any], key: str) -> list[Any]:
    value = report.get(key)
    return value if isinstance(value, list) else []


def _outcome_text(outcome: Any, language: Language) -> str | None:
    """The feedback email's own sentence for a decided outcome (a code it lacks: as is)."""
    from resotrack.validation.messages import FEEDBACK, feedback_text

    if not isinstance(outcome, str) or not outcome:
        return None
    key = f"outcome.{outcome}"
    return feedback_text(key, language) if key in FEEDBACK else outcome


def _problem(problem: Any, language: Language) -> dict[str, Any]:
    """One problem as the feedback email lists it: place, column title in the focal point's
    language, what is wrong and how to fix it (each stored in the three languages)."""
    from resotrack.questionnaires.i18n import text as column_text
    from resotrack.validation.messages import feedback_text

    if not isinstance(problem, dict):
        return {"message": str(problem), "severity": "blocker"}

    def words(value: Any) -> str:
        if isinstance(value, dict):
            return str(value.get(language) or value.get("en") or "")
        return "" if value is None else str(value)

    column = problem.get("column")
    if isinstance(column, str) and column:
        with contextlib.suppress(KeyError):  # a column of the sheet we do not know
            column = column_text(f"column.{column}", language)
    severity = problem.get("severity") if problem.get("severity") == "warning" else "blocker"
    return {
        "row": problem.get("row"),
        "paragraph": problem.get("paragraph"),
        "column": column,
        "message": words(problem.get("message")),
        "fix": words(problem.get("fix")),
        "severity": severity,
        "severity_label": feedback_text(f"severity.{severity}", language),
    }


def _warning_text(warning: Any) -> str:
    """Warnings may be strings or problem-like dicts; show what they say either way."""
    if isinstance(warning, dict):
        where = ", ".join(
            f"{k} {warning[k]}" for k in ("row", "paragraph", "column") if warning.get(k)
        )
        message = str(warning.get("message", ""))
        return f"{where}: {message}" if where else message
    return str(warning)


@router.get("/t/{token}/returns/{submission_id}/file", name="submission_file")
def submission_file(v: VisitDep, submission_id: int) -> Response:
    """The file exactly as it was sent (only to its own entity)."""
    s = _own_submission(v, submission_id)
    return _workbook(s.sha256, s.original_name)


@router.get("/t/{token}/returns/{submission_id}/feedback", name="submission_feedback")
def submission_feedback(v: VisitDep, submission_id: int) -> Response:
    """The annotated copy of the sender's workbook, as attached to the feedback email."""
    s = _own_submission(v, submission_id)
    sha = _annotated_sha256(s.report or {})
    if sha is None:
        raise PageError(404, "not_found")
    return _workbook(sha, f"feedback-{s.id}.xlsx")


def _annotated_sha256(report: dict[str, Any]) -> str | None:
    """The blob of the annotated workbook the full validation made, if it made one."""
    summary = report.get("summary")
    sha = summary.get("annotated_sha256") if isinstance(summary, dict) else None
    return sha if isinstance(sha, str) else None


def _workbook(sha256: str, name: str) -> Response:
    """A stored workbook as a download named ``name`` (404 if the blob is gone)."""
    try:
        data = blob_store().get(sha256)
    except BlobNotFound as exc:
        raise PageError(404, "not_found") from exc
    headers = {"Content-Disposition": content_disposition(workbook_download_name(name))}
    return Response(data, media_type=XLSX, headers=headers)
