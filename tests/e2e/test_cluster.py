"""The distributed proof: Airflow on Celery, two workers, one killed mid-run (``-m cluster``).

``tests/support/cluster.py`` starts scheduler, dag-processor, triggerer, api-server and two Celery
workers as separate processes on the local PostgreSQL and Redis. 100 returned workbooks go in
through ``resotrack.intake.receive`` and ``announce`` (one ``ingest_return`` run each, through
the REST API); a worker and everything it started is SIGKILLed while some returns are decided
and others are not. The killed task must come back on its own (the DAG's retries), its
validation claims with it (short, renewed leases), and feedback the dead run committed but did
not send must go out with a later run. Every return must then be decided exactly once, and
every feedback email sent at most once, with the uncertain ones (a kill inside an SMTP
exchange) set aside for staff exactly as the outbox promises, then reconciled by Message-ID.

The tests at the end (compose file, the wheel the image installs) need no cluster.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from conftest import SEED_004, _pg_admin_url
from resotrack import clock
from resotrack.intake.receive import announce, receive, reset_announce_backoff
from resotrack.mail.models import OutboxMessage
from resotrack.questionnaires.models import ReportingCycle
from resotrack.registry.models import ReportingEntity
from resotrack.resolutions.models import Resolution
from resotrack.settings import get_settings
from resotrack.store import reset_engines, session_scope
from resotrack.store.models import AuditLog
from resotrack.validation.models import Answer, Submission
from support.cluster import Cluster, marked_pids, running_cluster
from support.return_fixtures import KEY, World, filled, make_world
from support.smtp_server import SmtpServer

REPO = Path(__file__).resolve().parents[2]
DOCKER = REPO / "docker"
DAG_UNDER_TEST = "ingest_return"
# Every other DAG is paused for the run: their sweeps would compete for two cores (poll_mailbox
# has no mailbox here; consolidate would rebuild reports on every answers event).
ACTIVE = (DAG_UNDER_TEST, "register_resolution")
DECIDED = ("accepted", "accepted_with_warnings", "refused", "unreadable")
RETURNS = 100
BEFORE_KILL = 60  # uploads before the kill; the other 40 arrive while the worker is dead
# A dead worker's validation claims come back after this (live runs renew every quarter of it):
# shorter than Airflow's detection of the lost task plus its retry delay, so the retry finds
# them free.
CLAIM_LEASE_SECONDS = 10
# A dead worker's outbox sends become uncertain after this: above the SMTP timeout (10 s).
MAIL_LEASE_SECONDS = 30


@dataclass
class Deployment:
    """A running cluster, its SMTP server and application database, shared by a module."""

    cluster: Cluster
    smtp: SmtpServer
    root: Path


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, pg_template: str) -> Iterator[Deployment]:
    """The cluster with a fresh application database (a clone of the migrated template)."""
    root = tmp_path_factory.mktemp("cluster")
    admin_url = _pg_admin_url()
    app_db = f"rt_cluster_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{app_db}" TEMPLATE "{pg_template}"'))
    app_url = make_url(admin_url).set(database=app_db).render_as_string(hide_password=False)
    smtp = SmtpServer().start()
    app_env = {
        "RESOTRACK_HOME": str(root / "resotrack-home"),
        "RESOTRACK_DATABASE_URL": app_url,
        "RESOTRACK_SECRET_KEY": KEY,
        "RESOTRACK_SMTP_HOST": "127.0.0.1",
        "RESOTRACK_SMTP_PORT": str(smtp.port),
        "RESOTRACK_SMTP_TIMEOUT_SECONDS": "10",
        "RESOTRACK_MAIL_FROM": "resotrack@oic.example.org",
        "RESOTRACK_MAIL_BACKOFF_BASE_SECONDS": "1",
        "RESOTRACK_MAIL_LEASE_SECONDS": str(MAIL_LEASE_SECONDS),
        "RESOTRACK_VALIDATION_LEASE_SECONDS": str(CLAIM_LEASE_SECONDS),
        "RESOTRACK_VALIDATION_SERVICE_IDLE_SECONDS": "300",
    }
    try:
        with pytest.MonkeyPatch.context() as mp, running_cluster(root, admin_url, app_env) as cl:
            for name, value in {**app_env, **cl.rest_env()}.items():
                mp.setenv(name, value)
            get_settings.cache_clear()
            reset_engines()
            reset_announce_backoff()
            with cl.logs_on_failure():
                cl.wait_dags(ACTIVE)  # one parse of the folder brings them all
                for dag_id in sorted(cl.dag_ids() - set(ACTIVE)):
                    cl.set_paused(dag_id, True)
            yield Deployment(cl, smtp, root)
        assert not cl.leftovers(), f"cluster processes left running: {cl.leftovers()}"
    finally:
        smtp.stop()
        reset_engines()
        get_settings.cache_clear()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{app_db}" WITH (FORCE)'))
        admin.dispose()


# --- a trivial DAG end to end ----------------------------------------------------------------


@pytest.mark.cluster
@pytest.mark.postgres
@pytest.mark.airflow
@pytest.mark.slow
def test_a_dag_runs_on_a_celery_worker(deployment: Deployment) -> None:
    """register_resolution, triggered through the REST API, imports a dropped seed."""
    cluster = deployment.cluster
    inbox = get_settings().resolutions_inbox
    inbox.mkdir(parents=True, exist_ok=True)
    with cluster.logs_on_failure():
        shutil.copy(SEED_004, inbox / SEED_004.name)
        run_id = cluster.trigger("register_resolution")
        assert cluster.wait_run("register_resolution", run_id, timeout=120) == "success"
        with session_scope() as session:
            symbols = set(session.scalars(select(Resolution.symbol)))
        assert "OIC/MCSD-2/2023/RES/FINAL" in symbols
        # The cron sweep may have imported it first: then the manual run found nothing (skipped).
        tries = cluster.task_instances("register_resolution")
        assert any(t["state"] == "success" for t in tries), tries
        # Every try that started ran on a worker of the cluster. A try the executor failed
        # before any worker took it (seen under load: "state changed externally" on a cron
        # run) has no host, and Airflow retries it.
        assert {t["hostname"] for t in tries if t["hostname"]} <= set(cluster.workers), tries


# --- 100 returns, one worker killed ------------------------------------------------------------


def _states() -> list[str]:
    with session_scope() as session:
        return list(
            session.scalars(
                select(ReportingEntity.code)
                .where(ReportingEntity.kind == "member_state")
                .order_by(ReportingEntity.code)
            )
        )


def _world(root: Path) -> World:
    """Seed 004 × the 57 member states, questionnaires built, the cycle already dispatched.

    The cycle is committed as ``open`` (as dispatch leaves it) in the transaction that creates
    it: the cluster's dispatch sweep must never see it ``waiting`` and mail questionnaires,
    which are not this test's subject.
    """
    from resotrack.registry import sync_entities

    with session_scope() as session:
        sync_entities(session)
    root.mkdir(parents=True, exist_ok=True)
    world = make_world(root, entities=_states(), dispatched_at=clock.now())
    with session_scope() as session:
        cycle = session.get(ReportingCycle, world.cycle_id)
        assert cycle is not None and cycle.state == "open"
    return world


def _returns(world: World) -> list[tuple[str, bytes]]:
    """57 first returns, then 43 revised ones (other measures): 100 distinct valid workbooks."""
    codes = sorted(world.questionnaires)
    first = [(code, filled(world, code)) for code in codes]
    revised = [
        (
            code,
            filled(
                world,
                code,
                per_row=lambda row: {
                    "measures": f"Révision: plan national no. {row.number}, budget voté en 2024.",
                    "evidence": f"https://gov.example.org/oic/v2/{row.number}",
                },
            ),
        )
        for code in codes[: RETURNS - len(codes)]
    ]
    returns = first + revised
    assert len({data for _, data in returns}) == RETURNS
    return returns


def _submission_states() -> Counter[str]:
    with session_scope() as session:
        rows = session.execute(select(Submission.state, func.count()).group_by(Submission.state))
        return Counter({state: int(count) for state, count in rows})


def _decided() -> int:
    states = _submission_states()
    return sum(states[s] for s in DECIDED)


def _running_on(cluster: Cluster, node: str) -> int:
    """How many ingest tasks the metadata database still says run on ``node``."""
    rows = cluster.query(
        "SELECT count(*) FROM task_instance WHERE dag_id = :d AND state = 'running'"
        " AND hostname = :h",
        d=DAG_UNDER_TEST,
        h=node,
    )
    return int(rows[0][0])


def _claimed_by(pids: set[int]) -> list[int]:
    """Submissions whose validation claim is held by one of ``pids`` (a node's service)."""
    with session_scope() as session:
        rows = [
            (row[0], row[1])
            for row in session.execute(
                select(Submission.id, Submission.report).where(Submission.state == "validating")
            )
        ]
    held = []
    for sid, report in rows:
        by = str(((report or {}).get("claim") or {}).get("by", ""))  # "host:pid"
        if by.rpartition(":")[2] in {str(pid) for pid in pids}:
            held.append(sid)
    return sorted(held)


@contextlib.contextmanager
def _reported(figures: dict[str, Any], path: Path) -> Iterator[None]:
    """Print (and keep) the run's figures whether it passes or not: they explain a failure."""
    try:
        yield
    finally:
        print(f"cluster figures: {json.dumps(figures)}")
        path.write_text(json.dumps(figures, indent=2), "utf-8")


def _wait(what: str, check: Any, timeout: float, cluster: Cluster, interval: float = 1.0) -> None:
    cluster.wait_for(what, check, timeout, interval)


@pytest.mark.cluster
@pytest.mark.postgres
@pytest.mark.airflow
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_100_returns_ingested_once_despite_a_killed_worker(deployment: Deployment) -> None:
    cluster, smtp = deployment.cluster, deployment.smtp
    figures: dict[str, Any] = {}
    with cluster.logs_on_failure(), _reported(figures, deployment.root / "figures.json"):
        world = _world(deployment.root / "world")
        returns = _returns(world)
        questions = {code: len(world.spec(code).rows) for code in world.questionnaires}

        # -- 100 uploads, one ingest_return run each: 60 now, 40 once the worker is dead ---
        started = time.monotonic()
        ids: list[int] = []
        runs: dict[int, str] = {}

        def upload(first: int, last: int) -> None:
            for number in range(first, last):
                code, data = returns[number]
                receipt = receive(
                    data,
                    channel="portal",
                    original_name=f"{code}-{number}.xlsx",
                    cycle_id=world.cycle_id,
                    entity_code=code,
                    token_id=world.token_ids[code],
                )
                assert not receipt.duplicate
                run_id = announce(receipt)
                assert run_id is not None, "the REST trigger failed (see the api-server log)"
                ids.append(receipt.submission_id)
                runs[receipt.submission_id] = run_id

        upload(0, BEFORE_KILL)
        figures["submit_s"] = round(time.monotonic() - started, 1)

        # -- kill w1 (and its validation service) while it works -----------------------------
        # Uploads keep coming after the kill, so returns are still undecided when it dies
        # however fast the machine is (a sweep run may otherwise decide all in one batch).
        victim = cluster.workers[0]

        def victim_busy() -> bool:
            # Warm (it finished a task: its validation service is up) and busy again.
            states = Counter(
                state
                for (state,) in cluster.query(
                    "SELECT state FROM task_instance WHERE dag_id = :d AND hostname = :h",
                    d=DAG_UNDER_TEST,
                    h=victim,
                )
            )
            done = states["success"] + states["skipped"]
            return _decided() >= 15 and done >= 1 and states["running"] > 0

        _wait(f"15 decided and {victim} busy", victim_busy, 240, cluster, 0.3)
        # Better still: while its validation service holds a claim (mid-validation). Try that
        # until most of the first uploads are decided (a time limit would depend on the
        # machine's speed); a kill inside Airflow's own task start or finish is a kill too.
        while True:
            victim_pids = set(marked_pids(f"{cluster.id}:{victim}"))
            busy = _running_on(cluster, victim) > 0
            if busy and (_claimed_by(victim_pids) or _decided() >= BEFORE_KILL * 3 // 4):
                break
            pending = cluster.active_runs([DAG_UNDER_TEST])
            assert busy or pending, f"{victim} never busy again while runs were left"
            time.sleep(0.02)
        pids = cluster.kill_node(victim)
        killed_epoch = time.time()
        # What the kill left behind: tasks Airflow still thinks run there, claims its
        # validation service held (nothing can release those now but a recovery).
        claimed = _claimed_by(victim_pids)
        killed_running = {
            run_id
            for (run_id,) in cluster.query(
                "SELECT run_id FROM task_instance WHERE dag_id = :d AND state = 'running'"
                " AND hostname = :h",
                d=DAG_UNDER_TEST,
                h=victim,
            )
        }
        killed_at = time.monotonic()
        decided_at_kill = _decided()
        feedback_at_kill = _feedback_states()
        figures |= {
            "killed_after_s": round(killed_at - started, 1),
            "decided_at_kill": decided_at_kill,
            "states_at_kill": dict(_submission_states()),
            "runs_on_victim_at_kill": len(killed_running),
            "claimed_by_victim_at_kill": claimed,
            "feedback_at_kill": dict(Counter(feedback_at_kill.values())),
            "pids_killed": len(pids),
        }
        assert 0 < decided_at_kill < RETURNS, figures
        assert killed_running, "nothing was running on the killed worker"
        upload(BEFORE_KILL, RETURNS)  # the portal goes on taking uploads
        figures["submit_rest_s"] = round(time.monotonic() - killed_at, 1)

        # -- every run finishes; the killed tasks come back on the other worker ------------
        triggered = set(runs.values())

        restarted: list[float] = []

        def all_runs_done() -> bool:
            # Once Airflow has given up on the dead node's tasks, the node comes back, as a
            # container's restart policy would bring it back (and the test ends sooner).
            if not restarted and not _running_on(cluster, victim):
                cluster.start_worker(victim)
                restarted.append(round(time.monotonic() - started, 1))
            states = cluster.run_states(DAG_UNDER_TEST)
            return all(states.get(r) in ("success", "failed") for r in triggered)

        _wait("all 100 ingest_return runs to finish", all_runs_done, 300, cluster, 2)
        figures["runs_done_s"] = round(time.monotonic() - started, 1)
        run_states = cluster.run_states(DAG_UNDER_TEST)
        assert Counter(run_states[r] for r in triggered) == {"success": RETURNS}
        tries = cluster.task_instances(DAG_UNDER_TEST)
        by_run: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for t in tries:
            by_run[t["run_id"]].append(t)
        figures["victim_restarted_s"] = restarted[0] if restarted else None
        for run_id in killed_running:  # the killed try failed; Airflow retried it
            killed_try = min(by_run[run_id], key=lambda t: t["try_number"])
            last = max(by_run[run_id], key=lambda t: t["try_number"])
            assert killed_try["hostname"] == victim, by_run[run_id]
            assert killed_try["state"] in ("failed", "up_for_retry"), by_run[run_id]
            assert last["try_number"] >= 2, by_run[run_id]
            assert last["state"] in ("success", "skipped"), by_run[run_id]
        # Recovery time: from the kill to the retries' start and end (they run on w2).
        retried = cluster.query(
            "SELECT max(extract(epoch FROM start_date)), max(extract(epoch FROM end_date))"
            " FROM task_instance WHERE dag_id = :d AND run_id = ANY(:ids)",
            d=DAG_UNDER_TEST,
            ids=sorted(killed_running),
        )[0]
        figures["retry_started_after_kill_s"] = round(float(retried[0]) - killed_epoch, 1)
        figures["retry_done_after_kill_s"] = round(float(retried[1]) - killed_epoch, 1)
        figures |= cluster.latencies(DAG_UNDER_TEST, triggered)
        figures["retried_runs"] = sorted(r for r in triggered if len(by_run[r]) > 1)
        figures["hosts"] = dict(
            Counter(t["hostname"] for t in tries if t["run_id"] in triggered and t["state"])
        )

        # -- nothing is left claimed: the retried runs recovered the dead worker's claims ---
        states = _submission_states()
        figures["stranded_after_runs"] = {k: n for k, n in states.items() if k not in DECIDED}
        assert _decided() == RETURNS, dict(_submission_states())

        # -- the next sweep: what the kill caught mid-send becomes uncertain, the rest goes ----
        time.sleep(max(0.0, killed_at + MAIL_LEASE_SECONDS + 1 - time.monotonic()))
        sweep = cluster.trigger(DAG_UNDER_TEST)  # no conf: a sweep, as the cron one
        figures["sweep"] = cluster.wait_run(DAG_UNDER_TEST, sweep, timeout=180)
        assert figures["sweep"] == "success"
        figures["total_s"] = round(time.monotonic() - started, 1)

        _check_answers(ids, questions, returns)
        _check_audit(ids, figures)
        for sid in claimed:  # the dead worker's claims could only be released by recovery
            assert _actions(sid)["submission.claim_recovered"] >= 1, (sid, _actions(sid))
        # Feedback committed but not sent when the worker died went out with a later run.
        unsent = {k for k, state in feedback_at_kill.items() if state == "pending"}
        _check_feedback(ids, smtp, figures, unsent)


def _pairs(session: Any, query: Any) -> dict[Any, Any]:
    """A two-column query as a dict."""
    return {row[0]: row[1] for row in session.execute(query)}


def _check_answers(
    ids: list[int], questions: dict[str, int], returns: list[tuple[str, bytes]]
) -> None:
    """Each return's rows stored once; each entity's current answers are its latest return."""
    with session_scope() as session:
        outcomes = _pairs(
            session, select(Submission.id, Submission.state).where(Submission.id.in_(ids))
        )
        entity = _pairs(session, select(Submission.id, Submission.entity_code))
        per_submission = _pairs(
            session,
            select(Answer.submission_id, func.count()).group_by(Answer.submission_id),
        )
        duplicates = session.execute(
            select(Answer.submission_id, Answer.resolution_symbol, Answer.paragraph_number)
            .group_by(Answer.submission_id, Answer.resolution_symbol, Answer.paragraph_number)
            .having(func.count() > 1)
        ).all()
        current = {
            (row[0], row[1], row[2])
            for row in session.execute(
                select(Answer.entity_code, Answer.submission_id, func.count())
                .where(Answer.current.is_(True))
                .group_by(Answer.entity_code, Answer.submission_id)
            )
        }
    assert set(outcomes.values()) <= {"accepted", "accepted_with_warnings"}, Counter(
        outcomes.values()
    )
    assert not duplicates, duplicates[:5]
    for sid in ids:
        assert per_submission.get(sid) == questions[entity[sid]], (sid, per_submission.get(sid))
    latest = {}
    for sid in ids:  # submitted in order: the later one of an entity is the newer upload
        latest[entity[sid]] = sid
    assert {(code, sid, questions[code]) for code, sid in latest.items()} == current
    assert len(returns) == len(ids) == RETURNS


def _check_audit(ids: list[int], figures: dict[str, Any]) -> None:
    """One receipt and one decision in the audit log per submission; claims may repeat."""
    with session_scope() as session:
        rows = [
            (row[0], row[1])
            for row in session.execute(
                select(AuditLog.subject, AuditLog.action).where(
                    AuditLog.subject.like("submission:%")
                )
            )
        ]
    actions: dict[str, Counter[str]] = defaultdict(Counter)
    for subject, action in rows:
        actions[subject][action] += 1
    for sid in ids:
        seen = actions[f"submission:{sid}"]
        decisions = sum(n for a, n in seen.items() if a.removeprefix("submission.") in DECIDED)
        assert seen["submission.received"] == 1 and decisions == 1, (sid, dict(seen))
    figures["claims_recovered"] = sum(a["submission.claim_recovered"] for a in actions.values())
    figures["claims_released"] = sum(a["submission.released"] for a in actions.values())
    figures["claims_taken"] = sum(a["submission.validating"] for a in actions.values())


def _actions(submission_id: int) -> Counter[str]:
    with session_scope() as session:
        return Counter(
            session.scalars(
                select(AuditLog.action).where(AuditLog.subject == f"submission:{submission_id}")
            )
        )


def _feedback_states() -> dict[str, str]:
    """Each feedback email of the outbox (by idempotency key) with its state."""
    with session_scope() as session:
        rows = session.execute(
            select(OutboxMessage.idempotency_key, OutboxMessage.state).where(
                OutboxMessage.kind == "feedback"
            )
        )
        return {str(key): str(state) for key, state in rows}


def _check_feedback(
    ids: list[int], smtp: SmtpServer, figures: dict[str, Any], unsent_at_kill: set[str]
) -> None:
    """Sent rows arrived once; uncertain rows at most once; none twice; then reconciled.

    ``unsent_at_kill``: rows that were still pending after the kill must have been sent by the
    runs that followed, with no one's help.
    """
    from resotrack.mail import confirm_uncertain, resend_uncertain, send_pending

    delivered = smtp.by_message_id()
    assert all(len(copies) == 1 for copies in delivered.values()), {
        k: len(v) for k, v in delivered.items() if len(v) > 1
    }
    with session_scope() as session:
        rows = {
            row.idempotency_key: (row.id, row.state, row.message_id)
            for row in session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "feedback")
            )
        }
    assert set(rows) == {f"feedback:{sid}" for sid in ids}
    states = Counter(state for _, state, _ in rows.values())
    figures["outbox"] = dict(states)
    assert set(states) <= {"sent", "uncertain"}, states
    figures["pending_at_kill_then_sent"] = len(unsent_at_kill)
    assert all(rows[key][1] == "sent" for key in unsent_at_kill), {
        key: rows[key][1] for key in unsent_at_kill
    }
    uncertain: dict[int, bool] = {}
    for _key, (row_id, state, message_id) in rows.items():
        arrived = message_id is not None and message_id in delivered
        if state == "sent":
            assert arrived, (row_id, message_id)
        else:
            uncertain[row_id] = arrived
    figures["uncertain"] = {
        str(k): ("arrived" if v else "not arrived") for k, v in uncertain.items()
    }
    # What staff do with an uncertain row: search the relay's log for its Message-ID.
    with session_scope() as session:
        confirm_uncertain(session, [i for i, a in uncertain.items() if a], actor="test")
        resend_uncertain(session, [i for i, a in uncertain.items() if not a], actor="test")
    send_pending()
    delivered = smtp.by_message_id()
    with session_scope() as session:
        final = {
            row.idempotency_key: (row.state, row.message_id)
            for row in session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "feedback")
            )
        }
    assert {state for state, _ in final.values()} == {"sent"}
    assert all(len(delivered.get(mid or "", [])) == 1 for _, mid in final.values())
    feedback_ids = {mid for _, mid in final.values()}
    assert sum(len(v) for k, v in delivered.items() if k in feedback_ids) == RETURNS


