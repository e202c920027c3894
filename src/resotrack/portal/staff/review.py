"""The review of lineage matches and themes: the queue, and one form path that confirms or
rejects either kind of proposal. Seeing needs an Airflow user; deciding, one allowed to edit."""

from __future__ import annotations

import logging
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from resotrack.catalog import Language
from resotrack.consolidation.staff_words import StaffWords, remember
from resotrack.portal.pages import base_path, wants_json
from resotrack.portal.staff.auth import StaffUser, require_staff, require_staff_editor
from resotrack.portal.staff.frame import render_staff, staff_language
from resotrack.store import session_scope

router = APIRouter(prefix="/staff")
StaffDep = Annotated[StaffUser, Depends(require_staff)]
EditorDep = Annotated[StaffUser, Depends(require_staff_editor)]
log = logging.getLogger(__name__)


@router.get("/review", name="staff_review")
def review(request: Request, user: StaffDep) -> Response:
    """Lineage matches in the review band and themes the lexicons proposed, each with its
    confirm and reject buttons; ``?decided=1`` lists past decisions too."""
    from resotrack.resolutions.lineage import FLOOR, REVIEW_THRESHOLD
    from resotrack.resolutions.review import lineage_queue, theme_queue
    from resotrack.resolutions.themes import THEME_KINDS

    lang = staff_language(request)
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
    t = StaffWords(lang)
    context = {
        "user": user,
        "title": t("Review of lineage and themes"),
        "here": f"{base_path(request)}/staff/review",
        "decided": decided,
        "band": (t.number(FLOOR), t.number(REVIEW_THRESHOLD)),
        "matches": matches,
        "themes": themes,
        "theme_kinds": THEME_KINDS,
        "done": request.query_params.get("done"),
        "error": request.query_params.get("error"),
    }
    return render_staff(request, "staff/review.html", context)


def _decided(request: Request, lang: Language, **message: str) -> Response:
    from urllib.parse import urlencode

    query = urlencode({"lang": lang, **message})
    answer = RedirectResponse(f"{base_path(request)}/staff/review?{query}", status_code=303)
    return remember(answer, request, lang)


@router.post("/review/{what}", name="staff_review_decide")
def decide(
    request: Request,
    user: EditorDep,
    what: Literal["lineage", "themes"],
    symbol: Annotated[str, Form()],
    paragraph: Annotated[int, Form()],
    decision: Annotated[str, Form()],
    code: Annotated[str, Form()] = "",
    lang: Annotated[str, Form()] = "",
) -> Response:
    """Confirm or reject a paragraph's proposed predecessor (``lineage``) or a theme the
    lexicons proposed for it (``themes``, naming the theme's ``code``)."""
    from resotrack.catalog import language
    from resotrack.consolidation.dashboard import same_origin
    from resotrack.resolutions import lineage, themes
    from resotrack.resolutions.lineage import LineageError
    from resotrack.resolutions.themes import ThemeError

    if not same_origin(request):
        raise HTTPException(403, "this form must be sent from the review page itself")
    if decision not in ("confirm", "reject"):
        raise HTTPException(422, f"a decision is confirm or reject, not {decision!r}")
    chosen = language(lang) if lang else staff_language(request)
    t = StaffWords(chosen)
    confirm = decision == "confirm"
    values: dict[str, object] = {"number": paragraph, "symbol": symbol}
    try:
        with session_scope() as session:
            if what == "lineage":
                lineage.decide(session, symbol, paragraph, confirm=confirm, actor=user.name)
            else:
                themes.decide(session, symbol, paragraph, code, decision=decision, actor=user.name)
    except LookupError as exc:  # no resolution of that symbol
        log.info("review of %s §%s refused: %s", symbol, paragraph, exc)
        return _decided(request, chosen, error=t("There is no resolution {symbol}.", **values))
    except (LineageError, ThemeError) as exc:
        log.info("review of %s §%s refused: %s", symbol, paragraph, exc)
        refusal = t(
            "Paragraph {number} of {symbol} has no such proposal to decide: the page was "
            "out of date. It now shows what is left.",
            **values,
        )
        return _decided(request, chosen, error=refusal)
    if what == "lineage":
        done = (
            t("Paragraph {number} of {symbol}: link confirmed.", **values)
            if confirm
            else t("Paragraph {number} of {symbol}: link rejected.", **values)
        )
    else:
        values["theme"] = themes.themes()[code].name(chosen)
        done = (
            t("Paragraph {number} of {symbol}: theme “{theme}” confirmed.", **values)
            if confirm
            else t("Paragraph {number} of {symbol}: theme “{theme}” rejected.", **values)
        )
    return _decided(request, chosen, done=done)
