"""Time that is true: a return is late when it was received after the deadline, on the clock
every process reads, and the demo's simulated days move that clock (``RESOTRACK_CLOCK_FILE``).

A return received through :func:`record_submission` (what the portal, the drop folder and IMAP
call) while the clock file says two days after the deadline is stamped that day, and the
report's method section names its entity among the returns received after the deadline.
"""

from __future__ import annotations

import re
import zipfile
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import select

from resotrack import clock
from resotrack.consolidation.builds import render_draft
from resotrack.consolidation.snapshot import load_snapshot
from resotrack.consolidation.tables import compute
from resotrack.intake.receive import StoredFile, record_submission
from resotrack.registry.grammar import display_name
from resotrack.registry.models import ReportingEntity
from resotrack.store import session_scope
from resotrack.validation.models import Answer, Submission
from support.consolidation_world import SYMBOL, Script, scripted_fixture  # noqa: F401

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _listed(paragraphs: list[str], lead: str) -> set[str]:
    """The names a sentence "<lead>A, B and C." lists."""
    text = next(t for t in paragraphs if t.startswith(lead))
    return set(re.split(r", | and ", text.removeprefix(lead).removesuffix(".")))


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


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the intake is tested on both
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
        submission = session.get(Submission, receipt.submission_id)
        assert submission is not None
        submission.state = "accepted"
        names = {e.code: display_name(e.name_en) for e in session.scalars(select(ReportingEntity))}

    with session_scope() as session:
        snapshot = load_snapshot(session, scripted.cycle_id)
    row = compute(snapshot).entities.set_index("entity").loc[code]
    assert row["returned"] and not row["on_time"]

    # Built on the moved clock too, as the demo's consolidation is.
    draft = render_draft(snapshot, SYMBOL, clock.now(), language="en", charts=False)
    method = _method(draft.data)
    late = _listed(method, "Received after the deadline: ")
    missing = _listed(method, "No return was received from: ")
    assert names[code] in late and names[code] not in missing
    # The script's late returns (kind 3) are listed with it; its on-time ones (kind 1) are not.
    for other in scripted.codes:
        if scripted.kinds[other] == 3:
            assert names[other] in late
        elif scripted.kinds[other] == 1:
            assert names[other] not in late


def test_the_demo_moves_the_clock_its_processes_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each simulated day is written where every demo process (portal, ingest) reads it."""
    from resotrack.demo.days import Calendar
    from resotrack.demo.stack import Credentials, Layout, environment

    layout = Layout(home=tmp_path / "var", api_port=29080, smtp_port=29025)
    env = environment(layout, Credentials("p", "j", "s"))
    assert env[clock.FILE_ENV] == str(layout.clock_file)
    monkeypatch.setenv(clock.FILE_ENV, env[clock.FILE_ENV])
    start = clock.today()
    calendar = Calendar(layout.clock_file, start, timedelta(days=2))  # a second run goes on
    calendar.move_to(5)
    assert clock.moved_by() == timedelta(days=7)
    assert calendar.day(5) == (5, start + timedelta(days=5))
