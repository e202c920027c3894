"""The returns pages: who has replied in a cycle, through which channel, with what result;
the original files; the mail quarantine. Every route requires an Airflow user."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func, select

from resotrack.catalog import Language
from resotrack.intake.names import content_disposition, workbook_download_name
from resotrack.intake.queries import get_inbound_mail, list_quarantine, list_submissions
from resotrack.portal.pages import wants_json
from resotrack.portal.staff.auth import StaffUser, require_staff
from resotrack.portal.staff.frame import render_staff, staff_words
from resotrack.store import session_scope
from resotrack.store.blobs import BlobNotFound, blob_store
from resotrack.validation.lifecycle import CHANNELS, SUBMISSION_STATES
from resotrack.validation.models import Submission

router = APIRouter(prefix="/staff")
StaffDep = Annotated[StaffUser, Depends(require_staff)]


def _not_found(what: str) -> Response:
    return JSONResponse({"detail": f"{what} not found"}, status_code=404)


def _entity_names(language: Language) -> dict[str, str]:
    from resotrack.registry import list_entities

    with session_scope() as session:
        return {e.code: e.name(language) for e in list_entities(session)}


@router.get("/", name="staff_index")
def index(request: Request, user: StaffDep) -> Response:
    """Cycles with their submission counts by state, and the quarantine's size."""
    from resotrack.questionnaires.cycles import CYCLE_STATES, list_cycles

    t = staff_words(request)
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
                "deadline": t.day(c.deadline),
                "state": t.capital(t.label(CYCLE_STATES, c.state)),
                "questionnaires": t.number(len(c.questionnaires)),
                "counts": [
                    (t.capital(t.label(SUBMISSION_STATES, state)), t.number(n))
                    for state, n in counts.get(c.id, {}).items()
                ],
            }
            for c in list_cycles(session)
        ]
        quarantined = len(list_quarantine(session))
    context = {
        "user": user,
        "title": t("Returns by reporting cycle"),
        "cycles": cycles,
        "quarantined": quarantined,
    }
    return render_staff(request, "staff/index.html", context)


@router.get("/cycles/{cycle_id}", name="staff_cycle")
def cycle(request: Request, user: StaffDep, cycle_id: int) -> Response:
    """A cycle's submissions (newest first) and the entities that have not replied yet."""
    from resotrack.questionnaires.cycles import CYCLE_STATES, CycleError, get_cycle

    t = staff_words(request)
    names = _entity_names(t.language)
    with session_scope() as session:
        try:
            c = get_cycle(session, cycle_id)
        except CycleError:
            return _not_found(f"cycle {cycle_id}")
        rows: list[dict[str, Any]] = []
        received: dict[int, datetime] = {}
        for s in list_submissions(session, cycle_id):
            received[s.id] = s.received_at
            rows.append(
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
            )
        expected = sorted(q.entity_code for q in c.questionnaires)
        title, deadline, state = c.title, c.deadline, c.state
    if wants_json(request):
        return JSONResponse({"cycle_id": cycle_id, "submissions": rows})
    replied = {r["entity"] for r in rows}
    waiting = [(code, names.get(code, "")) for code in expected if code not in replied]
    shown = [
        {
            **r,
            "received": t.moment(received[r["id"]]),
            "channel": t.capital(t.label(CHANNELS, r["channel"])),
            "state": t.capital(t.label(SUBMISSION_STATES, r["state"])),
            "outcome": t.capital(t.label(SUBMISSION_STATES, r["outcome"])),
            "size": t.number(r["size"]),
        }
        for r in rows
    ]
    context = {
        "user": user,
        "title": t("Cycle {id}: {title}", id=cycle_id, title=title),
        "cycle": {
            "id": cycle_id,
            "title": title,
            "deadline": t.day(deadline),
            "state": t.capital(t.label(CYCLE_STATES, state)),
        },
        "rows": shown,
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
    t = staff_words(request)
    rows: list[dict[str, Any]] = []
    when: dict[int, datetime] = {}
    with session_scope() as session:
        for m in list_quarantine(session):
            when[m.id] = m.processed_at
            rows.append(
                {
                    "id": m.id,
                    "at": f"{m.processed_at:%Y-%m-%d %H:%M}",
                    "sender": m.sender or "",
                    "subject": m.subject or "",
                    "reason": m.reason or "",
                    "size": m.size,
                }
            )
    if wants_json(request):
        return JSONResponse(rows)
    shown = [{**m, "at": t.moment(when[m["id"]]), "size": t.number(m["size"])} for m in rows]
    context = {"user": user, "title": t("Mail quarantine"), "rows": shown}
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
