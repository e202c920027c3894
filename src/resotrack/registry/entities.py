"""Reporting entities: the 57 member states and the OIC institutions, shipped as package data."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources
from typing import Final

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from resotrack import audit
from resotrack.catalog import NP_, ValueNames
from resotrack.registry.models import ReportingEntity

#: What each kind of reporting entity is called.
ENTITY_KINDS: Final = ValueNames(
    "entity kind",
    {
        "member_state": NP_("entity kind", "member state"),
        "institution": NP_("entity kind", "institution"),
        "secretariat": NP_("entity kind", "secretariat"),
    },
)


@dataclass(frozen=True)
class ShippedEntity:
    code: str
    kind: str
    name_en: str
    name_fr: str
    name_ar: str
    acronym_en: str | None
    acronym_fr: str | None
    language: str


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("resotrack.registry.data").joinpath(name).read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def shipped_entities() -> list[ShippedEntity]:
    """Member states first, then institutions, as the package ships them."""
    states = [
        ShippedEntity(
            r["code"],
            "member_state",
            r["name_en"],
            r["name_fr"],
            r["name_ar"],
            None,
            None,
            r["language"],
        )
        for r in _rows("member_states.csv")
    ]
    institutions = [
        ShippedEntity(
            r["code"],
            "secretariat" if r["kind"] == "secretariat" else "institution",
            r["name_en"],
            r["name_fr"],
            r["name_ar"],
            r["acronym_en"] or None,
            r["acronym_fr"] or None,
            r["language"],
        )
        for r in _rows("institutions.csv")
    ]
    return states + institutions


def sync_entities(session: Session, *, actor: str = "init") -> int:
    """Insert or update the shipped entities; returns how many rows changed (0 on a re-run)."""
    existing = {e.code: e for e in session.scalars(select(ReportingEntity))}
    changed = 0
    for shipped in shipped_entities():
        values = {
            "kind": shipped.kind,
            "name_en": shipped.name_en,
            "name_fr": shipped.name_fr,
            "name_ar": shipped.name_ar,
            "acronym_en": shipped.acronym_en,
            "acronym_fr": shipped.acronym_fr,
            "language": shipped.language,
        }
        entity = existing.get(shipped.code)
        if entity is None:
            session.add(ReportingEntity(code=shipped.code, active=True, **values))
        elif any(getattr(entity, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(entity, key, value)
        else:
            continue
        changed += 1
    if changed:
        audit.record(session, actor, "registry.synced", "reporting_entity", changed=changed)
    return changed


def list_entities(session: Session, kind: str | None = None) -> list[ReportingEntity]:
    states_first = case((ReportingEntity.kind == "member_state", 0), else_=1)
    query = select(ReportingEntity).order_by(states_first, ReportingEntity.code)
    if kind:
        query = query.where(ReportingEntity.kind == kind)
    return list(session.scalars(query))
