"""Child processes the demo starts, and how it stops every one of them.

Why this is more than ``Popen.terminate()``: ``airflow standalone`` does not stop its children
on SIGTERM, Airflow's task processes move to process groups of their own, and the validation
service detaches into a session of its own on purpose (it outlives the task that started it).
So each child starts in a new session (``start_new_session=True``) and every process the demo
is responsible for carries a marker in its environment. Stopping means: SIGTERM to the whole
session, a grace period, SIGKILL to what is left. Finding leftovers means: processes in a
session the demo recorded, or with the marker (``setproctitle`` may overwrite the environment
Linux shows for a process, so the session is the first test, the marker the second). The
demo's PostgreSQL is the one exception: Airflow is stopped first with its session spared, then
PostgreSQL its own way, by a fast shutdown of its postmaster (``postgres.stop``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

PROC = Path("/proc")


@dataclass
class Child:
    """A process the demo started in a session of its own (its pid is the session id)."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None


def spawn(
    name: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    log: Path,
    cwd: Path,
    **popen: Any,
) -> Child:
    """Start ``argv`` in a new session, output appended to ``log``, no terminal input;
    ``popen``: more of Popen's keywords (``user`` and ``group`` for the demo's PostgreSQL)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        process = subprocess.Popen(
            list(argv),
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the terminal reaches the demo, not them
            **popen,
        )
    return Child(name, process, log)


# --- looking at processes ----------------------------------------------------------------


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    session: int
    state: str
    command: str
    parent: int = 0


def _info(pid: int) -> ProcessInfo | None:
    try:
        stat = (PROC / str(pid) / "stat").read_text()
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:  # gone meanwhile, or not ours to read
        return None
    # "pid (comm) state ppid pgrp session ...": comm may hold spaces and parentheses.
    fields = stat[stat.rindex(")") + 2 :].split()
    command = raw.replace(b"\0", b" ").decode(errors="replace").strip()
    comm = stat.split(" ", 2)[1]
    return ProcessInfo(pid, int(fields[3]), fields[0], command or comm, int(fields[1]))


def _has_marker(pid: int, marker: bytes) -> bool:
    try:
        return marker in (PROC / str(pid) / "environ").read_bytes().split(b"\0")
    except OSError:
        return False


def live_processes() -> list[ProcessInfo]:
    """Every process we may read, zombies left out (they are dead, only not yet reaped)."""
    found = []
    for entry in PROC.iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            info = _info(int(entry.name))
            if info is not None and info.state != "Z":
                found.append(info)
    return found


def belonging(
    sessions: Iterable[int], marker: str | None, *, spare: Iterable[int] = ()
) -> list[ProcessInfo]:
    """Processes in one of ``sessions`` or carrying ``marker`` (``NAME=value``) if given,
    except those in the sessions ``spare`` (the demo's PostgreSQL, stopped after the rest)."""
    wanted, spared = set(sessions), set(spare)
    token = marker.encode() if marker else None
    return [
        p
        for p in live_processes()
        if p.session not in spared
        and (p.session in wanted or (token is not None and _has_marker(p.pid, token)))
    ]


def family(pid: int) -> list[ProcessInfo]:
    """``pid`` and its children: a postmaster and its server processes (each of which starts
    a session of its own, so the session does not find them)."""
    return [p for p in live_processes() if pid in (p.pid, p.parent)]


# --- stopping ----------------------------------------------------------------------------


def _signal(pids: Iterable[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def stop_all(
    children: Sequence[Child], marker: str | None, *, grace: float = 8.0, spare: Iterable[int] = ()
) -> list[ProcessInfo]:
    """SIGTERM every process of ``children``'s sessions or with ``marker``, wait, then SIGKILL.

    Airflow's scheduler and api-server can take 15 s and more to stop gracefully; a demo has
    nothing in flight worth that wait (SQLite and PostgreSQL survive a killed client), hence a
    short grace. Processes in the sessions ``spare`` are left alone. Returns what is still
    alive afterwards (normally nothing).
    """
    sessions = [c.pid for c in children]
    kept = list(spare)
    mine = partial(belonging, sessions, marker, spare=kept)
    for child in children:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGTERM)
    _signal((p.pid for p in mine()), signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        for child in children:
            child.process.poll()  # reap our direct children as they exit
        if not mine():
            break
        time.sleep(0.2)
    _signal((p.pid for p in mine()), signal.SIGKILL)
    for child in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.process.wait(timeout=5)
    deadline = time.monotonic() + 5  # a killed process takes a moment to be gone
    while (left := mine()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def _ours(process: ProcessInfo) -> bool:
    """A recorded session id may have been reused by now: only touch what looks like ours."""
    words = ("airflow", "resotrack", "python", "postgres")
    return any(word in process.command for word in words)


def leftovers(
    sessions: Iterable[int], marker: str, *, spare: Iterable[int] = ()
) -> list[ProcessInfo]:
    """What an earlier run (killed before it could clean up) left running, except the
    sessions ``spare``."""
    token = marker.encode()
    found = belonging(sessions, marker, spare=spare)
    return [p for p in found if _ours(p) or _has_marker(p.pid, token)]


def stop_leftovers(
    sessions: Iterable[int], marker: str, *, spare: Iterable[int] = ()
) -> list[ProcessInfo]:
    """Stop what an earlier run left behind (but the sessions ``spare``); what it found."""
    wanted, kept = list(sessions), list(spare)
    found = leftovers(wanted, marker, spare=kept)
    if found:
        _signal((p.pid for p in found), signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and leftovers(wanted, marker, spare=kept):
            time.sleep(0.2)
        _signal((p.pid for p in leftovers(wanted, marker, spare=kept)), signal.SIGKILL)
    return found


# --- ports and the run file --------------------------------------------------------------


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts connections on ``host:port`` or holds it bound."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        if sock.connect_ex((host, port)) == 0:
            return True
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers bind: a
        try:  # connection in TIME_WAIT does not keep them out
            sock.bind((host, port))
        except OSError:
            return True
    return False


def wait_ports_free(ports: Iterable[int], timeout: float = 15.0) -> list[int]:
    """Wait for ``ports`` to be free (a stopped server may hold one a moment); the busy ones."""
    wanted = list(ports)
    deadline = time.monotonic() + timeout
    while True:
        busy = [p for p in wanted if port_in_use(p)]
        if not busy or time.monotonic() > deadline:
            return busy
        time.sleep(0.25)


def record_sessions(path: Path, sessions: Iterable[int]) -> None:
    """Remember the sessions started, so a later run can clean up after a killed one."""
    path.write_text(json.dumps({"pid": os.getpid(), "sessions": sorted(set(sessions))}))


def recorded_sessions(path: Path) -> list[int]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    return [int(s) for s in data.get("sessions", []) if isinstance(s, int)]
