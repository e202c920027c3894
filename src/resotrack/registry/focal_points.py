"""Importing focal points from the CSV the Secretariat keeps: every row good, or nothing changes."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from resotrack import audit
from resotrack.catalog import LANGUAGES
from resotrack.registry.models import FocalPoint, ReportingEntity

MAX_CSV_BYTES = 5 * 1024 * 1024
COLUMNS = ("entity", "name", "email", "language", "role")
HEADER_ALIASES = {
    "entity": "entity",
    "entity code": "entity",
    "entity_code": "entity",
    "code": "entity",
    "name": "name",
    "email": "email",
    "e-mail": "email",
    "language": "language",
    "lang": "language",
    "role": "role",
}
ROLES = {
    "focal point": "focal_point",
    "focal_point": "focal_point",
    "point focal": "focal_point",
    "permanent mission": "permanent_mission",
    "permanent_mission": "permanent_mission",
    "mission permanente": "permanent_mission",
    "cc": "cc",
    "copy": "cc",
}


class FocalPointImportError(ValueError):
    """The file was refused whole; ``problems`` names every bad line by number."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            f"{source} was not imported ({len(problems)} problem"
            f"{'s' if len(problems) != 1 else ''}; nothing was changed):\n  "
            + "\n  ".join(problems)
        )


@dataclass(frozen=True)
class FocalPointRow:
    line: int
    entity: str
    name: str
    email: str
    language: str
    role: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.entity, self.email.lower(), self.role)


@dataclass(frozen=True)
class FocalPointImport:
    added: int
    updated: int
    unchanged: int
    deactivated: int

    def describe(self) -> str:
        return (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.deactivated} deactivated"
        )


def _has_control_chars(value: str) -> bool:
    return any(
        unicodedata.category(ch) in {"Cc", "Cf"} and ch not in "\u200f\u200e" for ch in value
    )


def read_focal_points(data: bytes, source: str, known_entities: set[str]) -> list[FocalPointRow]:
    """Parse and check every row; raise with all problems at once rather than the first."""
    if len(data) > MAX_CSV_BYTES:
        raise FocalPointImportError(
            source, [f"the file is {len(data):,} bytes; the limit is {MAX_CSV_BYTES:,}"]
        )
    if b"\x00" in data:
        raise FocalPointImportError(
            source, ["the file is not CSV text (it holds binary data); export it as 'CSV UTF-8'"]
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FocalPointImportError(
            source,
            [f"the file is not UTF-8 text (byte {exc.start}); save it as 'CSV UTF-8' and retry"],
        ) from exc
    if not text.strip():
        raise FocalPointImportError(source, ["the file is empty"])
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text.split("\n", 1)[0], delimiters=",;\t"
        )
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = [HEADER_ALIASES.get(h.strip().lower(), h.strip()) for h in next(reader)]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise FocalPointImportError(
            source,
            [f"line 1: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}"],
        )
    index = {c: header.index(c) for c in COLUMNS}
    rows: list[FocalPointRow] = []
    problems: list[str] = []
    first_line: dict[tuple[str, str, str], int] = {}
    # Codes are matched whatever their case, and kept as registered (``IsDB``, not ``ISDB``).
    registered = {code.upper(): code for code in known_entities}
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) < len(header):
            cells = cells + [""] * (len(header) - len(cells))
        value = {c: cells[i].strip() for c, i in index.items()}
        bad: list[str] = []
        entity = registered.get(value["entity"].upper(), value["entity"].upper())
        if entity not in known_entities:
            bad.append(f"unknown entity {value['entity']!r}")
        if not value["name"]:
            bad.append("the name is empty")
        elif len(value["name"]) > 200 or _has_control_chars(value["name"]):
            bad.append("the name is too long or holds control characters")
        try:
            email = validate_email(value["email"], check_deliverability=False).normalized
        except EmailNotValidError as exc:
            email = value["email"]
            bad.append(f"bad email {value['email']!r} ({exc})")
        language = value["language"].lower()
        if language not in LANGUAGES:
            bad.append(f"unknown language {value['language']!r} (use ar, en or fr)")
        role = ROLES.get(" ".join(value["role"].lower().replace("-", " ").split()))
        if role is None:
            bad.append(f"unknown role {value['role']!r} (use focal point, permanent mission or cc)")
        row = FocalPointRow(line, entity, value["name"], email, language, role or "")
        if not bad and row.key in first_line:
            bad.append(f"duplicate of line {first_line[row.key]}")
        if bad:
            problems.append(f"line {line}: " + "; ".join(bad))
        else:
            first_line[row.key] = line
            rows.append(row)
    if problems:
        raise FocalPointImportError(source, problems)
    if not rows:
        raise FocalPointImportError(source, ["the file has a header but no focal points"])
    return rows


def import_focal_points(
    session: Session, path: Path, *, replace: bool = False, actor: str = "cli"
) -> FocalPointImport:
    """Upsert by (entity, email, role). With ``replace``, active people absent from the file
    are deactivated (never deleted: their history stays). Re-importing a file changes nothing.
    """
    known = set(session.scalars(select(ReportingEntity.code)))
    rows = read_focal_points(path.read_bytes(), path.name, known)
    existing = {
        (fp.entity_code, fp.email.lower(), fp.role): fp
        for fp in session.scalars(select(FocalPoint))
    }
    added = updated = unchanged = deactivated = 0
    for row in rows:
        fp = existing.get(row.key)
        if fp is None:
            session.add(
                FocalPoint(
                    entity_code=row.entity,
                    name=row.name,
                    email=row.email,
                    language=row.language,
                    role=row.role,
                    active=True,
                )
            )
            added += 1
        elif (fp.name, fp.language, fp.active) != (row.name, row.language, True):
            fp.name, fp.language, fp.active = row.name, row.language, True
            updated += 1
        else:
            unchanged += 1
    if replace:
        keys = {row.key for row in rows}
        for key, fp in existing.items():
            if fp.active and key not in keys:
                fp.active = False
                deactivated += 1
    result = FocalPointImport(added, updated, unchanged, deactivated)
    if added or updated or deactivated:
        audit.record(session, actor, "focal_points.imported", path.name, result=result.describe())
    return result


def active_focal_points(
    session: Session, entities: str | Iterable[str] | None = None, *, email: str | None = None
) -> list[FocalPoint]:
    """The active focal points (every role), oldest first: of one entity (a code), of several
    (an iterable of codes) or of all (``None``); with only this address if ``email`` is given,
    compared case-insensitively (an empty address matches nobody)."""
    query = select(FocalPoint).where(FocalPoint.active.is_(True))
    if isinstance(entities, str):
        query = query.where(FocalPoint.entity_code == entities)
    elif entities is not None:
        query = query.where(FocalPoint.entity_code.in_(list(entities)))
    if email is not None:
        address = email.strip().lower()
        if not address:
            return []
        query = query.where(func.lower(FocalPoint.email) == address)
    return list(session.scalars(query.order_by(FocalPoint.id)))
