"""Shared by several test modules (moved from test_consolidation_dashboard.py)."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.routing import Mount

from resotrack.portal import create_app
from resotrack.portal.staff.auth import require_staff, require_staff_editor
from support.consolidation_world import Script, scripted_fixture  # noqa: F401

HOST = "testserver"


def _app(staff: object | None) -> FastAPI:
    portal = create_app()  # mounts the dashboard behind the portal's require_staff
    if staff is not None:
        portal.dependency_overrides[require_staff] = lambda: staff
        portal.dependency_overrides[require_staff_editor] = lambda: staff
    root = FastAPI()
    root.router.routes.append(Mount("/resotrack", app=portal))
    return root
