"""docker/compose.yaml is a valid Compose file: ``config`` resolves it with a throwaway env.

No Docker engine is needed: ``docker compose config`` (v2) or, where only the Debian
``docker-compose`` package is installed (``scripts/system-deps.sh``), ``docker-compose config``
(v1.29) parses, validates and interpolates the file. v1 predates the top-level ``name:`` key,
so for v1 that one line is left out of the copy and the project name given with ``-p``. The
image itself is not built here (README, "Production").
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import REPO

DOCKER = REPO / "docker"
SERVICES = {
    "postgres",
    "redis",
    "resotrack-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "mailpit",
}


def compose() -> tuple[list[str], bool]:
    """The compose command and whether it is v2; fails (never skips) when there is none."""
    if shutil.which("docker"):
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True, timeout=60
        )
        if probe.returncode == 0:
            return ["docker", "compose"], True
    if shutil.which("docker-compose"):
        return ["docker-compose"], False
    pytest.fail("neither `docker compose` nor `docker-compose` is installed (make system)")


def config(tmp_path: Path, env: str) -> subprocess.CompletedProcess[str]:
    """``config`` on a copy of docker/ whose ``.env`` is ``env``."""
    folder = tmp_path / "docker"
    shutil.copytree(DOCKER, folder, ignore=shutil.ignore_patterns(".env"))
    (folder / ".env").write_text(env, encoding="utf-8")
    (folder / ".env").chmod(0o600)
    command, v2 = compose()
    if not v2:
        text = (folder / "compose.yaml").read_text(encoding="utf-8")
        assert re.search(r"^name: resotrack$", text, flags=re.M)
        (folder / "compose.yaml").write_text(
            re.sub(r"^name: resotrack$", "", text, flags=re.M), encoding="utf-8"
        )
        command = [*command, "-p", "resotrack"]
    return subprocess.run(
        [
            *command,
            "-f",
            str(folder / "compose.yaml"),
            "--env-file",
            str(folder / ".env"),
            "config",
        ],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )


def throwaway_env() -> str:
    """``.env.example`` with every secret filled in with a distinct throwaway value."""
    example = (DOCKER / ".env.example").read_text(encoding="utf-8")
    count = iter(range(1, 1000))
    return re.sub(r"change-me", lambda _: f"throwaway{next(count)}", example)


def test_compose_file_resolves_with_every_service(tmp_path: Path) -> None:
    done = config(tmp_path, throwaway_env())
    assert done.returncode == 0, done.stderr
    resolved = yaml.safe_load(done.stdout)
    assert set(resolved["services"]) == SERVICES
    env = resolved["services"]["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    # the passwords from .env reach the URLs compose builds
    assert re.fullmatch(
        r"postgresql\+psycopg://resotrack:throwaway\d+@postgres:5432/resotrack",
        env["RESOTRACK_DATABASE_URL"],
    )
    assert not [key for key, value in env.items() if "change-me" in str(value)]


def test_a_missing_secret_is_named(tmp_path: Path) -> None:
    env = re.sub(r"^REDIS_PASSWORD=.*$", "", throwaway_env(), flags=re.M)
    done = config(tmp_path, env)
    assert done.returncode != 0
    assert "set REDIS_PASSWORD in docker/.env" in done.stdout + done.stderr
