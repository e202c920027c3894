"""Access logging without secrets: a personal link's token never reaches a log line.

Paths under ``/t/<token>`` are written ``/t/[link]``. Two places log requests:

* under Airflow's api-server, uvicorn's own ``uvicorn.access`` logger: :func:`install`
  puts :class:`RedactTokens` on it (and on every handler of the root logger, for the
  portal's own messages that mention a path);
* ``python -m resotrack.portal``: uvicorn's access log is off and :class:`AccessLog` writes
  one line per request through ``resotrack.portal.access``, a logger with its own handler
  that re-enables itself if a library's logging set-up disabled existing loggers (what made
  uvicorn's access log fall silent after the first upload).
"""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Any, Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOKEN_PATH: Final = re.compile(r"/t/[^/?#\s\"']+")
REDACTED: Final = "/t/[link]"
ACCESS: Final = "resotrack.portal.access"


def redact(text: str) -> str:
    """``text`` with every ``/t/<token>`` made ``/t/[link]``."""
    return TOKEN_PATH.sub(REDACTED, text)


class RedactTokens(logging.Filter):
    """Rewrites a record's message and arguments so no upload token is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {
                k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()
            }
        return True


_FILTER = RedactTokens()


def install() -> None:
    """Put the filter on uvicorn's access and error loggers, their handlers, and the root's
    handlers (idempotent)."""
    loggers = [logging.getLogger(n) for n in ("uvicorn.access", "uvicorn.error", "uvicorn")]
    for logger in [*loggers, logging.getLogger()]:
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
        for handler in logger.handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)


def _access_logger() -> logging.Logger:
    logger = logging.getLogger(ACCESS)
    logger.disabled = False  # a dictConfig(disable_existing_loggers=True) elsewhere
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
        handler.addFilter(_FILTER)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return logger


class AccessLog:
    """One line per request, as uvicorn writes them, with the token redacted."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 500}

        async def remember(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, remember)
        finally:
            path = str(scope.get("root_path", "")) + str(scope.get("path", ""))
            query = scope.get("query_string", b"").decode("latin-1")
            client = scope.get("client") or ("-", 0)
            _access_logger().info(
                '%s:%s - "%s %s HTTP/%s" %s %.0fms',
                client[0],
                client[1],
                scope.get("method", "-"),
                redact(path + (f"?{query}" if query else "")),
                scope.get("http_version", "1.1"),
                status["code"],
                (time.perf_counter() - started) * 1000,
            )


__all__ = ["AccessLog", "RedactTokens", "install", "redact"]
