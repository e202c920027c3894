"""The public read-only site: static pages from approved report builds only."""

from resotrack.publicsite.site import SiteError, SiteResult, build_site, set_consent

__all__ = ["SiteError", "SiteResult", "build_site", "set_consent"]
