"""A small pool of persistent reader processes with memory and time limits.

Why processes: a hostile workbook must never crash or stall the process that validates (an
Airflow task, the portal, the validation service). Each reader process loads what it needs
(python-calamine, and pandas with pandera for the contract, op ``check``), then caps its own
address space (``RLIMIT_AS``); the parent gives each file a deadline and kills the reader that
misses it, then starts a fresh one. A killed reader costs one process start (about a second,
for pandas; the other readers keep serving meanwhile).

Why persistent: starting a process per file would add that start to every upload; the pool
keeps ``workers`` readers waiting on their stdin, so a normal file costs one round trip over
a pipe (well under a millisecond for a questionnaire). It also puts the readers' work on the
other cores: the ingest reads the next returns while it decides the current ones.

Why not ``multiprocessing``: its ``fork`` copies whatever threads and locks the parent holds
(the portal, Airflow), ``spawn``/``forkserver`` re-import the parent's ``__main__``, and its
connections unpickle what the other side sends. Here the protocol is length-prefixed frames,
and answers are JSON: a reader compromised by a malicious file cannot make its parent run code.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import queue
import select
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from typing import IO, Any, Final

log = logging.getLogger(__name__)

START_TIMEOUT: Final = 60.0  # a reader loads pandas and pandera before it says "ready"
#: The largest answer a parent reads back. A questionnaire's is about 100 KB (137 rows); a
#: hostile workbook must not make the process that waits for it (the portal) read hundreds of
#: megabytes of cells: the reader refuses to send more, and the parent would not read it.
MAX_ANSWER_BYTES: Final = 64 * 1024 * 1024
_HEADER: Final = struct.Struct(">II")  # request: header length, payload length
_ANSWER: Final = struct.Struct(">I")  # answer: body length


class ReaderLost(RuntimeError):
    """The reader did not answer in time, or died (memory, crash): it has been replaced."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Reader:
    """One reader process and its pipes."""

    def __init__(self, memory_bytes: int) -> None:
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "resotrack.validation.sandbox", str(memory_bytes)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            close_fds=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin: IO[bytes] = self.process.stdin
        self.stdout: IO[bytes] = self.process.stdout
        self.ready = False

    def wait_ready(self, deadline: float) -> None:
        """The reader says "ready" once it has loaded its modules (not counted in a file's time)."""
        size = _ANSWER.unpack(self._read(_ANSWER.size, deadline))[0]
        if json.loads(self._read(size, deadline)).get("ready") is not True:
            raise ReaderLost("the reader did not start properly")
        self.ready = True

    def call(self, header: Mapping[str, Any], payload: bytes, deadline: float) -> dict[str, Any]:
        head = json.dumps(header).encode()
        try:
            self.stdin.write(_HEADER.pack(len(head), len(payload)) + head)
            self.stdin.write(payload)
            self.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise ReaderLost(f"the reader died ({exc})") from exc
        size = _ANSWER.unpack(self._read(_ANSWER.size, deadline))[0]
        if size > MAX_ANSWER_BYTES:
            raise ReaderLost(f"the reader's answer is too large ({size:,} bytes)")
        body = self._read(size, deadline)
        answer = json.loads(body)
        if not isinstance(answer, dict):
            raise ReaderLost("the reader answered nonsense")
        return answer

    def _read(self, n: int, deadline: float) -> bytes:
        fd = self.stdout.fileno()
        chunks: list[bytes] = []
        while n > 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ReaderLost("timeout")
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                raise ReaderLost("timeout")
            chunk = os.read(fd, min(n, 1 << 20))
            if not chunk:
                raise ReaderLost(f"the reader died (exit {self.process.poll()})")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        self.process.wait()
        for stream in (self.stdin, self.stdout):
            with contextlib.suppress(OSError):
                stream.close()

    def close(self) -> None:
        """Ask politely (EOF on stdin), then make sure."""
        try:
            self.stdin.close()
            self.process.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()


