"""The portal's FastAPI application: focal-point pages, Secretariat pages, static CSS.

``create_app()`` is what the Airflow plugin mounts at ``/resotrack``; ``standalone_app()``
mounts the same app at the same prefix for ``python -m resotrack.portal`` so that personal
links look identical either way. Importing this module does not import Airflow.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from resotrack.portal import focal
from resotrack.portal.accesslog import AccessLog
from resotrack.portal.accesslog import install as install_redaction
from resotrack.portal.pages import (
    HERE,
    STATIC_VERSION,
    PageError,
    http_error,
    invalid_request,
    page_error,
    server_error,
)
from resotrack.portal.staff import review, routes
from resotrack.portal.staff.auth import (
    StaffLoginRequired,
    require_staff,
    require_staff_editor,
    staff_login,
)
from resotrack.portal.staff.frame import staff_language

PREFIX = "/resotrack"
log = logging.getLogger(__name__)
_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors {frames}"
)


class SecurityHeaders:
    """Headers every answer carries: no sniffing, no referrer (links hold tokens), no framing
    of focal-point pages (staff pages open inside the Airflow UI), no caching of personal pages.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        root = str(scope.get("root_path", ""))
        path = str(scope.get("path", ""))
        route = path[len(root) :] if path.startswith(root) else path
        staff = route.startswith("/staff")
        static = route.startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("X-Frame-Options", "SAMEORIGIN" if staff else "DENY")
                headers.setdefault(
                    "Content-Security-Policy", _CSP.format(frames="'self'" if staff else "'none'")
                )
                if static:
                    headers.setdefault("Cache-Control", "public, max-age=86400")
                else:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _warm_readers() -> None:
    """Start the quick check's sandboxed readers (they load pandas and pandera, about a
    second); if they cannot start, the portal still takes uploads and the ingest judges them."""
    from resotrack.validation.quick import warm_up

    try:
        warm_up()
    except Exception:
        log.exception("the quick check's readers did not start; uploads are still received")


def _clear_stale_uploads() -> None:
    """Remove temporary files that killed uploads left beside the blobs (older than
    ``incoming_max_age_seconds``, so another worker's upload in progress is left alone)."""
    from resotrack.intake import cleanup_incoming

    try:
        cleanup_incoming()
    except OSError:
        log.exception("stale upload files could not be removed; the intake sweep will")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Warm the quick check before the first request, so no upload waits for it, and clear
    what killed uploads left. Airflow's api-server runs the lifespan of the apps its plugins
    mount; ``standalone_app`` does too."""
    install_redaction()
    await run_in_threadpool(_clear_stale_uploads)
    await run_in_threadpool(_warm_readers)
    yield


def create_app() -> FastAPI:
    """The portal; mount it at ``/resotrack`` (the Airflow plugin does)."""
    app = FastAPI(
        title="resotrack portal",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.include_router(focal.router)
    app.include_router(routes.router)
    app.include_router(review.router)
    from resotrack.consolidation.dashboard import make_router as make_dashboard

    app.include_router(
        make_dashboard(
            require_staff,
            frame=HERE / "templates",
            static_version=STATIC_VERSION,
            editor_dependency=require_staff_editor,
            language=staff_language,
        )
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    app.add_exception_handler(PageError, page_error)
    app.add_exception_handler(StaffLoginRequired, staff_login)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(Exception, server_error)
    app.add_middleware(SecurityHeaders)
    install_redaction()
    return app


def standalone_app() -> FastAPI:
    """The portal alone, at the same ``/resotrack`` prefix as under Airflow."""
    portal = create_app()

    @asynccontextmanager
    async def mounted(root: FastAPI) -> AsyncIterator[None]:
        async with portal.router.lifespan_context(portal):  # as Airflow does for plugins
            yield

    root = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, lifespan=mounted)
    root.router.routes.append(Mount(PREFIX, app=portal))
    root.add_middleware(AccessLog)  # uvicorn's own access log is off: see serve()
    return root


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Run the portal with uvicorn (staff pages need the Airflow api-server instead)."""
    import uvicorn

    uvicorn.run(
        "resotrack.portal.app:standalone_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,  # AccessLog writes it, without tokens
        proxy_headers=False,
        timeout_graceful_shutdown=10,
    )
