"""The demo's local stack: where everything lives, the environment every process shares, how
Airflow standalone and the mail sink are started, and how the demo sees that they still run.

Every process (the demo itself, Airflow and its tasks, the portal inside Airflow's api-server,
the validation service) must see the *same* ``RESOTRACK_*`` settings: the same database, the
same signing key, the same mail relay. So the environment is built once here, from the
caller's environment without any ``AIRFLOW*`` or ``RESOTRACK_*`` variable (a demo is
predictable whatever the shell holds), and applied to this process too.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from resotrack.demo.postgres import AIRFLOW_DATABASE, Cluster
from resotrack.demo.processes import Child, belonging, spawn

REPO = Path(__file__).resolve().parents[3]
LOOPBACK = "127.0.0.1"
USERNAME = "admin"
#: The DAGs the story drives or watches; the demo waits until Airflow has parsed them all.
STORY_DAGS = ("dispatch_questionnaires", "ingest_return", "consolidate", "publish_report")


class DemoError(RuntimeError):
    """A step that cannot go on; the message says what happened and what to do."""


@dataclass(frozen=True)
class Layout:
    """Folders, ports and URLs of one demo home (``var/`` unless told otherwise)."""

    home: Path
    api_port: int
    smtp_port: int
    seeds_folder: Path | None = None
    repo: Path = REPO

    @property
    def airflow_home(self) -> Path:
        return self.home / "airflow"

    @property
    def postgres_data(self) -> Path:
        """The data folder of the demo's PostgreSQL (Airflow's metadata database)."""
        return self.home / "postgres"

    @property
    def maildir(self) -> Path:
        return self.home / "mail"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def work(self) -> Path:
        """The demo's own files: lock, process record, focal-point CSV, summary."""
        return self.home / "demo"

    @property
    def clock_file(self) -> Path:
        """The demo's movable clock (``resotrack.clock``): the simulated day, in seconds."""
        return self.work / "clock-offset"

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    @property
    def seeds(self) -> Path:
        """The seed resolutions: the shared material beside the repository unless told."""
        return self.seeds_folder or self.repo.parent / "shared" / "seeds"

    @property
    def log_ports(self) -> tuple[int, int]:
        """Airflow's worker and triggerer log servers (defaults 8793/8794 would collide)."""
        return (self.api_port + 1, self.api_port + 2)

    @property
    def ports(self) -> tuple[int, ...]:
        return (self.api_port, *self.log_ports, self.smtp_port)

    def port_use(self, port: int) -> str:
        """What the demo wants ``port`` for, in words."""
        uses = {
            self.api_port: "Airflow's API and UI, --api-port",
            self.log_ports[0]: "Airflow's worker log server, --api-port + 1",
            self.log_ports[1]: "Airflow's triggerer log server, --api-port + 2",
            self.smtp_port: "the mail sink, --smtp-port",
        }
        return uses.get(port, "the demo")

    def port_clash(self) -> str | None:
        """Why the chosen ports cannot work together, if they cannot."""
        if self.smtp_port in (self.api_port, *self.log_ports):
            return (
                f"--smtp-port {self.smtp_port} clashes with --api-port {self.api_port}: Airflow "
                f"uses {self.api_port}, {self.api_port + 1} and {self.api_port + 2}"
            )
        return None

    @property
    def api_url(self) -> str:
        return f"http://{LOOPBACK}:{self.api_port}"

    @property
    def portal_url(self) -> str:
        return f"{self.api_url}/resotrack"

    @property
    def marker(self) -> str:
        """``NAME=value`` in the environment of every process this home's demo is behind."""
        return f"RESOTRACK_DEMO_HOME={self.home}"