# --- docker/ (no cluster needed) ---------------------------------------------------------------


def test_compose_file_is_complete() -> None:
    """compose.yaml parses, pins its images, gives every long-running service a healthcheck,
    and every variable it reads is documented in .env.example."""
    text = (DOCKER / "compose.yaml").read_text("utf-8")
    compose = yaml.safe_load(text)
    services: dict[str, Any] = compose["services"]
    wanted = {"postgres", "redis", "mailpit"} | {
        f"airflow-{c}" for c in ("apiserver", "scheduler", "dag-processor", "triggerer", "worker")
    }
    assert wanted <= set(services), sorted(services)
    for name, service in services.items():
        image = re.sub(r"\$\{[A-Z_]+:-([^}]+)\}", r"\1", service.get("image", ""))
        assert re.fullmatch(r"[\w./-]+:[\w.-]+", image), (name, image)
        assert not image.endswith(":latest"), (name, image)
        if service.get("restart") == "no":
            assert "init" in name  # the one-shot job; the others wait for it to complete
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    init = services["resotrack-init"]["command"][-1]
    assert "airflow db migrate" in init and "resotrack init" in init
    for name in ("airflow-apiserver", "airflow-worker", "resotrack-init"):
        mounts = services[name]["volumes"]
        assert any(m.startswith("resotrack-home:") for m in mounts), name  # blobs are shared

    dockerfile = (DOCKER / "Dockerfile").read_text("utf-8")
    assert re.search(
        r"^ARG AIRFLOW_IMAGE=apache/airflow:(slim-)?3\.3\.2-python3\.11$", dockerfile, re.M
    )
    assert re.search(r"^FROM \$\{AIRFLOW_IMAGE\}$", dockerfile, re.M)  # the runtime stage
    assert "uv export --frozen" in dockerfile  # the lock, not a fresh resolution

    example = (DOCKER / ".env.example").read_text("utf-8")
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, re.M))
    read = set(re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]+)", text))  # $${X}: the container's
    assert read <= documented, sorted(read - documented)
    for variable in ("RESOTRACK_SECRET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET", "REDIS_PASSWORD"):
        line = example.index(f"\n{variable}=")
        assert "SECRET" in example[example.rindex("\n#", 0, line) : line], variable


