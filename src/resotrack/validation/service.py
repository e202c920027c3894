"""The warm validation service: one long-lived process that keeps Great Expectations imported.

Why: with Airflow's LocalExecutor every task runs in a fresh process, and ``import
great_expectations`` alone takes about four seconds on the target machine, which would eat
the whole "feedback within seconds" budget on every upload. So the ingest task is a thin
client: it asks this service, over a Unix socket, to ``ingest`` a submission, and the
service (GX, pandera, the contract, the suite and the sandboxed readers all warm) does the
work in well under a second.

Lifecycle: the first client that finds no service starts one (under a file lock, so
concurrent tasks start one between them), detached in its own session so it outlives the
task, and waits until it answers; GX is imported and the suite run once before the socket
opens. The service exits after ``service_idle_seconds`` without a request, on ``stop()``,
or on SIGTERM; the next client starts a fresh one. One service serves one configuration: the
socket's name is a hash of every ``RESOTRACK_*`` variable and of the validation code, so a
change of database, key or code gets a new service (the old one idles out). The socket lives
in a private folder (mode 0700). The service runs exactly the code a task would, so a dead
service costs latency, never correctness: a client that cannot reach one validates in its own
process instead (see ``ingest_pending``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final

log = logging.getLogger(__name__)

PROTOCOL: Final = 1
_CODE: Final = Path(__file__).resolve().parent


class ServiceUnavailable(RuntimeError):
    """No service could be reached or started; the caller validates in its own process."""


def fingerprint() -> str:
    """This configuration and code, as a short hash (the service's name)."""
    digest = hashlib.sha256(f"{PROTOCOL}\n".encode())
    for key in sorted(k for k in os.environ if k.startswith("RESOTRACK_")):
        digest.update(f"{key}={os.environ[key]}\n".encode())
    # The home as an absolute path: a relative RESOTRACK_HOME (or the default "var") means a
    # different place from another working directory.
    digest.update(str(Path(os.environ.get("RESOTRACK_HOME", "var")).resolve()).encode())
    for source in sorted(_CODE.glob("*.py")):
        digest.update(f"{source.name}:{source.stat().st_mtime_ns}\n".encode())
    return digest.hexdigest()[:20]


def socket_path() -> Path:
    """``$XDG_RUNTIME_DIR`` (or the temp folder) ``/resotrack-<uid>/validation-<hash>.sock``."""
    base = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir())
    folder = base / f"resotrack-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)
    return folder / f"validation-{fingerprint()}.sock"


def _request(path: Path, message: dict[str, Any], timeout: float | None) -> Any:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        conn.connect(str(path))
        conn.sendall(json.dumps(message).encode() + b"\n")
        with conn.makefile("rb") as stream:
            line = stream.readline()
    if not line:
        raise ServiceUnavailable("the service closed the connection without answering")
    answer = json.loads(line)
    if not answer.get("ok"):
        raise RuntimeError(f"validation service: {answer.get('error')}")
    return answer.get("result")


def call(op: str, *, timeout: float | None = 3600.0, **arguments: Any) -> Any:
    """Ask this configuration's service to run ``op``, starting the service if needed."""
    path = socket_path()
    message = {"op": op, "fingerprint": path.stem, **arguments}
    try:
        return _request(path, message, timeout)
    except (FileNotFoundError, ConnectionRefusedError):
        pass
    except (TimeoutError, OSError) as exc:
        raise ServiceUnavailable(f"{type(exc).__name__}: {exc}") from exc
    start(path)
    try:
        return _request(path, message, timeout)
    except (OSError, ValueError) as exc:
        raise ServiceUnavailable(f"{type(exc).__name__}: {exc}") from exc


def _alive(path: Path) -> bool:
    try:
        return bool(_request(path, {"op": "ping", "fingerprint": path.stem}, 2.0))
    except (OSError, ValueError, RuntimeError, ServiceUnavailable):
        return False


