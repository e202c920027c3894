"""Mandates followed across cycles: the theme filter, the trend of a renewed paragraph in the
report, and the staff review of uncertain lineage matches and of proposed themes.

The world: seed 004 asked of three member states in a first cycle; the next session's renewal
(``renewal.renew``: reworded, renumbered, dropped and added paragraphs) asked of the same
states in a second cycle a year later. Answers are written straight into the database with
statuses chosen here, so every expected count is worked out by hand from what was written.
"""

from __future__ import annotations

import html
import io
import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path

import pytest
from docx import Document
from fastapi import FastAPI
from fastapi.testclient import TestClient
from python_calamine import CalamineWorkbook
from sqlalchemy import select
from starlette.routing import Mount
from typer.testing import CliRunner

from conftest import SEED_004
from resotrack import clock
from resotrack.cli import app
from resotrack.consolidation.builds import theme_label
from resotrack.consolidation.export_xlsx import BuildInfo, write_workbook
from resotrack.consolidation.report_docx import render_docx
from resotrack.consolidation.snapshot import cycle_themes, load_snapshot
from resotrack.consolidation.tables import compute, for_resolution
from resotrack.questionnaires import STATUSES
from resotrack.resolutions import lineage as lineage_module
from resotrack.resolutions import parse_file
from resotrack.resolutions.importer import store_parsed
from resotrack.resolutions.lineage import lineage_of
from resotrack.resolutions.model import ParsedResolution
from resotrack.resolutions.models import (
    OperativeParagraph,
    ParagraphTheme,
    Resolution,
    ResolutionVersion,
)
from resotrack.resolutions.themes import ThemeError, themes
from resotrack.store import session_scope
from support import world as base
from support.catalog_leaks import leaks
from support.renewal import renew

OLD = "OIC/MCSD-2/2023/RES/FINAL"
NEW = "OIC/MCSD-3/2025/RES/FINAL"
STATES = ("MAR", "PAK", "SEN")
#: Statuses the script gives: only the four that say how far along things are.
PROGRESS = STATUSES[:4]
runner = CliRunner()


@dataclass
class World(base.World):
    first: int
    second: int
    asked: dict[tuple[int, str], set[int]]  # (cycle, entity) -> paragraph numbers asked
    status: dict[tuple[int, str, int], str]  # (cycle, entity, number) -> status written
    predecessor: dict[int, int]  # new paragraph -> old paragraph (links not rejected)

    @property
    def cycle_id(self) -> int:  # type: ignore[override]
        return self.first


def _status(cycle: int, index: int, number: int) -> str:
    return PROGRESS[(index + number + cycle) % len(PROGRESS)]


def _answer_cycle(cycle_id: int, symbol: str, world: World, day: date) -> None:
    with session_scope() as s:
        for index, code in enumerate(STATES):
            answers = []
            for number in sorted(world.asked[(cycle_id, code)]):
                if number % 9 == 0:  # left unanswered: no reply
                    continue
                status = _status(cycle_id, index, number)
                world.status[(cycle_id, code, number)] = status
                answers.append({"paragraph_number": number, "current": True, "status": status})
            World.add_return(
                s,
                cycle_id,
                code,
                received_at=datetime.combine(day, time(12), tzinfo=UTC),
                answers=answers,
                sha256=f"{cycle_id:032d}{index:032d}",
                size=100,
                symbol=symbol,
            )


def _asked(cycle_id: int) -> dict[tuple[int, str], set[int]]:
    return {(cycle_id, code): set(numbers) for code, numbers in World.asked_in(cycle_id).items()}


@cache
def _parsed() -> tuple[ParsedResolution, ParsedResolution]:
    """Seed 004 and its renewal, parsed once per test process (frozen dataclasses)."""
    seed = parse_file(SEED_004)
    renewed, _truth = renew(seed, seed=2, symbol=NEW, adopted_on=date(2025, 6, 20))
    return seed, renewed


