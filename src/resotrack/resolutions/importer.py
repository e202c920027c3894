"""Storing parsed resolutions: same text twice changes nothing, a changed text is a new version."""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from resotrack import audit
from resotrack.catalog import LANGUAGES, Words
from resotrack.resolutions.document import Overrides, read_document
from resotrack.resolutions.errors import DOMAIN, ResolutionParseError
from resotrack.resolutions.model import ParsedResolution
from resotrack.resolutions.models import (
    Action,
    OperativeParagraph,
    Resolution,
    ResolutionVersion,
    Section,
)
from resotrack.resolutions.table import is_table, read_table
from resotrack.settings import get_settings
from resotrack.store import session_scope


@dataclass(frozen=True)
class ImportResult:
    """What an import did, for the CLI, the DAG summary and the drop-folder log."""

    source: str
    symbol: str | None
    version: int | None
    created: bool
    paragraphs: int
    error: str | None = None
    #: the refusal itself, to say it in the reader's language (``error`` is its English text)
    failure: ResolutionParseError | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        shape = asdict(replace(self, failure=None))
        del shape["failure"]
        return shape

    def describe(self) -> str:
        if self.error:
            return f"{self.source}: refused: {self.error}"
        if self.created:
            return (
                f"{self.source}: imported {self.symbol} version {self.version} "
                f"({self.paragraphs} operative paragraphs)"
            )
        return f"{self.source}: {self.symbol} version {self.version} unchanged (already imported)"


def store_parsed(
    session: Session, parsed: ParsedResolution, *, source_text: str, source: str, actor: str
) -> ImportResult:
    """Store ``parsed`` unless this exact text is already there; never touches older versions."""
    resolution = session.scalar(select(Resolution).where(Resolution.symbol == parsed.symbol))
    if resolution is None:
        resolution = Resolution(symbol=parsed.symbol)
        session.add(resolution)
        session.flush()
    else:
        existing = session.scalar(
            select(ResolutionVersion).where(
                ResolutionVersion.resolution_id == resolution.id,
                ResolutionVersion.text_sha256 == parsed.text_sha256,
            )
        )
        if existing is not None:
            return ImportResult(
                source, parsed.symbol, existing.version, False, len(parsed.paragraphs)
            )
    latest = session.scalar(
        select(func.max(ResolutionVersion.version)).where(
            ResolutionVersion.resolution_id == resolution.id
        )
    )
    version = ResolutionVersion(
        resolution_id=resolution.id,
        version=(latest or 0) + 1,
        text_sha256=parsed.text_sha256,
        source_text=source_text,
        source_name=source[:255],
        title=parsed.title,
        body=parsed.body,
        session=parsed.session,
        place=parsed.place,
        adopted_gregorian=parsed.adopted_gregorian,
        adopted_on=parsed.adopted_on,
        adopted_hijri=parsed.adopted_hijri,
        language=parsed.language,
        preamble=list(parsed.preamble),
        sections=[
            Section(letter=s.letter, title=s.title, position=i)
            for i, s in enumerate(parsed.sections)
        ],
        paragraphs=[
            OperativeParagraph(
                number=p.number,
                section_letter=p.section,
                text=p.text,
                actions=[
                    Action(
                        position=i,
                        verb=a.verb,
                        modifier=a.modifier,
                        canonical=a.action,
                        addressees=list(a.addressees),
                        institutions=list(a.institutions),
                    )
                    for i, a in enumerate(p.actions)
                ],
            )
            for p in parsed.paragraphs
        ],
    )
    session.add(version)
    session.flush()
    audit.record(
        session,
        actor,
        "resolution.imported",
        parsed.symbol,
        version=version.version,
        source=source,
        sha256=parsed.text_sha256,
    )
    from resotrack.resolutions.lineage import link_version
    from resotrack.resolutions.themes import tag_version

    link_version(session, version)
    tag_version(session, version)
    return ImportResult(source, parsed.symbol, version.version, True, len(parsed.paragraphs))


