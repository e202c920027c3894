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
from resotrack.catalog import NP_, Said, ValueNames, Words
from resotrack.mail.labels import OUTBOX_STATES
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
#: What each check is called.
CHECK_NAMES: Final = ValueNames(
    "check",
    {
        "schema": NP_("check", "schema"),
        "blobs": NP_("check", "blobs"),
        "answers": NP_("check", "answers"),
        "outbox": NP_("check", "outbox"),
    },
)


@dataclass(frozen=True)
class Finding:
    """One thing wrong, named so staff can find it: ``subject: message``."""

    check: str
    subject: str
    message: str

    def line(self, w: Words | None = None) -> str:
        if w is None:
            return f"{self.subject}: {self.message}"
        return f"{w.said(self.subject)}: {w.said(self.message)}"

    def as_dict(self) -> dict[str, str]:
        return {"check": self.check, "subject": self.subject, "message": self.message}


@dataclass
class Check:
    """One check's outcome: a one-line summary and what it found wrong."""

    summary: str = Said("not run")
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

    def text(self, w: Words | None = None) -> str:
        """The report as staff read it, in ``w``'s language (English without it)."""
        w = w or Words("en", "cli")
        at = f"{self.checked_at:%Y-%m-%d %H:%M:%S}"
        lines = [
            f"resotrack verify, {at} UTC",  # the command and a time: no words to translate
            w("database {database}", database=self.database),
            w("home     {home}", home=self.home),
        ]
        names = {name: CHECK_NAMES.name(w.language, name) for name in self.checks}
        states = {"ok": w.p("check", "OK"), "problem": w.p("check", "PROBLEM")}
        states["skipped"] = w.p("check", "SKIPPED")
        wide = max(8, *(len(label) for label in (*names.values(), *states.values())))
        for name, c in self.checks.items():
            state = "ok" if c.ran and not c.problems else ("problem" if c.problems else "skipped")
            lines.append(f"  {names[name]:<{wide}} {states[state]:<{wide}} {w.said(c.summary)}")
            if c.problems:
                lines.append(listing([p.line(w) for p in c.problems], SHOWN_PER_CHECK))
        lines += [w("  note: {note}", note=w.said(note)) for note in self.notes]
        if self.ok:
            lines.append(w("OK: nothing wrong found"))
        else:
            n = len(self.problems)
            skipped = [names[name] for name, c in self.checks.items() if not c.ran]
            if skipped:
                said = w.n(
                    "NOT OK: {n} problem; not checked: {checks}",
                    "NOT OK: {n} problems; not checked: {checks}",
                    n,
                    checks=", ".join(skipped),
                )
            else:
                said = w.n("NOT OK: {n} problem", "NOT OK: {n} problems", n)
            lines.append(said)
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
        _fail(
            report, "schema", shown, Said("the database file {file} does not exist", file=database)
        )
        return report
    engine = create_engine(parsed, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            if _schema(conn, report):
                _blobs(conn, home, report)
                _answers(conn, report)
                _outbox(conn, report)
    except Exception as exc:
        _fail(report, "schema", shown, Said("cannot be read: {error}", error=exc))
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
            Said("database"),
            Said("holds no resotrack schema: run `resotrack init`, or restore a backup"),
        )
        return False
    if revision != head:
        if revision in known_revisions():
            said = Said(
                "schema revision {revision}; run `resotrack init` to upgrade it to {head}",
                revision=revision,
                head=head,
            )
        else:
            said = Said(
                "schema revision {revision}; it is newer than this resotrack ({head}): install "
                "the newer version",
                revision=revision,
                head=head,
            )
        _fail(report, "schema", Said("database"), said)
        return False
    c = report.checks["schema"]
    c.ran, c.summary = True, Said("revision {revision} (current)", revision=revision)
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
        named = ", ".join(owners[:3])
        if len(owners) > 3:
            named = Said.n(
                "{owners} and {n} more", "{owners} and {n} more", len(owners) - 3, owners=named
            )
        needed = Said("needed by {owners}", owners=named)
        if not SHA256.fullmatch(sha):
            c.problems.append(
                Finding("blobs", owners[0], Said("names an invalid blob hash {sha}", sha=repr(sha)))
            )
            continue
        path = root / sha[:2] / sha[2:]
        if not path.is_file():
            c.problems.append(
                Finding(
                    "blobs",
                    blob_name(sha),
                    Said("missing from the blob store; {needed}", needed=needed),
                )
            )
            continue
        entry = hash_file(path)
        hashed += entry.size
        if entry.sha256 != sha:
            c.problems.append(
                Finding(
                    "blobs",
                    blob_name(sha),
                    Said(
                        "checksum mismatch (the file hashes to {sha}…); {needed}",
                        sha=entry.sha256[:12],
                        needed=needed,
                    ),
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
    c.summary = Said.n(
        "{present} of {n} referenced blob present and matching its SHA-256 ({files})",
        "{present} of {n} referenced blobs present and matching their SHA-256 ({files})",
        len(needs),
        present=len(needs) - bad,
        files=Said.n("{n} submission file", "{n} submission files", submissions),
    )
    if unreferenced:
        report.notes.append(
            Said.n(
                "{n} blob in the store is not referenced by any row (an upload that was never "
                "recorded, or one arriving now): harmless",
                "{n} blobs in the store are not referenced by any row (an upload that was "
                "never recorded, or one arriving now): harmless",
                unreferenced,
            )
        )
    if temp:
        report.notes.append(
            Said.n(
                "{n} temporary file of an interrupted write in the blob store (the "
                "collect_returns sweep removes it after an hour)",
                "{n} temporary files of interrupted writes in the blob store (the "
                "collect_returns sweep removes them after an hour)",
                temp,
            )
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
                Said("{entity} in cycle {cycle}", entity=entity, cycle=cycle),
                Said.n(
                    "{n} answer comes from no submission (answer {ids}); every answer must "
                    "come from a received file",
                    "{n} answers come from no submission (answer {ids}); every answer must "
                    "come from a received file",
                    len(ids),
                    ids=shown,
                ),
            )
        )
    for sid, n in sorted(dangling.items()):
        c.problems.append(
            Finding(
                "answers",
                Said("submission {submission}", submission=sid),
                Said.n(
                    "does not exist, yet {n} answer cites it",
                    "does not exist, yet {n} answers cite it",
                    n,
                ),
            )
        )
    for (sid, state, owner, in_cycle), n in sorted(wrong_state.items()):
        c.problems.append(
            Finding(
                "answers",
                Said(
                    "submission {submission} ({entity}, cycle {cycle})",
                    submission=sid,
                    entity=owner,
                    cycle=in_cycle,
                ),
                Said.n(
                    "is {state}, yet {n} answer comes from it; only accepted returns give answers",
                    "is {state}, yet {n} answers come from it; only accepted returns give answers",
                    n,
                    state=repr(state),
                ),
            )
        )
    for (sid, s_entity, s_cycle, entity, cycle), n in sorted(mismatched.items()):
        c.problems.append(
            Finding(
                "answers",
                Said(
                    "submission {submission} ({entity}, cycle {cycle})",
                    submission=sid,
                    entity=s_entity,
                    cycle=s_cycle,
                ),
                Said.n(
                    "{n} answer of {entity} in cycle {cycle} comes from it: another entity's "
                    "or cycle's file",
                    "{n} answers of {entity} in cycle {cycle} come from it: another entity's "
                    "or cycle's file",
                    n,
                    entity=entity,
                    cycle=cycle,
                ),
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
                Said(
                    "{entity} §{number} of {symbol}, cycle {cycle}",
                    entity=entity,
                    number=number,
                    symbol=symbol,
                    cycle=cycle,
                ),
                Said.n(
                    "{n} answer is marked current; exactly one must be",
                    "{n} answers are marked current; exactly one must be",
                    n,
                ),
            )
        )
    current = int(
        conn.execute(select(func.count()).select_from(a).where(a.current.is_(True))).scalar_one()
    )
    report.counts.update(answers=len(rows), answers_current=current)
    c.ran = True
    c.summary = (
        Said.n(
            "{n} answer ({current} current), from an accepted submission",
            "{n} answers ({current} current), each from an accepted submission",
            len(rows),
            current=current,
        )
        if not c.problems
        else Said.n("{n} answer checked", "{n} answers checked", len(rows))
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
        subject = Said(
            "outbox message {id} ({kind} to {to})", id=oid, kind=kind, to=", ".join(to or [])
        )
        why = f" ({error})" if error else ""
        if state == "sending":
            since = _aware(claimed)
            if since is not None and since < now - timedelta(seconds=lease):
                c.problems.append(
                    Finding(
                        "outbox",
                        subject,
                        Said(
                            "sending since {since} UTC, past the {lease} s lease: its worker "
                            "stopped; the next outbox run marks it uncertain",
                            since=f"{since:%Y-%m-%d %H:%M}",
                            lease=f"{lease:.0f}",
                        ),
                    )
                )
        elif state == "uncertain":
            c.problems.append(
                Finding(
                    "outbox",
                    subject,
                    Said(
                        "uncertain: it may or may not have reached the mail server{why}; staff "
                        "must check the relay log for its Message-ID, then confirm or resend it",
                        why=why,
                    ),
                )
            )
        elif state == "failed":
            c.problems.append(
                Finding(
                    "outbox",
                    subject,
                    Said.n(
                        "failed after {n} attempt{why}; fix the cause, then retry it",
                        "failed after {n} attempts{why}; fix the cause, then retry it",
                        attempts,
                        why=why,
                    ),
                )
            )
        else:
            when = _aware(due) or _aware(created)
            if when is not None and when < now - timedelta(seconds=grace):
                c.problems.append(
                    Finding(
                        "outbox",
                        subject,
                        Said(
                            "pending since {since} UTC, more than {hours} h past due: is "
                            "delivery running (the dispatch_questionnaires DAG)?",
                            since=f"{when:%Y-%m-%d %H:%M}",
                            hours=f"{grace / 3600:g}",
                        ),
                    )
                )
    report.counts.update({f"outbox_{state}": int(n) for state, n in sorted(by_state.items())})
    c.ran = True
    states = Said.listed(
        [
            Said("{state} {n}", state=OUTBOX_STATES.said(state), n=n)
            for state, n in sorted(by_state.items())
        ]
    )
    c.summary = Said.n(
        "{n} stuck message ({states})",
        "{n} stuck messages ({states})",
        len(c.problems),
        states=states or Said("empty"),
    )
