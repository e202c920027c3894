"""Airflow wiring shared by ``dags/`` and the portal: Assets, schedules and a REST trigger.

With the portal's staff-login check, this is the only module that imports Airflow, and it does
so lazily: ``import airflow`` costs about two seconds, which the CLI and the portal (which only
need :func:`trigger_dag`) should not pay. The Assets are built on first access.

An Airflow event is only a wake-up call (see DESIGN.md, "Events and the source of truth"): every
DAG processes everything pending in the database, and :data:`SWEEP` catches what no event
announced.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    import httpx
    from airflow.providers.standard.operators.hitl import ApprovalOperator
    from airflow.sdk import Asset

    RESOLUTIONS: Asset
    ANSWERS: Asset
    SUBMISSIONS: Asset
    RecordedApproval: type[ApprovalOperator]

log = logging.getLogger(__name__)

ASSET_URIS: dict[str, str] = {
    "RESOLUTIONS": "resotrack://resolutions",  # a resolution version was imported
    "SUBMISSIONS": "resotrack://submissions",  # a returned workbook was received and stored
    "ANSWERS": "resotrack://answers",  # answers were accepted into the database
}
"""Asset URIs by module attribute name; ``resotrack.orchestration.RESOLUTIONS`` is the Asset."""

SWEEP = "*/5 * * * *"
"""Every five minutes: the safety net that processes whatever no event or trigger announced.

Use it with ``catchup=False`` (a missed sweep is not worth replaying: the next one sees all).
"""

MAIL_POLL = "*/3 * * * *"
"""Every three minutes: replies in the returns mailbox are answered within minutes."""

DAILY = "0 6 * * *"
"""06:00 UTC (09:00 in Jeddah), before the Secretariat's day: reminders go out once a day."""

NIGHTLY = "15 2 * * *"
"""02:15 UTC, a quiet hour for every OIC time zone: the backup and its verification."""


def __getattr__(name: str) -> Any:
    """Build the Assets and operator classes on first access, so importing this module does
    not import Airflow."""
    if name == "RecordedApproval":
        built: Any = _recorded_approval()
    elif (uri := ASSET_URIS.get(name)) is not None:
        from airflow.sdk import Asset

        built = Asset(uri)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = built
    return built


DECISION = "decision"
"""XCom key under which :data:`RecordedApproval` keeps the approver's answer."""


def _recorded_approval() -> type:
    """The standard approval operator, keeping the answer in XCom (key ``decision``) whatever
    it is: on Reject the provider skips downstream by raising, so its return value never
    reaches XCom, and the rejection's comment would be lost."""
    from airflow.providers.standard.operators.hitl import ApprovalOperator

    class RecordedApproval(ApprovalOperator):
        def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
            if "error" not in event:
                context["ti"].xcom_push(
                    key=DECISION,
                    value={
                        "chosen_options": list(event.get("chosen_options") or []),
                        "params_input": dict(event.get("params_input") or {}),
                        "responded_by_user": dict(event.get("responded_by_user") or {}),
                    },
                )
            return super().execute_complete(context=context, event=event)

    RecordedApproval.__module__ = __name__
    return RecordedApproval