def import_path(
    path: Path,
    *,
    actor: str = "cli",
    url: str | None = None,
    overrides: Overrides | None = None,
) -> list[ImportResult]:
    """Import every resolution in one file (text, PDF, Word or a paragraph table).

    Each resolution is stored in its own transaction; one that cannot be parsed is reported
    (``error`` set, nothing stored for it) and the others are still imported.
    """
    options = overrides or Overrides()
    try:
        head = path.read_bytes()[:4096] if path.is_file() else b""
    except OSError:
        head = b""
    if is_table(path, head):
        table = read_table(
            path,
            symbol=options.symbol,
            language=options.language,
            title=options.title,
            adopted_on=options.adopted_on,
        )
        with session_scope(url) as session:
            return [
                store_parsed(
                    session,
                    table.parsed,
                    source_text=table.source_text,
                    source=path.name,
                    actor=actor,
                )
            ]
    document = read_document(path, max_bytes=get_settings().max_resolution_bytes, overrides=options)
    if not document.resolutions:
        document.raise_failures()
    results: list[ImportResult] = []
    for parsed, text in zip(document.resolutions, document.texts, strict=True):
        with session_scope(url) as session:
            results.append(
                store_parsed(session, parsed, source_text=text, source=path.name, actor=actor)
            )
    results += [
        ImportResult(path.name, None, None, False, 0, error=str(failure), failure=failure)
        for failure in document.failures
    ]
    return results


def import_file(
    path: Path, *, actor: str = "cli", url: str | None = None, overrides: Overrides | None = None
) -> ImportResult:
    """Parse and store a file holding one resolution; a parse error stores nothing."""
    results = import_path(path, actor=actor, url=url, overrides=overrides)
    failed = [result for result in results if result.error]
    if failed:
        parts = tuple(result.failure for result in failed if result.failure)
        if len(results) > len(failed):
            parts += (
                ResolutionParseError(
                    "{count} other resolutions of the file were imported",
                    count=len(results) - len(failed),
                ),
            )
        raise ResolutionParseError.gathered(parts)
    return results[0]


def import_inbox(*, actor: str = "drop-folder", url: str | None = None) -> list[ImportResult]:
    """Import every file dropped in ``inbox/resolutions/``; move each to ``done/`` or ``failed/``.

    A file is moved only after its transaction committed, so a crash in between at worst
    re-imports the same text next time, which changes nothing.
    """
    inbox = get_settings().resolutions_inbox
    inbox.mkdir(parents=True, exist_ok=True)
    results: list[ImportResult] = []
    for path in sorted(p for p in inbox.iterdir() if p.is_file() and not p.name.startswith(".")):
        try:
            found = import_path(path, actor=actor, url=url)
        except ResolutionParseError as exc:
            found = [ImportResult(path.name, None, None, False, 0, error=str(exc), failure=exc)]
        refused = [result for result in found if result.error]
        if refused:
            target = _move(path, inbox / "failed")
            target.with_name(target.name + ".error.txt").write_text(_refusals(refused), "utf-8")
        else:
            _move(path, inbox / "done")
        results.extend(found)
    return results


def _refusals(refused: list[ImportResult]) -> str:
    """What the failed folder says of a refused file, in each of the catalog's languages
    (whoever dropped it is not known): English first, then Arabic and French."""
    blocks = [[result.error or "" for result in refused]]
    for lang in LANGUAGES:
        if lang != "en":
            words = Words(lang, DOMAIN)
            blocks.append(
                [r.failure.said_in(words) if r.failure else r.error or "" for r in refused]
            )
    return "\n\n".join("\n".join(block) for block in blocks) + "\n"


def _move(path: Path, folder: Path) -> Path:
    """Move without overwriting an earlier file of the same name."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    n = 1
    while target.exists():
        target = folder / f"{path.stem}.{n}{path.suffix}"
        n += 1
    shutil.move(str(path), target)
    return target
