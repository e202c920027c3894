"""The portal mounted by the plugin on a real Airflow api-server, and Airflow's login on the
staff pages: a browser without a session is sent to the login page, an API client without a
token gets 401, a Bearer token from ``POST /auth/token`` (or the UI's ``_token`` cookie) opens
them. Focal-point pages need no Airflow account. One api-server for the whole module.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from resotrack.settings import get_settings
from resotrack.store import migrate, reset_engines
from support.airflow_env import AirflowHome
from support.intake_world import NO_AIRFLOW, REPO, World, build_world, free_port

pytestmark = [pytest.mark.airflow, pytest.mark.slow]

PASSWORD = "staff-password-for-tests"


@dataclass
class ApiServer:
    url: str
    world: World
    log: Path

    def token(self, username: str = "admin") -> str:
        response = httpx.post(
            f"{self.url}/auth/token", json={"username": username, "password": PASSWORD}
        )
        assert response.is_success, response.text
        return str(response.json()["access_token"])


@pytest.fixture(scope="module")
def api_server(
    airflow_home: AirflowHome, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiServer]:
    folder = tmp_path_factory.mktemp("portal-airflow")
    resotrack_env = {
        "RESOTRACK_HOME": str(folder / "var"),
        "RESOTRACK_DATABASE_URL": f"sqlite:///{folder / 'resotrack.db'}",
        "RESOTRACK_AIRFLOW_API_URL": NO_AIRFLOW,
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in resotrack_env.items():
            patch.setenv(key, value)
        get_settings.cache_clear()
        reset_engines()
        migrate.upgrade()
        world = build_world()
        reset_engines()
    get_settings.cache_clear()

    port = free_port()
    passwords = folder / "passwords.json"
    passwords.write_text(json.dumps({name: PASSWORD for name in ("admin", "viewer", "editor")}))
    env = airflow_home.env(
        {
            **resotrack_env,
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin,viewer:viewer,editor:user",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__API_AUTH__JWT_SECRET": "resotrack-test-jwt-secret-" + "0123456789abcdef" * 4,
        }
    )
    log = folder / "api-server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "airflow",
                "api-server",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=env,
            cwd=airflow_home.home,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None:
                pytest.fail(f"airflow api-server exited:\n{log.read_text()[-4000:]}")
            try:
                if httpx.get(f"{url}/api/v2/monitor/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"airflow api-server did not start:\n{log.read_text()[-4000:]}")
            time.sleep(0.5)
        yield ApiServer(url, world, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_a_browser_without_a_session_is_sent_to_airflows_login(api_server: ApiServer) -> None:
    response = httpx.get(
        f"{api_server.url}/resotrack/staff/cycles/{api_server.world.cycle_id}",
        headers={"accept": "text/html,application/xhtml+xml"},
    )
    assert response.status_code in (302, 303, 307), response.text
    location = response.headers["location"]
    assert location.startswith("/auth/login?next=")
    assert "resotrack%2Fstaff%2Fcycles" in location


def test_an_api_client_without_a_token_gets_401(api_server: ApiServer) -> None:
    response = httpx.get(f"{api_server.url}/resotrack/staff/", headers={"accept": "*/*"})
    assert response.status_code == 401
    bad = httpx.get(
        f"{api_server.url}/resotrack/staff/",
        headers={"authorization": "Bearer not-a-jwt", "accept": "text/html"},
    )
    assert bad.status_code in (401, 403)  # an explicit bad token is refused, not redirected


def test_a_bearer_token_or_the_ui_cookie_opens_the_staff_pages(api_server: ApiServer) -> None:
    token = api_server.token()
    auth = {"authorization": f"Bearer {token}"}
    index = httpx.get(f"{api_server.url}/resotrack/staff/", headers=auth)
    assert index.status_code == 200, index.text
    assert "Test cycle 2026" in index.text and "Signed in as admin" in index.text
    cycle = httpx.get(
        f"{api_server.url}/resotrack/staff/cycles/{api_server.world.cycle_id}", headers=auth
    )
    assert cycle.status_code == 200 and "Not heard from" in cycle.text
    quarantine = httpx.get(
        f"{api_server.url}/resotrack/staff/quarantine", cookies={"_token": token}
    )
    assert quarantine.status_code == 200 and "Mail quarantine" in quarantine.text


def test_focal_points_need_no_airflow_account(api_server: ApiServer) -> None:
    world = api_server.world
    home = f"{api_server.url}/resotrack/t/{world.token('EGY')}"
    page = httpx.get(home)
    assert page.status_code == 200 and '<html lang="ar" dir="rtl">' in page.text
    css = httpx.get(f"{api_server.url}/resotrack/static/portal.css")
    assert css.status_code == 200
    upload = httpx.post(
        f"{home}/c/{world.cycle_id}/EGY/returns",
        files={
            "file": (
                "رد.xlsx",
                world.workbook("EGY", "through airflow"),
                "application/octet-stream",
            )
        },
    )
    assert upload.status_code == 303, upload.text
    result = httpx.get(f"{api_server.url}{upload.headers['location']}")
    assert result.status_code == 200 and "تم الاستلام — قيد التحقق" in result.text
    token = api_server.token()
    staff = httpx.get(
        f"{api_server.url}/resotrack/staff/cycles/{world.cycle_id}",
        headers={"authorization": f"Bearer {token}"},
    )
    assert "رد.xlsx" in staff.text


def test_the_plugin_adds_links_to_the_airflow_ui(api_server: ApiServer) -> None:
    token = api_server.token()
    response = httpx.get(
        f"{api_server.url}/api/v2/plugins", headers={"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    plugin = next(p for p in response.json()["plugins"] if p["name"] == "resotrack")
    views = {v["name"]: v["href"] for v in plugin["external_views"]}
    assert views == {
        "Returns": "/resotrack/staff/",
        "Mail quarantine": "/resotrack/staff/quarantine",
        "Consolidation": "/resotrack/staff/dashboard/",
    }
    assert "resotrack portal" in json.dumps(plugin["fastapi_apps"])


def test_a_viewer_sees_the_returns_but_cannot_decide_a_review(api_server: ApiServer) -> None:
    """Reviewing is an edit: Airflow's read-only role opens the pages and gets 403 on the
    decision; an account allowed to edit (the ``user`` role) gets through to the decision."""
    url, world = api_server.url, api_server.world
    review = f"{url}/resotrack/staff/dashboard/submissions/999999/review"
    for name, expected in (("viewer", 403), ("editor", 404), ("admin", 404)):
        auth = {"authorization": f"Bearer {api_server.token(name)}", "origin": url}
        seen = httpx.get(f"{url}/resotrack/staff/cycles/{world.cycle_id}", headers=auth)
        assert seen.status_code == 200, (name, seen.text)
        decided = httpx.post(review, headers=auth, data={"decision": "accept"})
        assert decided.status_code == expected, (name, decided.text)
