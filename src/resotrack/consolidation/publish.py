"""Approval and publication of a report build.

The Secretariat approves a build (through the ``publish_report`` DAG's approval task, or the
CLI where Airflow is not used); publishing then copies its files to
``<home>/published/<cycle>/`` beside a ``cycle-<c>-v<n>.sha256`` file in ``sha256sum -c``
format, and emails the Secretariat's distribution list through the outbox. A rejected build
keeps the comment and publishes nothing.

Every step is idempotent: the decision is committed before the copy, files are written to a
temporary name, fsynced and renamed, and the email has an idempotency key, so publishing the
same build again after a crash finishes the job without a second email.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from sqlalchemy.orm import Session

from resotrack import audit, clock
from resotrack.consolidation.builds import content_type, get_build, latest_build
from resotrack.consolidation.models import ReportBuild
from resotrack.questionnaires.models import ReportingCycle
from resotrack.settings import get_settings
from resotrack.store.blobs import blob_store
from resotrack.store.db import session_scope

log = logging.getLogger(__name__)

DECIDABLE: Final = frozenset({"built", "awaiting_approval"})
ATTACHED: Final = (".docx", ".xlsx")  # what the Secretariat gets by email; the rest is on disk
DAG_ID: Final = "publish_report"
APPROVAL_TASK: Final = "approve"


class PublishError(ValueError):
    """A build that cannot take this step; the message says why."""


@dataclass
class PublishResult:
    """Where a build was published, and what the Secretariat was sent (JSON-ready)."""

    build_id: int
    cycle_id: int
    version: int
    folder: str
    files: list[str]
    checksum: str
    message_id: int | None = None
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "build_id": self.build_id,
            "cycle_id": self.cycle_id,
            "version": self.version,
            "folder": self.folder,
            "files": self.files,
            "checksum": self.checksum,
            "message_id": self.message_id,
            "warnings": self.warnings,
        }


def checksum_name(cycle_id: int, version: int) -> str:
    return f"cycle-{cycle_id}-v{version}.sha256"


def published_folder(cycle_id: int) -> Path:
    return get_settings().home / "published" / str(cycle_id)


def request_approval(
    session: Session,
    *,
    build_id: int | None = None,
    cycle_id: int | None = None,
    run_id: str | None = None,
    actor: str = DAG_ID,
) -> ReportBuild:
    """Mark a build as waiting for the Secretariat (the latest of ``cycle_id`` if no id)."""
    if build_id is not None:
        build = get_build(session, build_id)
    elif cycle_id is not None:
        found = latest_build(session, cycle_id)
        if found is None:
            raise LookupError(f"cycle {cycle_id} has no report build yet; consolidate it first")
        build = found
    else:
        raise ValueError("name a build (build_id) or a cycle (cycle_id)")
    if build.state not in DECIDABLE:
        raise PublishError(
            f"build {build.id} (cycle {build.cycle_id} v{build.version}) is {build.state}; "
            "only a built report can be submitted for approval"
        )
    build.state = "awaiting_approval"
    build.approval_run_id = run_id
    audit.record(
        session, actor, "report.approval_requested", f"report_build:{build.id}", run_id=run_id
    )
    return build


def reject_build(
    session: Session, build_id: int, *, reviewer: str, comment: str | None
) -> ReportBuild:
    """Record the rejection and its comment; nothing is published. Rejecting twice is a no-op."""
    build = get_build(session, build_id)
    if build.state == "rejected":
        return build
    if build.state not in DECIDABLE:
        raise PublishError(f"build {build.id} is {build.state}; it can no longer be rejected")
    build.state = "rejected"
    build.reviewer = reviewer
    build.comment = (comment or "").strip() or None
    build.decided_at = clock.now()
    audit.record(
        session, reviewer, "report.rejected", f"report_build:{build.id}", comment=build.comment
    )
    return build


def drafts_of(build: ReportBuild) -> dict[str, str]:
    """The build's Word reports, name → SHA-256, each checked against its bytes in the blob
    store (a file changed there since the build is refused, not approved)."""
    store = blob_store()
    found = {}
    for name, sha in sorted(build.outputs.items()):
        if not name.endswith(".docx"):
            continue
        if hashlib.sha256(store.get(sha)).hexdigest() != sha:
            raise PublishError(
                f"the stored file {name} of build {build.id} is not the one built "
                "(its SHA-256 differs); nothing was approved"
            )
        found[name] = sha
    return found


def approve_build(
    session: Session,
    build_id: int,
    *,
    reviewer: str,
    comment: str | None,
    seen_sha256: str | None = None,
) -> ReportBuild:
    """Record the approval (publishing is the next step) and the SHA-256 of the Word reports
    approved. Approving twice is a no-op.

    ``seen_sha256``: the file the reviewer read; approval is refused unless it is one of the
    build's reports. A build with a newer one beside it is refused too: the reviewer would
    approve what the Secretariat no longer has as its latest draft.
    """
    build = get_build(session, build_id)
    if build.state in ("approved", "published"):
        return build
    if build.state not in DECIDABLE:
        raise PublishError(f"build {build.id} is {build.state}; it can no longer be approved")
    newest = latest_build(session, build.cycle_id)
    if newest is not None and newest.id != build.id:
        raise PublishError(
            f"build {build.id} (cycle {build.cycle_id} v{build.version}) is not the latest: "
            f"v{newest.version} (build {newest.id}) was built since; review and approve that one"
        )
    drafts = drafts_of(build)
    if seen_sha256 is not None and seen_sha256.lower() not in drafts.values():
        raise PublishError(
            f"the file reviewed (SHA-256 {seen_sha256[:16]}…) is not a report of build "
            f"{build.id}: it was changed or comes from another build; download build "
            f"{build.id}'s report, read it, and approve with that file"
        )
    build.state = "approved"
    build.reviewer = reviewer
    build.comment = (comment or "").strip() or None
    build.decided_at = clock.now()
    build.approved_files = drafts
    audit.record(
        session,
        reviewer,
        "report.approved",
        f"report_build:{build.id}",
        comment=build.comment,
        files=drafts,
        seen=seen_sha256,
    )
    return build


def _write_atomically(folder: Path, name: str, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".publishing-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, folder / name)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def copy_outputs(outputs: dict[str, str], folder: Path, checksum_file: str) -> str:
    """Copy each blob to ``folder`` (checked against its hash) and write the checksum file;
    returns the checksum file's own SHA-256."""
    folder.mkdir(parents=True, exist_ok=True)
    store = blob_store()
    for name, sha in sorted(outputs.items()):
        if Path(name).name != name or name.startswith("."):
            raise PublishError(f"refusing to publish a file named {name!r}")
        data = store.get(sha)
        if hashlib.sha256(data).hexdigest() != sha:
            raise PublishError(f"blob {sha} ({name}) does not match its hash: the store is damaged")
        _write_atomically(folder, name, data)
    sums = "".join(f"{sha}  {name}\n" for name, sha in sorted(outputs.items())).encode()
    _write_atomically(folder, checksum_file, sums)
    _fsync_dir(folder)
    return hashlib.sha256(sums).hexdigest()


