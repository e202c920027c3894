"""The public read-only site: static pages from approved report builds only (``site.py``).

The names below are imported on first use (``lazy_loader``): the command line loads this
package for every command, and loading the site's table (``resotrack.publicsite.models``, see
``resotrack.schema``) must not load the site builder's pandas.
"""

from typing import TYPE_CHECKING

import lazy_loader

if TYPE_CHECKING:
    from resotrack.publicsite.site import SiteError, SiteResult, build_site, set_consent

__getattr__, __dir__, _ = lazy_loader.attach(
    __name__, submod_attrs={"site": ["SiteError", "SiteResult", "build_site", "set_consent"]}
)

__all__ = ["SiteError", "SiteResult", "build_site", "set_consent"]
