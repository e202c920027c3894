"""The web portal: focal points upload returns from their personal link; staff watch replies.

``create_app()`` builds the FastAPI app the Airflow plugin mounts at ``/resotrack``;
``serve()`` (or ``python -m resotrack.portal``) runs it alone under uvicorn.
The names below are imported on first use, so that loading the portal's table
(``resotrack.portal.models``, see ``resotrack.schema``) does not load FastAPI.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from resotrack.portal.app import PREFIX, create_app, serve, standalone_app

__all__ = ["PREFIX", "create_app", "serve", "standalone_app"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module("resotrack.portal.app"), name)