def _percent(value: Any) -> str:
    return "–" if value is None else f"{float(value):.0%}"


def publication_message(
    build: ReportBuild, cycle_title: str, folder: Path, checksum_file: str
) -> tuple[str, list[str]]:
    """Subject and paragraphs of the email to the Secretariat (English)."""
    s = build.summary
    paragraphs = [
        f"The consolidated report of reporting cycle {build.cycle_id} (“{cycle_title}”), "
        f"build {build.version}, was approved by {build.reviewer or 'the Secretariat'} "
        f"and published to {folder}.",
        f"{s.get('entities_returned', 0)} of {s.get('entities_asked', 0)} entities returned "
        f"their questionnaire ({_percent(s.get('response_rate'))}); "
        f"{s.get('entities_on_time', 0)} did so by the deadline.",
    ]
    if build.comment:
        paragraphs.append(f"Reviewer's comment: {build.comment}")
    names = ", ".join(sorted(build.outputs))
    paragraphs.append(
        f"Files: {names}. Their SHA-256 checksums are in {checksum_file} "
        f"(check with: sha256sum -c {checksum_file}). The Word draft(s) and the workbook are "
        "attached."
    )
    subject = f"Report published: {cycle_title} (cycle {build.cycle_id}, build {build.version})"
    return subject, paragraphs


def publish_build(
    build_id: int,
    *,
    reviewer: str,
    comment: str | None = None,
    url: str | None = None,
    seen_sha256: str | None = None,
) -> PublishResult:
    """Approve (if not yet) and publish ``build_id``; queue the Secretariat's email.

    The caller delivers the outbox (``resotrack.mail.send_pending``) after this returns.
    """
    from resotrack.mail import enqueue
    from resotrack.mail.config import mail_settings

    with session_scope(url) as session:
        build = approve_build(
            session, build_id, reviewer=reviewer, comment=comment, seen_sha256=seen_sha256
        )
        outputs = dict(build.outputs)
        cycle_id, version = build.cycle_id, build.version

    folder = published_folder(cycle_id)
    checksum_file = checksum_name(cycle_id, version)
    checksum = copy_outputs(outputs, folder, checksum_file)

    warnings: list[str] = []
    with session_scope(url) as session:
        build = get_build(session, build_id)
        cycle = session.get(ReportingCycle, cycle_id)
        assert cycle is not None  # foreign key
        if build.state != "published":
            build.state = "published"
            build.published_at = clock.now()
            build.published_path = str(folder)
            build.checksum = checksum
            audit.record(
                session,
                reviewer,
                "report.published",
                f"report_build:{build.id}",
                folder=str(folder),
                checksum=checksum,
            )
        secretariat = mail_settings().secretariat
        message_id = None
        if secretariat:
            subject, paragraphs = publication_message(build, cycle.title, folder, checksum_file)
            attachments = [
                {"filename": name, "sha256": sha, "content_type": content_type(name)}
                for name, sha in sorted(outputs.items())
                if name.endswith(ATTACHED)
            ]
            row = enqueue(
                session,
                key=f"report_published:{build.id}",
                kind="report_published",
                template="notice",
                language="en",
                context={"subject": subject, "paragraphs": paragraphs},
                to=list(secretariat),
                attachments=attachments,
                cycle_id=cycle_id,
            )
            message_id = row.id
        else:
            warnings.append("RESOTRACK_MAIL_SECRETARIAT is empty: nobody was emailed")
            log.warning("build %s published but no Secretariat address is set", build_id)
        return PublishResult(
            build_id=build.id,
            cycle_id=cycle_id,
            version=version,
            folder=str(folder),
            files=[*sorted(outputs), checksum_file],
            checksum=checksum,
            message_id=message_id,
            warnings=warnings,
        )