def _make_world(tmp_path: Path, *, renewal: bool = True) -> World:
    """Both cycles, or (``renewal`` False) the first one alone."""
    seed, renewed = _parsed()
    with session_scope() as s:
        World.register_entities(s)
        store_parsed(s, seed, source_text="seed", source=SEED_004.name, actor="test")
    World.register_focal_points(tmp_path, [World.focal_line(c, "fr") for c in STATES])
    first_deadline = clock.today() + timedelta(days=30)
    first = World.open_cycle(STATES, first_deadline, symbols=[OLD])
    world = World(first, 0, _asked(first), {}, {})
    _answer_cycle(first, OLD, world, first_deadline - timedelta(days=3))
    if not renewal:
        return world

    with session_scope() as s:
        store_parsed(s, renewed, source_text="synthetic", source="renewal", actor="test")
    second_deadline = first_deadline + timedelta(days=365)
    world.second = World.open_cycle(STATES, second_deadline, symbols=[NEW])
    world.asked.update(_asked(world.second))
    _answer_cycle(world.second, NEW, world, second_deadline - timedelta(days=3))
    world.predecessor = _predecessors()
    return world


def _predecessors() -> dict[int, int]:
    with session_scope() as s:
        return {
            m.paragraph: m.predecessor["paragraph"]
            for m in lineage_of(s, NEW)
            if m.predecessor is not None
        }


def _expected(world: World, cycle: int, number: int) -> Counter[str]:
    """Entities per status (no_reply for those asked who gave none) for one paragraph."""
    counts: Counter[str] = Counter()
    for code in STATES:
        if number in world.asked.get((cycle, code), set()):
            counts[world.status.get((cycle, code, number), "no_reply")] += 1
    return counts


def _trend_counts(trend_rows: list[tuple], number: int, cycle: int) -> Counter[str]:  # type: ignore[type-arg]
    return Counter(
        {r[7]: r[8] for r in trend_rows if r[0] == NEW and r[1] == number and r[4] == cycle}
    )


def _docx_text(data: bytes) -> str:
    return "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)


def _info(snapshot, language: str) -> BuildInfo:  # type: ignore[no-untyped-def]
    return BuildInfo(
        cycle_id=snapshot.cycle_id,
        cycle_title=str(snapshot.cycle["title"]),
        deadline=snapshot.deadline,
        snapshot_sha256=snapshot.sha256,
        built_at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        resolutions=[r["symbol"] for r in snapshot.resolutions],
        theme=theme_label(snapshot.theme, language),  # type: ignore[arg-type]
    )


def test_the_report_shows_how_a_renewed_paragraph_moved_across_cycles(
    db_url: str, tmp_path: Path
) -> None:
    world = _make_world(tmp_path)
    renewed = {
        n: old
        for n, old in world.predecessor.items()
        if any(n in world.asked[(world.second, c)] for c in STATES)
        and any(old in world.asked[(world.first, c)] for c in STATES)
    }
    assert len(renewed) >= 50  # most of the renewal renews a paragraph asked last time

    with session_scope() as s:
        snapshot = load_snapshot(s, world.second)
    rows = snapshot.trend.rows
    assert {r[1] for r in rows} == set(renewed)
    for n, old in renewed.items():
        assert _trend_counts(rows, n, world.first) == _expected(world, world.first, old), n
        assert {(r[2], r[3]) for r in rows if r[1] == n} == {(OLD, old)}
    tables = compute(snapshot)
    trend = tables.trend
    for n in renewed:
        mine = trend[(trend["number"] == n) & (trend["cycle"] == world.second)]
        assert dict(zip(mine["status"], mine["n"], strict=True)) == _expected(
            world, world.second, n
        )

    # The report, in French, restricted to a theme (a short report) that has a renewed
    # paragraph: one line per renewed paragraph, counts from cycle to cycle.
    code, n = _theme_with_renewed(set(renewed))
    old = renewed[n]
    with session_scope() as s:
        themed = load_snapshot(s, world.second, code)
    themed_tables = compute(themed)
    text = _docx_text(
        render_docx(
            for_resolution(themed_tables, NEW),
            themed.resolutions[0],
            _info(themed, "fr"),
            {},
            language="fr",
        )
    )
    assert "Évolution de la mise en œuvre d’un cycle à l’autre" in text
    before, after = _expected(world, world.first, old), _expected(world, world.second, n)
    line = next(p for p in text.split("\n") if p.startswith(f"Paragraphe {n} (reconduit"))
    assert f"le paragraphe {old} de la résolution {OLD}" in line
    for status, label in (("fully_implemented", "pleinement"), ("no_reply", "pas de réponse")):
        if before[status] or after[status]:
            noun = "entité" if after[status] <= 1 else "entités"
            done = " mis en œuvre" if status != "no_reply" else ""
            assert f"{label}{done}\u00a0: " in line.lower()
            assert f"{before[status]} → {after[status]} {noun}" in line
    assert "Cycles comparés\u00a0:" in text and "(échéance\u00a0:" in text

    # Arabic: the arrow points the way the text reads.
    arabic = _docx_text(
        render_docx(
            for_resolution(themed_tables, NEW),
            themed.resolutions[0],
            _info(themed, "ar"),
            {},
            language="ar",
        )
    )
    assert "تطور التنفيذ من دورة إلى أخرى" in arabic and " ← " in arabic

    # A rejected link is not followed: no trend for that paragraph any more.
    with session_scope() as s:
        lineage_module.decide(s, NEW, n, confirm=False, actor="test")
    with session_scope() as s:
        again = load_snapshot(s, world.second)
    assert {r[1] for r in again.trend.rows} == set(renewed) - {n}


