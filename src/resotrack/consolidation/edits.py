"""Staff's edits of a Word draft, taken back into resotrack so the next build keeps them.

Staff download a build's Word draft, rewrite what they want inside its marked blocks (the
introduction, each paragraph's synthesis, the conclusions, the recommendations) and give the
file back (``resotrack reports edits import BUILD FILE``). For each block whose text differs
from what the draft showed, staff's text is kept (``ReportEdit``) with who, when, and the text
the builder had generated; a block set back to the generated text drops the edit. The next
build shows staff's text, and flags it with a comment when the generated text has changed
since (:meth:`resotrack.consolidation.report_docx._Doc.end_block`).

The file must be the draft of the build named (its core properties say which), with all its
blocks; anything else is refused with the reason, and nothing is stored. Importing the same
file twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from resotrack import audit, clock
from resotrack.consolidation.drafts import (
    DraftUnreadable,
    Para,
    as_json,
    parse_identifier,
    plain,
    read_draft,
    same,
)
from resotrack.consolidation.models import ReportBuild, ReportEdit
from resotrack.store.db import session_scope


class EditError(ValueError):
    """An uploaded draft that cannot be taken; ``message`` is a message id of the ``cli``
    domain and ``values`` its fields."""

    def __init__(self, message: str, **values: Any) -> None:
        super().__init__(message.format(**values))
        self.message = message
        self.values = values


@dataclass
class ImportResult:
    """What an import changed, by block key (JSON-ready)."""

    build_id: int
    cycle_id: int
    resolution: str
    language: str
    edited: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.edited or self.restored)

    def as_dict(self) -> dict[str, Any]:
        return {
            "build_id": self.build_id,
            "cycle_id": self.cycle_id,
            "resolution": self.resolution,
            "language": self.language,
            "edited": self.edited,
            "restored": self.restored,
            "unchanged": self.unchanged,
        }


def _which_build(session: Session, cycle_id: int, digest: str) -> ReportBuild | None:
    for build in session.scalars(
        select(ReportBuild).where(ReportBuild.cycle_id == cycle_id).order_by(ReportBuild.id)
    ):
        if digest in (build.summary.get("drafts") or {}).values():
            return build
    return None


def import_edits(build_id: int, data: bytes, *, actor: str, url: str | None = None) -> ImportResult:
    """Keep staff's text for each block of ``data`` (a draft of ``build_id``) they changed.

    Raises :class:`EditError` (nothing stored) for a file that is not a readable Word
    document, not a draft of this build, or lacks one of its blocks.
    """
    from resotrack.consolidation.builds import build_blocks

    try:
        draft = read_draft(data)
    except DraftUnreadable as exc:
        raise EditError(exc.reason, **exc.values) from exc
    fields = parse_identifier(draft.identifier)
    if fields is None:
        raise EditError(
            "This Word document is not a report draft made by resotrack "
            "(download the build's report, edit it, and import that file)."
        )
    with session_scope(url) as session:
        build = session.get(ReportBuild, build_id)
        if build is None:
            raise EditError("There is no report build {build}.", build=build_id)
        drafts = build.summary.get("drafts") or {}
        symbol = fields["resolution"]
        if drafts.get(symbol) != fields["draft"]:
            other = (
                _which_build(session, build.cycle_id, fields["draft"])
                if str(build.cycle_id) == fields["cycle"]
                else None
            )
            if other is not None:
                raise EditError(
                    "This draft comes from build {other} (version {version}), not from build "
                    "{build}: import it with build {other}.",
                    other=other.id,
                    version=other.version,
                    build=build.id,
                )
            raise EditError(
                "This draft is not one of build {build}'s reports: download build {build}'s "
                "report and edit that one.",
                build=build.id,
            )
        blocks = build_blocks(build).get(symbol, {})
        missing = [key for key in blocks if key not in draft.blocks]
        if missing:
            raise EditError(
                "Passages of the draft are missing ({keys}): they may have been deleted. "
                "Put them back (an empty passage is fine) and import again.",
                keys=", ".join(missing),
            )
        language = str(build.summary.get("language") or "en")
        result = ImportResult(build.id, build.cycle_id, symbol, language)
        existing = {
            row.block: row
            for row in session.scalars(
                select(ReportEdit).where(
                    ReportEdit.cycle_id == build.cycle_id,
                    ReportEdit.resolution_symbol == symbol,
                    ReportEdit.language == language,
                )
            )
        }
        for key, shown in blocks.items():
            paragraphs = [p for p in draft.blocks[key] if p.text]
            text = plain(paragraphs)
            row = existing.get(key)
            if same(text, str(shown["shown"])):
                result.unchanged += 1
            elif same(text, str(shown["generated"])):
                if row is None:
                    result.unchanged += 1
                    continue
                session.delete(row)
                audit.record(
                    session,
                    actor,
                    "report.edit_dropped",
                    f"report_build:{build.id}",
                    block=key,
                    resolution=symbol,
                    previous=row.text,
                )
                result.restored.append(key)
            elif row is not None and same(text, row.text):
                result.unchanged += 1
            else:
                _keep(session, build, symbol, language, key, paragraphs, shown, row, actor)
                result.edited.append(key)
    return result


def _keep(
    session: Session,
    build: ReportBuild,
    symbol: str,
    language: str,
    key: str,
    paragraphs: list[Para],
    shown: dict[str, Any],
    row: ReportEdit | None,
    actor: str,
) -> None:
    text = plain(paragraphs)
    previous = row.text if row is not None else None
    if row is None:
        row = ReportEdit(
            cycle_id=build.cycle_id,
            resolution_symbol=symbol,
            language=language,
            block=key,
        )
        session.add(row)
    row.paragraphs = as_json(paragraphs)
    row.text = text
    row.replaced = str(shown["generated"])
    row.build_id = build.id
    row.edited_by = actor
    row.edited_at = clock.now()
    session.flush()
    audit.record(
        session,
        actor,
        "report.edited",
        f"report_build:{build.id}",
        block=key,
        resolution=symbol,
        previous=previous,
    )


def list_edits(session: Session, cycle_id: int) -> list[ReportEdit]:
    """Every block staff rewrote in ``cycle_id``'s drafts."""
    return list(
        session.scalars(
            select(ReportEdit)
            .where(ReportEdit.cycle_id == cycle_id)
            .order_by(ReportEdit.resolution_symbol, ReportEdit.language, ReportEdit.block)
        )
    )
