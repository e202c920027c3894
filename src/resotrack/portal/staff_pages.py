"""Secretariat pages: who has replied in a cycle, through which channel, with what result;
the original files; the mail quarantine; and the review of lineage matches and themes (in
Arabic, English or French: ``?lang=``). Every route requires an Airflow user; decisions need
one allowed to edit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import func, select

from resotrack.intake.names import content_disposition, workbook_download_name
from resotrack.intake.queries import get_inbound_mail, list_quarantine, list_submissions
from resotrack.portal.pages import base_path, render_staff, request_language, wants_json
from resotrack.portal.staff import StaffUser, require_staff, require_staff_editor
from resotrack.store import session_scope
from resotrack.store.blobs import BlobNotFound, blob_store
from resotrack.validation.models import Submission

router = APIRouter(prefix="/staff")
StaffDep = Annotated[StaffUser, Depends(require_staff)]
EditorDep = Annotated[StaffUser, Depends(require_staff_editor)]


def _not_found(what: str) -> Response:
    return JSONResponse({"detail": f"{what} not found"}, status_code=404)


def _entity_names() -> dict[str, str]:
    from resotrack.registry import list_entities

    with session_scope() as session:
        return {e.code: e.name_en for e in list_entities(session)}


@router.get("/", name="staff_index")
def index(request: Request, user: StaffDep) -> Response:
    """Cycles with their submission counts by state, and the quarantine's size."""
    from resotrack.questionnaires.cycles import list_cycles

    with session_scope() as session:
        counts: dict[int, dict[str, int]] = {}
        for cycle_id, state, n in session.execute(
            select(Submission.cycle_id, Submission.state, func.count())
            .group_by(Submission.cycle_id, Submission.state)
            .order_by(Submission.cycle_id, Submission.state)
        ):
            if cycle_id is not None:
                counts.setdefault(cycle_id, {})[state] = n
        cycles = [
            {
                "id": c.id,
                "title": c.title,
                "deadline": f"{c.deadline:%Y-%m-%d}",
                "state": c.state,
                "questionnaires": len(c.questionnaires),
                "counts": counts.get(c.id, {}),
            }
            for c in list_cycles(session)
        ]
        quarantined = len(list_quarantine(session))
    context = {"user": user, "title": "Returns", "cycles": cycles, "quarantined": quarantined}
    return render_staff(request, "staff/index.html", context)


@router.get("/cycles/{cycle_id}", name="staff_cycle")
def cycle(request: Request, user: StaffDep, cycle_id: int) -> Response:
    """A cycle's submissions (newest first) and the entities that have not replied yet."""
    from resotrack.questionnaires.cycles import CycleError, get_cycle

    names = _entity_names()
    with session_scope() as session:
        try:
            c = get_cycle(session, cycle_id)
        except CycleError:
            return _not_found(f"cycle {cycle_id}")
        rows: list[dict[str, Any]] = [
            {
                "id": s.id,
                "entity": s.entity_code or "",
                "entity_name": names.get(s.entity_code or "", ""),
                "received": f"{s.received_at:%Y-%m-%d %H:%M}",
                "channel": s.channel,
                "sender": s.sender or "",
                "state": s.state,
                "outcome": (s.report or {}).get("outcome", ""),
                "name": s.original_name,
                "size": s.size,
            }
            for s in list_submissions(session, cycle_id)
        ]
        expected = sorted(q.entity_code for q in c.questionnaires)
        title, deadline, state = c.title, f"{c.deadline:%Y-%m-%d}", c.state
    if wants_json(request):
        return JSONResponse({"cycle_id": cycle_id, "submissions": rows})
    replied = {r["entity"] for r in rows}
    waiting = [(code, names.get(code, "")) for code in expected if code not in replied]
    context = {
        "user": user,
        "title": f"Cycle {cycle_id}: {title}",
        "cycle": {"id": cycle_id, "title": title, "deadline": deadline, "state": state},
        "rows": rows,
        "waiting": waiting,
    }
    return render_staff(request, "staff/cycle.html", context)


@router.get("/submissions/{submission_id}/file", name="staff_file")
def original_file(user: StaffDep, submission_id: int) -> Response:
    """The returned workbook exactly as received."""
    with session_scope() as session:
        s = session.get(Submission, submission_id)
        if s is None:
            return _not_found(f"submission {submission_id}")
        sha, name, entity = s.sha256, s.original_name, s.entity_code
    try:
        data = blob_store().get(sha)
    except BlobNotFound:
        return _not_found(f"the stored file of submission {submission_id}")
    download = workbook_download_name(f"{submission_id}-{entity or 'unknown'}-{name}")
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": content_disposition(download)},
    )


@router.get("/quarantine", name="staff_quarantine")
def quarantine(request: Request, user: StaffDep) -> Response:
    """Mail the returns mailbox could not accept; each kept whole for staff to decide."""
    with session_scope() as session:
        rows = [
            {
                "id": m.id,
                "at": f"{m.processed_at:%Y-%m-%d %H:%M}",
                "sender": m.sender or "",
                "subject": m.subject or "",
                "reason": m.reason or "",
                "size": m.size,
            }
            for m in list_quarantine(session)
        ]
    if wants_json(request):
        return JSONResponse(rows)
    context = {"user": user, "title": "Mail quarantine", "rows": rows}
    return render_staff(request, "staff/quarantine.html", context)


