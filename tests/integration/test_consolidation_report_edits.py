"""Review in the loop: staff rewrite blocks of the Word draft, give the file back, and the next
build keeps their words; approval approves the file staff read.

A small cycle (seed 004 asked of four member states, three of them replying) keeps each build
quick. The edited file is made as Word would leave it: the blocks' content controls kept,
their paragraphs rewritten.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import subprocess
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import typer
from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from sqlalchemy import func, select
from typer.testing import CliRunner

from resotrack import clock
from resotrack.catalog import Words
from resotrack.consolidation import charts, drafts
from resotrack.consolidation.builds import BuildResult, build_report, slug
from resotrack.consolidation.cli import register
from resotrack.consolidation.edits import EditError, import_edits
from resotrack.consolidation.models import ReportBuild, ReportEdit
from resotrack.consolidation.publish import PublishError, approve_build
from resotrack.store import session_scope
from resotrack.store.blobs import blob_store
from resotrack.validation.models import Answer
from support.world import SYMBOL, World

STATES = ("BEN", "EGY", "IRN", "SEN")
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
DOCX = f"report-{slug(SYMBOL)}.docx"
#: The draft speaks the resolution's language, French.
FR = Words("fr", "report")
PLACEHOLDER = FR("[To be written by the Secretariat]")


def _at(day: object) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)  # type: ignore[arg-type]


@pytest.fixture
def cycle(db_url: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Seed 004 asked of four states; three replied (IRN the day after the deadline). Builds
    draw no chart but in the slow test (the charts are not what is tested here)."""
    if request.node.get_closest_marker("slow") is None:
        monkeypatch.setattr(charts, "all_charts", lambda *args, **kwargs: [])
    World.register_entities()
    World.import_resolution()
    deadline = clock.today() + timedelta(days=30)
    cycle_id = World.open_cycle(STATES, deadline, dispatched_at=_at(deadline - timedelta(days=30)))
    rows = World.asked_in(cycle_id)
    with session_scope() as s:
        for i, code in enumerate(STATES[:3]):
            day = deadline + timedelta(days=1) if code == "IRN" else deadline - timedelta(days=5)
            World.add_return(
                s,
                cycle_id,
                code,
                received_at=_at(day),
                answers=[
                    {
                        "paragraph_number": number,
                        "status": ("in_progress", "fully_implemented", "not_started")[i],
                        "measures": f"{code}: a national plan adopted for paragraph {number}.",
                    }
                    for number in rows[code]
                ],
                sha256=f"{i:064d}",
                size=10,
            )
    return cycle_id


def _docx(build: BuildResult | ReportBuild) -> bytes:
    outputs = build.outputs
    name = next(n for n in outputs if n.endswith(DOCX))
    return blob_store().get(outputs[name])


def _edit(data: bytes, texts: dict[str, str | None]) -> bytes:
    """The draft with each named block's paragraphs replaced by ``texts[key]`` (one
    paragraph per line), or the block removed (None): as Word would save it."""
    doc = Document(io.BytesIO(data))
    for sdt in list(doc.element.body.iter(qn("w:sdt"))):
        tag = sdt.find(f"{W}sdtPr/{W}tag").get(qn("w:val"))
        key = tag.removeprefix(drafts.TAG_PREFIX)
        if key not in texts:
            continue
        if texts[key] is None:
            sdt.getparent().remove(sdt)
            continue
        content = sdt.find(f"{W}sdtContent")
        for child in list(content):
            content.remove(child)
        for line in str(texts[key]).split("\n"):
            p = OxmlElement("w:p")
            r = OxmlElement("w:r")
            t = OxmlElement("w:t")
            t.text = line
            r.append(t)
            p.append(r)
            content.append(p)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _block_texts(data: bytes) -> dict[str, str]:
    draft = drafts.read_draft(data)
    return {k: drafts.plain(v) for k, v in draft.blocks.items()}


def _edits() -> int:
    with session_scope() as s:
        return int(s.scalar(select(func.count()).select_from(ReportEdit)) or 0)


