"""Time that is true: a return is late when it was received after the deadline, on the clock
every process reads, and the demo's simulated days move that clock (``RESOTRACK_CLOCK_FILE``).

A return received through :func:`record_submission` (what the portal, the drop folder and IMAP
call) while the clock file says two days after the deadline is stamped that day, and the
report's method section names its entity among the returns received after the deadline.
"""

from __future__ import annotations

import zipfile
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest

from resotrack import clock
from resotrack.consolidation.builds import render_draft
from resotrack.consolidation.snapshot import load_snapshot
from resotrack.consolidation.tables import compute
from resotrack.intake.receive import StoredFile, record_submission
from resotrack.registry.grammar import display_name
from resotrack.store import session_scope
from resotrack.store.models import Answer, ReportingEntity
from test_consolidation_support import SYMBOL, Script, scripted_fixture  # noqa: F401

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def test_the_clock_file_moves_now_but_not_steady(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "clock"
    monkeypatch.setenv(clock.FILE_ENV, str(path))
    assert clock.moved_by() == timedelta(0)  # no file yet
    clock.move(path, timedelta(days=3))
    assert clock.moved_by() == timedelta(days=3)
    assert clock.now() - clock.steady() > timedelta(days=3) - timedelta(minutes=1)
    clock.move(path, timedelta(days=4))  # read again once it changed
    assert timedelta(days=4) - timedelta(minutes=1) < clock.now() - clock.steady()
    path.write_text("not a number\n")
    assert clock.moved_by() == timedelta(0)
    monkeypatch.delenv(clock.FILE_ENV)
    assert clock.moved_by() == timedelta(0)


def _method(docx: bytes) -> list[str]:
    """The method section's paragraphs, as text."""
    with zipfile.ZipFile(BytesIO(docx)) as z:
        from xml.etree import ElementTree as ET

        root = ET.fromstring(z.read("word/document.xml"))
    texts = ["".join(t.text or "" for t in p.iter(f"{W}t")) for p in root.iter(f"{W}p")]
    # The last "Method": the first is the table of contents' entry.
    start = len(texts) - 1 - texts[::-1].index("Method")
    end = texts.index("Overview of implementation", start)
    return texts[start:end]


def test_a_return_received_after_the_deadline_on_a_moved_clock_is_late(
    scripted: Script, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Kind 0 entities sent nothing: the second of them replies now, two days past the deadline.
    code = [c for c in scripted.codes if scripted.kinds[c] == 0][1]
    path = tmp_path / "clock-offset"
    monkeypatch.setenv(clock.FILE_ENV, str(path))
    clock.move(path, timedelta(days=(scripted.deadline - clock.today()).days + 2))
    assert clock.today() == scripted.deadline + timedelta(days=2)
    with session_scope() as session:
        receipt = record_submission(
            session,
            StoredFile("e" * 64, 10),
            channel="portal",
            original_name="late.xlsx",
            cycle_id=scripted.cycle_id,
            entity_code=code,
        )
        assert receipt.received_at.date() == scripted.deadline + timedelta(days=2)
        for number in scripted.rows[code]:
            session.add(
                Answer(
                    cycle_id=scripted.cycle_id,
                    entity_code=code,
                    resolution_symbol=SYMBOL,
                    paragraph_number=number,
                    submission_id=receipt.submission_id,
                    status="in_progress",
                    accepted_at=clock.now(),
                )
            )
        session.flush()
        from resotrack.store.models import Submission

        session.get(Submission, receipt.submission_id).state = "accepted"  # type: ignore[union-attr]
        name = display_name(session.get(ReportingEntity, code).name_en)  # type: ignore[union-attr]
    monkeypatch.delenv(clock.FILE_ENV)  # the build itself reads the real clock

    with session_scope() as session:
        snapshot = load_snapshot(session, scripted.cycle_id)
    row = compute(snapshot).entities.set_index("entity").loc[code]
    assert row["returned"] and not row["on_time"]

    draft = render_draft(snapshot, SYMBOL, clock.now(), language="en", charts=False)
    method = _method(draft.data)
    late = next(t for t in method if t.startswith("Received after the deadline:"))
    assert name in late
    # The scripted late entities (kind 3) are there too; an on-time one (kind 1) is not.
    kind3 = [c for c in scripted.codes if scripted.kinds[c] == 3]
    assert len(kind3) >= 1
    assert not any(t.startswith("No return was received from") and name in t for t in method)
