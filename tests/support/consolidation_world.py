"""Shared set-up for the consolidation tests: a scripted cycle, helpers; no tests here.

``scripted_cycle`` opens seed 004 for the 57 member states on the ``db_url`` database and
writes submissions and answers by a script that covers every case the tables must count:

====  ==========================================================================
kind  what the entity did (kind = index of the entity in code order, modulo 6)
====  ==========================================================================
0     nothing (the first of them also sent a file that validation refused)
1     one accepted return, ten days before the deadline
2     two accepted versions; the second's answers are current
3     one accepted return at 00:00:00 UTC the day after the deadline (late)
4     accepted with warnings at 23:59:59 on the deadline day (on time), rows whose
      number is a multiple of 7 left unanswered
5     accepted, then sent back for correction (counts as no return)
====  ==========================================================================

The statuses follow ``STATUSES[(index + number) % 6]``; every fifth paragraph carries a
measure, and the first kind-1 entity's first measure is a ``=HYPERLINK(...)`` formula.
Tests compute their expectations from :class:`Script`, by hand, never with the code under test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from resotrack import clock
from resotrack.questionnaires import STATUSES
from resotrack.resolutions.models import OperativeParagraph
from resotrack.store import session_scope
from resotrack.validation.models import Submission
from support.world import SYMBOL, World

__all__ = ["HYPERLINK", "SECRETARIAT", "SYMBOL", "Script", "make_script_cycle", "scripted_fixture"]

HYPERLINK = '=HYPERLINK("http://evil.example/x","click me")'
SECRETARIAT = "follow-up@oic.example.org"


@dataclass
class Script:
    """What the script wrote, in plain Python, for hand-computed expectations."""

    cycle_id: int
    deadline: date
    codes: list[str]
    kinds: dict[str, int]
    index: dict[str, int]
    rows: dict[str, list[int]]  # entity -> paragraph numbers asked
    current: dict[tuple[str, int], str]  # (entity, number) -> status of counting answers
    measures: dict[tuple[str, int], str]
    received: dict[str, list[datetime]]  # every submission, any state
    sections: dict[int, str]  # number -> section letter, every paragraph of the resolution
    classes: dict[int, set[str]]  # number -> addressee classes as the roll-up counts them
    submission_of: dict[str, int] = field(default_factory=dict)  # the entity's latest
    hyperlink_entity: str = ""


def status_for(index: int, number: int, shift: int = 0) -> str:
    return STATUSES[(index + number + shift) % len(STATUSES)]


def _at(day: date, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=UTC)


class _Writer:
    """Adds submissions and answers, and notes in the script what should count."""

    def __init__(self, session: Session, script: Script) -> None:
        self.session = session
        self.script = script
        self.n = 0

    def submit(self, code: str, state: str, at: datetime) -> Submission:
        self.n += 1
        sub = World.add_return(
            self.session,
            self.script.cycle_id,
            code,
            received_at=at,
            sha256=f"{self.n:064d}",
            size=100,
            original_name=f"{self.script.cycle_id}-{code}.xlsx",
            state=state,
        )
        self.script.received[code].append(at)
        self.script.submission_of[code] = sub.id
        return sub

    def answer(
        self,
        code: str,
        sub: Submission,
        *,
        shift: int = 0,
        current: bool = True,
        skip7: bool = False,
    ) -> None:
        script = self.script
        kind, index = script.kinds[code], script.index[code]
        answers = []
        for number in script.rows[code]:
            if skip7 and number % 7 == 0:
                continue
            measure = None
            if number % 5 == 0:
                measure = f"{code} measure for paragraph {number}"
                if kind == 1 and current and script.hyperlink_entity in ("", code):
                    if not script.hyperlink_entity:
                        measure = HYPERLINK
                    script.hyperlink_entity = code
            status = status_for(index, number, shift)
            answers.append(
                {
                    "paragraph_number": number,
                    "current": current,
                    "status": status,
                    "measures": measure,
                }
            )
            if current and kind != 5:
                script.current[(code, number)] = status
                if measure:
                    script.measures[(code, number)] = measure
        World.add_answers(self.session, sub, answers)


def make_script_cycle(tmp_path: Path) -> Script:
    """Write the scripted cycle into the configured database."""
    World.register_entities()
    World.import_resolution()
    states = list(World.member_states())
    World.register_focal_points(tmp_path, [World.focal_line(c, "fr") for c in states])
    deadline = clock.today() + timedelta(days=60)
    cycle_id = World.open_cycle(states, deadline, dispatched_at=_at(deadline - timedelta(days=40)))
    rows = World.asked_in(cycle_id)
    with session_scope() as s:
        paragraphs = list(s.scalars(select(OperativeParagraph)))  # seed 004 only
        sections = {p.number: p.section_letter or "" for p in paragraphs}
        classes = {p.number: (set(p.addressees) - {"NONE"}) or {"NONE"} for p in paragraphs}

    script = Script(
        cycle_id=cycle_id,
        deadline=deadline,
        codes=states,
        kinds={},
        index={},
        rows=rows,
        current={},
        measures={},
        received={},
        sections=sections,
        classes=classes,
    )
    with session_scope() as s:
        writer = _Writer(s, script)
        for i, code in enumerate(states):
            kind = i % 6
            script.kinds[code] = kind
            script.index[code] = i
            script.received[code] = []
            day = deadline - timedelta(days=10)
            if kind == 0 and i == 0:
                writer.submit(code, "refused", _at(deadline - timedelta(days=12)))
            elif kind == 1:
                writer.answer(code, writer.submit(code, "accepted", _at(day, hour=i % 24)))
            elif kind == 2:
                first = writer.submit(code, "accepted", _at(deadline - timedelta(days=20)))
                writer.answer(code, first, shift=1, current=False)
                second = writer.submit(code, "accepted", _at(deadline - timedelta(days=5)))
                writer.answer(code, second)
            elif kind == 3:
                late = _at(deadline + timedelta(days=1), hour=0)
                writer.answer(code, writer.submit(code, "accepted", late))
            elif kind == 4:
                last_second = _at(deadline, 23, 59, 59)
                sub = writer.submit(code, "accepted_with_warnings", last_second)
                writer.answer(code, sub, skip7=True)
            elif kind == 5:
                sent_back = _at(deadline - timedelta(days=3))
                writer.answer(code, writer.submit(code, "correction_requested", sent_back))
    return script


@pytest.fixture(name="scripted")
def scripted_fixture(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Script:
    monkeypatch.setenv("RESOTRACK_MAIL_SECRETARIAT", SECRETARIAT)
    return make_script_cycle(tmp_path)
