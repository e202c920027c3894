"""The staff pages' language and frame: the same choice as the focal-point pages (``?lang=``,
else ``Accept-Language``), plus a cookie so that a language chosen on one staff page holds on
the next; the words come from the ``staff`` catalog domain."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from resotrack.catalog import Language
from resotrack.consolidation.staff_words import COOKIE, StaffWords, frame, remember
from resotrack.portal import i18n
from resotrack.portal.pages import STATIC_VERSION, TEMPLATES, base_path, link


def staff_language(request: Request) -> Language:
    """``?lang=``, else the language chosen earlier (cookie), else the browser's, else English."""
    return i18n.choose(
        request.query_params.get("lang"),
        request.cookies.get(COOKIE),
        i18n.from_accept_language(request.headers.get("accept-language")),
    )


def staff_words(request: Request) -> StaffWords:
    return StaffWords(staff_language(request))


def render_staff(request: Request, template: str, context: Mapping[str, Any]) -> Response:
    """A Secretariat page in the chosen language, inside the Airflow UI's frame."""
    lang = staff_language(request)
    values = {
        **frame(request, lang, base_path(request)),
        "css": link(request, "/static/portal.css", v=STATIC_VERSION),
        **context,
    }
    return remember(TEMPLATES.TemplateResponse(request, template, values), request, lang)