@dataclass(frozen=True)
class Credentials:
    """Made once per home and kept there, so a second run logs in with the same password."""

    password: str
    jwt_secret: str
    secret_key: str

    @classmethod
    def load_or_create(cls, layout: Layout) -> Credentials:
        path = layout.airflow_home / "demo-credentials.json"
        try:
            data = json.loads(path.read_text())
            return cls(data["password"], data["jwt_secret"], data["secret_key"])
        except (OSError, ValueError, KeyError):
            pass
        made = cls(
            password=secrets.token_urlsafe(12),
            jwt_secret=secrets.token_urlsafe(48),
            secret_key=secrets.token_urlsafe(32),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_private(path, json.dumps(made.__dict__))
        return made


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def refusal(layout: Layout) -> str | None:
    """Why the demo cannot run with ``layout``, checked before anything is started or written
    (the ports that are busy are checked later, after a killed run's processes are stopped).

    The demo keeps to a home it made (``demo/`` inside): a home that holds a resotrack
    database the demo did not make (a developer's ``var/``) is not written into.
    """
    home = layout.home
    if not layout.seeds.is_dir():
        return (
            f"the seed resolutions are missing: expected them in {layout.seeds} (the shared "
            "material beside the repository), or name their folder with --seeds"
        )
    if (home / "resotrack.db").exists() and not layout.work.is_dir():
        return (
            f"{home} holds a resotrack database that the demo did not make; choose another "
            "folder with --home (or move that one away)"
        )
    try:
        layout.work.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"cannot use {home} as the demo's home ({exc.strerror}): choose another with --home"
    return layout.port_clash()


def shown(path: Path | str) -> str:
    """A path as a person wants to read it: relative to where they are, if it is below."""
    absolute = Path(path).resolve()
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)


def venv_bin() -> Path:
    """The folder of this interpreter's scripts; ``airflow standalone`` finds ``airflow`` there."""
    return Path(sys.executable).parent


