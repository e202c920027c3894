"""The public read-only site: static pages from approved report builds only.

The names below are imported on first use, so that loading the site's table
(``resotrack.publicsite.models``, see ``resotrack.schema``) does not load pandas.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from resotrack.publicsite.site import SiteError, SiteResult, build_site, set_consent

__all__ = ["SiteError", "SiteResult", "build_site", "set_consent"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module("resotrack.publicsite.site"), name)
