"""What a database holds, read the same way from a live system and from a snapshot.

The backup reads these facts inside its snapshot (rows per table, every blob a row points
to, the schema revision) and writes them in the manifest; the restore compares the restored
database with them; ``verify`` uses the same list of blob references. The list is the one
place that knows which columns name blobs: a stage that starts keeping files in the blob
store adds its column here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, func, inspect, select, table, text

from resotrack.consolidation.models import ReportBuild
from resotrack.intake.models import InboundMail
from resotrack.mail.models import OutboxMessage
from resotrack.questionnaires.models import Questionnaire
from resotrack.recovery.manifest import SHA256
from resotrack.validation.models import Submission


@dataclass(frozen=True)
class BlobRef:
    """A row that needs a blob: ``owner`` says which, in staff's words."""

    sha256: str
    owner: str
    kind: str  # submission | feedback | questionnaire | inbound_mail | report | attachment


def table_names(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


def table_counts(conn: Connection) -> dict[str, int]:
    """Rows per table (every table of the database, resotrack's or not)."""
    return {
        name: int(conn.execute(select(func.count()).select_from(table(name))).scalar_one())
        for name in sorted(table_names(conn))
    }


def alembic_revision(conn: Connection) -> str | None:
    if "alembic_version" not in table_names(conn):
        return None
    value = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return str(value) if value else None


@lru_cache(maxsize=1)
def _script() -> Any:
    from alembic.script import ScriptDirectory

    from resotrack.store import migrate

    return ScriptDirectory(str(migrate.MIGRATIONS))


def head_revision() -> str:
    """The schema revision this version of resotrack expects."""
    return str(_script().get_current_head())


def known_revisions() -> set[str]:
    return {str(r.revision) for r in _script().walk_revisions()}


def _shas(value: Any) -> Iterator[tuple[str, str]]:
    """(key, sha) for every ``*sha256`` key holding a digest, at any depth of a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and str(key).endswith("sha256") and SHA256.fullmatch(item):
                yield str(key), item
            else:
                yield from _shas(item)
    elif isinstance(value, list):
        for item in value:
            yield from _shas(item)


def blob_references(conn: Connection) -> Iterator[BlobRef]:
    """Every blob a row of this database points to (tables absent from an old schema skipped)."""
    present = table_names(conn)
    if Submission.__tablename__ in present:
        s = Submission
        for sid, entity, cycle, sha, report in conn.execute(
            select(s.id, s.entity_code, s.cycle_id, s.sha256, s.report).order_by(s.id)
        ):
            yield BlobRef(sha, f"submission {sid} ({entity or '?'}, cycle {cycle})", "submission")
            for _key, extra in _shas(report or {}):
                yield BlobRef(extra, f"feedback workbook of submission {sid}", "feedback")
    if Questionnaire.__tablename__ in present:
        q = Questionnaire
        for qid, entity, cycle, sha in conn.execute(
            select(q.id, q.entity_code, q.cycle_id, q.workbook_sha256)
            .where(q.workbook_sha256.is_not(None))
            .order_by(q.id)
        ):
            if sha:
                yield BlobRef(
                    sha, f"questionnaire {qid} ({entity}, cycle {cycle})", "questionnaire"
                )
    if InboundMail.__tablename__ in present:
        for mid, sha in conn.execute(
            select(InboundMail.id, InboundMail.raw_sha256).order_by(InboundMail.id)
        ):
            yield BlobRef(sha, f"inbound mail {mid}", "inbound_mail")
    if ReportBuild.__tablename__ in present:
        r = ReportBuild
        for bid, cycle, version, snapshot, outputs in conn.execute(
            select(r.id, r.cycle_id, r.version, r.snapshot_sha256, r.outputs).order_by(r.id)
        ):
            label = f"report build {bid} (cycle {cycle}, v{version})"
            yield BlobRef(snapshot, f"{label}: answers snapshot", "report")
            for name, sha in sorted((outputs or {}).items()):
                if isinstance(sha, str):
                    yield BlobRef(sha, f"{label}: {name}", "report")
    if OutboxMessage.__tablename__ in present:
        o = OutboxMessage
        for oid, attachments in conn.execute(select(o.id, o.attachments).order_by(o.id)):
            for item in attachments or []:
                if isinstance(item, dict) and isinstance(item.get("sha256"), str):
                    name = item.get("filename") or "?"
                    yield BlobRef(
                        item["sha256"], f"outbox message {oid}: attachment {name}", "attachment"
                    )


def referenced(conn: Connection) -> dict[str, list[str]]:
    """Blob → the owners that need it."""
    owners: dict[str, list[str]] = {}
    for ref in blob_references(conn):
        owners.setdefault(ref.sha256, []).append(ref.owner)
    return owners
