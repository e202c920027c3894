"""The PostgreSQL client programs (``pg_dump``, ``pg_restore``): found, version-checked, run.

``pg_dump`` refuses a server newer than itself, and ``pg_restore`` cannot read a dump made by
a newer ``pg_dump``; both failures are turned into a sentence that says which versions were
found and what to install, before any work starts. The password never goes on a command line
(visible to every user in ``ps``): it is passed in ``PGPASSWORD``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from resotrack.recovery import RecoveryError
from resotrack.recovery.config import recovery_settings

_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class Tool:
    """A client program and its version (``major`` 15 for "15.20")."""

    path: Path
    major: int
    version: str


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, and the environment that carries it."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    env.setdefault("PGCONNECT_TIMEOUT", "15")
    env["PGAPPNAME"] = "resotrack-recovery"
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def find_tool(name: str, server_major: int | None = None) -> Tool:
    """Locate ``name`` (RESOTRACK_PG_BIN_DIR, else PATH) and check it can serve the server."""
    folder = recovery_settings().pg_bin_dir
    found = (str(folder / name) if folder and (folder / name).is_file() else None) or shutil.which(
        name
    )
    wanted = f"postgresql-client-{server_major}" if server_major else "postgresql-client"
    if not found:
        where = f"in {folder} (RESOTRACK_PG_BIN_DIR) nor on PATH" if folder else "on PATH"
        raise RecoveryError(
            f"{name} is not installed (not found {where}). PostgreSQL backups need the client "
            f"programs of the server's major version: on Debian or Ubuntu, apt-get install "
            f"{wanted}; or set RESOTRACK_PG_BIN_DIR to the folder that holds {name}."
        )
    try:
        out = subprocess.run(
            [found, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise RecoveryError(f"{found} does not run ({exc})") from exc
    match = _VERSION.search(out)
    if match is None:
        raise RecoveryError(f"{found} --version said {out.strip()!r}: not a PostgreSQL program")
    tool = Tool(Path(found), int(match.group(1)), out.strip().split(")")[-1].strip())
    if server_major is not None and tool.major < server_major:
        raise RecoveryError(
            f"{found} is version {tool.major} but the PostgreSQL server is version "
            f"{server_major}: {name} must be at least the server's major version. Install "
            f"{wanted} or set RESOTRACK_PG_BIN_DIR to its bin folder."
        )
    return tool


def server_version(conn: Connection) -> tuple[int, str]:
    """The server's major version and its full version string."""
    number = int(conn.execute(text("SHOW server_version_num")).scalar_one())
    full = str(conn.execute(text("SHOW server_version")).scalar_one())
    return number // 10000, full


def run(args: list[str], env: dict[str, str], what: str) -> None:
    """Run a client program; a failure raises with the end of what it printed."""
    try:
        result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    except OSError as exc:
        raise RecoveryError(f"{what}: {args[0]} could not start ({exc})") from exc
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-8:])
        raise RecoveryError(f"{what} failed (exit {result.returncode}):\n{tail}")
