"""Lineage of mandates: a renewed resolution's paragraphs are linked to the ones they carry over.

The renewed versions are built from seed 004 by ``renewal.renew`` (reworded, renumbered,
dropped and added paragraphs, deterministic per seed), so the answer key is known exactly.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from conftest import SEED_000, SEED_004
from resotrack.cli import app
from resotrack.resolutions import import_file, parse_file
from resotrack.resolutions.importer import store_parsed
from resotrack.resolutions.lineage import (
    REVIEW_THRESHOLD,
    LineageError,
    decide,
    lineage_of,
    link_all,
    normalise,
)
from resotrack.resolutions.models import ParagraphLineage
from resotrack.store import session_scope
from resotrack.store.models import AuditLog
from support.renewal import renew

SYMBOL_004 = "OIC/MCSD-2/2023/RES/FINAL"
runner = CliRunner()


def _renewed(seed: int) -> tuple[str, dict[int, int | None]]:
    """Store the renewal of seed 004 built with ``seed``; its symbol and answer key."""
    symbol = f"OIC/MCSD-3/2025/RES/{seed}"
    renewed, truth = renew(
        parse_file(SEED_004), seed=seed, symbol=symbol, adopted_on=date(2025, 6, 20)
    )
    with session_scope() as s:
        store_parsed(s, renewed, source_text="synthetic", source="renewal", actor="test")
    return symbol, truth


def test_normalise_ignores_case_accents_digits_and_arabic_letter_variants() -> None:
    assert (
        normalise("DEMANDE aux États membres (§ 12), en 2023 :") == "demande aux etats membres en"
    )
    assert normalise("يُطالب الدولَ الأعضاءَ") == normalise("يطالب الدول الاعضاء")
    assert normalise("المنظمة") == normalise("المنظمه")


@pytest.mark.parametrize("seed", [1, 7])
def test_renewed_resolution_finds_carried_over_paragraphs_and_no_false_link(
    db_url: str, shared_dir: Path, seed: int
) -> None:
    import_file(SEED_000)
    import_file(SEED_004)
    symbol, truth = _renewed(seed)
    with session_scope() as s:
        matches = {m.paragraph: m for m in lineage_of(s, symbol)}
    assert sorted(matches) == sorted(truth)
    carried = [n for n, old in truth.items() if old is not None]
    added = [n for n, old in truth.items() if old is None]
    assert len(added) == 8 and len(carried) > 110  # the renewal did what it says

    found = [
        n
        for n in carried
        if matches[n].predecessor == {**(matches[n].predecessor or {}), "symbol": SYMBOL_004}
        and (matches[n].predecessor or {}).get("paragraph") == truth[n]
    ]
    assert len(found) / len(carried) >= 0.95, f"found {len(found)} of {len(carried)}"
    false_links = [
        (n, truth[n], m.predecessor)
        for n, m in matches.items()
        if m.predecessor is not None and n not in found
    ]
    assert false_links == []  # above the review threshold: nothing wrong
    for n in added:
        assert matches[n].state in ("new", "review"), (n, matches[n])
        proposed = matches[n].proposed
        if proposed is not None:
            assert proposed["score"] < REVIEW_THRESHOLD
    # one predecessor is never claimed twice
    claimed = [
        (m.predecessor or m.proposed or {}).get("paragraph")
        for m in matches.values()
        if m.predecessor or m.proposed
    ]
    assert len(claimed) == len(set(claimed))


def test_the_first_of_its_kind_has_no_predecessor_and_later_ones_are_not_candidates(
    db_url: str, shared_dir: Path
) -> None:
    import_file(SEED_004)
    symbol, _ = _renewed(3)
    import_file(SEED_000)  # imported last, but adopted before both: not their successor
    with session_scope() as s:
        first = lineage_of(s, SYMBOL_004)
        assert {m.state for m in first} <= {"new", "review"}
        assert all(m.predecessor is None for m in first)
        # 1/49-IT (digital transformation) renews nothing of the social development resolution
        assert all(m.predecessor is None for m in lineage_of(s, "1/49-IT"))
        before = s.scalar(select(func.count()).select_from(ParagraphLineage))
        link_all(s)  # working it all out again is idempotent
        assert s.scalar(select(func.count()).select_from(ParagraphLineage)) == before
        assert sum(m.predecessor is not None for m in lineage_of(s, symbol)) > 110


def test_an_undated_resolution_is_linked_to_the_ones_imported_before_it(
    db_url: str, shared_dir: Path
) -> None:
    import_file(SEED_004)
    renewed, truth = renew(
        parse_file(SEED_004), seed=4, symbol="OIC/UNDATED", adopted_on=date(2025, 1, 1)
    )
    with session_scope() as s:
        store_parsed(
            s,
            replace(renewed, adopted_on=None, adopted_gregorian=None),
            source_text="synthetic",
            source="renewal",
            actor="test",
        )
        matches = lineage_of(s, "OIC/UNDATED")
    right = [
        m for m in matches if m.predecessor and m.predecessor["paragraph"] == truth[m.paragraph]
    ]
    assert len(right) >= 0.95 * sum(old is not None for old in truth.values())
    assert all(m.predecessor is None or m in right for m in matches)


def test_staff_confirm_and_reject_uncertain_links_and_decisions_survive_relinking(
    db_url: str, shared_dir: Path
) -> None:
    import_file(SEED_004)
    symbol, truth = _renewed(2)  # a renewal with right and wrong proposals to review
    with session_scope() as s:
        review = [m for m in lineage_of(s, symbol) if m.state == "review"]
    assert len(review) >= 2
    right = next(m for m in review if m.proposed and m.proposed["paragraph"] == truth[m.paragraph])
    wrong = next(m for m in review if m.proposed and m.proposed["paragraph"] != truth[m.paragraph])

    code, output = _cli("resolutions", "lineage-confirm", symbol, str(right.paragraph))
    assert code == 0 and "confirmed" in output
    code, output = _cli("resolutions", "lineage-reject", symbol, str(wrong.paragraph))
    assert code == 0 and "rejected" in output
    code, output = _cli("resolutions", "relink")
    assert code == 0

    code, output = _cli("resolutions", "lineage", symbol, "--json")
    assert code == 0
    printed = {p["paragraph"]: p for p in json.loads(output)["paragraphs"]}
    assert printed[right.paragraph]["state"] == "confirmed"
    assert printed[right.paragraph]["predecessor"]["paragraph"] == truth[right.paragraph]
    assert printed[wrong.paragraph]["state"] == "rejected"
    assert printed[wrong.paragraph]["predecessor"] is None
    linked = next(n for n, p in printed.items() if p["state"] == "linked")
    assert set(printed[linked]["predecessor"]) == {"symbol", "paragraph", "score"}
    with session_scope() as s:
        actions = s.scalars(select(AuditLog.action).where(AuditLog.action.like("lineage.%")))
        assert sorted(actions) == ["lineage.confirmed", "lineage.rejected"]
        new = next(n for n, old in truth.items() if old is None and printed[n]["state"] == "new")
        with pytest.raises(LineageError, match="new paragraph"):
            decide(s, symbol, new, confirm=True)

    code, output = _cli("resolutions", "lineage", symbol)
    assert code == 0
    assert "confirmed by staff" in output and "rejected by staff" in output
    code, output = _cli("resolutions", "lineage-confirm", symbol, "999")
    assert code == 1 and "has no paragraph 999" in output
    code, output = _cli("resolutions", "lineage", "NO/SUCH", "--json")
    assert code == 1 and "no resolution with symbol 'NO/SUCH'" in output


def _cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output
