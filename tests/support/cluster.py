"""A multi-process Airflow cluster on this machine, for tests (a helper module, not a test module).

Why: the production shape is a Celery cluster (``docker/compose.yaml``), and the claims that
matter there (a task killed with its worker is retried, nothing is ingested or mailed twice)
can only be shown with real, separate processes. This machine has no Docker engine, so the
same components run as plain processes against the local PostgreSQL and Redis:

* scheduler, dag-processor, triggerer and api-server, plus two ``airflow celery worker``
  nodes (``w1``, ``w2``), each in its own process group, logging to ``<root>/logs/``;
* an isolated ``AIRFLOW_HOME``, a fresh metadata database ``rt_airflow_<hex>`` (dropped at
  the end), a Redis database number claimed for the run (flushed at start and end), the
  repository's ``dags/`` and ``plugins/``;
* the simple auth manager with fixed credentials, one JWT secret for every process, and the
  execution API URL matching the api-server's port.

Every process started here carries ``RESOTRACK_CLUSTER_NODE=<cluster id>:<component>`` in its
environment, and so does everything it starts: the warm validation service a worker spawns
detaches into its own session (on purpose, see ``resotrack.validation.service``), so a
process-group kill would miss it. :meth:`Cluster.kill_node` and :meth:`Cluster.stop` find
such processes by that marker and kill them by pid; nothing else on the machine is touched.
Because the marker is a ``RESOTRACK_*`` variable it also gives each worker its own validation
service, as on separate hosts.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO / "dags"
PLUGINS_FOLDER = REPO / "plugins"
MARKER = "RESOTRACK_CLUSTER_NODE"
ADMIN = "admin"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
REDIS_DBS = range(15, 7, -1)  # databases a cluster may claim; 0-7 are left to others
WORKERS = ("w1", "w2")
TERMINAL_RUN_STATES = frozenset({"success", "failed"})
NODE_MODULE = f'''"""[core] hostname_callable of a test cluster: the node's name."""

import os


def hostname() -> str:
    return os.environ["{MARKER}"].rpartition(":")[2]
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(path: Path, lines: int = 40) -> str:
    try:
        content = path.read_text("utf-8", errors="replace")
    except FileNotFoundError:
        return "(no log)"
    return "\n".join(content.splitlines()[-lines:])


