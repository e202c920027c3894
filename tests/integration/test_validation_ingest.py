"""From a stored submission to the focal point's inbox: answers, report, feedback email, over a
real SMTP server; and the annotated copy of their own workbook, checked cell by cell.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import select

from resotrack.mail.models import OutboxMessage
from resotrack.questionnaires.meta import verify_meta
from resotrack.settings import get_settings
from resotrack.store import session_scope
from resotrack.validation import ingest_pending
from support.return_fixtures import (
    KEY,
    World,
    current_answers,
    filled,
    make_world,
    number_at,
    rows_of,
    set_text,
    submission,
    submit,
    with_openpyxl,
)
from support.smtp_server import SmtpServer


@pytest.fixture
def world(
    db_url: str, smtp_server: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> World:
    monkeypatch.setenv("RESOTRACK_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("RESOTRACK_SECRET_KEY", KEY)
    monkeypatch.setenv("RESOTRACK_MAIL_BACKOFF_BASE_SECONDS", "0")
    monkeypatch.setenv("RESOTRACK_MAIL_RUN_RETRIES", "0")
    get_settings.cache_clear()
    return make_world(tmp_path)


def _mail_to(server: SmtpServer, address: str) -> list[EmailMessage]:
    return [m.message for m in server.received() if address in m.rcpt_tos]


def _body(message: EmailMessage, kind: str) -> str:
    part = message.get_body((kind,))
    assert part is not None
    return str(part.get_content())


def _values(data: bytes) -> dict[str, Sequence[Sequence[object]]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return {
        name: book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        for name in book.sheet_names
    }


def test_a_clean_return_is_accepted_and_the_sender_told(
    world: World, smtp_server: SmtpServer
) -> None:
    sid = submit(world, filled(world), "SEN")
    (result,) = ingest_pending()
    assert result["outcome"] == "accepted" and result["answers_changed"] == rows_of(world)
    answers = current_answers(world)
    assert len(answers) == rows_of(world)
    first = answers[number_at(world, 2)]
    assert first.status in ("in_progress", "fully_implemented") and first.submission_id == sid
    row = submission(sid)
    assert row.state == "accepted" and row.report["problems"] == []
    assert row.report["summary"]["feedback"]["sent_to"] == world.emails["SEN"]

    (mail,) = _mail_to(smtp_server, world.emails["SEN"])
    assert "Réponse acceptée" in str(mail["Subject"])
    text = _body(mail, "plain")
    assert "Il a été accepté" in text and f"{rows_of(world)} réponses" in text
    assert not list(mail.iter_attachments())  # nothing to annotate
    assert ingest_pending() == []  # nothing left; nothing sent twice
    assert len(_mail_to(smtp_server, world.emails["SEN"])) == 1


def test_problems_come_as_a_table_and_an_annotated_copy(
    world: World, smtp_server: SmtpServer
) -> None:
    missing = number_at(world, 3)

    def change(book: object) -> None:
        sheet = book["Return"]  # type: ignore[index]
        sheet.cell(row=3, column=7).value = None  # measures missing (a blocker)
        sheet.cell(row=4, column=12).value = "voir annexe"  # not a link (a warning)
        set_text(sheet.cell(row=5, column=9), '=HYPERLINK("x")')  # text, not a formula

    original = with_openpyxl(filled(world), change)
    sid = submit(world, original, "SEN", name="Réponse SEN.xlsx")
    (result,) = ingest_pending()
    assert result["outcome"] == "refused" and result["answers_changed"] == 0

    (mail,) = _mail_to(smtp_server, world.emails["SEN"])
    assert "Réponse à corriger" in str(mail["Subject"])
    text, html = _body(mail, "plain"), _body(mail, "html")
    assert f"ligne 3, paragraphe {missing}, colonne «\u00a0Mesures prises\u00a0»" in text
    assert "les mesures prises ne sont pas décrites" in text
    assert "Décrivez brièvement" in text  # the fix, in their words
    assert "<table" in html and "«\u00a0voir annexe\u00a0» n&#39;est pas un lien web." in html
    (attachment,) = list(mail.iter_attachments())
    annotated = attachment.get_payload(decode=True)
    assert isinstance(annotated, bytes)
    row = submission(sid)
    assert row.report["summary"]["annotated_sha256"]

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(annotated))
    assert book.sheetnames[0] == "Remarques" and book.active.title == "Remarques"
    summary = [[c.value for c in r] for r in book["Remarques"].iter_rows()]
    assert any(r[:3] == ["3", str(missing), "Mesures prises"] for r in summary)
    sheet = book["Return"]
    assert sheet["G3"].fill.fgColor.rgb.endswith("FFC7CE")  # blocker: red
    assert sheet["L4"].fill.fgColor.rgb.endswith("FFEB9C")  # warning: yellow
    assert "Mesures prises" in sheet["G3"].comment.text or "mesures" in sheet["G3"].comment.text
    assert sheet["I5"].data_type == "s" and sheet["I5"].value == '=HYPERLINK("x")'
    assert sheet.protection.sheet  # still protected
    assert len(sheet.data_validations.dataValidation) == 2

    # Everything else as they sent it: every other cell value of every sheet, sheet states, _meta.
    before, after = _values(original), _values(annotated)
    assert list(after) == ["Remarques", *before]
    for name, rows in before.items():
        assert after[name] == rows, name
    source = CalamineWorkbook.from_filelike(io.BytesIO(original))
    copy = CalamineWorkbook.from_filelike(io.BytesIO(annotated))
    states = {m.name: m.visible for m in source.sheets_metadata}
    assert {m.name: m.visible for m in copy.sheets_metadata if m.name in states} == states
    meta = dict((str(k), str(v)) for k, v, *_ in after["_meta"])
    meta["cycle_id"] = meta["cycle_id"].removesuffix(".0")
    fields = {k: v for k, v in meta.items() if k != "signature"}
    assert verify_meta(fields, meta["signature"], KEY.encode())


def test_arabic_speakers_get_arabic_right_to_left(world: World, smtp_server: SmtpServer) -> None:
    submit(world, filled(world, "EGY", per_row=lambda r: {"evidence": "مرفق"}), "EGY")
    (result,) = ingest_pending()
    assert result["outcome"] == "accepted_with_warnings"
    (mail,) = _mail_to(smtp_server, world.emails["EGY"])
    assert "تم قبول الرد مع ملاحظات" in str(mail["Subject"])
    assert '<html lang="ar" dir="rtl">' in _body(mail, "html")
    assert "ليس رابطًا إلكترونيًا" in _body(mail, "plain")
    (attachment,) = list(mail.iter_attachments())
    from openpyxl import load_workbook

    payload = attachment.get_payload(decode=True)
    assert isinstance(payload, bytes)
    book = load_workbook(io.BytesIO(payload))
    assert book.sheetnames[0] == "ملاحظات" and book["ملاحظات"].sheet_view.rightToLeft


def test_email_returns_answer_the_sender(world: World, smtp_server: SmtpServer) -> None:
    ok = submit(
        world, filled(world, "PAK"), "PAK", channel="email", sender="FP.PAK@gov.example.org"
    )
    stranger = submit(
        world,
        filled(world, "PAK", per_row=lambda r: {"measures": "x"}),
        "PAK",
        channel="email",
        sender="someone@else.example",
    )
    results = {r["submission_id"]: r for r in ingest_pending()}
    assert results[ok]["outcome"] == "accepted"
    assert results[stranger]["outcome"] == "refused"
    assert [p["rule"] for p in submission(stranger).report["problems"]] == ["identify.sender"]
    assert len(_mail_to(smtp_server, world.emails["PAK"])) == 1
    (told,) = _mail_to(smtp_server, "someone@else.example")
    assert "not registered as a focal point" in _body(told, "plain")


def test_the_drop_folder_tells_nobody(world: World, smtp_server: SmtpServer) -> None:
    sid = submit(world, filled(world, "MLI"), "MLI", channel="dropfolder")
    (result,) = ingest_pending()
    assert result["outcome"] == "accepted"
    assert submission(sid).report["summary"]["feedback"] == {"sent_to": None}
    with session_scope() as session:
        assert session.scalars(select(OutboxMessage)).all() == []
    assert smtp_server.received() == []


def test_data_docs_are_built_for_the_secretariat(world: World) -> None:
    submit(world, filled(world, "MLI"), "MLI", channel="dropfolder")
    ingest_pending()
    docs = get_settings().home / "gx" / "data_docs"
    assert (docs / "index.html").is_file()
    pages = list((docs / "validations").rglob("*.html"))
    assert pages and "return_quality" in str(pages[0])