def respond_in_airflow(run_id: str, *, approve: bool, comment: str | None) -> tuple[bool, str]:
    """Answer the approval task of a ``publish_report`` run through Airflow's REST API.

    Returns (done, explanation); ``done`` is False when Airflow cannot be reached or refuses,
    so the caller can decide in the database instead.
    """
    from urllib.parse import quote

    import httpx

    settings = get_settings()
    base = settings.airflow_api_url.rstrip("/")
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            login = client.post(
                "/auth/token",
                json={
                    "username": settings.airflow_username,
                    "password": settings.airflow_password.get_secret_value(),
                },
            )
            if not login.is_success:
                return False, f"Airflow refused a token (HTTP {login.status_code})"
            token = login.json()["access_token"]
            path = (
                f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}"
                f"/taskInstances/{APPROVAL_TASK}/-1/hitlDetails"
            )
            answer = client.patch(
                path,
                json={
                    "chosen_options": ["Approve" if approve else "Reject"],
                    "params_input": {"comment": comment or ""},
                },
                headers={"Authorization": f"Bearer {token}"},
            )
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        return False, f"Airflow at {base} unreachable ({type(exc).__name__}: {exc})"
    if answer.is_success:
        return True, f"answered in Airflow run {run_id}; the publish_report DAG does the rest"
    return False, f"Airflow refused the answer (HTTP {answer.status_code}): {answer.text[:200]}"


# --- for the publish_report DAG ------------------------------------------------------------


def prepare_approval(
    *, build_id: int | None, cycle_id: int | None, run_id: str | None
) -> dict[str, Any]:
    """Put a build up for approval; returns it with the subject and body the approver reads."""
    from resotrack.consolidation.builds import BuildResult

    with session_scope() as session:
        build = request_approval(session, build_id=build_id, cycle_id=cycle_id, run_id=run_id)
        result = BuildResult.of(build, created=False).as_dict()
        drafts = {n: sha for n, sha in build.outputs.items() if n.endswith(".docx")}
    s = result["summary"]
    cycle, version = result["cycle_id"], result["version"]
    result["subject"] = f"Publish the report of cycle {cycle}, build {version}?"
    result["body"] = (
        f"**Cycle {cycle}, build {version}** (build id {result['build_id']}): "
        f"{s.get('entities_returned')} of {s.get('entities_asked')} entities returned "
        f"({_percent(s.get('response_rate'))}), {s.get('entities_on_time')} on time.\n\n"
        f"Files: {', '.join(result['outputs'])}\n\n"
        "Word reports approved by this answer (SHA-256, as downloaded): "
        + "; ".join(f"{name} {sha}" for name, sha in sorted(drafts.items()))
        + "\n\n"
        "Approve to publish it and email the Secretariat; reject to keep it unpublished "
        "(say why in the comment)."
    )
    return result


def decided_by(decision: dict[str, Any]) -> str:
    """The Airflow user who answered an approval task."""
    user = decision.get("responded_by_user") or {}
    return str(user.get("name") or user.get("id") or "airflow")


def _comment(decision: dict[str, Any]) -> str | None:
    value = (decision.get("params_input") or {}).get("comment")
    return str(value) if value else None


def publish_approved(build_id: int, decision: dict[str, Any]) -> dict[str, Any]:
    """Publish after an Approve answer, then deliver the outbox."""
    from resotrack.mail import send_pending

    result = publish_build(build_id, reviewer=decided_by(decision), comment=_comment(decision))
    send_pending()
    return result.as_dict()


def record_decision(build_id: int, decision: dict[str, Any] | None) -> dict[str, Any]:
    """After the approval task, whatever it chose: keep a rejection and its comment.

    An approval was recorded by :func:`publish_approved`; a build decided meanwhile by other
    means (the CLI) keeps that decision.
    """
    if not decision:
        raise RuntimeError(f"build {build_id}: the approval task gave no answer")
    chosen = (decision.get("chosen_options") or [None])[0]
    if chosen == "Approve":
        return {"build_id": build_id, "decision": "approved"}
    try:
        with session_scope() as session:
            build = reject_build(
                session, build_id, reviewer=decided_by(decision), comment=_comment(decision)
            )
            return {"build_id": build_id, "decision": "rejected", "comment": build.comment}
    except PublishError as exc:
        log.warning("build %s: rejection not recorded: %s", build_id, exc)
        return {"build_id": build_id, "decision": "none", "reason": str(exc)}
