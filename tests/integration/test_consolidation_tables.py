"""The implementation tables equal values computed by hand.

On the scripted cycle (seed 004 × 57 member states, see ``test_consolidation_support``), on
SQLite and PostgreSQL: the matrix, the per-paragraph and per-entity tables and the roll-ups
are recomputed here with plain loops over what the script wrote, never with pandas, and
compared cell by cell. Counts include the entities that never replied. A few pure tests on
hand-made snapshots need no database at all.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
import pytest

from resotrack.consolidation.snapshot import Snapshot, load_snapshot, snapshot_from_rows
from resotrack.consolidation.tables import (
    NO_REPLY,
    NOT_ASKED,
    STATUS_COLUMNS,
    Tables,
    compute,
    for_resolution,
)
from resotrack.questionnaires import STATUSES
from resotrack.store import session_scope
from support.consolidation_world import HYPERLINK, SYMBOL, Script, scripted_fixture  # noqa: F401


@pytest.fixture
def tables(scripted: Script) -> Tables:
    with session_scope() as session:
        snapshot = load_snapshot(session, scripted.cycle_id)
    return compute(snapshot)


def _asked(script: Script) -> dict[int, list[str]]:
    by_paragraph: dict[int, list[str]] = {}
    for code, numbers in script.rows.items():
        for number in numbers:
            by_paragraph.setdefault(number, []).append(code)
    return by_paragraph


def test_the_matrix_holds_each_cell_by_hand(scripted: Script, tables: Tables) -> None:
    matrix = tables.matrix
    asked = _asked(scripted)
    assert list(matrix.columns) == sorted(scripted.rows)  # every entity asked, replied or not
    assert list(matrix.index) == [(SYMBOL, n) for n in sorted(asked)]
    for number, codes in asked.items():
        for code in scripted.codes:
            expected = (
                scripted.current.get((code, number), NO_REPLY) if code in codes else NOT_ASKED
            )
            assert matrix.loc[(SYMBOL, number), code] == expected, (number, code)
    # The kinds, spelled out once for a reader: nothing / sent back count as no reply.
    by_kind = {k: next(c for c in scripted.codes if scripted.kinds[c] == k) for k in range(6)}
    first = min(asked)
    assert matrix.loc[(SYMBOL, first), by_kind[0]] == NO_REPLY
    assert matrix.loc[(SYMBOL, first), by_kind[5]] == NO_REPLY
    assert matrix.loc[(SYMBOL, first), by_kind[1]] in STATUSES
    assert set(matrix.to_numpy().ravel()) <= {*STATUSES, NO_REPLY, NOT_ASKED}


def test_per_paragraph_counts_rates_and_statuses(scripted: Script, tables: Tables) -> None:
    table = tables.paragraphs.set_index("number")
    asked = _asked(scripted)
    assert sorted(table.index) == sorted(scripted.sections)  # every paragraph, asked or not
    for number in scripted.sections:
        codes = asked.get(number, [])
        statuses = Counter(
            scripted.current[(c, number)] for c in codes if (c, number) in scripted.current
        )
        row = table.loc[number]
        assert row["asked"] == len(codes)
        assert row["replied"] == sum(statuses.values())
        assert row[NO_REPLY] == len(codes) - sum(statuses.values())
        for status in STATUSES:
            assert row[status] == statuses[status], (number, status)
        if codes:
            assert row["rate"] == pytest.approx(sum(statuses.values()) / len(codes))
        else:
            assert pd.isna(row["rate"])  # nobody was asked: no rate, not 0 %
    # 57 states asked on each member-state paragraph; 5 kinds out of 6 never count fully.
    some = min(asked)
    assert table.loc[some, "asked"] == 57


def test_per_entity_return_timeliness_completeness_versions(
    scripted: Script, tables: Tables
) -> None:
    table = tables.entities.set_index("entity")
    end_of_deadline = datetime.combine(scripted.deadline + timedelta(days=1), time(0), tzinfo=UTC)
    assert sorted(table.index) == sorted(scripted.rows)
    for code in scripted.codes:
        kind = scripted.kinds[code]
        row = table.loc[code]
        rows = scripted.rows[code]
        answered = [scripted.current[(code, n)] for n in rows if (code, n) in scripted.current]
        informative = sum(1 for s in answered if s != "no_information")
        returned = kind in (1, 2, 3, 4)
        versions = {0: 0, 1: 1, 2: 2, 3: 1, 4: 1, 5: 1}[kind]
        assert bool(row["returned"]) is returned, code
        assert bool(row["on_time"]) is (kind in (1, 2, 4)), code
        assert row["rows"] == len(rows)
        assert row["replied"] == len(answered)
        assert row["completeness"] == pytest.approx(informative / len(rows))
        assert row["versions"] == versions, code
        received = scripted.received[code]
        if received:
            assert row["last_submission_at"] == pd.Timestamp(max(received))
        else:
            assert pd.isna(row["last_submission_at"])
        if kind == 3:  # 00:00:00 the next day: late, by one second
            assert row["first_return_at"] == pd.Timestamp(end_of_deadline)
        if kind == 4:  # 23:59:59 on the deadline day: on time, with rows missing
            assert row["first_return_at"] < pd.Timestamp(end_of_deadline)
            assert row["replied"] < row["rows"]
    assert tables.summary["entities_asked"] == 57
    assert tables.summary["entities_returned"] == sum(
        1 for c in scripted.codes if scripted.kinds[c] in (1, 2, 3, 4)
    )
    assert tables.summary["entities_on_time"] == sum(
        1 for c in scripted.codes if scripted.kinds[c] in (1, 2, 4)
    )


def _rollup_by_hand(
    script: Script, key_of: dict[int, set[str]]
) -> tuple[Counter[str], dict[str, Counter[str]]]:
    paragraphs: Counter[str] = Counter()
    for keys in key_of.values():
        for key in keys:
            paragraphs[key] += 1
    cells: dict[str, Counter[str]] = {}
    for code, numbers in script.rows.items():
        for number in numbers:
            status = script.current.get((code, number), NO_REPLY)
            for key in key_of[number]:
                cells.setdefault(key, Counter())[status] += 1
    return paragraphs, cells


def test_rollups_by_section_and_addressee_class(scripted: Script, tables: Tables) -> None:
    sections = {n: {letter} for n, letter in scripted.sections.items()}
    for name, frame, key, key_of in (
        ("section", tables.sections, "section", sections),
        ("addressee", tables.addressees, "addressee", scripted.classes),
    ):
        paragraphs, cells = _rollup_by_hand(scripted, key_of)
        indexed = frame.set_index(key)
        assert sorted(indexed.index) == sorted(paragraphs), name
        for value in paragraphs:
            row = indexed.loc[value]
            counts = cells.get(value, Counter())
            expected = sum(counts.values())
            replied = expected - counts[NO_REPLY]
            assert row["paragraphs"] == paragraphs[value], (name, value)
            assert row["cells"] == expected, (name, value)
            assert row["replied"] == replied, (name, value)
            for status in STATUS_COLUMNS:
                assert row[status] == counts[status], (name, value, status)
            if expected:
                assert row["rate"] == pytest.approx(replied / expected)
    # Sections partition the cells: their totals are the cycle's.
    assert tables.sections["cells"].sum() == sum(len(r) for r in scripted.rows.values())
    assert list(tables.sections["section"]) == ["A", "B", "C", "D", "E", "F"]


def test_narrative_quotes_every_counting_measure(scripted: Script, tables: Tables) -> None:
    narrative = tables.narrative
    got = {(row.entity, int(row.number)): row.measures for row in narrative.itertuples(index=False)}
    assert got == scripted.measures
    assert (
        got[(scripted.hyperlink_entity, min(n for c, n in got if c == scripted.hyperlink_entity))]
        == HYPERLINK
    )
    numbers = list(narrative["number"])
    assert numbers == sorted(numbers)  # in the resolution's order, ready to quote
    assert set(narrative["section"]) <= set("ABCDEF")


def test_snapshot_round_trip_and_hashes(scripted: Script) -> None:
    with session_scope() as session:
        first = load_snapshot(session, scripted.cycle_id)
        again = load_snapshot(session, scripted.cycle_id)
    assert first.to_bytes() == again.to_bytes()  # canonical: same data, same bytes
    # Who owes a return is the reminders' list, kept with the snapshot: nothing, or sent back.
    owing = sorted(c for c in scripted.codes if scripted.kinds[c] in (0, 5))
    assert first.cycle["non_reporting"] == owing
    copy = Snapshot.from_bytes(first.to_bytes())
    assert copy.sha256 == first.sha256 and copy.answers_sha256 == first.answers_sha256
    a, b = compute(first), compute(copy)
    pd.testing.assert_frame_equal(a.matrix, b.matrix)
    pd.testing.assert_frame_equal(a.entities, b.entities)
    pd.testing.assert_frame_equal(a.sections, b.sections)


# --- pure: no database -------------------------------------------------------------------


def _tiny(**changes: object) -> Snapshot:
    """Two paragraphs (A1 for MS, B2 for MS and SG), three entities; GBR never replies."""
    base: dict[str, object] = {
        "cycle": {
            "id": 7,
            "title": "tiny",
            "deadline": "2030-06-30",
            "state": "open",
            "opened_at": "2030-05-01T09:00:00+00:00",
            "dispatched_at": "2030-05-02T09:00:00+00:00",
        },
        "resolutions": [{"symbol": "R/1", "language": "en", "sections": [["A", "a"], ["B", "b"]]}],
        "paragraphs": [
            ("R/1", 1, "A", "first", "MS", "URGES"),
            ("R/1", 2, "B", "second", "MS,SG", "REQUESTS"),
            ("R/1", 3, "B", "third", "NONE", "WELCOMES"),
        ],
        "entities": [
            ("FRA", "member_state", "France", "France", "فرنسا", "fr"),
            ("GBR", "member_state", "UK", "Royaume-Uni", "المملكة المتحدة", "en"),
            ("SG", "secretariat", "General Secretariat", "Secrétariat", "الأمانة", "ar"),
        ],
        "asked": [("FRA", "R/1", 1), ("FRA", "R/1", 2), ("GBR", "R/1", 1), ("GBR", "R/1", 2),
                  ("SG", "R/1", 2)],
        "submissions": [
            (1, "FRA", "accepted", "2030-06-30T23:59:59+00:00"),
            (2, "SG", "accepted", "2030-07-01T00:00:00+00:00"),
            (3, "GBR", "refused", "2030-06-01T08:00:00+00:00"),
        ],
        "answers": [
            ("FRA", "R/1", 1, "fully_implemented", "Law 12 adopted", None, None, None, None,
             None, 1),
            ("FRA", "R/1", 2, "no_information", "  ", None, None, None, None, None, 1),
            ("SG", "R/1", 2, "in_progress", "Study launched", None, None, None, None, None, 2),
        ],
    }  # fmt: skip
    base.update(changes)
    return snapshot_from_rows(**base)  # type: ignore[arg-type]


def test_tiny_cycle_by_hand() -> None:
    t = compute(_tiny())
    assert t.matrix.to_dict(orient="index") == {
        ("R/1", 1): {"FRA": "fully_implemented", "GBR": NO_REPLY, "SG": NOT_ASKED},
        ("R/1", 2): {"FRA": "no_information", "GBR": NO_REPLY, "SG": "in_progress"},
    }
    p = t.paragraphs.set_index("number")
    assert list(p["asked"]) == [2, 3, 0] and list(p["replied"]) == [1, 2, 0]
    assert p.loc[2, "rate"] == pytest.approx(2 / 3) and pd.isna(p.loc[3, "rate"])
    e = t.entities.set_index("entity")
    assert list(e["returned"]) == [True, False, True]
    assert list(e["on_time"]) == [True, False, False]  # SG: one second late
    assert list(e["completeness"]) == [0.5, 0.0, 1.0]
    assert list(e["versions"]) == [1, 0, 1]  # a refused file is not a version
    assert e.loc["GBR", "last_submission_at"] == pd.Timestamp("2030-06-01T08:00:00+00:00")
    a = t.addressees.set_index("addressee")
    assert a.loc["MS", "paragraphs"] == 2 and a.loc["MS", "cells"] == 5
    assert a.loc["SG", "paragraphs"] == 1 and a.loc["SG", "cells"] == 3
    assert a.loc["NONE", "paragraphs"] == 1 and a.loc["NONE", "cells"] == 0
    s = t.sections.set_index("section")
    assert list(s["paragraphs"]) == [1, 2] and list(s["cells"]) == [2, 3]
    assert list(t.narrative["measures"]) == ["Law 12 adopted", "Study launched"]  # blank: none
    assert t.heat.loc["FRA", ("R/1", "A")] == 1.0 and pd.isna(t.heat.loc["FRA", ("R/1", "B")])
    assert t.curve["day"].iloc[0] == date(2030, 5, 2)
    assert list(t.curve["returned"])[-1] == 2


def test_a_return_sent_back_counts_as_no_reply() -> None:
    t = compute(
        _tiny(
            submissions=[
                (1, "FRA", "correction_requested", "2030-06-30T23:59:59+00:00"),
                (2, "SG", "accepted", "2030-07-01T00:00:00+00:00"),
            ]
        )
    )
    assert t.matrix.loc[("R/1", 1), "FRA"] == NO_REPLY
    e = t.entities.set_index("entity")
    assert not e.loc["FRA", "returned"] and e.loc["FRA", "versions"] == 1
    assert t.summary["entities_returned"] == 1


def test_an_empty_cycle_still_makes_tables() -> None:
    t = compute(_tiny(asked=[], submissions=[], answers=[]))
    assert t.matrix.empty and t.entities.empty and t.narrative.empty
    assert list(t.paragraphs["asked"]) == [0, 0, 0]
    assert t.summary["response_rate"] is None


def test_for_resolution_keeps_its_entities() -> None:
    t = for_resolution(compute(_tiny()), "R/1")
    assert sorted(t.entities["entity"]) == ["FRA", "GBR", "SG"]
    assert t.summary["entities_returned"] == 2
