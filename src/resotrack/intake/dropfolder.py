"""The drop folder: workbooks that reached the Secretariat some other way (a USB stick, a fax
of a link, a forwarded mail) are put in ``<home>/inbox/returns/`` and collected on the sweep.

Each file is identified by its signed ``_meta`` sheet (read in a sandboxed reader, see
``identify``), received like any upload, then moved to ``done/``, or to ``failed/`` beside a
``.reason.txt`` saying why. A file that stops the sweep before it is decided is tried again at
most ``intake_max_tries`` times, then moved to ``failed/`` too (see ``attempts``).

The move happens only after the submission committed, so a crash in between makes the next
sweep find a duplicate and move the file then: nothing is received twice and nothing is lost.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from resotrack import clock
from resotrack.intake import attempts
from resotrack.intake.config import IntakeSettings, intake_settings
from resotrack.intake.owner import Unidentified, has_questionnaire, identify_workbook
from resotrack.intake.receive import TooLarge, announce, receive
from resotrack.intake.sniff import NotAWorkbook, sniff_workbook
from resotrack.store import session_scope

log = logging.getLogger(__name__)

SENDER = "drop folder"
CHANNEL = "dropfolder"


def _ready(path: Path, settle_seconds: float) -> bool:
    """A regular file that nobody is still copying (unchanged for ``settle_seconds``)."""
    if path.name.startswith((".", "~$")) or not path.is_file() or path.is_symlink():
        return False
    return path.stat().st_mtime <= clock.now().timestamp() - settle_seconds


def _move(path: Path, folder: Path, reason: str | None = None) -> Path:
    """Move ``path`` into ``folder`` under a timestamped name that never overwrites."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = clock.now().strftime("%Y%m%dT%H%M%S")
    target = folder / f"{stamp}-{path.name}"
    counter = 1
    while target.exists():
        target = folder / f"{stamp}-{counter}-{path.name}"
        counter += 1
    os.replace(path, target)
    if reason is not None:
        target.with_name(target.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")
    return target


def collect_returns(settings: IntakeSettings | None = None) -> list[dict[str, Any]]:
    """Receive every settled file in the drop folder; one summary per file handled."""
    settings = settings or intake_settings()
    inbox = settings.returns_inbox
    inbox.mkdir(parents=True, exist_ok=True)
    results: list[dict[str, Any]] = []
    for path in sorted(inbox.iterdir()):
        if path.is_symlink():
            _move(path, inbox / "failed", "a symbolic link: copy the file itself here")
            results.append({"file": path.name, "error": "symbolic link"})
            continue
        if not _ready(path, settings.returns_settle_seconds):
            continue
        stat = path.stat()
        item = f"{stat.st_size}|{stat.st_mtime_ns}|{path.name}"
        tries, last_error = attempts.begin(CHANNEL, item)
        error: str | None = None
        if tries > settings.intake_max_tries:
            error = attempts.gave_up(tries, last_error)
        else:
            try:
                results.append(_collect_one(path, settings))
            except (NotAWorkbook, TooLarge, Unidentified, PermissionError) as exc:
                error = str(exc)
            except Exception as exc:  # a bug or a lost database: try again, a few times
                log.exception("drop folder: %s could not be processed", path.name)
                attempts.failed(CHANNEL, item, f"{type(exc).__name__}: {exc}")
                results.append({"file": path.name, "error": str(exc), "tries": tries})
                continue
        if error is not None:
            moved = _move(path, inbox / "failed", error)
            log.warning("drop folder: %s refused: %s", path.name, error)
            results.append({"file": path.name, "error": error, "moved_to": moved.name})
        attempts.finish(CHANNEL, item)
    return results


def _collect_one(path: Path, settings: IntakeSettings) -> dict[str, Any]:
    if path.stat().st_size > settings.upload_max_bytes:
        raise TooLarge(settings.upload_max_bytes)
    data = path.read_bytes()
    with path.open("rb") as file:
        sniff_workbook(file)
    identity = identify_workbook(data)
    with session_scope() as session:
        if not has_questionnaire(session, identity.entity_code, identity.cycle_id):
            raise PermissionError(
                f"{identity.entity_code} has no open questionnaire in cycle {identity.cycle_id}"
            )
    receipt = receive(
        data,
        channel="dropfolder",
        original_name=path.name,
        cycle_id=identity.cycle_id,
        entity_code=identity.entity_code,
        sender=SENDER,
        max_bytes=settings.upload_max_bytes,
    )
    moved = _move(path, settings.returns_inbox / "done")
    announce(receipt)
    return {"file": path.name, "moved_to": moved.name, **receipt.as_dict()}
