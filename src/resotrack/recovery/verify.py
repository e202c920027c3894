"""``resotrack verify``: is the live system whole? Staff run it after a restore, and nightly.

Checks, in order (a schema that is not the one this code expects stops the rest, since the
queries would not mean what they say):

schema   the database carries resotrack's schema at the revision this version expects.
blobs    every blob a row needs exists and hashes to its name: each Submission's file first
         of all, then questionnaires sent, raw inbound mail, report builds, attachments.
answers  every Answer traces to a Submission of the same entity and cycle that validation
         accepted (``accepted``, ``accepted_with_warnings``), or that was accepted and then
         sent back by staff (``correction_requested``: its answers stay as history and no
         longer count). An answer without a submission is a problem: every answer must come
         from a file kept byte-for-byte, and no code path makes one. One current answer per
         entity × paragraph × cycle.
outbox   no email is stuck: ``sending`` past the lease (its worker died), ``uncertain`` or
         ``failed`` (staff must act), or ``pending`` long past its due time (delivery is
         not running).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection, create_engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from resotrack import clock
from resotrack.mail.models import OutboxMessage
from resotrack.recovery.config import recovery_settings
from resotrack.recovery.inventory import (
    BlobRef,
    alembic_revision,
    blob_references,
    head_revision,
    known_revisions,
)
from resotrack.recovery.manifest import SHA256, blob_name, hash_file, listing
from resotrack.settings import get_settings
from resotrack.validation import lifecycle
from resotrack.validation.models import Answer, Submission

ANSWERING_STATES: Final = lifecycle.VALIDATED
CHECKS: Final = ("schema", "blobs", "answers", "outbox")
SHOWN_PER_CHECK: Final = 50


@dataclass(frozen=True)
class Finding:
    """One thing wrong, named so staff can find it: ``subject: message``."""

    check: str
    subject: str
    message: str

    def line(self) -> str:
        return f"{self.subject}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        return {"check": self.check, "subject": self.subject, "message": self.message}


@dataclass
class Check:
    """One check's outcome: a one-line summary and what it found wrong."""

    summary: str = "not run"
    problems: list[Finding] = field(default_factory=list)
    ran: bool = False


@dataclass
class VerifyReport:
    """The whole check of the live system; ``ok`` when nothing is wrong."""

    checked_at: datetime
    database: str
    home: Path
    checks: dict[str, Check]
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[Finding]:
        return [p for check in self.checks.values() for p in check.problems]

    @property
    def ok(self) -> bool:
        return not self.problems and all(c.ran for c in self.checks.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked_at": self.checked_at.isoformat(),
            "database": self.database,
            "home": str(self.home),
            "checks": {
                name: {
                    "ok": c.ran and not c.problems,
                    "ran": c.ran,
                    "summary": c.summary,
                    "problems": [p.as_dict() for p in c.problems],
                }
                for name, c in self.checks.items()
            },
            "counts": self.counts,
            "notes": self.notes,
            "problems": len(self.problems),
        }

    def text(self) -> str:
        lines = [
            f"resotrack verify, {self.checked_at:%Y-%m-%d %H:%M:%S} UTC",
            f"database {self.database}",
            f"home     {self.home}",
        ]
        for name, c in self.checks.items():
            state = "OK" if c.ran and not c.problems else ("PROBLEM" if c.problems else "SKIPPED")
            lines.append(f"  {name:<8} {state:<8} {c.summary}")
            if c.problems:
                lines.append(listing([p.line() for p in c.problems], SHOWN_PER_CHECK))
        lines += [f"  note: {note}" for note in self.notes]
        if self.ok:
            lines.append("OK: nothing wrong found")
        else:
            n = len(self.problems)
            skipped = [name for name, c in self.checks.items() if not c.ran]
            tail = f"; not checked: {', '.join(skipped)}" if skipped else ""
            lines.append(f"NOT OK: {n} problem(s){tail}")
        return "\n".join(lines)