def emit_if_changed(
    outlet_events: Any,
    asset: Asset,
    summary: Sequence[Mapping[str, Any]],
    *,
    changed: Sequence[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """Return ``summary`` with ``asset``'s event annotated, or skip the task if nothing changed.

    Airflow 3.3 emits an event for every outlet of a task that succeeds, none for a task that
    ends skipped, and offers no way to drop one outlet's event from a successful task. So a
    sweep that found nothing new raises ``AirflowSkipException``: downstream DAGs are not woken
    every five minutes for nothing. The event's ``extra`` lists what changed, for people reading
    the Airflow UI; listeners still read the database, never the event.
    """
    for item in summary:
        level = logging.WARNING if item.get("error") else logging.INFO
        log.log(level, "%s", dict(item))
    if not changed:
        from airflow.sdk.exceptions import AirflowSkipException

        refused = sum(1 for item in summary if item.get("error"))
        raise AirflowSkipException(
            f"nothing new: {len(summary)} item(s) seen, {refused} refused; no {asset.uri} event"
        )
    outlet_events[asset].extra = {"changed": [dict(item) for item in changed]}
    return [dict(item) for item in summary]


# --- REST trigger ------------------------------------------------------------------------

_tokens: dict[tuple[str, str], str] = {}
_tokens_lock = threading.Lock()
_clients: dict[str, httpx.Client] = {}


def _client(url: str) -> httpx.Client:
    """One pooled client per API URL: building one costs ~16 ms (its TLS context) per call."""
    import httpx

    with _tokens_lock:
        if url not in _clients:
            _clients[url] = httpx.Client(base_url=url)
        return _clients[url]


def _api_config() -> tuple[str, str, str]:
    """API URL and credentials, read at call time so tests and deployments can change them."""
    from resotrack.settings import get_settings

    settings = get_settings()
    return (
        settings.airflow_api_url.rstrip("/"),
        settings.airflow_username,
        settings.airflow_password.get_secret_value(),
    )


#: How many times a trigger is sent when Airflow answers with a server error.
TRIGGER_TRIES = 4


def trigger_dag(dag_id: str, conf: dict[str, Any], *, timeout: float = 5.0) -> str | None:
    """Start one run of ``dag_id`` with ``conf`` through Airflow's public REST API.

    Returns the new run's id, or ``None`` when Airflow cannot be reached or refuses (the reason
    is logged); a server error is sent again, up to :data:`TRIGGER_TRIES` times within
    ``timeout``. ``None`` is not an error for the caller: its work is already in the database,
    so the DAG's sweep picks it up. ``timeout`` bounds the whole call, token request included.
    A paused DAG accepts the run but leaves it queued until it is unpaused.
    """
    import httpx

    url, username, password = _api_config()
    deadline = time.monotonic() + timeout

    def remaining() -> float:
        return max(0.05, deadline - time.monotonic())

    try:
        client = _client(url)
        relogged = False
        for attempt in range(1, TRIGGER_TRIES + 1):
            token = _token(client, (url, username), password, remaining())
            if token is None:
                return None
            response = client.post(
                f"/api/v2/dags/{quote(dag_id, safe='')}/dagRuns",
                json={"logical_date": None, "conf": conf},
                headers={"Authorization": f"Bearer {token}"},
                timeout=remaining(),
            )
            if response.status_code in (401, 403) and not relogged:
                # 401 "Token Expired", 403 "Invalid JWT token" (the API server's secret
                # changed): drop the cached token and log in once more.
                relogged = True
                with _tokens_lock:
                    _tokens.pop((url, username), None)
                continue
            if response.is_success:
                run_id = response.json().get("dag_run_id")
                log.info("triggered %s run %s", dag_id, run_id)
                return str(run_id) if run_id else None
            pause = 0.5 * attempt
            if response.is_server_error and attempt < TRIGGER_TRIES and remaining() > pause:
                # A server error ("Database error" while its metadata database is busy) passes:
                # try again shortly. A run that was made all the same is harmless: the DAGs
                # claim their work, so a second run finds nothing left to do.
                log.info("Airflow answered HTTP %s to %s; again", response.status_code, dag_id)
                time.sleep(pause)
                continue
            log.warning(
                "Airflow refused to trigger %s (HTTP %s): %s; the sweep will pick it up",
                dag_id,
                response.status_code,
                _detail(response),
            )
            return None
    except (httpx.HTTPError, ValueError) as exc:
        log.warning(
            "Airflow at %s unreachable for %s (%s: %s); the sweep will pick it up",
            url,
            dag_id,
            type(exc).__name__,
            exc,
        )
    return None


def _token(client: httpx.Client, key: tuple[str, str], password: str, timeout: float) -> str | None:
    """A cached JWT from ``POST /auth/token`` (simple auth manager and FAB both serve it)."""
    username = key[1]
    with _tokens_lock:
        if key in _tokens:
            return _tokens[key]
    response = client.post(
        "/auth/token", json={"username": username, "password": password}, timeout=timeout
    )
    if not response.is_success:
        log.warning(
            "Airflow refused a token for %r (HTTP %s): %s; set RESOTRACK_AIRFLOW_USERNAME/PASSWORD",
            username,
            response.status_code,
            _detail(response),
        )
        return None
    token = response.json().get("access_token")
    if not isinstance(token, str):
        log.warning("Airflow answered POST /auth/token without an access_token")
        return None
    with _tokens_lock:
        _tokens[key] = token
    return token


def _detail(response: httpx.Response) -> str:
    """The ``detail`` of an Airflow error answer, or the start of its body."""
    try:
        body = response.json()
    except ValueError:
        return str(response.text[:200])
    if isinstance(body, dict) and "detail" in body:
        return str(body["detail"])
    return str(body)[:200]