def _psycopg(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


# --- processes -----------------------------------------------------------------------------


def marked_pids(value_prefix: str) -> list[int]:
    """Pids of live processes whose environment has ``MARKER=<value_prefix>...``.

    Reads ``/proc/<pid>/environ`` (the environment a process started with, which is what
    its children inherit). Processes of other users, or gone meanwhile, are skipped.
    """
    needle = f"{MARKER}={value_prefix}".encode()
    found = []
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if any(item.startswith(needle) for item in environ.split(b"\0")):
            found.append(int(entry.name))
    return found


def _kill(pids: Iterable[int], sig: signal.Signals = signal.SIGKILL) -> list[int]:
    killed = []
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
            killed.append(pid)
    return killed


@dataclass
class Component:
    """One cluster process (a process group of its own) and its log file."""

    name: str
    args: list[str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


# --- the cluster ---------------------------------------------------------------------------


@dataclass
class Cluster:
    """Airflow on Celery as separate processes; see the module docstring.

    ``app_env`` is the ``RESOTRACK_*`` configuration every component gets (application
    database, home, SMTP, keys); the Airflow REST API variables are added here.
    """

    root: Path
    pg_admin_url: str
    app_env: Mapping[str, str]
    workers: tuple[str, ...] = WORKERS
    concurrency: int = 2
    airflow_env: Mapping[str, str] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])

    def __post_init__(self) -> None:
        self.home = self.root / "airflow-home"
        self.logs = self.root / "logs"
        # Unix socket paths are limited to ~108 bytes: the validation services' sockets go
        # in a short private folder, not under pytest's long tmp path.
        self.runtime = Path(tempfile.mkdtemp(prefix=f"rtc-{self.id}-"))
        self.metadata_db = f"rt_airflow_{self.id}"
        self.metadata_url = (
            make_url(_psycopg(self.pg_admin_url))
            .set(database=self.metadata_db)
            .render_as_string(hide_password=False)
        )
        self.api_port = free_port()
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.password = secrets.token_urlsafe(12)
        # Secrets and ports are drawn once: every process must get the same ones.
        self.fernet_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        self.api_secret_key = secrets.token_urlsafe(24)
        self.jwt_secret = secrets.token_urlsafe(32)
        self.log_ports = (free_port(), free_port())
        self.pylib = self.root / "pylib"
        self.redis_db: int | None = None
        self.components: dict[str, Component] = {}
        self.killed: set[str] = set()  # nodes killed on purpose: not a failure when found dead
        self.timings: dict[str, float] = {}
        self._client: httpx.Client | None = None
        self._token: str | None = None
        self._engine: Engine | None = None

    # -- configuration ----------------------------------------------------------------------

    @property
    def broker_url(self) -> str:
        assert self.redis_db is not None, "the cluster has no Redis database yet"
        return f"redis://{REDIS_HOST}:{REDIS_PORT}/{self.redis_db}"

    def rest_env(self) -> dict[str, str]:
        """What resotrack needs to trigger DAG runs on this cluster (``trigger_dag``)."""
        return {
            "RESOTRACK_AIRFLOW_API_URL": self.api_url,
            "RESOTRACK_AIRFLOW_USERNAME": ADMIN,
            "RESOTRACK_AIRFLOW_PASSWORD": self.password,
        }

    def config(self) -> dict[str, str]:
        """Every ``AIRFLOW__*`` setting of the cluster (the same for all processes)."""
        async_url = make_url(self.metadata_url).set(drivername="postgresql+psycopg_async")
        result_backend = make_url(self.metadata_url).set(drivername="postgresql+psycopg")
        values = {
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PLUGINS_FOLDER),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__PARALLELISM": str(len(self.workers) * self.concurrency + 2),
            "AIRFLOW__CORE__FERNET_KEY": self.fernet_key,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.home / "passwords.json"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.metadata_url,
            # Airflow derives an asyncpg URL otherwise; psycopg 3 does async itself.
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": async_url.render_as_string(
                hide_password=False
            ),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_SIZE": "2",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_MAX_OVERFLOW": "4",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.api_port),
            "AIRFLOW__API__BASE_URL": self.api_url,
            "AIRFLOW__API__SECRET_KEY": self.api_secret_key,
            "AIRFLOW__API__EXPOSE_CONFIG": "False",
            "AIRFLOW__API_AUTH__JWT_SECRET": self.jwt_secret,
            "AIRFLOW__CELERY__BROKER_URL": self.broker_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+"
            + result_backend.render_as_string(hide_password=False),
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.concurrency),
            "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
            "AIRFLOW__CELERY__TASK_ACKS_LATE": "True",
            "AIRFLOW__CELERY__SYNC_PARALLELISM": "1",
            # Redelivery of a message its worker took but never acknowledged (acks_late): the
            # tasks a dead worker held come back. A message redelivered while its task still
            # runs elsewhere is dropped by the worker (TaskAlreadyRunningError, Airflow 3.3).
            "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT": "30",
            # A running task whose worker died: failed (then retried) after 20 s of silence.
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
            # The supervisor's select() timeout: a finished task sometimes held its worker slot
            # this long (5 s by default) before the slot was freed.
            "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "1",
            # A task queued on a worker that died before starting it.
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "90",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": "15",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            # The DAG files do not change during a test: parse once, not every 30 s.
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "600",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(self.log_ports[0]),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(self.log_ports[1]),
            # Task instances record their node's name (w1, w2) instead of this machine's.
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "rtc_node.hostname",
        }
        values.update(self.airflow_env)
        return values

    def env(self, component: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """A component's environment: ours, plus this process's minus Airflow/resotrack settings."""
        base = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("AIRFLOW", "RESOTRACK_", "PYTEST_"))
        }
        path = os.pathsep.join(p for p in (str(self.pylib), base.get("PYTHONPATH", "")) if p)
        return {
            **base,
            **self.config(),
            "PYTHONPATH": path,
            **self.app_env,
            **self.rest_env(),
            "XDG_RUNTIME_DIR": str(self.runtime),
            "PYTHONUNBUFFERED": "1",
            MARKER: f"{self.id}:{component}",
            **(extra or {}),
        }

    # -- lifecycle --------------------------------------------------------------------------

    def start(self, timeout: float = 180) -> Cluster:
        """Create the metadata DB, migrate it, start every process, wait until all are up."""
        started = time.perf_counter()
        self.home.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        (self.home / "passwords.json").write_text(json.dumps({ADMIN: self.password}), "utf-8")
        self.pylib.mkdir(parents=True, exist_ok=True)
        (self.pylib / "rtc_node.py").write_text(NODE_MODULE, "utf-8")
        self._claim_redis()
        admin = create_engine(_psycopg(self.pg_admin_url), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.metadata_db}"'))
        admin.dispose()
        self.run_cli("db", "migrate", timeout=300)
        self.timings["migrate"] = time.perf_counter() - started

        self._spawn("api-server", ["api-server", "--port", str(self.api_port), "-H", "127.0.0.1"])
        self._spawn("scheduler", ["scheduler"])
        self._spawn("dag-processor", ["dag-processor"])
        self._spawn("triggerer", ["triggerer"])
        for name in self.workers:
            self.start_worker(name)
        self.wait_healthy(timeout)
        for name in self.workers:
            self.wait_worker_ready(name, timeout)
        self.timings["start"] = time.perf_counter() - started
        return self

    def start_worker(self, name: str) -> None:
        """Start (or, after :meth:`kill_node`, restart) the Celery worker node ``name``."""
        self.killed.discard(name)
        self._spawn(
            name,
            [
                "celery",
                "worker",
                "--celery-hostname",
                f"{name}@{self.id}",
                "--concurrency",
                str(self.concurrency),
                "--skip-serve-logs",
                "--without-mingle",
                "--without-gossip",
                "--pid",
                str(self.home / f"worker-{name}.pid"),
            ],
        )

    def _spawn(self, name: str, args: list[str]) -> Component:
        log = self.logs / f"{name}.log"
        component = Component(name, args, log)
        with log.open("ab") as output:
            component.process = subprocess.Popen(
                [sys.executable, "-m", "airflow", *args],
                env=self.env(name),
                cwd=self.home,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killed as one
            )
        self.components[name] = component
        return component

    def run_cli(
        self, *args: str, timeout: float = 120, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """``airflow ARGS`` with the cluster's configuration (logged to ``logs/cli.log``)."""
        result = subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            env=self.env("cli"),
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        with (self.logs / "cli.log").open("a", encoding="utf-8") as log:
            log.write(f"$ airflow {' '.join(args)} -> {result.returncode}\n")
            log.write(result.stdout[-4000:] + result.stderr[-8000:] + "\n")
        if check and result.returncode != 0:
            raise AssertionError(
                f"`airflow {' '.join(args)}` exited {result.returncode}\n{result.stderr[-3000:]}"
            )
        return result

    def _claim_redis(self) -> None:
        """Take a Redis database number no other cluster run holds (a lease key in db 0)."""
        import redis

        lease = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=0)
        try:
            lease.ping()
        except redis.RedisError as exc:  # fail loudly with the reason, never skip
            raise RuntimeError(
                f"Redis at {REDIS_HOST}:{REDIS_PORT} is not reachable ({exc}); "
                "`make test` starts it (scripts/services.sh)"
            ) from exc
        for number in REDIS_DBS:
            if lease.set(f"resotrack:cluster-redis-db:{number}", self.id, nx=True, ex=3600):
                self.redis_db = number
                redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=number).flushdb()
                lease.close()
                return
        lease.close()
        raise RuntimeError(f"no free Redis database among {list(REDIS_DBS)}")

    def _release_redis(self) -> None:
        import redis

        if self.redis_db is None:
            return
        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=self.redis_db).flushdb()
        lease = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=0)
        key = f"resotrack:cluster-redis-db:{self.redis_db}"
        if lease.get(key) == self.id.encode():
            lease.delete(key)
        lease.close()
        self.redis_db = None

    def kill_node(self, name: str) -> list[int]:
        """SIGKILL a whole node at once, as if its host lost power: the component's process
        group and every process that inherited its marker (its tasks, its validation service).
        Returns the pids killed."""
        component = self.components[name]
        self.killed.add(name)
        killed: list[int] = []
        if component.process is not None and component.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(component.process.pid, signal.SIGKILL)
                killed.append(component.process.pid)
        killed += _kill(marked_pids(f"{self.id}:{name}"))
        if component.process is not None:
            component.process.wait(timeout=30)
        return sorted(set(killed))

    def stop(self) -> None:
        """Stop everything this cluster started, whatever state it is in; drop its database."""
        for component in self.components.values():
            if component.alive:
                assert component.process is not None
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(component.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 5  # a moment to exit cleanly; then the whole group goes
        for component in self.components.values():
            if component.process is None:
                continue
            with contextlib.suppress(subprocess.TimeoutExpired):
                component.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):  # the group, stragglers included
                os.killpg(component.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                component.process.wait(timeout=10)
        # Detached children (validation services, their sandboxes): until none has been seen
        # for a second, as a dying task may still have been starting one.
        quiet_since, deadline = time.monotonic(), time.monotonic() + 20
        while time.monotonic() < deadline and time.monotonic() - quiet_since < 1.0:
            if _kill(marked_pids(f"{self.id}:")):
                quiet_since = time.monotonic()
            time.sleep(0.1)
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        with contextlib.suppress(Exception):
            admin = create_engine(_psycopg(self.pg_admin_url), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.metadata_db}" WITH (FORCE)'))
            admin.dispose()
        with contextlib.suppress(Exception):
            self._release_redis()
        shutil.rmtree(self.runtime, ignore_errors=True)

    def leftovers(self) -> dict[int, str]:
        """Processes of this cluster still alive, with their command lines (none after stop)."""
        found = {}
        for pid in marked_pids(f"{self.id}:"):
            with contextlib.suppress(OSError):
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                found[pid] = cmdline.decode(errors="replace")[:200]
        return found

    def tails(self, lines: int = 40) -> str:
        """The end of every process log, for a failure message."""
        parts = []
        for path in sorted(self.logs.glob("*.log")):
            parts.append(f"----- {path.name} (tail)\n{tail(path, lines)}")
        service = Path(self.app_env.get("RESOTRACK_HOME", "")) / "logs" / "validation-service.log"
        if service.is_file():
            parts.append(f"----- validation-service.log (tail)\n{tail(service, lines)}")
        return "\n".join(parts)

    @contextlib.contextmanager
    def logs_on_failure(self, lines: int = 60) -> Iterator[None]:
        """Print every process log's tail to stderr if the block raises (pytest shows it)."""
        try:
            yield
        except BaseException:
            header = f"===== cluster {self.id}: logs in {self.logs}"
            print(f"{header}\n{self.tails(lines)}", file=sys.stderr)
            raise

    # -- waiting ----------------------------------------------------------------------------

    def _check_alive(self) -> None:
        dead = [
            c.name for c in self.components.values() if not c.alive and c.name not in self.killed
        ]
        if dead:
            raise AssertionError(f"cluster process(es) exited: {dead}\n{self.tails()}")

    def wait_for(
        self, what: str, check: Callable[[], bool], timeout: float, interval: float = 1.0
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            with contextlib.suppress(httpx.HTTPError):
                if check():
                    return
            time.sleep(interval)
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{self.tails()}")

    def health(self) -> dict[str, Any]:
        response = httpx.get(f"{self.api_url}/api/v2/monitor/health", timeout=5)
        response.raise_for_status()
        return dict(response.json())

    def wait_healthy(self, timeout: float = 120) -> None:
        """Until ``/api/v2/monitor/health`` says every component is healthy."""

        def healthy() -> bool:
            report = self.health()
            parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
            return all((report.get(p) or {}).get("status") == "healthy" for p in parts)

        self.wait_for("healthy api-server, scheduler, triggerer, dag-processor", healthy, timeout)

    def wait_worker_ready(self, name: str, timeout: float = 120) -> None:
        """Until the Celery worker logged that it is ready to take tasks."""
        log = self.components[name].log
        self.wait_for(
            f"Celery worker {name}",
            lambda: f"{name}@{self.id} ready" in log.read_text("utf-8", errors="replace"),
            timeout,
            0.5,
        )

    # -- the REST API -----------------------------------------------------------------------

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A call to the public API as the admin user (token cached, renewed on 401)."""
        if self._client is None:
            self._client = httpx.Client(base_url=self.api_url, timeout=30)
        for attempt in (1, 2):
            if self._token is None:
                response = self._client.post(
                    "/auth/token", json={"username": ADMIN, "password": self.password}
                )
                response.raise_for_status()
                self._token = str(response.json()["access_token"])
            response = self._client.request(
                method, path, headers={"Authorization": f"Bearer {self._token}"}, **kwargs
            )
            if response.status_code == 401 and attempt == 1:
                self._token = None
                continue
            return response
        raise AssertionError("unreachable")

    def dag_ids(self) -> set[str]:
        response = self.api("GET", "/api/v2/dags", params={"limit": 100})
        response.raise_for_status()
        return {d["dag_id"] for d in response.json()["dags"]}

    def wait_dags(self, dag_ids: Iterable[str], timeout: float = 120) -> None:
        wanted = set(dag_ids)
        self.wait_for(f"DAGs {sorted(wanted)} parsed", lambda: wanted <= self.dag_ids(), timeout)

    def set_paused(self, dag_id: str, paused: bool) -> None:
        response = self.api("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": paused})
        response.raise_for_status()

    def trigger(self, dag_id: str, conf: Mapping[str, Any] | None = None) -> str:
        response = self.api(
            "POST",
            f"/api/v2/dags/{dag_id}/dagRuns",
            json={"logical_date": None, "conf": dict(conf or {})},
        )
        assert response.is_success, f"trigger {dag_id}: {response.status_code} {response.text}"
        return str(response.json()["dag_run_id"])

    def run_state(self, dag_id: str, run_id: str) -> str:
        response = self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
        response.raise_for_status()
        return str(response.json()["state"])

    def wait_run(self, dag_id: str, run_id: str, timeout: float = 120) -> str:
        states: list[str] = []

        def done() -> bool:
            states.append(self.run_state(dag_id, run_id))
            return states[-1] in TERMINAL_RUN_STATES

        self.wait_for(f"{dag_id} run {run_id}", done, timeout)
        return states[-1]

    # -- the metadata database --------------------------------------------------------------

    def query(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        """Read Airflow's metadata database (task states, tries, hostnames)."""
        if self._engine is None:
            self._engine = create_engine(self.metadata_url, pool_size=1, max_overflow=1)
        with self._engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]

    def task_instances(self, dag_id: str) -> list[dict[str, Any]]:
        """Every try of every task of ``dag_id``: the live row and the history of earlier tries."""
        columns = "run_id, task_id, try_number, state, hostname"
        rows = self.query(
            f"SELECT {columns} FROM task_instance WHERE dag_id = :d"
            f" UNION ALL SELECT {columns} FROM task_instance_history WHERE dag_id = :d",
            d=dag_id,
        )
        keys = ("run_id", "task_id", "try_number", "state", "hostname")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def active_runs(self, dag_ids: Iterable[str]) -> list[tuple[str, str]]:
        """(dag_id, run_id) of the runs of ``dag_ids`` that are queued or running."""
        rows = self.query(
            "SELECT dag_id, run_id FROM dag_run WHERE dag_id = ANY(:ids)"
            " AND state IN ('queued', 'running')",
            ids=list(dag_ids),
        )
        return [(str(d), str(r)) for d, r in rows]

    def latencies(self, dag_id: str, run_ids: Iterable[str]) -> dict[str, float]:
        """Medians (s) of a run's wait for its task's start, and of the task's duration."""
        rows = self.query(
            "SELECT extract(epoch FROM ti.start_date - dr.queued_at),"
            " extract(epoch FROM ti.end_date - ti.start_date)"
            " FROM dag_run dr JOIN task_instance ti ON ti.dag_id = dr.dag_id"
            " AND ti.run_id = dr.run_id WHERE dr.dag_id = :d AND dr.run_id = ANY(:ids)"
            " AND ti.start_date IS NOT NULL AND ti.end_date IS NOT NULL",
            d=dag_id,
            ids=list(run_ids),
        )
        if not rows:
            return {}
        waits = sorted(float(w) for w, _ in rows)
        durations = sorted(float(d) for _, d in rows)
        return {
            "wait_p50_s": round(waits[len(waits) // 2], 2),
            "task_p50_s": round(durations[len(durations) // 2], 2),
        }

    def run_states(self, dag_id: str) -> dict[str, str]:
        rows = self.query("SELECT run_id, state FROM dag_run WHERE dag_id = :d", d=dag_id)
        return {str(run_id): str(state) for run_id, state in rows}


@contextlib.contextmanager
def running_cluster(
    root: Path, pg_admin_url: str, app_env: Mapping[str, str], **kwargs: Any
) -> Iterator[Cluster]:
    """A started :class:`Cluster`, stopped (and its processes gone) however the block ends."""
    cluster = Cluster(root, pg_admin_url, app_env, **kwargs)
    try:
        try:
            cluster.start()
        except BaseException:
            print(cluster.tails(80), file=sys.stderr)
            raise
        yield cluster
    finally:
        cluster.stop()
