"""Storing resolutions and routing them: idempotent imports, versions, staff overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import SEED_000, SEED_004
from resotrack.registry import sync_entities
from resotrack.resolutions import ResolutionParseError, import_file, import_inbox
from resotrack.resolutions.models import (
    Action,
    OperativeParagraph,
    Resolution,
    ResolutionVersion,
    RoutingOverride,
)
from resotrack.resolutions.queries import ResolutionNotFound, get_resolution
from resotrack.resolutions.routing import (
    RoutingError,
    export_routing,
    import_routing,
    routing_for,
)
from resotrack.settings import get_settings
from resotrack.store import session_scope

SYMBOL_004 = "OIC/MCSD-2/2023/RES/FINAL"


def _count(model: type) -> int:
    with session_scope() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def entities(db_url: str) -> str:
    with session_scope() as s:
        sync_entities(s)
    return db_url


def test_import_stores_paragraphs_actions_and_is_idempotent(db_url: str, shared_dir: Path) -> None:
    first = import_file(SEED_004)
    again = import_file(SEED_004)
    assert (first.created, first.version, first.paragraphs) == (True, 1, 137)
    assert (again.created, again.version) == (False, 1)
    assert _count(Resolution) == 1 and _count(ResolutionVersion) == 1
    assert _count(OperativeParagraph) == 137
    with session_scope() as s:
        resolution = get_resolution(s, SYMBOL_004)
        current = resolution.current
        assert [sec.letter for sec in current.sections] == list("ABCDEF")
        p32 = next(p for p in current.paragraphs if p.number == 32)
        assert [a.verb for a in p32.actions] == ["INSISTE SUR LA NECESSITE", "LANCE UN APPEL"]
        assert current.source_text == SEED_004.read_text("utf-8")
        assert current.adopted_hijri and current.place
    actions = _count(Action)
    assert actions >= 137


def test_changed_text_becomes_a_new_version_and_keeps_the_old(
    db_url: str, shared_dir: Path, tmp_path: Path
) -> None:
    import_file(SEED_000)
    changed = tmp_path / "000-corrected.txt"
    changed.write_text(
        SEED_000.read_text("utf-8").replace("50^{ème} session du CMAE", "51^{ème} session du CMAE"),
        "utf-8",
    )
    result = import_file(changed)
    assert (result.created, result.version) == (True, 2)
    with session_scope() as s:
        resolution = get_resolution(s, "1/49-IT")
        assert [v.version for v in resolution.versions] == [1, 2]
        assert "51ème" in resolution.current.paragraphs[4].text
        assert "50ème" in resolution.versions[0].paragraphs[4].text


def test_a_broken_file_stores_nothing(db_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "empty.txt"
    bad.write_text("   \n", "utf-8")
    with pytest.raises(ResolutionParseError):
        import_file(bad)
    assert _count(Resolution) == 0


def test_drop_folder_imports_moves_and_explains_refusals(db_url: str, shared_dir: Path) -> None:
    inbox = get_settings().resolutions_inbox
    inbox.mkdir(parents=True)
    (inbox / "004.txt").write_bytes(SEED_004.read_bytes())
    (inbox / "bad.txt").write_bytes("Résolution".encode("cp1252"))
    results = {r.source: r for r in import_inbox()}
    assert results["004.txt"].created and results["004.txt"].paragraphs == 137
    assert results["bad.txt"].error and "UTF-8" in results["bad.txt"].error
    assert (inbox / "done" / "004.txt").is_file()
    assert (inbox / "failed" / "bad.txt").is_file()
    assert "UTF-8" in (inbox / "failed" / "bad.txt.error.txt").read_text("utf-8")
    assert import_inbox() == []  # nothing left to do; a re-run changes nothing
    (inbox / "004.txt").write_bytes(SEED_004.read_bytes())
    (again,) = import_inbox()
    assert not again.created and (inbox / "done" / "004.1.txt").is_file()
    assert _count(ResolutionVersion) == 1


def test_unknown_symbol_names_the_known_ones(db_url: str, shared_dir: Path) -> None:
    import_file(SEED_000)
    with pytest.raises(ResolutionNotFound, match="1/49-IT"), session_scope() as s:
        get_resolution(s, "NOPE")


def test_automatic_routing_follows_addressees(entities: str, shared_dir: Path) -> None:
    import_file(SEED_004)
    with session_scope() as s:
        routing = routing_for(s, SYMBOL_004)
    assert len(routing.entities_for(18)) == 57  # MS: every member state
    assert "SEN" in routing.entities_for(3)  # ALL: member states too
    assert routing.entities_for(9) == frozenset({"SG"})  # DEMANDE au Secrétariat général
    assert routing.entities_for(16) == frozenset()  # welcomes only: nobody reports
    assert "SG" in routing.entities_for(30) and "IPHRC" in routing.entities_for(30)
    assert 18 in routing.paragraphs_for("SEN") and 9 not in routing.paragraphs_for("SEN")


def test_routing_round_trip_with_staff_overrides(
    entities: str, shared_dir: Path, tmp_path: Path
) -> None:
    import openpyxl

    import_file(SEED_004)
    sheet = tmp_path / "routing.xlsx"
    with session_scope() as s:
        assert export_routing(s, SYMBOL_004, sheet) == 137
    book = openpyxl.load_workbook(sheet)
    ws = book["Routing"]
    rows = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}
    ws.cell(rows[16], 7).value = "SESRIC, ICESCO"  # include on a welcome-only paragraph
    ws.cell(rows[18], 8).value = "MS"  # exclude every member state
    ws.cell(rows[18], 7).value = "SEN"  # ... but Senegal: conflict with MS exclusion
    book.save(sheet)
    with (
        pytest.raises(RoutingError, match="SEN is both included and excluded"),
        session_scope() as s,
    ):
        import_routing(s, SYMBOL_004, sheet)
    assert _count(RoutingOverride) == 0

    ws.cell(rows[18], 7).value = None
    ws.cell(rows[18], 9).value = "-excluded: reported through the Arab League"
    book.save(sheet)
    with session_scope() as s:
        assert import_routing(s, SYMBOL_004, sheet) == 2 + 57
    with session_scope() as s:
        routing = routing_for(s, SYMBOL_004)
    assert routing.entities_for(16) == frozenset({"SESRIC", "ICESCO"})
    assert routing.entities_for(18) == frozenset()

    # The overrides survive a new version of the text and show in a fresh export.
    changed = tmp_path / "004-v2.txt"
    changed.write_text(
        SEED_004.read_text("utf-8").replace("Le Caire", "Le Caire (Égypte)"), "utf-8"
    )
    assert import_file(changed).version == 2
    again = tmp_path / "again.xlsx"
    with session_scope() as s:
        export_routing(s, SYMBOL_004, again)
        assert routing_for(s, SYMBOL_004).entities_for(16) == frozenset({"SESRIC", "ICESCO"})
    ws2 = openpyxl.load_workbook(again)["Routing"]
    row18 = next(r for r in range(2, ws2.max_row + 1) if ws2.cell(r, 1).value == 18)
    assert ws2.cell(row18, 8).value == "MS"
    note = ws2.cell(row18, 9)
    assert (note.data_type, note.value) == ("s", "-excluded: reported through the Arab League")


def test_bad_routing_sheet_lists_every_problem(
    entities: str, shared_dir: Path, tmp_path: Path
) -> None:
    import openpyxl

    import_file(SEED_004)
    sheet = tmp_path / "routing.xlsx"
    with session_scope() as s:
        export_routing(s, SYMBOL_004, sheet)
    book = openpyxl.load_workbook(sheet)
    ws = book["Routing"]
    ws.cell(2, 7).value = "ATLANTIS"
    ws.cell(3, 1).value = 999
    ws.cell(4, 1).value = "four"
    book.save(sheet)
    with pytest.raises(RoutingError) as caught, session_scope() as s:
        import_routing(s, SYMBOL_004, sheet)
    message = str(caught.value)
    assert "row 2: include names unknown entity 'ATLANTIS'" in message
    assert "row 3: OIC/MCSD-2/2023/RES/FINAL has no operative paragraph 999" in message
    assert "row 4: paragraph 'four' is not a number" in message

    not_a_sheet = tmp_path / "notes.xlsx"
    not_a_sheet.write_bytes(b"plain text, not a workbook")
    with pytest.raises(RoutingError, match="not a routing workbook"), session_scope() as s:
        import_routing(s, SYMBOL_004, not_a_sheet)