def verify_live(*, url: str | None = None, home: Path | None = None) -> VerifyReport:
    """Check the live database and blob store (see the module docstring); never raises for
    what it finds, only reports it."""
    settings = get_settings()
    url = url or settings.db_url
    home = (home or settings.home).resolve()
    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    report = VerifyReport(clock.now(), shown, home, {name: Check() for name in CHECKS})
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    database = parsed.database
    if parsed.get_backend_name() == "sqlite" and database and not Path(database).is_file():
        _fail(report, "schema", shown, f"the database file {database} does not exist")
        return report
    engine = create_engine(parsed, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            if _schema(conn, report):
                _blobs(conn, home, report)
                _answers(conn, report)
                _outbox(conn, report)
    except Exception as exc:
        _fail(report, "schema", shown, f"cannot be read: {exc}")
    finally:
        engine.dispose()
    return report


def _fail(report: VerifyReport, check: str, subject: str, message: str) -> None:
    c = report.checks[check]
    c.ran, c.summary = True, message
    c.problems.append(Finding(check, subject, message))


def _schema(conn: Connection, report: VerifyReport) -> bool:
    revision = alembic_revision(conn)
    head = head_revision()
    if revision is None:
        _fail(
            report,
            "schema",
            "database",
            "holds no resotrack schema: run `resotrack init`, or restore a backup",
        )
        return False
    if revision != head:
        if revision in known_revisions():
            advice = f"run `resotrack init` to upgrade it to {head}"
        else:
            advice = f"it is newer than this resotrack ({head}): install the newer version"
        _fail(report, "schema", "database", f"schema revision {revision}; {advice}")
        return False
    c = report.checks["schema"]
    c.ran, c.summary = True, f"revision {revision} (current)"
    return True


# --- blobs -------------------------------------------------------------------------------


def _blobs(conn: Connection, home: Path, report: VerifyReport) -> None:
    root = home / "blobs"
    needs: dict[str, list[BlobRef]] = defaultdict(list)
    for ref in blob_references(conn):
        needs[ref.sha256].append(ref)
    c = report.checks["blobs"]
    hashed = 0
    submissions = 0
    for sha, refs in sorted(needs.items()):
        submissions += sum(1 for r in refs if r.kind == "submission")
        owners = [r.owner for r in refs]
        more = f" and {len(owners) - 3} more" if len(owners) > 3 else ""
        needed = f"needed by {', '.join(owners[:3])}{more}"
        if not SHA256.fullmatch(sha):
            c.problems.append(Finding("blobs", owners[0], f"names an invalid blob hash {sha!r}"))
            continue
        path = root / sha[:2] / sha[2:]
        if not path.is_file():
            c.problems.append(
                Finding("blobs", blob_name(sha), f"missing from the blob store; {needed}")
            )
            continue
        entry = hash_file(path)
        hashed += entry.size
        if entry.sha256 != sha:
            c.problems.append(
                Finding(
                    "blobs",
                    blob_name(sha),
                    f"checksum mismatch (the file hashes to {entry.sha256[:12]}…); {needed}",
                )
            )
    present, temp = _store_listing(root)
    unreferenced = len(present - needs.keys())
    report.counts.update(
        submissions=submissions,
        blobs_referenced=len(needs),
        blobs_in_store=len(present),
        blobs_unreferenced=unreferenced,
        blob_bytes_hashed=hashed,
    )
    c.ran = True
    bad = len({p.subject for p in c.problems})
    c.summary = (
        f"{len(needs) - bad:,} of {len(needs):,} referenced blobs present and matching their "
        f"SHA-256 ({submissions:,} submission files)"
    )
    if unreferenced:
        report.notes.append(
            f"{unreferenced:,} blob(s) in the store are not referenced by any row (an upload "
            "that was never recorded, or one arriving now): harmless"
        )
    if temp:
        report.notes.append(
            f"{temp} temporary file(s) of interrupted writes in the blob store "
            "(the collect_returns sweep removes them after an hour)"
        )


def _store_listing(root: Path) -> tuple[set[str], int]:
    present: set[str] = set()
    temp = 0
    if not root.is_dir():
        return present, temp
    for sub in root.iterdir():
        if sub.name.startswith("."):
            temp += 1
            continue
        if sub.is_dir() and len(sub.name) == 2:
            for path in sub.iterdir():
                if SHA256.fullmatch(sub.name + path.name):
                    present.add(sub.name + path.name)
    return present, temp


# --- answers -----------------------------------------------------------------------------


def _answers(conn: Connection, report: VerifyReport) -> None:
    c = report.checks["answers"]
    a, s = Answer, Submission
    rows = conn.execute(
        select(
            a.id,
            a.cycle_id,
            a.entity_code,
            a.submission_id,
            s.id,
            s.state,
            s.cycle_id,
            s.entity_code,
        ).outerjoin(s, a.submission_id == s.id)
    ).all()
    orphans: dict[tuple[int, str], list[int]] = defaultdict(list)
    dangling: dict[int, int] = Counter()
    wrong_state: dict[tuple[int, str, str, int | None], int] = Counter()
    mismatched: dict[tuple[int, str | None, int | None, str, int], int] = Counter()
    for aid, cycle, entity, sub_ref, sid, state, s_cycle, s_entity in rows:
        if sub_ref is None:
            orphans[(cycle, entity)].append(aid)
        elif sid is None:
            dangling[sub_ref] += 1
        elif state not in ANSWERING_STATES:
            wrong_state[(sid, state, s_entity or "?", s_cycle)] += 1
        elif (s_cycle, s_entity) != (cycle, entity):
            mismatched[(sid, s_entity, s_cycle, entity, cycle)] += 1
    for (cycle, entity), ids in sorted(orphans.items()):
        shown = ", ".join(str(i) for i in ids[:5]) + (" …" if len(ids) > 5 else "")
        c.problems.append(
            Finding(
                "answers",
                f"{entity} in cycle {cycle}",
                f"{len(ids):,} answer(s) come from no submission (answer {shown}); every "
                "answer must come from a received file",
            )
        )
    for sid, n in sorted(dangling.items()):
        c.problems.append(
            Finding("answers", f"submission {sid}", f"does not exist, yet {n:,} answer(s) cite it")
        )
    for (sid, state, owner, in_cycle), n in sorted(wrong_state.items()):
        c.problems.append(
            Finding(
                "answers",
                f"submission {sid} ({owner}, cycle {in_cycle})",
                f"is {state!r}, yet {n:,} answer(s) come from it; only accepted returns give "
                "answers",
            )
        )
    for (sid, s_entity, s_cycle, entity, cycle), n in sorted(mismatched.items()):
        c.problems.append(
            Finding(
                "answers",
                f"submission {sid} ({s_entity}, cycle {s_cycle})",
                f"{n:,} answer(s) of {entity} in cycle {cycle} come from it: another entity's "
                "or cycle's file",
            )
        )
    doubles = conn.execute(
        select(a.cycle_id, a.entity_code, a.resolution_symbol, a.paragraph_number, func.count())
        .where(a.current.is_(True))
        .group_by(a.cycle_id, a.entity_code, a.resolution_symbol, a.paragraph_number)
        .having(func.count() > 1)
    ).all()
    for cycle, entity, symbol, number, n in doubles:
        c.problems.append(
            Finding(
                "answers",
                f"{entity} §{number} of {symbol}, cycle {cycle}",
                f"{n} answers are marked current; exactly one must be",
            )
        )
    current = int(
        conn.execute(select(func.count()).select_from(a).where(a.current.is_(True))).scalar_one()
    )
    report.counts.update(answers=len(rows), answers_current=current)
    c.ran = True
    c.summary = (
        f"{len(rows):,} answers ({current:,} current), each from an accepted submission"
        if not c.problems
        else f"{len(rows):,} answers checked"
    )


# --- outbox ------------------------------------------------------------------------------


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=clock.UTC)


