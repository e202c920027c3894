"""The focal-point portal in-process: pages in three languages, uploads, the result page,
and the security rules (a link grants its own entity and cycle only; refused links; limits;
file names; headers). Staff pages run here with their dependency overridden; the real Airflow
login is tested in ``test_portal_airflow``."""

from __future__ import annotations

import html
import re
import subprocess
import sys
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from sqlalchemy import func, select

from resotrack import tokens
from resotrack.portal import create_app, i18n, standalone_app
from resotrack.portal.i18n import Count, missing_translations
from resotrack.portal.models import UploadAttempt
from resotrack.portal.pages import HERE
from resotrack.portal.staff.auth import StaffUser, require_staff, require_staff_editor
from resotrack.questionnaires.models import ReportingCycle
from resotrack.store import session_scope
from resotrack.store.blobs import blob_store
from resotrack.validation.models import Submission
from support.catalog_leaks import leaks
from support.intake_world import REPO, World, world_fixture  # noqa: F401
from support.portal_calls import BOUNDARY, form, home, scope, submissions, upload

with warnings.catch_warnings():  # starlette would rather have httpx2; httpx works
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(standalone_app(), base_url="http://portal.test") as test_client:
        yield test_client


# --- pages and languages -----------------------------------------------------------------


def test_every_string_is_translated() -> None:
    assert missing_translations() == []


def test_home_is_in_the_focal_points_language_with_a_switch(
    client: TestClient, world: World
) -> None:
    french = client.get(home(world, "SEN"))
    assert french.status_code == 200
    assert '<html lang="fr" dir="ltr">' in french.text
    assert "Sénégal" in french.text and "Date limite" in french.text

    arabic = client.get(home(world, "EGY"))
    assert '<html lang="ar" dir="rtl">' in arabic.text
    assert "مصر" in arabic.text and "الموعد النهائي" in arabic.text

    english = client.get(home(world, "EGY"), params={"lang": "en"})
    assert '<html lang="en" dir="ltr">' in english.text and "Egypt" in english.text
    assert 'hreflang="ar"' in english.text  # the way back to Arabic
    nonsense = client.get(home(world, "SEN"), params={"lang": "xx"})
    assert '<html lang="fr"' in nonsense.text


def test_the_file_button_speaks_the_page_s_language(client: TestClient, world: World) -> None:
    """The browser's own button would say "Choose File" whatever the page's language: the
    input is only hidden from sight, and our label in the page's language opens it."""
    for entity, said in (("SEN", "Choisir le fichier"), ("EGY", "اختيار الملف")):
        page = client.get(home(world, entity)).text
        (field,) = re.findall(r'<p class="file-field">.*?</p>', page, flags=re.S)
        assert re.search(r'<input id="file" name="file" type="file" class="visually-hidden"', field)
        assert f'<label for="file" class="button file-pick">{said}</label>' in field
        assert "Choose" not in field


def test_the_rate_limit_counts_files_and_minutes_in_each_language() -> None:
    def said(language: str, files: int, window: int, wait: int) -> str:
        return i18n.text(
            "error.rate_limited",
            language,
            files=Count("files", files),
            window=Count("minutes", window),
            time="14:05",
            wait=Count("minutes", wait),
        )

    assert said("en", 1, 60, 1).startswith("You have sent 1 file in the last 60 minutes.")
    assert said("en", 3, 60, 1).endswith("(in about 1 minute).")
    assert said("fr", 3, 60, 2) == (
        "Vous avez envoyé 3 fichiers en 60 minutes. Vous pourrez envoyer de nouveau à 14:05 UTC"
        " (dans 2 minutes environ)."
    )
    assert "أرسلتم ملفين خلال 10 دقائق" in said("ar", 2, 10, 2)
    assert "(بعد نحو دقيقتين)" in said("ar", 2, 10, 2)
    assert "أرسلتم 12 ملفًا خلال 60 دقيقة" in said("ar", 12, 60, 1)


def test_pages_are_light_and_self_contained(client: TestClient, world: World) -> None:
    page = client.get(home(world, "SEN"))
    assert "<script" not in page.text
    for url in re.findall(r'(?:src|href|action)="([^"]*)"', page.text):
        assert url.startswith(("/resotrack/", "mailto:")), url  # no external assets
    assert len(page.content) < 8_000
    css = client.get("/resotrack/static/portal.css")
    assert css.status_code == 200 and len(css.content) < 3_000
    assert "max-age" in css.headers["cache-control"]
    headers = page.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"  # links carry the token
    assert headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