def environment(layout: Layout, credentials: Credentials) -> dict[str, str]:
    """The environment every demo process runs with (see the module docstring)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "RESOTRACK_"))}
    airflow_home = layout.airflow_home
    passwords = airflow_home / "simple_auth_manager_passwords.json"
    worker_logs, trigger_logs = layout.log_ports
    name, value = layout.marker.split("=", 1)
    metadata = Cluster(layout.postgres_data).url(AIRFLOW_DATABASE)
    return {
        **base,
        # standalone starts its components as plain `airflow …`: the venv's bin comes first.
        "PATH": os.pathsep.join([str(venv_bin()), base.get("PATH", "")]),
        name: value,
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(layout.repo / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(layout.repo / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        # Airflow's metadata database: the demo's own PostgreSQL (demo/postgres.py), not
        # standalone's SQLite file, whose single writer lock made the scheduler exit under load.
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata,
        # Its async engine too: psycopg 3 serves both (Airflow would ask for asyncpg).
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": metadata,
        # Task slots: on two cores a task mostly waits (Airflow's API, the validation service,
        # the portal), so four run side by side, as many as the focal points uploading at once.
        "AIRFLOW__CORE__PARALLELISM": "4",
        # The DAG files do not change during a demo: parse them every 2 min, not every 30 s.
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "120",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{layout.api_url}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{USERNAME}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__API_AUTH__JWT_SECRET": credentials.jwt_secret,
        "AIRFLOW__API__HOST": LOOPBACK,  # a demo with a printed password stays on loopback
        "AIRFLOW__API__PORT": str(layout.api_port),
        # Tasks may start before the api-server answers (standalone starts all at once, and
        # a busy machine is slow): let them retry for a few minutes instead of failing.
        "AIRFLOW__WORKERS__EXECUTION_API_RETRIES": "10",
        "AIRFLOW__WORKERS__EXECUTION_API_RETRY_WAIT_MAX": "30",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(worker_logs),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(trigger_logs),
        "RESOTRACK_HOME": str(layout.home),
        # Every process reads the simulated day from here: a return is received on the day the
        # demo plays, and the report judges it late or on time by that day.
        "RESOTRACK_CLOCK_FILE": str(layout.clock_file),
        "RESOTRACK_DATABASE_URL": f"sqlite:///{layout.home / 'resotrack.db'}",
        "RESOTRACK_SECRET_KEY": credentials.secret_key,
        "RESOTRACK_AIRFLOW_API_URL": layout.api_url,
        "RESOTRACK_AIRFLOW_USERNAME": USERNAME,
        "RESOTRACK_AIRFLOW_PASSWORD": credentials.password,
        "RESOTRACK_SMTP_HOST": LOOPBACK,
        "RESOTRACK_SMTP_PORT": str(layout.smtp_port),
        "RESOTRACK_SMTP_SECURITY": "none",
        "RESOTRACK_MAIL_FROM": "resotrack@secretariat.example.org",
        "RESOTRACK_MAIL_FROM_NAME": "OIC General Secretariat (resotrack demo)",
        "RESOTRACK_MAIL_SECRETARIAT": "secretariat@secretariat.example.org",
        "RESOTRACK_MAIL_PORTAL_URL": layout.portal_url,
        "RESOTRACK_MAIL_BACKOFF_BASE_SECONDS": "2",  # the sink is local: retry soon
    }


def apply_to_this_process(env: dict[str, str]) -> None:
    """Make this process see what its children see, and forget settings read before."""
    for key in [k for k in os.environ if k.startswith(("AIRFLOW", "RESOTRACK_"))]:
        del os.environ[key]
    os.environ.update(env)
    from resotrack.settings import get_settings
    from resotrack.store import reset_engines

    get_settings.cache_clear()
    reset_engines()


# --- starting the stack ------------------------------------------------------------------


def start_mailsink(layout: Layout, env: dict[str, str]) -> Child:
    argv = [
        sys.executable,
        "-m",
        "resotrack.demo.mailsink",
        "--host",
        LOOPBACK,
        "--port",
        str(layout.smtp_port),
        "--maildir",
        str(layout.maildir),
    ]
    return spawn("mailsink", argv, env=env, log=layout.logs / "mailsink.log", cwd=layout.home)


def start_airflow(layout: Layout, env: dict[str, str], credentials: Credentials) -> Child:
    """``airflow standalone`` with the login written before it starts (it reads it once)."""
    airflow = venv_bin() / "airflow"
    if not airflow.exists():
        raise DemoError(f"{airflow} is missing: run the demo with `uv run` (make demo does)")
    passwords = Path(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    passwords.parent.mkdir(parents=True, exist_ok=True)
    _write_private(passwords, json.dumps({USERNAME: credentials.password}))
    log = layout.logs / "airflow-standalone.log"
    return spawn("airflow", [str(airflow), "standalone"], env=env, log=log, cwd=layout.home)


#: What ``airflow standalone`` runs, and how each shows in the process list.
AIRFLOW_COMPONENTS = {
    "scheduler": ("airflow scheduler",),
    "dag-processor": ("airflow dag-processor",),
    "triggerer": ("airflow triggerer",),
    "api-server": ("airflow api-server", "airflow api_server"),  # the second: its proctitle
}


def missing_components(airflow: Child) -> list[str]:
    """Components of a running ``airflow standalone`` that are gone.

    standalone starts each once and never again: one that exits is gone for good while the
    rest carries on without it (on SQLite under load the scheduler did, on "database is
    locked"; the demo's Airflow is on PostgreSQL since).
    """
    commands = [p.command for p in belonging([airflow.pid], None)]
    return [
        name
        for name, shows_as in AIRFLOW_COMPONENTS.items()
        if not any(form in command for command in commands for form in shows_as)
    ]


def wait_for_smtp(port: int, child: Child, timeout: float = 20.0) -> None:
    import smtplib

    deadline = time.monotonic() + timeout
    while True:
        if not child.running():
            raise DemoError(f"the mail sink exited; see {child.log}")
        try:
            with smtplib.SMTP(LOOPBACK, port, timeout=2) as smtp:
                smtp.noop()
            return
        except OSError as exc:
            if time.monotonic() > deadline:
                raise DemoError(
                    f"the mail sink did not answer on port {port}; see {child.log}"
                ) from exc
            time.sleep(0.1)