def _change_an_answer(cycle_id: int, number: int) -> None:
    """One reply to paragraph ``number`` changes its status."""
    with session_scope() as s:
        answer = s.scalars(
            select(Answer)
            .where(Answer.cycle_id == cycle_id, Answer.paragraph_number == number)
            .order_by(Answer.entity_code)
            .limit(1)
        ).one()
        answer.status = "not_applicable" if answer.status != "not_applicable" else "in_progress"


def test_the_next_build_keeps_staff_text_and_flags_it_when_the_facts_change(cycle: int) -> None:
    first = build_report(cycle)
    shown = _block_texts(_docx(first))
    paragraph = next(k for k in shown if k.startswith("paragraph-"))
    assert {"introduction", "conclusions", "recommendations"} <= shown.keys()
    assert PLACEHOLDER in shown["conclusions"]

    edited = _edit(
        _docx(first),
        {
            "introduction": "The Secretariat's own introduction.",
            "conclusions": "Three of four states replied.\nImplementation is uneven.",
            paragraph: "Staff summary of this paragraph.",
        },
    )
    result = import_edits(first.build_id, edited, actor="amina")
    assert sorted(result.edited) == sorted(["introduction", "conclusions", paragraph])
    assert _edits() == 3
    again = import_edits(first.build_id, edited, actor="amina")  # idempotent
    assert not again.changed and _edits() == 3

    second = build_report(cycle)  # same answers, new staff text: a new build
    assert second.created and second.version == 2
    texts = _block_texts(_docx(second))
    assert texts["introduction"] == "The Secretariat's own introduction."
    assert texts["conclusions"] == "Three of four states replied.\nImplementation is uneven."
    assert PLACEHOLDER in texts["recommendations"]  # untouched block: generated
    assert second.summary["stale"] == [] and len(second.summary["edited"]) == 3
    assert build_report(cycle).build_id == second.build_id  # nothing new since

    # The answers under the edited paragraph change: staff's text stays, flagged.
    number = int(paragraph.removeprefix("paragraph-"))
    _change_an_answer(cycle, number)
    third = build_report(cycle)
    assert _block_texts(_docx(third))[paragraph] == "Staff summary of this paragraph."
    assert f"{SYMBOL} {paragraph}" in third.summary["stale"]
    assert f"{SYMBOL} introduction" not in third.summary["stale"]
    with zipfile.ZipFile(io.BytesIO(_docx(third))) as z:
        comments = z.read("word/comments.xml").decode()
    assert FR(
        "The facts under this passage have changed since {who} edited it on {date}. "
        "Check it; the text generated now reads: {text}",
        who="amina",
        date="",
        text="",
    ).split(" le ")[0] in comments.replace("\u2019", "'")

    # Setting a block back to the generated text drops the edit.
    generated = _block_texts(_docx(first))["introduction"]
    back = import_edits(third.build_id, _edit(_docx(third), {"introduction": generated}), actor="a")
    assert back.restored == ["introduction"] and _edits() == 2


