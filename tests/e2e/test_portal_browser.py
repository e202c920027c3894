"""End to end in a real browser: Debian's Chromium, headless, driven by Playwright.

A focal point opens their personal link on a portal running as a uvicorn process, uploads a
workbook with the plain HTML form (no JavaScript on our side), lands on the result page, finds
the return in their history, and switches the page to Arabic. ``scripts/system-deps.sh``
installs the browser; Playwright's own browser download is never used.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import cast

import pytest
from PIL import Image, ImageStat
from playwright.sync_api import Browser, expect

from support.intake_world import (  # noqa: F401
    PortalProcess,
    World,
    portal_process_fixture,
    world_fixture,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_a_focal_point_uploads_and_sees_the_result(
    browser: Browser, portal_process: PortalProcess, world: World, tmp_path: Path
) -> None:
    portal = portal_process.start()
    workbook = tmp_path / "réponse Sénégal.xlsx"
    workbook.write_bytes(world.workbook("SEN", "browser"))
    context = browser.new_context(java_script_enabled=False, locale="fr-FR")  # no JS needed
    page = context.new_page()
    try:
        page.goto(f"{portal.url}/t/{world.token('SEN')}")
        expect(page.locator("h1")).to_have_text("Sénégal")
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        expect(page.get_by_text("Aucun envoi reçu pour l'instant.")).to_be_visible()

        page.locator("input[type=file]").set_input_files(workbook)
        page.get_by_role("button", name="Envoyer").click()
        page.wait_for_url("**/returns/*")
        expect(page.get_by_role("status")).to_contain_text("nous avons bien reçu votre classeur")
        expect(page.locator("#state")).to_have_text("Reçu — en cours de vérification")
        expect(page.get_by_text("réponse Sénégal.xlsx")).to_be_visible()

        page.get_by_role("link", name="Retour à votre page").click()
        history = page.locator("table tbody tr")
        expect(history).to_have_count(1)
        expect(history.first).to_contain_text("réponse Sénégal.xlsx")
        expect(history.first).to_contain_text("Reçu — en cours de vérification")

        page.get_by_role("link", name="العربية").click()
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        expect(page.locator("h1")).to_have_text("السنغال")

        shot = Path(os.environ.get("RESOTRACK_SCREENSHOT_DIR", tmp_path)) / "portal.png"
        page.screenshot(path=str(shot), full_page=True)
    finally:
        context.close()
    with Image.open(shot) as image:
        gray = image.convert("L")
        assert gray.size[0] >= 300 and gray.size[1] >= 300
        low, high = cast(tuple[int, int], gray.getextrema())  # one band: (min, max)
        assert high - low > 100, "the screenshot is blank"
        assert ImageStat.Stat(gray).stddev[0] > 10