def _outbox(conn: Connection, report: VerifyReport) -> None:
    from resotrack.mail.config import mail_settings

    c = report.checks["outbox"]
    lease = mail_settings().mail_lease_seconds
    grace = recovery_settings().verify_outbox_grace_seconds
    now = clock.now()
    o = OutboxMessage
    by_state = {
        str(state): int(n)
        for state, n in conn.execute(select(o.state, func.count()).group_by(o.state))
    }
    rows = conn.execute(
        select(
            o.id,
            o.kind,
            o.state,
            o.to_addrs,
            o.attempts,
            o.last_error,
            o.next_attempt_at,
            o.created_at,
            o.claimed_at,
        )
        .where(o.state.in_(["pending", "sending", "uncertain", "failed"]))
        .order_by(o.id)
    ).all()
    for oid, kind, state, to, attempts, error, due, created, claimed in rows:
        subject = f"outbox message {oid} ({kind} to {', '.join(to or [])})"
        why = f" ({error})" if error else ""
        if state == "sending":
            since = _aware(claimed)
            if since is not None and since < now - timedelta(seconds=lease):
                c.problems.append(
                    Finding(
                        "outbox",
                        subject,
                        f"sending since {since:%Y-%m-%d %H:%M} UTC, past the {lease:.0f} s "
                        "lease: its worker stopped; the next outbox run marks it uncertain",
                    )
                )
        elif state == "uncertain":
            c.problems.append(
                Finding(
                    "outbox",
                    subject,
                    f"uncertain: it may or may not have reached the mail server{why}; staff "
                    "must check the relay log for its Message-ID, then confirm or resend it",
                )
            )
        elif state == "failed":
            c.problems.append(
                Finding(
                    "outbox",
                    subject,
                    f"failed after {attempts} attempt(s){why}; fix the cause, then retry it",
                )
            )
        else:
            when = _aware(due) or _aware(created)
            if when is not None and when < now - timedelta(seconds=grace):
                c.problems.append(
                    Finding(
                        "outbox",
                        subject,
                        f"pending since {when:%Y-%m-%d %H:%M} UTC, more than {grace / 3600:g} h "
                        "past due: is delivery running (the dispatch_questionnaires DAG)?",
                    )
                )
    report.counts.update({f"outbox_{state}": int(n) for state, n in sorted(by_state.items())})
    c.ran = True
    states = ", ".join(f"{state} {n:,}" for state, n in sorted(by_state.items())) or "empty"
    c.summary = f"{len(c.problems)} stuck message(s) ({states})"
