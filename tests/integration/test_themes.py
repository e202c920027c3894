"""Themes: keyword lexicons per language propose subjects and SDGs; staff confirm, reject, add."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import SEED_004
from resotrack.cli import app
from resotrack.resolutions import import_file
from resotrack.resolutions.themes import (
    THEMES_DIR,
    ThemeError,
    find,
    lexicon,
    paragraphs_with_theme,
    retag,
    themes,
)
from resotrack.store import session_scope

SYMBOL = "OIC/MCSD-2/2023/RES/FINAL"
runner = CliRunner()


def _codes(text: str, language: str) -> set[str]:
    return {theme.code for theme, _ in find(text, language)}


def test_lexicons_find_themes_in_each_language() -> None:
    assert _codes(
        "DEMANDE aux États membres de renforcer la protection sociale des familles", "fr"
    ) >= {"family", "social_protection", "SDG1"}
    assert _codes("Requests Member States to protect children from violence", "en") >= {
        "children",
        "SDG16",
    }
    # Arabic: article, proclitics and letter variants do not hide a keyword...
    assert _codes("يطالب الدول الأعضاء بتعزيز الحماية الاجتماعية للأسر والأطفال", "ar") >= {
        "family",
        "children",
        "social_protection",
    }
    # ... and a keyword inside another word finds nothing (أسر is not in إسرائيل)
    assert "family" not in _codes("يدين الاحتلال الإسرائيلي", "ar")
    assert _codes("APPROUVE le budget de l'exercice", "fr") == set()


def test_every_theme_has_three_names_and_every_keyword_file_loads() -> None:
    known = themes()
    assert {t.code for t in known.values() if t.kind == "sdg"} == {f"SDG{n}" for n in range(1, 18)}
    for language in ("ar", "en", "fr"):
        assert len(lexicon(language)) >= 20


def test_a_broken_lexicon_is_refused_with_the_file_and_the_code_named(tmp_path: Path) -> None:
    folder = tmp_path / "themes"
    shutil.copytree(THEMES_DIR, folder)
    (folder / "keywords.fr.yaml").write_text("family: [famil*]\nwelfare: [bien-être]\n", "utf-8")
    with pytest.raises(ThemeError, match=r"keywords\.fr\.yaml names the theme welfare"):
        lexicon("fr", folder)
    (folder / "keywords.en.yaml").write_text("family: [famil*\n", "utf-8")
    with pytest.raises(ThemeError, match=r"keywords\.en\.yaml is not valid YAML"):
        lexicon("en", folder)


def test_import_tags_paragraphs_and_staff_review_survives_retagging(
    db_url: str, shared_dir: Path
) -> None:
    import_file(SEED_004)
    code, output = _cli("resolutions", "themes", SYMBOL, "--json", "--language", "fr")
    assert code == 0
    paragraphs = {p["paragraph"]: p["themes"] for p in json.loads(output)["paragraphs"]}
    assert len(paragraphs) == 137
    tagged = sum(1 for found in paragraphs.values() if found)
    assert tagged >= 120  # nearly every paragraph of a social development resolution
    family = next(t for t in paragraphs[3] if t["code"] == "family")
    assert family == {  # names in the language asked for
        "kind": "subject",
        "code": "family",
        "name": "Famille",
        "state": "proposed",
        "source": "lexicon",
        "evidence": ["famille", "mariage"],
    }
    assert _cli("resolutions", "theme-confirm", SYMBOL, "3", "family")[0] == 0
    assert any(t["code"] == "family" for t in paragraphs[1])
    assert _cli("resolutions", "theme-reject", SYMBOL, "1", "family")[0] == 0
    assert _cli("resolutions", "theme-add", SYMBOL, "3", "SDG16")[0] == 0
    code, output = _cli("resolutions", "theme-reject", SYMBOL, "3", "SDG13")
    assert code == 1 and "is not tagged SDG13: add it" in output
    code, output = _cli("resolutions", "theme-add", SYMBOL, "3", "welfare")
    assert code == 1 and "no theme has the code 'welfare'" in output

    with session_scope() as s:
        retag(s)
    code, output = _cli("resolutions", "retag", SYMBOL)  # idempotent
    assert code == 0 and "0 proposed tags added or withdrawn" in output
    code, output = _cli("resolutions", "themes", SYMBOL, "--json")
    after = {p["paragraph"]: p["themes"] for p in json.loads(output)["paragraphs"]}
    states = {t["code"]: (t["state"], t["source"]) for t in after[3]}
    assert states["family"] == ("confirmed", "lexicon")
    assert states["SDG16"] == ("confirmed", "staff")
    assert next(t for t in after[1] if t["code"] == "family")["state"] == "rejected"

    def codes(found: dict[int, list[dict[str, object]]]) -> dict[int, set[object]]:
        return {n: {(t["code"], t["state"]) for t in v} for n, v in found.items() if n > 3}

    assert codes(after) == codes(paragraphs)  # re-tagging changed nothing else
    with session_scope() as s:
        assert (SYMBOL, 3) in paragraphs_with_theme(s, "SDG16")
    code, output = _cli("resolutions", "themes", SYMBOL)
    assert code == 0 and "Family" in output


def _cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output
