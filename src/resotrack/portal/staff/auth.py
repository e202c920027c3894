"""Who may see the Secretariat pages: Airflow's own login decides.

This is the only portal module that imports Airflow, and only inside :func:`require_staff`,
so the focal-point pages (and every test that overrides this dependency through
``app.dependency_overrides``) never pay for, nor depend on, an Airflow import.

The user is resolved by Airflow's ``get_user``: a ``Bearer`` token from ``POST /auth/token``
or the UI's ``_token`` cookie (the pages open inside the Airflow UI, so the cookie is there).
The auth manager then decides whether that user may open the view. A browser without a
session is sent to Airflow's login page and comes back afterwards; an API client gets 401.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import RedirectResponse, Response

RESOURCE = "resotrack"


@dataclass(frozen=True)
class StaffUser:
    """A signed-in Airflow user allowed to see returns."""

    name: str
    #: Whether the user may decide (review); pages hide the forms when not.
    can_edit: bool = False


class StaffLoginRequired(Exception):
    """A browser without an Airflow session: send it to ``login_url``."""

    def __init__(self, login_url: str) -> None:
        self.login_url = login_url
        super().__init__(login_url)


def _browser(request: Request) -> bool:
    """A person in a browser (who can log in), rather than an API client with a token."""
    has_bearer = request.headers.get("authorization", "").lower().startswith("bearer ")
    return not has_bearer and "text/html" in request.headers.get("accept", "")


async def require_staff(request: Request) -> StaffUser:
    """FastAPI dependency: the Airflow user, or 401/403 (a login redirect for browsers)."""
    return await _authorize(request, edit=False)


async def require_staff_editor(request: Request) -> StaffUser:
    """FastAPI dependency for the routes that decide (review: accept, correct): the Airflow
    user if the auth manager lets them *edit*, else 403. Read-only users see, not act.

    Two questions to the auth manager, both must say yes: the custom view with a writing
    method (an auth manager with per-view permissions, e.g. FAB or Keycloak, answers it), and
    editing DAGs (the simple auth manager answers every custom view as a read, so this is
    where its ``viewer`` role is told apart from ``user``, ``op`` and ``admin``).
    """
    return await _authorize(request, edit=True)


async def _authorize(request: Request, *, edit: bool) -> StaffUser:
    try:
        from airflow.api_fastapi.app import get_auth_manager
        from airflow.api_fastapi.core_api.security import bearer_scheme, get_user
    except ImportError as exc:  # pragma: no cover - Airflow is a dependency of resotrack
        raise HTTPException(503, "staff pages need Airflow's authentication") from exc
    try:
        auth_manager: Any = get_auth_manager()
    except Exception as exc:  # not running inside the Airflow api-server
        raise HTTPException(
            503, "staff pages are served by the Airflow api-server (/resotrack/staff/)"
        ) from exc
    try:
        # get_user is a FastAPI dependency; it is resolved here by hand so that importing it
        # (and Airflow) waits until a staff page is actually requested.
        credentials = await bearer_scheme(request)
        user = await get_user(request, None, credentials)
    except HTTPException as exc:
        if exc.status_code in (401, 403) and _browser(request):
            raise StaffLoginRequired(auth_manager.get_url_login(next_url=str(request.url))) from exc
        raise
    if not auth_manager.is_authorized_custom_view(method="GET", resource_name=RESOURCE, user=user):
        raise HTTPException(403, "your Airflow role does not allow the resotrack pages")
    if edit and not (
        auth_manager.is_authorized_custom_view(method="POST", resource_name=RESOURCE, user=user)
        and auth_manager.is_authorized_dag(method="PUT", user=user)
    ):
        raise HTTPException(403, "your Airflow role lets you see the returns, not decide them")
    return StaffUser(name=str(user.get_name()), can_edit=edit or _can_edit(auth_manager, user))


def _can_edit(auth_manager: Any, user: Any) -> bool:
    try:
        return bool(
            auth_manager.is_authorized_custom_view(method="POST", resource_name=RESOURCE, user=user)
            and auth_manager.is_authorized_dag(method="PUT", user=user)
        )
    except Exception:  # an auth manager that cannot answer: no edit
        return False


async def staff_login(request: Request, exc: Exception) -> Response:
    """Exception handler: a browser without an Airflow session goes to Airflow's login."""
    assert isinstance(exc, StaffLoginRequired)
    return RedirectResponse(exc.login_url, status_code=303)