def test_the_installed_wheel_finds_its_validation_rules(tmp_path: Path) -> None:
    """The image installs resotrack as a wheel, away from this repository: the contract and
    the quality suite must come with it (pyproject force-include) and be found by default."""
    uv = os.environ.get("UV") or shutil.which("uv")
    assert uv, "uv is needed to build the wheel (`make test` runs pytest under `uv run`)"
    built = subprocess.run(
        [uv, "build", "--wheel", "--out-dir", str(tmp_path / "dist"), str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    [wheel] = (tmp_path / "dist").glob("resotrack-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESOTRACK_VALIDATION_")}
    probe = (
        "import json, resotrack; from resotrack.validation.config import settings; s = settings();"
        " print(json.dumps([resotrack.__file__, str(s.contract), str(s.suite)]))"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe],
        env={**env, "PYTHONPATH": str(site)},
        cwd=tmp_path,  # not the repository
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    package, contract, suite = (Path(p) for p in json.loads(found.stdout))
    assert package.is_relative_to(site), package  # the wheel's copy, not the checkout's
    for path, original in (
        (contract, REPO / "schemas" / "return_contract.yaml"),
        (suite, REPO / "expectations" / "return_quality.json"),
    ):
        assert path.is_relative_to(site / "resotrack" / "rules"), path
        assert path.read_bytes() == original.read_bytes()
    # The image builds that wheel from a context that has the rules in it.
    dockerfile = (DOCKER / "Dockerfile").read_text("utf-8")
    assert (
        "COPY schemas ./schemas" in dockerfile and "COPY expectations ./expectations" in dockerfile
    )
