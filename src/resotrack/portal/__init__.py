"""The web portal: focal points upload returns from their personal link; staff watch replies.

``create_app()`` builds the FastAPI app the Airflow plugin mounts at ``/resotrack``;
``serve()`` (or ``python -m resotrack.portal``) runs it alone under uvicorn.
"""

from resotrack.portal.app import PREFIX, create_app, serve, standalone_app

__all__ = ["PREFIX", "create_app", "serve", "standalone_app"]