@router.get("/quarantine/{mail_id}/raw", name="staff_quarantine_raw")
def quarantined_message(user: StaffDep, mail_id: int) -> Response:
    """The message as it arrived (``.eml``: opens in any mail program)."""
    with session_scope() as session:
        try:
            sha = get_inbound_mail(session, mail_id).raw_sha256
        except LookupError:
            return _not_found(f"inbound mail {mail_id}")
    try:
        data = blob_store().get(sha)
    except BlobNotFound:
        return _not_found(f"the stored message {mail_id}")
    headers = {"Content-Disposition": content_disposition(f"inbound-{mail_id}.eml")}
    return Response(data, media_type="message/rfc822", headers=headers)


# --- review of lineage matches and themes -------------------------------------------------


@router.get("/review", name="staff_review")
def review(request: Request, user: StaffDep) -> Response:
    """Lineage matches in the review band and themes the lexicons proposed, each with its
    confirm and reject buttons; ``?decided=1`` lists past decisions too."""
    from resotrack.catalog import Words
    from resotrack.portal import i18n
    from resotrack.resolutions.lineage import FLOOR, REVIEW_THRESHOLD
    from resotrack.resolutions.review import lineage_queue, theme_queue

    lang = request_language(request)
    decided = request.query_params.get("decided") == "1"
    with session_scope() as session:
        matches = lineage_queue(session, decided=decided)
        themes = theme_queue(session, lang, decided=decided)
    if wants_json(request):
        return JSONResponse(
            {
                "band": [FLOOR, REVIEW_THRESHOLD],
                "matches": [m.as_dict() for m in matches],
                "themes": [t.as_dict() for t in themes],
            }
        )
    t = Words(lang, "lineage")
    here = f"{base_path(request)}/staff/review"
    context = {
        "user": user,
        "title": t("Review of lineage and themes"),
        "lang": lang,
        "dir": i18n.direction(lang),
        "t": t,
        "here": here,
        "decided": decided,
        "languages": [
            {"code": code, "name": name, "href": f"{here}?lang={code}", "current": code == lang}
            for code, name in i18n.NATIVE_NAMES.items()
        ],
        "band": (t.number(FLOOR), t.number(REVIEW_THRESHOLD)),
        "matches": matches,
        "themes": themes,
        "done": request.query_params.get("done"),
        "error": request.query_params.get("error"),
    }
    return render_staff(request, "staff/review.html", context)


def _decided(request: Request, lang: str, **message: str) -> Response:
    from urllib.parse import urlencode

    query = urlencode({"lang": lang, **message})
    return RedirectResponse(f"{base_path(request)}/staff/review?{query}", status_code=303)


def _check_origin(request: Request) -> None:
    from resotrack.consolidation.dashboard import same_origin

    if not same_origin(request):
        raise HTTPException(403, "this form must be sent from the review page itself")


@router.post("/review/lineage", name="staff_review_lineage")
def review_lineage(
    request: Request,
    user: EditorDep,
    symbol: Annotated[str, Form()],
    paragraph: Annotated[int, Form()],
    decision: Annotated[str, Form()],
    lang: Annotated[str, Form()] = "en",
) -> Response:
    """Confirm or reject a paragraph's proposed predecessor."""
    from resotrack.catalog import Words, language
    from resotrack.resolutions.lineage import LineageError, decide

    _check_origin(request)
    chosen = language(lang)
    t = Words(chosen, "lineage")
    if decision not in ("confirm", "reject"):
        raise HTTPException(422, f"a decision is confirm or reject, not {decision!r}")
    try:
        with session_scope() as session:
            decide(session, symbol, paragraph, confirm=decision == "confirm", actor=user.name)
    except (LineageError, LookupError) as exc:
        return _decided(request, chosen, error=str(exc))
    done = (
        t("Paragraph {number} of {symbol}: link confirmed.", number=paragraph, symbol=symbol)
        if decision == "confirm"
        else t("Paragraph {number} of {symbol}: link rejected.", number=paragraph, symbol=symbol)
    )
    return _decided(request, chosen, done=done)


@router.post("/review/themes", name="staff_review_themes")
def review_theme(
    request: Request,
    user: EditorDep,
    symbol: Annotated[str, Form()],
    paragraph: Annotated[int, Form()],
    code: Annotated[str, Form()],
    decision: Annotated[str, Form()],
    lang: Annotated[str, Form()] = "en",
) -> Response:
    """Confirm or reject a theme the lexicons proposed for a paragraph."""
    from resotrack.catalog import Words, language
    from resotrack.resolutions.themes import ThemeError, decide, themes

    _check_origin(request)
    chosen = language(lang)
    t = Words(chosen, "lineage")
    if decision not in ("confirm", "reject"):
        raise HTTPException(422, f"a decision is confirm or reject, not {decision!r}")
    try:
        with session_scope() as session:
            decide(session, symbol, paragraph, code, decision=decision, actor=user.name)
    except (ThemeError, LookupError) as exc:
        return _decided(request, chosen, error=str(exc))
    name = themes()[code].name(chosen)
    values = {"number": paragraph, "symbol": symbol, "theme": name}
    done = (
        t("Paragraph {number} of {symbol}: theme “{theme}” confirmed.", **values)
        if decision == "confirm"
        else t("Paragraph {number} of {symbol}: theme “{theme}” rejected.", **values)
    )
    return _decided(request, chosen, done=done)