class Sandbox:
    """``workers`` reader processes; :meth:`call` borrows one per request (thread-safe)."""

    def __init__(self, *, workers: int = 2, memory_mb: int = 768, timeout: float = 15.0) -> None:
        self.memory_bytes = memory_mb * 1024 * 1024
        self.timeout = timeout
        self.replaced = 0
        self._idle: queue.Queue[_Reader] = queue.Queue()
        self._all: list[_Reader] = []
        self._lock = threading.Lock()
        self._closed = False
        for _ in range(workers):
            self._add(_Reader(self.memory_bytes))

    def _add(self, reader: _Reader) -> None:
        with self._lock:
            self._all.append(reader)
        self._idle.put(reader)

    def call(
        self,
        op: str,
        payload: bytes,
        header: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> dict[str, Any]:
        """Run ``op`` on ``payload`` in a reader; raise :class:`ReaderLost` if it fails."""
        if self._closed:
            raise RuntimeError("the sandbox is closed")
        reader = self._idle.get()
        try:
            if not reader.ready:
                reader.wait_ready(time.monotonic() + START_TIMEOUT)
            deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
            answer = reader.call({**(header or {}), "op": op}, payload, deadline)
        except ReaderLost as lost:
            log.warning("sandboxed reader %s lost (%s); replacing it", reader.process.pid, lost)
            reader.kill()
            with self._lock:
                self._all.remove(reader)
                self.replaced += 1
            self._add(_Reader(self.memory_bytes))
            raise
        except BaseException:
            # Interrupted mid-protocol: the pipe is out of step, so the reader must go.
            reader.kill()
            with self._lock:
                self._all.remove(reader)
            self._add(_Reader(self.memory_bytes))
            raise
        if answer.get("recycle"):  # the reader hit MemoryError and exits: start another
            reader.kill()
            with self._lock:
                self._all.remove(reader)
                self.replaced += 1
            self._add(_Reader(self.memory_bytes))
        else:
            self._idle.put(reader)
        return answer

    def pids(self) -> list[int]:
        with self._lock:
            return [reader.process.pid for reader in self._all]

    def close(self) -> None:
        self._closed = True
        with self._lock:
            readers, self._all = list(self._all), []
        for reader in readers:
            reader.close()


_shared: Sandbox | None = None
_shared_pid: int | None = None
_shared_lock = threading.Lock()


def shared_sandbox() -> Sandbox:
    """This process's pool, started on first use (a forked child starts its own)."""
    global _shared, _shared_pid
    with _shared_lock:
        if _shared is None or _shared_pid != os.getpid():
            from resotrack.validation.config import settings

            conf = settings()
            _shared = Sandbox(
                workers=conf.workers, memory_mb=conf.memory_mb, timeout=conf.timeout_seconds
            )
            _shared_pid = os.getpid()
        return _shared


def close_shared_sandbox() -> None:
    global _shared
    with _shared_lock:
        if _shared is not None and _shared_pid == os.getpid():
            _shared.close()
        _shared = None


atexit.register(close_shared_sandbox)


# --- the reader process ------------------------------------------------------------------


def _probe(payload: bytes, header: Mapping[str, Any]) -> dict[str, Any]:
    """For tests and health checks: sleep, allocate, or answer at length, to prove the
    limits bite."""
    time.sleep(float(header.get("sleep", 0)))
    held = bytearray(int(header.get("allocate_mb", 0)) * 1024 * 1024)
    padding = "x" * (int(header.get("answer_mb", 0)) * 1024 * 1024)
    return {"ok": True, "allocated": len(held), "pid": os.getpid(), "padding": padding}


def _serve(memory_bytes: int) -> None:
    import resource

    from resotrack.validation.read import read_package

    def annotate(payload: bytes, header: Mapping[str, Any]) -> dict[str, Any]:
        from resotrack.validation.annotate import annotate_package  # openpyxl: on first use

        return annotate_package(payload, header)

    # pandas and pandera (the contract) load before the memory cap, once per reader, and the
    # check runs once so that pandera's lazy imports happen now, not on a focal point's upload.
    from resotrack.validation.contract import check_package, warm

    warm()
    ops = {"read": read_package, "check": check_package, "annotate": annotate, "probe": _probe}
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    requests = sys.stdin.buffer
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print must not corrupt the protocol
    ready = json.dumps({"ready": True, "pid": os.getpid()}).encode()
    answers.write(_ANSWER.pack(len(ready)) + ready)
    answers.flush()
    while True:
        head = requests.read(_HEADER.size)
        if len(head) < _HEADER.size:
            return  # the parent closed our stdin: done
        header_size, payload_size = _HEADER.unpack(head)
        header = json.loads(requests.read(header_size))
        payload = requests.read(payload_size)
        try:
            answer = ops[header["op"]](payload, header)
        except MemoryError:
            answer = {"ok": False, "rule": "read.too_slow", "values": {}, "recycle": True}
        except Exception as exc:  # a reader bug must still answer, not hang the parent
            answer = {
                "ok": False,
                "rule": "read.damaged",
                "values": {"detail": f"{type(exc).__name__}: {str(exc)[:160]}"},
            }
        body = json.dumps(answer).encode()
        if len(body) > MAX_ANSWER_BYTES:
            detail = f"{len(body) // (1024 * 1024):,} MB of cells"
            refused = {"ok": False, "rule": "read.too_large", "values": {"detail": detail}}
            body = json.dumps(refused).encode()
        answers.write(_ANSWER.pack(len(body)) + body)
        answers.flush()
        if answer.get("recycle"):
            return


if __name__ == "__main__":
    _serve(int(sys.argv[1]))


__all__ = ["ReaderLost", "Sandbox", "close_shared_sandbox", "shared_sandbox"]
