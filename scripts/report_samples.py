"""Regenerate docs/report-samples/*.png: pages of the Secretary-General's report as read.

Seed 004 answered by the 57 member states (tests/support/report_world.py) is built in Arabic, English
and French; each Word report goes through LibreOffice to PDF, and pdftoppm turns two of its
pages into PNG: a page of the body (the synthesis, paragraph by paragraph) and the first page of
annex I (replies verbatim). Needs soffice and pdftoppm (scripts/system-deps.sh).

Run: ``.venv/bin/python scripts/report_samples.py`` (about two minutes).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "report-samples"
LANGUAGES = ("ar", "en", "fr")
BODY_PAGE = 4  # a page of the synthesis, after the method and the overview
DPI = "80"


def main() -> int:
    sys.path.insert(0, str(REPO / "tests"))
    soffice = shutil.which("soffice")
    if soffice is None or shutil.which("pdftoppm") is None:
        print("soffice and pdftoppm are needed: run scripts/system-deps.sh", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="report-samples-") as tmp_name:
        tmp = Path(tmp_name)
        os.environ["RESOTRACK_HOME"] = str(tmp / "var")
        url = f"sqlite:///{tmp / 'world.db'}"
        os.environ["RESOTRACK_DATABASE_URL"] = url
        import pypdfium2 as pdfium

        from support.report_world import SYMBOL, make_world
        from resotrack.catalog import Words
        from resotrack.consolidation.builds import render_outputs, slug
        from resotrack.consolidation.snapshot import load_snapshot
        from resotrack.settings import get_settings
        from resotrack.store import migrate, session_scope

        get_settings.cache_clear()
        migrate.upgrade(url)
        world = make_world()
        with session_scope() as session:
            snapshot = load_snapshot(session, world.cycle_id)
        OUT.mkdir(parents=True, exist_ok=True)
        for old in OUT.glob("*.png"):
            old.unlink()
        for lang in LANGUAGES:
            rendered = render_outputs(snapshot, datetime(2030, 7, 1, 9, tzinfo=UTC), language=lang)
            docx = tmp / f"report-{lang}.docx"
            docx.write_bytes(rendered.files[f"report-{slug(SYMBOL)}.docx"])
            subprocess.run(
                [
                    soffice,
                    f"-env:UserInstallation={(tmp / 'lo').as_uri()}",
                    "--headless",
                    "--convert-to",
                    "pdf",
                    "--outdir",
                    str(tmp),
                    str(docx),
                ],
                check=True,
                capture_output=True,
                timeout=600,
            )
            pdf = docx.with_suffix(".pdf")
            annex = Words(lang, "report")("Annex I. Replies received, by entity")
            outline = {
                b.get_title(): b.get_dest().get_index() + 1
                for b in pdfium.PdfDocument(pdf).get_toc(max_depth=1)
            }
            for name, page in (("body", BODY_PAGE), ("annex", outline[annex])):
                target = OUT / f"{lang}-{name}"
                subprocess.run(
                    [
                        "pdftoppm",
                        "-png",
                        "-r",
                        DPI,
                        "-singlefile",
                        "-f",
                        str(page),
                        "-l",
                        str(page),
                        str(pdf),
                        str(target),
                    ],
                    check=True,
                    timeout=120,
                )
                print(f"{target.relative_to(REPO)}.png (page {page})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
