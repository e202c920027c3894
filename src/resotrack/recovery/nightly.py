"""What the nightly ``backup`` DAG runs, with the alert email.

``nightly_backup`` writes a generation to ``RESOTRACK_BACKUP_DIR``, reads it back against its
manifest and keeps the newest ``RESOTRACK_BACKUP_KEEP``; ``nightly_verify`` checks the live
system. Either one, when something is wrong, queues an email to the Secretariat's list
(``RESOTRACK_MAIL_SECRETARIAT``) through the outbox, tries to deliver it at once, and raises,
so the Airflow task is red as well: a failed backup is noticed even if the mail is down, and
even if nobody watches Airflow. The email's idempotency key carries the DAG run, so a re-run
of the same night does not email twice.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Sequence
from typing import Any, NoReturn

from resotrack import clock
from resotrack.recovery.config import recovery_settings
from resotrack.recovery.manifest import listing

log = logging.getLogger(__name__)
MAX_LINES = 30


class NightlyFailure(RuntimeError):
    """The nightly backup or check failed; the Secretariat was told (or why not is said)."""


def nightly_backup(*, run_key: str) -> dict[str, Any]:
    """Back up, check the new generation, prune; alert and raise on any failure."""
    from resotrack.recovery.backup import backup
    from resotrack.recovery.manifest import verify_backup

    conf = recovery_settings()
    subject = "resotrack: last night's backup FAILED"
    if conf.backup_dir is None:
        _alarm(
            "backup",
            run_key,
            subject,
            [
                "RESOTRACK_BACKUP_DIR is not set, so no backup was made. Set it to a folder on "
                "another disk or host (not inside RESOTRACK_HOME)."
            ],
        )
    try:
        result = backup(conf.backup_dir, keep=conf.backup_keep)
    except Exception as exc:
        _alarm("backup", run_key, subject, [f"{type(exc).__name__}: {exc}"], exc)
    check = verify_backup(result.folder)
    if check.problems:
        _alarm(
            "backup",
            run_key,
            subject,
            [f"the new backup {result.folder} does not read back whole:", *check.problems],
        )
    if result.problems:
        _alarm(
            "backup",
            run_key,
            "resotrack: the backup found damage in the live system",
            [
                f"backup {result.folder} was written, but the live system is damaged:",
                *result.problems,
            ],
        )
    summary = result.as_dict()
    log.info("backup %s: %s files, %s bytes", result.folder, summary["files"], summary["bytes"])
    return summary


def nightly_verify(*, run_key: str) -> dict[str, Any]:
    """Check the live system; alert and raise when anything is wrong."""
    from resotrack.recovery.verify import verify_live

    report = verify_live()
    if not report.ok:
        lines = [p.line() for p in report.problems] or [
            check.summary for check in report.checks.values() if not check.ran
        ]
        _alarm(
            "verify",
            run_key,
            f"resotrack: the nightly check found {len(report.problems)} problem(s)",
            lines,
        )
    return report.as_dict()


def _alarm(
    kind: str,
    run_key: str,
    subject: str,
    lines: Sequence[str],
    cause: BaseException | None = None,
) -> NoReturn:
    outcome = alert(kind, run_key, subject, lines)
    raise NightlyFailure(f"{subject}\n{listing(list(lines))}\n{outcome}") from cause


def alert(kind: str, run_key: str, subject: str, lines: Sequence[str]) -> str:
    """Queue the alert email and try once to send it now; returns what happened, for the log.

    If the relay is down the email stays queued: the dispatch DAG's sweep delivers it later.
    """
    from resotrack.mail import OutboxDeliveryError, enqueue, send_pending
    from resotrack.mail.config import mail_settings
    from resotrack.store import session_scope

    to = mail_settings().secretariat
    if not to:
        log.error("%s; RESOTRACK_MAIL_SECRETARIAT is empty, nobody was emailed", subject)
        return "Nobody was emailed: RESOTRACK_MAIL_SECRETARIAT is empty."
    when = f"{clock.now():%Y-%m-%d %H:%M} UTC"
    shown = list(lines[:MAX_LINES])
    if len(lines) > MAX_LINES:
        shown.append(f"… and {len(lines) - MAX_LINES} more (see the Airflow task log)")
    paragraphs = [
        f"{subject} (host {socket.gethostname()}, {when}, Airflow run {run_key}).",
        *shown,
        "What to do: README, section “Production → Backups and recovery”; run "
        "`resotrack verify` for the full report. Until this is fixed, the returns received "
        "since the last good backup exist in one place only.",
    ]
    try:
        with session_scope() as session:
            row = enqueue(
                session,
                key=f"recovery:{kind}:{run_key}"[:200],
                kind=f"recovery_{kind}",
                template="notice",
                language="en",
                context={"subject": subject, "paragraphs": paragraphs},
                to=list(to),
            )
            row_id = row.id
    except Exception as exc:  # the database may be what failed
        log.exception("the alert email could not be queued")
        return f"The alert email could not be queued ({exc}): only this task's failure shows it."
    try:  # one attempt now, no in-run retries: an alert must not wait minutes on a dead relay
        send_pending(settings=mail_settings().model_copy(update={"mail_run_retries": 0}))
    except OutboxDeliveryError as exc:
        log.warning("alert queued as outbox message %s, not delivered yet: %s", row_id, exc)
    except Exception:
        log.exception("alert queued as outbox message %s; delivery attempt failed", row_id)
    return f"The Secretariat ({', '.join(to)}) was emailed: outbox message {row_id}."


__all__ = ["NightlyFailure", "alert", "nightly_backup", "nightly_verify"]