def test_download_the_questionnaire(client: TestClient, world: World) -> None:
    response = client.get(f"{scope(world, 'SEN')}/questionnaire")
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    assert f'filename="{world.cycle_id}-SEN.xlsx"' in response.headers["content-disposition"]
    assert response.content[:4] == b"PK\x03\x04"


def test_upload_result_and_history(client: TestClient, world: World) -> None:
    data = world.workbook("SEN", "portal")
    response = upload(client, scope(world, "SEN"), data, "réponse Sénégal.xlsx".encode())
    assert response.status_code == 303
    (row,) = submissions()
    assert response.headers["location"].endswith(f"/returns/{row.id}?lang=fr&received=1")
    assert (row.channel, row.entity_code, row.cycle_id, row.state) == (
        "portal",
        "SEN",
        world.cycle_id,
        "received",
    )
    assert row.sender == world.people["SEN"].email and row.token_id is not None
    assert row.original_name == "réponse Sénégal.xlsx" and row.size == len(data)
    assert blob_store().get(row.sha256) == data

    result = client.get(response.headers["location"])
    assert result.status_code == 200
    assert "Merci\u00a0: nous avons bien reçu votre classeur" in result.text
    assert "Reçu — en cours de vérification" in result.text
    page = client.get(home(world, "SEN"))
    assert f'id="submission-{row.id}"' in page.text and "réponse Sénégal.xlsx" in page.text

    again = upload(client, scope(world, "SEN"), data)
    assert again.status_code == 303 and again.headers["location"].endswith("duplicate=1")
    assert "identique à l&#39;envoi" in client.get(again.headers["location"]).text
    assert len(submissions()) == 1

    own = client.get(f"{home(world, 'SEN')}/returns/{row.id}/file")
    assert own.status_code == 200 and own.content == data


