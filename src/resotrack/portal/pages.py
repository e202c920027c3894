"""Rendering: templates, links that work under any mount point, and error pages people can read.

Every refusal a focal point can meet is a :class:`PageError` naming a translated message; the
handler renders it in the visitor's language (or as JSON for an API client). Nothing here
knows about routes; the staff pages (``resotrack.portal.staff``) build on it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.templating import Jinja2Templates

from resotrack.catalog import LANGUAGES, Language
from resotrack.intake.config import intake_settings
from resotrack.portal import i18n

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
STATIC_VERSION = "4"  # bump when static/portal.css changes: browsers cache it for a day


class PageError(Exception):
    """A refusal shown as a page: ``key`` picks the title and message in ``i18n``."""

    template = "error.html"

    def __init__(
        self,
        status: int,
        key: str,
        *,
        message_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        **values: object,
    ) -> None:
        self.status = status
        self.key = key
        self.message_key = message_key or f"error.{key}"
        self.headers = dict(headers or {})
        self.values = values
        super().__init__(key)


class LinkRefused(PageError):
    """A personal link that grants nothing: expired, revoked, or not a link of ours."""

    template = "refused.html"

    def __init__(self, reason: str, language: str) -> None:
        # Revoked means "we know you, and no": 403. The others fail authentication: 401.
        status = 403 if reason == "revoked" else 401
        shown = reason if reason in ("expired", "revoked") else "invalid"
        super().__init__(status, "refused", message_key=f"refused.{shown}")
        self.reason = reason
        self.language = language


def base_path(request: Request) -> str:
    """Where the portal is mounted (``/resotrack`` standalone and under Airflow)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def link(request: Request, path: str, **query: object) -> str:
    """An absolute path inside the portal, with ``query`` (None values left out)."""
    params = {k: v for k, v in query.items() if v is not None}
    return base_path(request) + path + (f"?{urlencode(params)}" if params else "")


def wants_json(request: Request) -> bool:
    """An API client (the benchmark, scripts) rather than a browser."""
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def request_language(request: Request) -> Language:
    """The language chosen for this request, or the best guess before anything is known."""
    chosen = getattr(request.state, "lang", None)
    if chosen:
        return i18n.choose(chosen)
    return i18n.choose(
        request.query_params.get("lang"),
        i18n.from_accept_language(request.headers.get("accept-language")),
    )


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
    language: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A focal-point page in ``language`` with the shared frame (links, switcher, contact)."""
    lang = i18n.choose(language, request_language(request))

    def t(key: str, **values: object) -> str:
        return i18n.text(key, lang, **values)

    here = request.url.path
    switch = [
        {
            "code": code,
            "name": i18n.NATIVE_NAMES[code],
            "href": f"{here}?{urlencode({'lang': code})}",
            "current": code == lang,
        }
        for code in LANGUAGES
    ]
    values = {
        "lang": lang,
        "dir": i18n.direction(lang),
        "t": t,
        "size": lambda n: i18n.size_text(int(n), lang),
        "switch": switch,
        "contact": intake_settings().contact_address(),
        "css": link(request, "/static/portal.css", v=STATIC_VERSION),
        **context,
    }
    return TEMPLATES.TemplateResponse(
        request, template, values, status_code=status, headers=dict(headers or {})
    )


# --- exception handlers ------------------------------------------------------------------


async def page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    language = exc.language if isinstance(exc, LinkRefused) else None
    lang = i18n.choose(language, request_language(request))
    headers = dict(exc.headers)
    if exc.status == 413:
        headers["Connection"] = "close"  # the rest of the body is not worth reading
    message = i18n.text(exc.message_key, lang, **exc.values)
    if wants_json(request):
        body = {"error": exc.key, "message": message}
        if isinstance(exc, LinkRefused):
            body["reason"] = exc.reason
        return JSONResponse(body, status_code=exc.status, headers=headers)
    title_key = "refused_title" if isinstance(exc, LinkRefused) else f"error.{exc.key}.title"
    token = request.path_params.get("token")
    back = None
    if token and not isinstance(exc, LinkRefused):
        back = link(request, f"/t/{token}", lang=lang)
    context = {"title": i18n.text(title_key, lang), "message": message, "back_href": back}
    return render(request, exc.template, context, status=exc.status, language=lang, headers=headers)


async def http_error(request: Request, exc: Exception) -> Response:
    """404/405 and friends: a page for people on focal-point paths, JSON elsewhere."""
    assert isinstance(exc, StarletteHTTPException)
    path = request.scope.get("path", "")
    if wants_json(request) or "/staff" in path or exc.status_code not in (404, 405):
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )
    return await page_error(request, PageError(404, "not_found"))


async def invalid_request(request: Request, exc: Exception) -> Response:
    """A path that does not parse (``/returns/abc``) is simply not a page of ours."""
    assert isinstance(exc, RequestValidationError)
    if wants_json(request):
        return JSONResponse({"detail": "not found"}, status_code=404)
    return await page_error(request, PageError(404, "not_found"))


async def server_error(request: Request, exc: Exception) -> Response:
    from resotrack.portal.accesslog import redact

    log.error("portal error on %s", redact(request.url.path), exc_info=exc)
    return await page_error(request, PageError(500, "server"))
