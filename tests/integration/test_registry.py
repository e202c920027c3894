"""Registry in the database: shipped entities and the focal-point CSV import (all rows or none)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from resotrack.registry import (
    FocalPointImportError,
    import_focal_points,
    list_entities,
    sync_entities,
)
from resotrack.registry.models import FocalPoint, ReportingEntity
from resotrack.store import session_scope
from resotrack.store.models import AuditLog

GOOD = """entity code,name,email,language,role
SEN,Awa Ndiaye,awa.ndiaye@example.sn,fr,focal point
SEN,Mission du Sénégal,mission.senegal@example.org,fr,permanent mission
EGY,منى عبد الله,mona@example.eg,ar,focal point
SESRIC,Ali Demir,ali@example.org,en,focal point
IDN,Budi Santoso,budi@example.id,en,cc
"""


def _write(tmp_path: Path, text: str, name: str = "focal.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def registry(db_url: str) -> str:
    with session_scope() as s:
        sync_entities(s)
    return db_url


def _count(model: type) -> int:
    with session_scope() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_sync_loads_57_member_states_and_institutions_once(db_url: str) -> None:
    with session_scope() as s:
        first = sync_entities(s)
    with session_scope() as s:
        again = sync_entities(s)
        states = list_entities(s, "member_state")
        everything = list_entities(s)
        institutions = {e.code for e in everything if e.kind != "member_state"}
    assert len(states) == 57
    assert first == len(everything) and again == 0
    assert {"SESRIC", "ICESCO", "IsDB", "IPHRC", "SG", "OIC-NY", "OIC-GENEVA"} <= institutions
    assert everything[0].kind == "member_state"  # states are listed first
    sen = next(e for e in states if e.code == "SEN")
    assert (sen.language, sen.name("fr")) == ("fr", "Sénégal")


def test_focal_points_import_is_idempotent(registry: str, tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    with session_scope() as s:
        first = import_focal_points(s, path)
    with session_scope() as s:
        second = import_focal_points(s, path)
    assert (first.added, first.updated) == (5, 0)
    assert (second.added, second.updated, second.unchanged) == (0, 0, 5)
    assert _count(FocalPoint) == 5
    with session_scope() as s:
        roles = {e: r for e, r in s.execute(select(FocalPoint.email, FocalPoint.role))}
        audits = s.scalar(select(func.count()).where(AuditLog.action == "focal_points.imported"))
    assert roles["mission.senegal@example.org"] == "permanent_mission"
    assert roles["budi@example.id"] == "cc"
    assert audits == 1  # the unchanged second import recorded nothing


def test_semicolon_csv_with_bom_from_excel_is_read(registry: str, tmp_path: Path) -> None:
    text = "\ufeff" + GOOD.replace(",", ";")
    with session_scope() as s:
        result = import_focal_points(s, _write(tmp_path, text))
    assert result.added == 5


def test_a_changed_row_updates_and_replace_deactivates_the_absent(
    registry: str, tmp_path: Path
) -> None:
    with session_scope() as s:
        import_focal_points(s, _write(tmp_path, GOOD))
    edited = GOOD.replace("Awa Ndiaye", "Awa N. Ndiaye").replace(
        "IDN,Budi Santoso,budi@example.id,en,cc\n", ""
    )
    with session_scope() as s:
        result = import_focal_points(s, _write(tmp_path, edited, "v2.csv"), replace=True)
    assert (result.added, result.updated, result.unchanged, result.deactivated) == (0, 1, 3, 1)
    with session_scope() as s:
        budi = s.scalar(select(FocalPoint).where(FocalPoint.email == "budi@example.id"))
        assert budi is not None and budi.active is False


def test_every_bad_line_is_listed_and_nothing_is_stored(registry: str, tmp_path: Path) -> None:
    bad = (
        "entity,name,email,language,role\n"
        "SEN,Awa,awa@example.sn,fr,focal point\n"  # line 2: good
        "XYZ,Nobody,nobody@example.org,en,focal point\n"  # 3: unknown entity
        "EGY,Mona,not-an-email,ar,focal point\n"  # 4: bad email
        "MLI,Moussa,moussa@example.ml,bm,focal point\n"  # 5: unknown language
        "SEN,Awa again,AWA@example.sn,fr,focal point\n"  # 6: duplicate of 2
        "TUR,Ayşe,ayse@example.tr,en,boss\n"  # 7: unknown role
    )
    with pytest.raises(FocalPointImportError) as caught, session_scope() as s:
        import_focal_points(s, _write(tmp_path, bad))
    message = str(caught.value)
    assert "unknown entity 'XYZ'" in message and "line 3" in message
    assert "line 4: bad email 'not-an-email'" in message
    assert "line 5: unknown language 'bm'" in message
    assert "line 6: duplicate of line 2" in message
    assert "line 7: unknown role 'boss'" in message
    assert len(caught.value.problems) == 5
    assert _count(FocalPoint) == 0


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (
            "entity,name,email,language,role\nSEN,Zoé,z@example.sn,fr,cc\n".encode("cp1252"),
            "not UTF-8",
        ),
        (b"entity,name,email\nSEN,A,a@example.sn\n", "missing column(s) language, role"),
        (b"entity,name,email,language,role\n", "no focal points"),
        (b"PK\x03\x04\x00\x00binary", "not CSV text"),
        (
            b"entity,name,email,language,role\nSEN,\x1b[31mEvil,e@example.sn,fr,cc\n",
            "control characters",
        ),
    ],
    ids=["empty", "cp1252", "missing-columns", "header-only", "binary", "control-chars"],
)
def test_broken_files_get_a_clear_message(
    registry: str, tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(FocalPointImportError, match=None) as caught, session_scope() as s:
        import_focal_points(s, path)
    assert expected in str(caught.value)
    assert _count(FocalPoint) == 0


def test_oversized_file_is_refused_before_parsing(registry: str, tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    line = b"SEN,Awa,awa@example.sn,fr,cc\n"
    path.write_bytes(b"entity,name,email,language,role\n" + line * (6 * 1024 * 1024 // len(line)))
    with pytest.raises(FocalPointImportError, match="the limit is"), session_scope() as s:
        import_focal_points(s, path)


def test_entity_codes_are_case_insensitive(registry: str, tmp_path: Path) -> None:
    with session_scope() as s:
        import_focal_points(
            s, _write(tmp_path, "entity,name,email,language,role\nsen,A,a@x.sn,FR,CC\n")
        )
    with session_scope() as s:
        fp = s.scalar(select(FocalPoint))
        assert fp is not None and (fp.entity_code, fp.language, fp.role) == ("SEN", "fr", "cc")
        assert s.get(ReportingEntity, "SEN") is not None


def test_mixed_case_codes_are_kept_as_registered(registry: str, tmp_path: Path) -> None:
    """IsDB is registered in mixed case: typed in any case, it is found and kept as IsDB."""
    with session_scope() as s:
        import_focal_points(
            s, _write(tmp_path, "entity,name,email,language,role\nISDB,B,b@isdb.org,en,cc\n")
        )
    with session_scope() as s:
        fp = s.scalar(select(FocalPoint))
        assert fp is not None and fp.entity_code == "IsDB"