def _theme_with_renewed(renewed: set[int]) -> tuple[str, int]:
    """The theme with the fewest paragraphs of the renewal among those tagging a renewed
    paragraph, and the first such paragraph."""
    by_code: dict[str, set[int]] = {}
    for code in themes():
        by_code[code] = _tagged(NEW, code)
    code = min((c for c in by_code if by_code[c] & renewed), key=lambda c: (len(by_code[c]), c))
    return code, min(by_code[code] & renewed)


def _tagged(cycle_version_symbol: str, code: str) -> set[int]:
    """Paragraph numbers of the symbol's current version tagged ``code``, not rejected:
    read straight from the table."""
    with session_scope() as s:
        return set(
            s.scalars(
                select(OperativeParagraph.number)
                .join(ParagraphTheme, ParagraphTheme.paragraph_id == OperativeParagraph.id)
                .join(ResolutionVersion, ResolutionVersion.id == OperativeParagraph.version_id)
                .join(Resolution, Resolution.id == ResolutionVersion.resolution_id)
                .where(
                    Resolution.symbol == cycle_version_symbol,
                    ParagraphTheme.code == code,
                    ParagraphTheme.state != "rejected",
                )
            )
        )


def _app(staff: object) -> FastAPI:
    from resotrack.portal import create_app
    from resotrack.portal.staff.auth import require_staff, require_staff_editor

    portal = create_app()
    portal.dependency_overrides[require_staff] = lambda: staff
    portal.dependency_overrides[require_staff_editor] = lambda: staff
    root = FastAPI()
    root.router.routes.append(Mount("/resotrack", app=portal))
    return root


