"""The few calls of Airflow's public REST API the demo needs, and where a run's logs are.

The demo watches Airflow only through what any client sees (the REST API, the log folders),
never through Airflow's internals or its metadata database.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from resotrack.demo.stack import USERNAME, DemoError, Layout


class AirflowApi:
    """The few calls of Airflow's public REST API the story needs (a JWT, re-fetched on 401)."""

    def __init__(self, url: str, password: str) -> None:
        self.url = url
        self.password = password
        # Generous: on a busy two-core machine the api-server may take seconds to answer.
        self.client = httpx.Client(base_url=url, timeout=30)
        self._token: str | None = None

    def close(self) -> None:
        self.client.close()

    def healthy(self) -> bool:
        try:
            return self.client.get("/api/v2/monitor/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def token(self) -> str:
        if self._token is None:
            answer = self.client.post(
                "/auth/token", json={"username": USERNAME, "password": self.password}
            )
            if answer.status_code in (401, 403):
                raise DemoError(
                    f"Airflow refused the demo login (HTTP {answer.status_code}); "
                    "was it started by another demo with another password?"
                )
            answer.raise_for_status()  # anything else: not ready yet, the caller asks again
            self._token = str(answer.json()["access_token"])
        return self._token

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """``method`` on ``path`` with the demo's JWT, logging in again once on a 401."""

        def send() -> httpx.Response:
            headers = {"Authorization": f"Bearer {self.token()}"}
            return self.client.request(method, path, headers=headers, **kwargs)

        answer = send()
        if answer.status_code == 401:
            self._token = None
            answer = send()
        return answer

    def get(self, path: str, **params: Any) -> Any:
        """GET ``path``; None on 404."""
        answer = self._request("GET", path, params=params)
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        return answer.json()

    def dag(self, dag_id: str) -> dict[str, Any] | None:
        found = self.get(f"/api/v2/dags/{dag_id}")
        return found if isinstance(found, dict) else None

    def unpause(self, dag_id: str) -> bool:
        """Unpause ``dag_id`` if a former run of the demo (or a person) paused it; True."""
        dag = self.dag(dag_id) or {}
        if dag.get("is_paused"):
            self._request(
                "PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": False}
            ).raise_for_status()
        return True

    def run_state(self, dag_id: str, run_id: str) -> str | None:
        run = self.get(f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}")
        return str(run["state"]) if isinstance(run, dict) else None

    def task_state(self, dag_id: str, run_id: str, task_id: str) -> str | None:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}"
        task = self.get(path)
        return str(task["state"]) if isinstance(task, dict) and task.get("state") else None

    def failed_runs(self, since: datetime) -> list[tuple[str, str]]:
        """(dag id, run id) of every run that failed since ``since``."""
        found = self.get(
            "/api/v2/dags/~/dagRuns",
            state="failed",
            start_date_gte=since.isoformat(),
            limit=100,
        )
        runs = found.get("dag_runs", []) if isinstance(found, dict) else []
        return [(str(r["dag_id"]), str(r["dag_run_id"])) for r in runs]

    def runs_since(self, dag_id: str, since: datetime) -> list[dict[str, Any]]:
        """Every run of ``dag_id`` started since ``since`` (all pages)."""
        runs: list[dict[str, Any]] = []
        while True:
            found = self.get(
                f"/api/v2/dags/{dag_id}/dagRuns",
                start_date_gte=since.isoformat(),
                order_by="id",
                limit=100,
                offset=len(runs),
            )
            page = found.get("dag_runs", []) if isinstance(found, dict) else []
            runs += page
            total = found.get("total_entries", 0) if isinstance(found, dict) else 0
            if not page or len(runs) >= total:
                return runs


def run_log_folder(layout: Layout, dag_id: str, run_id: str) -> Path:
    """Where Airflow writes the task logs of one run (its default log file template)."""
    return layout.airflow_home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