def test_json_clients_get_json(client: TestClient, world: World) -> None:
    response = upload(
        client, scope(world, "NGA"), world.workbook("NGA", "json"), accept="application/json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["duplicate"] is False and body["state"] == "received"
    assert body["url"].endswith(f"/returns/{body['submission_id']}")
    listed = client.get(f"{scope(world, 'NGA')}/returns", headers={"accept": "application/json"})
    assert [r["id"] for r in listed.json()] == [body["submission_id"]]


def test_the_validation_report_is_shown_whatever_it_holds(client: TestClient, world: World) -> None:
    response = upload(client, scope(world, "SEN"), world.workbook("SEN", "report"))
    (row,) = submissions()
    result_url = response.headers["location"].split("?")[0]
    with session_scope() as session:
        stored = session.get(Submission, row.id)
        assert stored is not None
        stored.state = "rejected"
        stored.report = {
            "outcome": "rejected",
            "problems": [
                {"row": 4, "paragraph": 12, "column": "status", "message": "<b>choose</b> one"},
                "a bare string problem",
            ],
            "warnings": ["dates look odd", {"row": 7, "message": "empty measures"}],
            "checked_by": "suite v3",
        }
    page = client.get(result_url).text
    assert "À corriger" in page and "Problèmes à corriger" in page
    assert "<td>12</td>" in page and "&lt;b&gt;choose&lt;/b&gt; one" in page  # escaped
    assert "a bare string problem" in page and "dates look odd" in page
    assert "row 7: empty measures" in page and "suite v3" in page
    assert "en cours de vérification" not in page


# --- security: one entity, one cycle -----------------------------------------------------


def test_a_link_cannot_touch_another_entity(client: TestClient, world: World) -> None:
    b_data = world.workbook("EGY", "egypt's own")
    b_upload = upload(client, scope(world, "EGY"), b_data)
    b_id = int(b_upload.headers["location"].split("/returns/")[1].split("?")[0])
    foreign = scope(world, "EGY", token_of="SEN")

    assert client.get(f"{foreign}/questionnaire").status_code == 403
    assert client.get(f"{foreign}/returns").status_code == 403
    refused = upload(client, foreign, world.workbook("EGY", "planted"))
    assert refused.status_code == 403
    assert "Votre lien personnel ne vaut que pour le Sénégal" in refused.text
    assert client.get(f"{home(world, 'SEN')}/returns/{b_id}").status_code == 404
    assert client.get(f"{home(world, 'SEN')}/returns/{b_id}/file").status_code == 404
    assert f"submission-{b_id}" not in client.get(home(world, "SEN")).text
    assert [s.entity_code for s in submissions()] == ["EGY"]  # nothing planted


def test_a_link_cannot_touch_another_cycle(client: TestClient, world: World) -> None:
    other = scope(world, "SEN", cycle=world.other_cycle_id)  # SEN reports there too
    assert client.get(f"{other}/questionnaire").status_code == 403
    assert client.get(f"{other}/returns").status_code == 403
    assert upload(client, other, world.workbook("SEN")).status_code == 403
    assert submissions() == []


@pytest.mark.parametrize(
    ("which", "status", "text"),
    [
        ("expired", 401, "Votre lien personnel a expiré."),
        ("revoked", 403, "Votre lien personnel a été retiré par le Secrétariat."),
    ],
)
def test_expired_and_revoked_links_get_a_page_in_their_language(
    client: TestClient, world: World, which: str, status: int, text: str
) -> None:
    token = world.expired_token if which == "expired" else world.revoked_token
    page = client.get(f"/resotrack/t/{token}")
    assert page.status_code == status
    assert '<html lang="fr"' in page.text and text in page.text
    assert "mailto:" in page.text  # whom to contact
    posted = upload(client, f"/resotrack/t/{token}/c/{world.cycle_id}/SEN", world.workbook("SEN"))
    assert posted.status_code == status
    as_json = client.get(f"/resotrack/t/{token}", headers={"accept": "application/json"})
    assert as_json.json()["reason"] == which
    assert submissions() == []


def test_forged_and_unknown_links_are_refused(client: TestClient, world: World) -> None:
    good = world.token("SEN")
    tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    unknown = tokens._serializer().dumps({"n": "never-issued", "c": world.cycle_id})
    for token in ("garbage", tampered, unknown, "x" * 5000):
        page = client.get(f"/resotrack/t/{token}", headers={"accept-language": "ar,en;q=0.5"})
        assert page.status_code == 401, token
        assert '<html lang="ar" dir="rtl">' in page.text and "هذا الرابط غير صالح" in page.text


def test_a_renamed_non_workbook_is_refused_clearly(client: TestClient, world: World) -> None:
    response = upload(client, scope(world, "SEN"), b"%PDF-1.7 not a workbook", b"reponse.xlsx")
    assert response.status_code == 415
    assert "Ce fichier n&#39;est pas un classeur Excel" in response.text
    assert "Renommer un fichier ne change pas son format" in response.text
    arabic = upload(client, scope(world, "EGY"), b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    assert arabic.status_code == 415 and "محمي بكلمة مرور" in arabic.text
    assert submissions() == []


@pytest.mark.parametrize(
    ("filename", "shown"),
    [
        (b"../../../../etc/passwd.xlsx", "passwd.xlsx"),
        (b"..\\..\\boot.ini.xlsx", "boot.ini.xlsx"),
        (b"rep\x00onse.xlsx", "reponse.xlsx"),
        ("facture\u202exslx.exe".encode(), "facturexslx.exe"),
        (b"CON.xlsx", "CON.xlsx"),
        (b"x" * 3000 + b".xlsx", None),
        (b"<img src=x onerror=alert(1)>.xlsx", "<img src=x onerror=alert(1)>.xlsx"),
    ],
)
def test_file_names_are_only_ever_displayed(
    client: TestClient, world: World, filename: bytes, shown: str | None
) -> None:
    home_dir = blob_store().root.parent
    before = {p for p in home_dir.rglob("*")}
    response = upload(client, scope(world, "SEN"), world.workbook("SEN"), filename)
    assert response.status_code == 303
    (row,) = submissions()
    if shown is not None:
        assert row.original_name == shown
    assert len(row.original_name) <= 120 and "\x00" not in row.original_name
    assert "\u202e" not in row.original_name
    created = {p for p in home_dir.rglob("*")} - before
    # Only content-addressed blobs (and their folders) appeared; no file took the name.
    for path in created:
        assert path.is_dir() or re.fullmatch(r"[0-9a-f]{62}", path.name), path
    page = client.get(response.headers["location"]).text
    assert "<img src=x" not in page  # escaped, never markup
    download = client.get(f"{home(world, 'SEN')}/returns/{row.id}/file")
    disposition = download.headers["content-disposition"]
    disposition.encode("ascii")
    assert "/" not in disposition.split("filename*=")[0] and "\\" not in disposition
    if filename == b"CON.xlsx":
        assert 'filename="_CON.xlsx"' in disposition


def test_uploads_are_rate_limited_per_link(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RESOTRACK_UPLOAD_RATE_LIMIT", "3")
    for n in range(3):
        assert (
            upload(client, scope(world, "SEN"), world.workbook("SEN", f"n{n}")).status_code == 303
        )
    limited = upload(client, scope(world, "SEN"), world.workbook("SEN", "n3"))
    assert limited.status_code == 429
    assert 0 < int(limited.headers["retry-after"]) <= 600
    assert (
        "Merci de patienter" in limited.text and "Vous pourrez envoyer de nouveau à" in limited.text
    )
    assert len(submissions()) == 3
    # Another focal point's link has its own allowance.
    assert upload(client, scope(world, "EGY"), world.workbook("EGY")).status_code == 303
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(UploadAttempt)) == 4


def test_a_closed_cycle_takes_no_more_uploads(client: TestClient, world: World) -> None:
    with session_scope() as session:
        cycle = session.get(ReportingCycle, world.cycle_id)
        assert cycle is not None
        cycle.state = "closed"
    assert "Ce cycle est clos" in client.get(home(world, "SEN")).text
    refused = upload(client, scope(world, "SEN"), world.workbook("SEN"))
    assert refused.status_code == 403 and "Ce cycle est clos" in refused.text


def test_broken_forms_get_a_page_not_a_crash(client: TestClient, world: World) -> None:
    path = f"{scope(world, 'SEN')}/returns"
    not_multipart = client.post(path, content=b"file=abc", headers={"content-type": "text/plain"})
    assert not_multipart.status_code == 400
    no_file = client.post(
        path,
        content=f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=other\r\n\r\nx\r\n"
        f"--{BOUNDARY}--\r\n".encode(),
        headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert no_file.status_code == 400 and "Aucun fichier" in no_file.text
    body, headers = form(world.workbook("SEN"))
    truncated = client.post(path, content=body[: len(body) // 2], headers=headers)
    assert truncated.status_code == 400
    assert client.get(f"{home(world, 'SEN')}/returns/not-a-number").status_code == 404
    assert submissions() == []


# --- the size limit, enforced while the body streams in ----------------------------------


async def _stream_upload(
    url_path: str, total: int, *, declare_length: bool
) -> tuple[httpx.Response, int]:
    """POST a ``total``-byte multipart body to the in-process app; returns what it pulled."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.xlsx"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    chunk = b"PK\x03\x04" + bytes(64 * 1024 - 4)
    pulled = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        pulled += len(head)
        yield head
        sent = 0
        while sent < total:
            piece = chunk[: total - sent]
            sent += len(piece)
            pulled += len(piece)
            yield piece
        pulled += len(tail)
        yield tail

    headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    if declare_length:
        headers["content-length"] = str(len(head) + total + len(tail))
    transport = httpx.ASGITransport(app=standalone_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as client:
        response = await client.post(url_path, content=body(), headers=headers)
    return response, pulled


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "chunked"])
def test_a_50_mb_upload_is_cut_off_at_the_limit(world: World, declare_length: bool) -> None:
    limit = 10 * 1024 * 1024
    response, pulled = anyio.run(
        lambda: _stream_upload(
            f"{scope(world, 'SEN')}/returns", 50 * 1024 * 1024, declare_length=declare_length
        )
    )
    assert response.status_code == 413
    assert "Le fichier est trop volumineux" in response.text and "10 Mo" in response.text
    assert response.headers["connection"] == "close"
    if declare_length:
        assert pulled == 0  # refused on the declared length, before reading a byte
    else:
        assert pulled <= limit + 2 * 64 * 1024 + 1024  # stopped at the limit, not at 50 MB
    assert submissions() == []
    leftovers = [p for p in blob_store().root.rglob(".incoming-*")]
    assert leftovers == []  # the spool file went with the refusal


# --- staff pages (dependency overridden; real Airflow login in test_portal_airflow) ------


@pytest.fixture
def staff_client(world: World) -> Iterator[TestClient]:
    app = create_app()
    app.dependency_overrides[require_staff] = lambda: StaffUser(name="tester")
    app.dependency_overrides[require_staff_editor] = lambda: StaffUser(name="tester")
    with TestClient(app, base_url="http://portal.test") as test_client:
        yield test_client


def test_staff_see_a_cycles_returns_and_download_originals(
    staff_client: TestClient, client: TestClient, world: World
) -> None:
    data = world.workbook("EGY", "staff")
    upload(client, scope(world, "EGY"), data, "ردّ مصر.xlsx".encode())
    (row,) = submissions()
    index = staff_client.get("/staff/")
    assert index.status_code == 200 and "Test cycle 2026" in index.text
    assert "Received: 1" in index.text and "Signed in as tester" in index.text
    page = staff_client.get(f"/staff/cycles/{world.cycle_id}")
    assert page.status_code == 200
    assert world.people["EGY"].email in page.text and "Portal" in page.text
    assert "ردّ مصر.xlsx" in page.text and "SEN" in page.text  # SEN not heard from
    assert "frame-ancestors 'self'" in page.headers["content-security-policy"]  # in Airflow's UI
    original = staff_client.get(f"/staff/submissions/{row.id}/file")
    assert original.status_code == 200 and original.content == data
    assert staff_client.get("/staff/cycles/999").status_code == 404
    assert staff_client.get("/staff/quarantine").status_code == 200


def test_staff_pages_speak_french_and_arabic_and_keep_the_choice(
    staff_client: TestClient, client: TestClient, world: World
) -> None:
    upload(client, scope(world, "EGY"), world.workbook("EGY", "staff"), b"egy.xlsx")
    paths = ["/staff/", f"/staff/cycles/{world.cycle_id}", "/staff/quarantine", "/staff/review"]
    for language, direction in (("fr", "ltr"), ("ar", "rtl")):
        for path in paths:
            page = staff_client.get(path, params={"lang": language})
            assert page.status_code == 200, path
            assert f'<html lang="{language}" dir="{direction}">' in page.text, path
            assert leaks(html.unescape(page.text), language, ["staff"]) == [], path
    french = staff_client.get(f"/staff/cycles/{world.cycle_id}", params={"lang": "fr"}).text
    assert "Portail" in french and "Sans nouvelles" in french
    assert "Connecté en tant que tester" in french
    # The choice holds on the next page (a cookie), and the switcher offers the others.
    arabic = staff_client.get("/staff/", params={"lang": "ar"})
    assert arabic.cookies.get("resotrack_staff_lang") == "ar"
    after = staff_client.get("/staff/quarantine").text
    assert '<html lang="ar" dir="rtl">' in after and "الرسائل المحجوزة" in after
    assert 'href="/staff/quarantine?lang=fr" lang="fr"' in after
    english = staff_client.get("/staff/", params={"lang": "en"}).text
    assert leaks(html.unescape(english), "fr", ["staff"])  # the check does see English


def test_the_portal_does_not_import_airflow(tmp_path: Path) -> None:
    probe = (
        "import sys; from resotrack.portal import create_app, standalone_app; "
        "create_app(); standalone_app(); "
        "print(sorted(m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=True
    )
    assert result.stdout.strip() == "[]"


def test_templates_escape_by_default() -> None:
    env = __import__("resotrack.portal.pages", fromlist=["TEMPLATES"]).TEMPLATES.env
    assert env.autoescape is True or callable(env.autoescape)
    assert (HERE / "templates" / "base.html").is_file()


@pytest.mark.parametrize("sent_as", ["report.html", "rapport.xlsm", "<script>.svg", "noname"])
def test_staff_always_download_a_return_as_an_xlsx_attachment(
    staff_client: TestClient, world: World, sent_as: str
) -> None:
    """Whatever the sender called it, the stored bytes (already sniffed: a workbook) go to
    staff as ``.xlsx``, as an attachment, never to be rendered by the browser."""
    from resotrack.intake import receive

    data = world.workbook("SEN", sent_as)
    receipt = receive(
        data, channel="cli", original_name=sent_as, cycle_id=world.cycle_id, entity_code="SEN"
    )
    got = staff_client.get(f"/staff/submissions/{receipt.submission_id}/file")
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert got.headers["x-content-type-options"] == "nosniff"
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    ascii_name = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert ascii_name.endswith(".xlsx") and "<" not in ascii_name
    assert disposition.endswith(".xlsx") and ".html" not in disposition


def test_no_english_leaks_into_french_or_arabic_pages(client: TestClient, world: World) -> None:
    pages = {
        "fr": [client.get(home(world, "SEN")).text, client.get("/t/forged-link?lang=fr").text],
        "ar": [client.get(home(world, "EGY")).text, client.get("/t/forged-link?lang=ar").text],
    }
    for language, texts in pages.items():
        for text in texts:
            assert leaks(html.unescape(text), language, ["portal", "common"]) == []
    english = client.get(home(world, "SEN"), params={"lang": "en"}).text
    assert leaks(html.unescape(english), "fr", ["portal"])  # the check does see English