def test_a_theme_restricts_the_tables_workbook_and_report_and_a_rejected_tag_drops_out(
    db_url: str, tmp_path: Path
) -> None:
    world = _make_world(tmp_path, renewal=False)
    with session_scope() as s:
        offered = cycle_themes(s, world.first, "fr")
    assert offered, "seed 004 has paragraphs on some theme"
    # A small theme with at least two paragraphs: one is rejected below, one stays.
    theme = min((t for t in offered if t["n"] >= 2), key=lambda t: (t["n"], t["code"]))
    code, name_fr = theme["code"], themes()[theme["code"]].names["fr"]
    assert theme["name"] == name_fr and theme["n"] == len(_tagged(OLD, code))

    # The review queue (CLI) lists the proposed tags; staff reject one.
    result = runner.invoke(app, ["resolutions", "themes-review", "--json", "--language", "fr"])
    assert result.exit_code == 0, result.output
    proposed = [t for t in json.loads(result.output)["themes"] if t["code"] == code]
    assert {t["paragraph"] for t in proposed} == _tagged(OLD, code)
    assert all(t["name"] == name_fr and t["state"] == "proposed" for t in proposed)
    dropped = min(_tagged(OLD, code))
    result = runner.invoke(app, ["resolutions", "theme-reject", OLD, str(dropped), code])
    assert result.exit_code == 0, result.output
    keep = _tagged(OLD, code)
    assert dropped not in keep and keep
    result = runner.invoke(app, ["resolutions", "themes-review", "--json"])
    left = [t for t in json.loads(result.output)["themes"] if t["code"] == code]
    assert {t["paragraph"] for t in left} == keep
    table = runner.invoke(app, ["resolutions", "themes-review"], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "proposed" in table.output, table.output

    # Tables, workbook and report restricted to the theme; titles name it in French.
    with session_scope() as s:
        snapshot = load_snapshot(s, world.first, code)
        with pytest.raises(ThemeError, match="no theme has the code"):
            load_snapshot(s, world.first, "nothing")
    assert {r[1] for r in snapshot.paragraphs.rows} == keep
    assert {r[2] for r in snapshot.asked.rows} <= keep
    tables = compute(snapshot)
    assert set(tables.paragraphs["number"]) == keep
    assert tables.summary["cells_asked"] == sum(
        len(world.asked[(world.first, c)] & keep) for c in STATES
    )
    for number in keep:
        row = tables.paragraphs[tables.paragraphs["number"] == number].iloc[0]
        expected = _expected(world, world.first, number)
        assert int(row["fully_implemented"]) == expected.get("fully_implemented", 0)
        assert int(row["no_reply"]) == expected.get("no_reply", 0)
    info = _info(snapshot, "fr")
    book = CalamineWorkbook.from_filelike(io.BytesIO(write_workbook(tables, info, language="fr")))
    about = book.get_sheet_by_name(book.sheet_names[0]).to_python()
    assert about[0][0] == (
        f"Tableaux de mise en œuvre\u00a0: {snapshot.cycle['title']}, paragraphes relatifs au "
        f"thème «\u00a0{name_fr}\u00a0»"
    )
    assert any(r[0] == "Thème" and r[1] == name_fr for r in about)
    text = _docx_text(
        render_docx(for_resolution(tables, OLD), snapshot.resolutions[0], info, {}, language="fr")
    )
    title = text.split("\n")[0]
    assert title.endswith(f"paragraphes relatifs au thème «\u00a0{name_fr}\u00a0»")
    assert code not in title


def test_staff_review_page_in_french_and_arabic_and_the_dashboard_filter(
    db_url: str, tmp_path: Path
) -> None:
    from resotrack.portal.staff.auth import StaffUser
    from resotrack.resolutions.lineage import predecessors

    world = _make_world(tmp_path)
    # Lineage review from the CLI: the uncertain matches, lowest score first.
    result = runner.invoke(app, ["resolutions", "lineage-review", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    low, high = listed["band"]
    matches = listed["matches"]
    assert matches and all(m["state"] == "review" for m in matches)
    table = runner.invoke(app, ["resolutions", "lineage-review"], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "to review" in table.output, table.output
    assert all(low <= m["score"] < high for m in matches)
    assert [m["score"] for m in matches] == sorted(m["score"] for m in matches)
    with session_scope() as s:
        review = {m.paragraph for m in lineage_of(s, NEW) if m.state == "review"}
    assert {m["paragraph"] for m in matches if m["symbol"] == NEW} == review
    target = next(m for m in matches if m["symbol"] == NEW)

    with session_scope() as s:
        offered = cycle_themes(s, world.first, "en")
    code = max(offered, key=lambda t: (t["n"], t["code"]))["code"]
    names = themes()[code].names
    with TestClient(_app(StaffUser("amina", can_edit=True)), base_url="http://testserver") as c:
        page = c.get("/resotrack/staff/review?lang=fr")
        assert page.status_code == 200
        assert '<html lang="fr" dir="ltr">' in page.text
        assert "Filiations incertaines" in page.text
        assert "Thèmes proposés par les lexiques de mots-clés" in page.text
        assert names["fr"] in page.text
        arabic = c.get("/resotrack/staff/review?lang=ar")
        assert '<html lang="ar" dir="rtl">' in arabic.text
        assert "مراجعة تسلسل الفقرات والمواضيع" in arabic.text and names["ar"] in arabic.text
        for language, shown in (("fr", page.text), ("ar", arabic.text)):
            assert leaks(html.unescape(shown), language, ["staff"]) == []

        # Reject the uncertain link from the page: carry-forward no longer follows it.
        done = c.post(
            "/resotrack/staff/review/lineage",
            data={
                "symbol": NEW,
                "paragraph": str(target["paragraph"]),
                "decision": "reject",
                "lang": "ar",
            },
            headers={"Origin": "http://testserver"},
            follow_redirects=False,
        )
        assert done.status_code == 303 and "lang=ar" in done.headers["location"]
        said = html.unescape(c.get(done.headers["location"]).text)
        assert f"الفقرة {target['paragraph']} من القرار {NEW}: تم رفض الصلة." in said
        forged = c.post(
            "/resotrack/staff/review/lineage",
            data={"symbol": NEW, "paragraph": "1", "decision": "reject"},
            headers={"Origin": "http://elsewhere.example"},
        )
        assert forged.status_code == 403
        with session_scope() as s:
            version = s.scalar(
                select(ResolutionVersion.id)
                .join(Resolution, Resolution.id == ResolutionVersion.resolution_id)
                .where(Resolution.symbol == NEW)
            )
            assert version is not None
            assert target["paragraph"] not in predecessors(s, version)
        after = c.get("/resotrack/staff/review", headers={"Accept": "application/json"}).json()
        assert (NEW, target["paragraph"]) not in {
            (m["symbol"], m["paragraph"]) for m in after["matches"]
        }

        # The dashboard, filtered: only the tagged paragraphs count; the label, not the code.
        keep = _tagged(OLD, code)
        overview = c.get(
            f"/resotrack/staff/dashboard/cycles/{world.first}?theme={code}",
            headers={"Accept": "application/json"},
        ).json()
        asked = sum(len(world.asked[(world.first, e)] & keep) for e in STATES)
        assert overview["summary"]["cells_asked"] == asked
        assert overview["summary"]["paragraphs"] == len(keep)
        assert overview["theme"] == {"code": code, "name": names["en"]}
        # The language chosen last (Arabic, above) holds until another is chosen.
        dashboard = f"/resotrack/staff/dashboard/cycles/{world.first}?theme={code}"
        assert f'<option value="{code}" selected>{names["ar"]} (' in c.get(dashboard).text
        shown = c.get(f"{dashboard}&lang=en").text
        assert f'<option value="{code}" selected>{names["en"]} (' in shown
        unknown = c.get(f"/resotrack/staff/dashboard/cycles/{world.first}?theme=nothing")
        assert unknown.status_code == 404


def test_the_public_site_never_takes_a_build_restricted_to_a_theme(db_url: str) -> None:
    from resotrack.consolidation.models import ReportBuild
    from resotrack.publicsite.site import approved_builds
    from resotrack.questionnaires.models import ReportingCycle

    with session_scope() as s:
        cycle = ReportingCycle(title="Cycle", deadline=date(2027, 1, 1), state="open")
        s.add(cycle)
        s.flush()
        for version, summary in ((1, {}), (2, {"theme": "children"}), (3, {"theme": "sdg4"})):
            s.add(
                ReportBuild(
                    cycle_id=cycle.id,
                    version=version,
                    built_at=datetime(2026, 1, version, tzinfo=UTC),
                    built_by="test",
                    answers_sha256="a" * 64,
                    snapshot_sha256="b" * 64,
                    outputs={},
                    summary=summary,
                    state="approved",
                )
            )
        s.flush()
        assert [b.version for b in approved_builds(s)] == [1]