#: Files that are not a draft of the build, and the reason given for each.
BROKEN: list[tuple[str, Callable[[bytes], bytes], str]] = [
    ("truncated zip", lambda d: b"PK\x03\x04 not really a zip", "not a Word document"),
    ("a PDF", lambda d: b"%PDF-1.7 hello", "not a Word document"),
    ("no document part", lambda d: _zip({"word/other.xml": b"<x/>"}), "not a Word document"),
    ("broken XML", lambda d: _zip({"word/document.xml": b"<w:document"}), "not a Word document"),
    ("another Word file", lambda d: _plain_docx(), "not a report draft made by resotrack"),
    ("a block deleted", lambda d: _edit(d, {"conclusions": None}), "missing (conclusions)"),
]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_broken_or_foreign_file_is_refused_and_nothing_is_kept(cycle: int) -> None:
    build = build_report(cycle)
    for what, damage, reason in BROKEN:
        with pytest.raises(EditError, match=re.escape(reason)):
            import_edits(build.build_id, damage(_docx(build)), actor="amina")
        assert _edits() == 0, what


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_zip_bomb_and_a_draft_of_another_build_are_refused(
    cycle: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = build_report(cycle)
    _change_an_answer(cycle, _first_paragraph(cycle))
    second = build_report(cycle)
    edited = _edit(_docx(first), {"introduction": "Mine."})
    with pytest.raises(EditError, match=f"comes from build {first.build_id} \\(version 1\\)"):
        import_edits(second.build_id, edited, actor="amina")
    monkeypatch.setattr(drafts, "MAX_PART", 4096)  # the document part inflates beyond it
    with pytest.raises(EditError, match="too large"):
        import_edits(first.build_id, edited, actor="amina")
    assert _edits() == 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_approval_records_the_file_read_and_refuses_another_or_an_old_build(
    cycle: int,
) -> None:
    first = build_report(cycle)
    seen = hashlib.sha256(_docx(first)).hexdigest()
    with session_scope() as s, pytest.raises(PublishError, match="is not a report of build"):
        approve_build(s, first.build_id, reviewer="head", comment=None, seen_sha256="0" * 64)
    second = build_report(cycle, force=True)
    with session_scope() as s, pytest.raises(PublishError, match="is not the latest"):
        approve_build(s, first.build_id, reviewer="head", comment=None, seen_sha256=seen)
    seen = hashlib.sha256(_docx(second)).hexdigest()
    with session_scope() as s:
        build = approve_build(s, second.build_id, reviewer="head", comment=None, seen_sha256=seen)
        assert build.state == "approved"
        assert build.approved_files == {f"cycle-{cycle}-v2-{DOCX}": seen}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_cli_imports_edits_and_approves_with_the_file_read(
    cycle: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "en_GB.UTF-8")  # the command line's words in English
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    build = build_report(cycle)
    edited = tmp_path / "edited.docx"
    edited.write_bytes(_edit(_docx(build), {"recommendations": "Support the late states."}))
    done = runner.invoke(app, ["reports", "edits", "import", str(build.build_id), str(edited)])
    assert done.exit_code == 0, done.output
    assert "1 passage kept as you wrote it: recommendations." in done.output
    again = runner.invoke(app, ["reports", "edits", "import", str(build.build_id), str(edited)])
    assert again.exit_code == 0 and "Nothing changed" in again.output
    other = runner.invoke(app, ["reports", "approve", str(build.build_id), "--file", str(edited)])
    assert other.exit_code == 1 and "is not a report of build" in other.output
    built = runner.invoke(app, ["consolidate", "--cycle", str(cycle), "--out", str(tmp_path)])
    assert built.exit_code == 0 and "1 passage written by staff is kept." in built.output
    with session_scope() as s:
        newest = s.scalars(select(ReportBuild).order_by(ReportBuild.id.desc()).limit(1)).one()
        newest_id, newest_docx = newest.id, _docx(newest)
        assert newest.summary["edited"] == [f"{SYMBOL} recommendations"]
    old = tmp_path / "old.docx"
    old.write_bytes(_docx(build))
    late = runner.invoke(app, ["reports", "approve", str(build.build_id), "--file", str(old)])
    assert late.exit_code == 1 and "is not the latest" in late.output
    read = tmp_path / "read.docx"
    read.write_bytes(newest_docx)
    approved = runner.invoke(app, ["reports", "approve", str(newest_id), "--file", str(read)])
    assert approved.exit_code == 0, approved.output


def _first_paragraph(cycle_id: int) -> int:
    with session_scope() as s:
        return int(
            s.scalar(
                select(func.min(Answer.paragraph_number)).where(
                    Answer.cycle_id == cycle_id, Answer.entity_code == "EGY"
                )
            )
            or 0
        )


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def _plain_docx() -> bytes:
    out = io.BytesIO()
    Document().save(out)
    return out.getvalue()


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_edited_report_renders_with_staff_text_and_nothing_machine_made(
    cycle: int, tmp_path: Path
) -> None:
    build = build_report(cycle)
    edited = _edit(
        _docx(build),
        {
            "introduction": "This introduction was written by the Secretariat.",
            "conclusions": "The Secretariat concludes that most states replied.",
            "recommendations": "The Secretariat recommends a follow-up visit.",
        },
    )
    import_edits(build.build_id, edited, actor="amina")
    again = build_report(cycle)
    path = tmp_path / "edited.docx"
    path.write_bytes(_docx(again))
    env = {**os.environ, "HOME": str(tmp_path)}
    subprocess.run(
        ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
        check=True,
        capture_output=True,
        timeout=180,
        env=env,
    )
    pdf = pdfium.PdfDocument(tmp_path / "edited.pdf")
    text = " ".join(page.get_textpage().get_text_range() for page in pdf)
    flat = " ".join(text.split())
    for mine in (
        "This introduction was written by the Secretariat.",
        "The Secretariat concludes that most states replied.",
        "The Secretariat recommends a follow-up visit.",
    ):
        assert mine in flat
    assert PLACEHOLDER not in flat and "resotrack" not in flat
    assert "République islamique d'Iran" in flat.replace("\u2019", "'")
    assert "Iran (République" not in flat
    # Saved again by LibreOffice, which drops content controls: the bookmarks find the blocks.
    (tmp_path / "saved").mkdir()
    subprocess.run(
        [
            *("soffice", "--headless", "--convert-to", "docx:MS Word 2007 XML"),
            *("--outdir", str(tmp_path / "saved"), str(path)),
        ],
        check=True,
        capture_output=True,
        timeout=180,
        env=env,
    )
    saved = (tmp_path / "saved" / "edited.docx").read_bytes()
    assert not drafts.read_draft(saved).blocks.keys() ^ _block_texts(_docx(again)).keys()
    assert not import_edits(again.build_id, saved, actor="amina").changed
    if os.environ.get("RESOTRACK_KEEP_RENDER"):  # to look at the pages by hand
        subprocess.run(
            ["pdftoppm", "-png", "-r", "50", str(tmp_path / "edited.pdf"), str(tmp_path / "p")],
            check=True,
        )
        print(tmp_path)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_dashboard_takes_an_edited_report_from_our_own_page(cycle: int) -> None:
    from fastapi.testclient import TestClient

    from resotrack.portal.staff.auth import StaffUser
    from support.dashboard_app import HOST, _app

    build = build_report(cycle)
    url = f"/resotrack/staff/dashboard/builds/{build.build_id}/edits"
    edited = _edit(_docx(build), {"conclusions": "Written in the dashboard's loop."})
    ours = {"origin": f"http://{HOST}"}
    with TestClient(_app(StaffUser("amina")), base_url=f"http://{HOST}") as client:
        page = client.get(f"/resotrack/staff/dashboard/cycles/{cycle}")
        assert page.status_code == 200 and f"{url}" in page.text  # the form on the page
        files = {"file": ("edited.docx", edited, "application/octet-stream")}
        forged = client.post(url, files=files, headers={"origin": "https://evil.example"})
        assert forged.status_code == 403 and _edits() == 0
        broken = client.post(
            url, files={"file": ("x.docx", b"not a zip", "x")}, headers=ours, follow_redirects=False
        )
        assert broken.status_code == 303 and "not+a+Word+document" in broken.headers["location"]
        assert _edits() == 0
        # The refusal in the language of the page the form was on.
        refused = client.post(
            f"{url}?lang=fr",
            files={"file": ("x.docx", b"not a zip", "x")},
            headers=ours,
            follow_redirects=False,
        )
        said = client.get(refused.headers["location"]).text
        assert "Ce fichier n’est pas un document Word (.docx)." in said
        assert '<html lang="fr" dir="ltr">' in said
        taken = client.post(url, files=files, headers=ours, follow_redirects=False)
        assert taken.status_code == 303 and "conclusions" in taken.headers["location"]
    with session_scope() as s:
        row = s.scalars(select(ReportEdit)).one()
        assert (row.block, row.edited_by, row.text) == (
            "conclusions",
            "amina",
            "Written in the dashboard's loop.",
        )
