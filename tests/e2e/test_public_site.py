"""The public site: built from approved report builds only, no personal data, three languages,
readable on a phone (Debian's Chromium, headless, driven by Playwright)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from PIL import Image, ImageStat
from playwright.sync_api import Browser
from sqlalchemy import select, update
from typer.testing import CliRunner

from resotrack.cli import app
from resotrack.consolidation.builds import build_report, slug
from resotrack.consolidation.models import ReportBuild
from resotrack.consolidation.publish import approve_build
from resotrack.consolidation.snapshot import Snapshot
from resotrack.publicsite.site import SiteError, build_site
from resotrack.registry import sync_entities
from resotrack.registry.models import FocalPoint
from resotrack.store import session_scope
from resotrack.store.blobs import blob_store
from resotrack.validation.models import Answer
from support.consolidation_world import SYMBOL, Script, scripted_fixture  # noqa: F401

runner = CliRunner()
SECRET = "Plan confidentiel — joindre amina.diallo@gouv.example.sn"
UNAPPROVED = "Mesure ajoutée après l'approbation"


def _cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def _pages(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text("utf-8") for p in folder.rglob("*.html")}


def _set_measure(script: Script, code: str, number: int, text: str) -> None:
    with session_scope() as s:
        s.execute(
            update(Answer)
            .where(
                Answer.cycle_id == script.cycle_id,
                Answer.entity_code == code,
                Answer.paragraph_number == number,
                Answer.current.is_(True),
            )
            .values(measures=text)
        )


def _approved_site(script: Script, tmp_path: Path) -> tuple[Path, str, int]:
    """Approve build 1 (with a narrative holding an email address), then change an answer
    and build 2, left unapproved; give the entity consent; build the site."""
    code = next(c for c in script.codes if script.kinds[c] == 1)
    number = script.rows[code][0]
    _set_measure(script, code, number, SECRET)
    first = build_report(script.cycle_id)
    code_, output = _cli("site", "build", "--out", str(tmp_path / "site"))
    assert code_ == 1 and "no report build has been approved yet" in output
    assert not (tmp_path / "site").exists()  # nothing partial left behind
    with session_scope() as s:
        approve_build(s, first.build_id, reviewer="head", comment=None)
    _set_measure(script, code, number, UNAPPROVED)
    second = build_report(script.cycle_id)
    assert second.version == 2 and second.created
    assert _cli("site", "consent", code.lower(), "--narratives")[0] == 0
    code_, output = _cli("site", "build", "--out", str(tmp_path / "site"))
    assert code_ == 0, output
    return tmp_path / "site", code, number


def test_site_shows_only_the_approved_build_and_no_personal_data(
    scripted: Script, tmp_path: Path
) -> None:
    folder, code, _ = _approved_site(script=scripted, tmp_path=tmp_path)
    pages = _pages(folder)
    languages = {"ar", "en", "fr"}
    assert {p.split("/")[0] for p in pages if "/" in p} == languages
    for lang in languages:
        assert f"{lang}/r/{slug(SYMBOL)}.html" in pages
        assert f"{lang}/e/{code}.html" in pages
    everything = "\n".join(pages.values())
    # the approved narrative is there, its email address masked; the later change is not
    assert "Plan confidentiel — joindre …" in pages[f"fr/e/{code}.html"]
    assert UNAPPROVED not in everything
    assert re.search(r"[\w.+-]+@[\w-]+\.[\w.-]+", everything) is None  # no email address
    with session_scope() as s:
        people = list(s.scalars(select(FocalPoint)))
        build = s.scalar(select(ReportBuild).where(ReportBuild.version == 1))
        assert build is not None and build.state == "approved"
        snapshot = Snapshot.from_bytes(blob_store().get(build.snapshot_sha256))
    assert people and not any(p.name in everything for p in people)
    # entities without consent: statuses only, no narrative
    other = next(c for c in scripted.codes if c != code and scripted.kinds[c] == 1)
    other_measure = next(m for (c, _), m in scripted.measures.items() if c == other)
    assert other_measure not in everything
    # every approved status is shown on the entity's page
    entity_page = pages[f"en/e/{other}.html"]
    answers = [a for a in snapshot.answers.rows if a[0] == other]
    assert entity_page.count('class="status"') == len(scripted.rows[other]) >= len(answers) > 0
    # direction and language of each page
    assert '<html lang="ar" dir="rtl">' in pages["ar/index.html"]
    assert '<html lang="fr" dir="ltr">' in pages["fr/index.html"]
    assert "Mise en œuvre des résolutions" in pages["fr/index.html"]
    assert "تنفيذ القرارات" in pages["ar/index.html"]


def test_the_public_site_refuses_unknown_entities_for_consent(db_url: str) -> None:
    with session_scope() as s:
        sync_entities(s)
    code, output = _cli("site", "consent", "sen", "--statuses-only")
    assert code == 0 and "SEN: the public site shows its statuses only" in output
    code, output = _cli("site", "consent", "XXX", "--narratives")
    assert code == 1 and "no reporting entity has the code 'XXX'" in output
    with session_scope() as s, pytest.raises(SiteError, match="nothing to publish"):
        build_site(s, Path("/nonexistent/never-written"))


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_site_in_chromium_in_three_languages_at_phone_width(
    scripted: Script, tmp_path: Path, browser: Browser
) -> None:
    folder, code, _ = _approved_site(script=scripted, tmp_path=tmp_path)
    shots = Path(os.environ.get("RESOTRACK_SCREENSHOT_DIR", tmp_path))
    expected = {
        "ar": ("rtl", "تنفيذ القرارات", "الفقرة 1"),
        "en": ("ltr", "Implementation of resolutions", "Paragraph 1"),
        "fr": ("ltr", "Mise en œuvre des résolutions", "Paragraphe 1"),
    }
    for lang, (direction, title, paragraph) in expected.items():
        for width, height in ((375, 740), (1280, 900)):
            context = browser.new_context(
                java_script_enabled=True, viewport={"width": width, "height": height}
            )
            page = context.new_page()
            try:
                for path in ("index.html", f"r/{slug(SYMBOL)}.html", f"e/{code}.html"):
                    page.goto((folder / lang / path).as_uri())
                    assert page.locator("html").get_attribute("dir") == direction
                    assert page.locator("html").get_attribute("lang") == lang
                    overflow = page.evaluate(
                        "document.documentElement.scrollWidth - "
                        "document.documentElement.clientWidth"
                    )
                    assert overflow <= 0, f"{lang}/{path} scrolls sideways at {width}px"
                page.goto((folder / lang / "index.html").as_uri())
                assert page.locator("h1").inner_text() == title
                page.get_by_role("link", name=SYMBOL).click()
                assert page.locator("#p1 h2").inner_text() == paragraph
                if width == 375:
                    shot = shots / f"public-{lang}.png"
                    page.screenshot(path=str(shot), full_page=False)
                    with Image.open(shot) as image:
                        gray = image.convert("L")
                        assert ImageStat.Stat(gray).stddev[0] > 10, "blank page"
            finally:
                context.close()