def start(path: Path | None = None) -> int | None:
    """Start the service for this configuration unless one answers; its pid if started."""
    from resotrack.settings import get_settings
    from resotrack.validation.config import settings

    path = path or socket_path()
    conf = settings()
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _alive(path):
            return None
        path.unlink(missing_ok=True)
        logs = get_settings().home.resolve() / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / "validation-service.log", "ab") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "resotrack.validation.service", str(path)],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                start_new_session=True,  # outlives the task that started it
                close_fds=True,
            )
        deadline = time.monotonic() + conf.service_start_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ServiceUnavailable(f"the service exited at start ({process.returncode})")
            if path.exists() and _alive(path):
                return process.pid
            time.sleep(0.05)
        process.kill()
        raise ServiceUnavailable("the service did not start in time")


def stop(path: Path | None = None) -> bool:
    """Ask this configuration's service to exit; whether one was running."""
    path = path or socket_path()
    try:
        _request(path, {"op": "shutdown", "fingerprint": path.stem}, 10.0)
    except (OSError, ValueError, RuntimeError, ServiceUnavailable):
        return False
    deadline = time.monotonic() + 10
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return True


# --- the service process -----------------------------------------------------------------


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, path: Path, idle_seconds: float) -> None:
        self.path = path
        self.idle_seconds = idle_seconds
        self.last_request = time.monotonic()
        self.active = 0
        self.counter_lock = threading.Lock()
        self.docs = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gx-docs")
        self.docs_queued = False
        super().__init__(str(path), _Handler)
        os.chmod(path, 0o600)

    def publish_docs_later(self) -> None:
        """One Data Docs build at a time, after the answers are out."""
        with self.counter_lock:
            if self.docs_queued:
                return
            self.docs_queued = True

        def build() -> None:
            from resotrack.validation.ingest import publish_docs

            with self.counter_lock:
                self.docs_queued = False
            publish_docs()

        self.docs.submit(build)


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        server = self.server
        with server.counter_lock:
            server.active += 1
            server.last_request = time.monotonic()
        try:
            line = self.rfile.readline(1 << 20)
            try:
                request = json.loads(line)
                answer = {"ok": True, "result": self._run(request)}
            except Exception as exc:  # the client gets the reason, the service lives on
                log.exception("request failed")
                answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            self.wfile.write(json.dumps(answer, default=str).encode() + b"\n")
        finally:
            with server.counter_lock:
                server.active -= 1
                server.last_request = time.monotonic()

    def _run(self, request: dict[str, Any]) -> Any:
        if request.get("fingerprint") != self.server.path.stem:
            raise ValueError("this service serves another configuration")
        op = request.get("op")
        if op == "ping":
            return {"pid": os.getpid()}
        if op == "shutdown":
            threading.Thread(target=self.server.shutdown, daemon=True).start()
            return {"pid": os.getpid()}
        if op == "ingest":
            from resotrack.validation.ingest import run

            only = request.get("only")
            results = run(int(only) if only is not None else None, docs=False)
            if any("outcome" in r for r in results):
                self.server.publish_docs_later()
            return results
        raise ValueError(f"unknown operation {op!r}")


def _watch_idle(server: _Server, home: Path) -> None:
    while True:
        time.sleep(min(5.0, server.idle_seconds / 4))
        with server.counter_lock:
            idle = (
                server.active == 0 and time.monotonic() - server.last_request > server.idle_seconds
            )
        if idle or not server.path.exists() or not home.exists():
            log.info("validation service idle (or its socket or home removed): exiting")
            server.shutdown()
            return


def serve(path: Path) -> None:
    """Warm everything, then answer on ``path`` until idle, stopped or terminated."""
    from resotrack.validation.config import settings
    from resotrack.validation.quality import warm
    from resotrack.validation.quick import warm_up
    from resotrack.validation.sandbox import close_shared_sandbox, shared_sandbox

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s"
    )
    started = time.perf_counter()
    shared_sandbox()  # the readers start loading pandas and pandera meanwhile
    warm()  # Great Expectations: imported, suite loaded, run once
    warm_up()  # and the readers have said they are ready
    log.info(
        "validation service warm in %.2f s; listening on %s", time.perf_counter() - started, path
    )
    server = _Server(path, settings().service_idle_seconds)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    from resotrack.settings import get_settings

    home = get_settings().home.resolve()
    threading.Thread(target=_watch_idle, args=(server, home), daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        server.docs.shutdown(wait=True)
        close_shared_sandbox()


if __name__ == "__main__":
    serve(Path(sys.argv[1]))


__all__ = ["ServiceUnavailable", "call", "fingerprint", "socket_path", "start", "stop"]
