"""The consolidation dashboard, mounted in the portal app as the lead will mount it.

Staff login is replaced by a stand-in dependency (the real one needs the Airflow api-server;
without it the pages refuse, which the first test checks). Everything else is real: the
scripted cycle on SQLite and PostgreSQL, a build, the review form posting into the database
and the outbox, a real SMTP server.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from resotrack import clock
from resotrack.consolidation.builds import build_report
from resotrack.mail import enqueue
from resotrack.mail.models import OutboxMessage
from resotrack.portal.staff.auth import StaffUser
from resotrack.settings import get_settings
from resotrack.store import session_scope
from resotrack.validation.models import Submission
from support.catalog_leaks import leaks
from support.consolidation_world import Script, scripted_fixture  # noqa: F401
from support.dashboard_app import HOST, _app
from support.smtp_server import SmtpServer


@pytest.fixture
def client(
    scripted: Script, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    monkeypatch.setenv("RESOTRACK_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("RESOTRACK_MAIL_RUN_RETRIES", "0")
    get_settings.cache_clear()
    with TestClient(_app(StaffUser("amina")), base_url=f"http://{HOST}") as c:
        yield c


def _escalate(script: Script, code: str) -> None:
    with session_scope() as s:
        enqueue(
            s,
            key=f"escalation:{script.cycle_id}:{code}",
            kind="escalation",
            template="notice",
            language="en",
            context={"subject": "Overdue", "paragraphs": ["Please reply."]},
            to=[f"pm.{code.lower()}@gov.example.org"],
            cycle_id=script.cycle_id,
            entity_code=code,
        )


def test_without_an_airflow_login_the_pages_refuse(scripted: Script) -> None:
    with TestClient(_app(None)) as c:
        page = c.get(f"/resotrack/staff/dashboard/cycles/{scripted.cycle_id}")
    assert page.status_code in (401, 403, 503)
    assert "AFG" not in page.text


def test_cycle_page_shows_replied_late_escalated_heatmap_and_builds(
    scripted: Script, client: TestClient
) -> None:
    never = next(c for c in scripted.codes if scripted.kinds[c] == 0)
    _escalate(scripted, never)
    build = build_report(scripted.cycle_id)
    after_deadline = datetime.combine(scripted.deadline + timedelta(days=5), time(9), tzinfo=UTC)
    with clock.frozen(after_deadline):
        data = client.get(
            f"/resotrack/staff/dashboard/cycles/{scripted.cycle_id}",
            headers={"accept": "application/json"},
        ).json()
        page = client.get(f"/resotrack/staff/dashboard/cycles/{scripted.cycle_id}")
    kinds = scripted.kinds
    by_code = {e["entity"]: e for e in data["entities"]}
    assert data["counts"]["asked"] == 57
    assert data["counts"]["replied"] == sum(1 for c in kinds.values() if c in (1, 2, 3, 4))
    # Late: returned after the deadline (kind 3), or still owing a return after it (0 and 5).
    assert data["counts"]["late"] == sum(1 for c in kinds.values() if c in (0, 3, 5))
    assert data["counts"]["escalated"] == 1
    assert by_code[never]["status"] == "late" and by_code[never]["escalations"]
    late = next(c for c in scripted.codes if kinds[c] == 3)
    assert by_code[late]["status"] == "returned late"
    on_time = next(c for c in scripted.codes if kinds[c] == 4)
    assert by_code[on_time]["status"] == "on time"
    assert by_code[on_time]["reviewable"] is True

    assert page.status_code == 200
    html = page.text
    assert (
        f'src="/resotrack/staff/dashboard/cycles/{scripted.cycle_id}/heatmap.png?lang=en"' in html
    )
    for name in build.outputs:
        assert f"/resotrack/staff/dashboard/builds/{build.build_id}/files/{name}" in html
    assert "Signed in as amina" in html
    assert "No Data Docs have been built yet." in html
    assert page.headers["x-frame-options"] == "SAMEORIGIN"  # opens inside the Airflow UI

    png = client.get(f"/resotrack/staff/dashboard/cycles/{scripted.cycle_id}/heatmap.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    report = next(n for n in build.outputs if n.endswith("report.html"))
    served = client.get(f"/resotrack/staff/dashboard/builds/{build.build_id}/files/{report}")
    assert served.headers["content-type"].startswith("text/html")
    assert "img-src data:" in served.headers["content-security-policy"]
    assert "script" not in served.headers["content-security-policy"]
    workbook = next(n for n in build.outputs if n.endswith(".xlsx"))
    download = client.get(f"/resotrack/staff/dashboard/builds/{build.build_id}/files/{workbook}")
    assert download.headers["content-disposition"].startswith("attachment")
    missing = client.get(f"/resotrack/staff/dashboard/builds/{build.build_id}/files/nope.xlsx")
    assert missing.status_code == 404


def test_gx_data_docs_are_linked_and_served_sandboxed(scripted: Script, client: TestClient) -> None:
    docs = get_settings().home / "gx" / "data_docs"
    docs.mkdir(parents=True)
    (docs / "index.html").write_text("<html><body>GX docs</body></html>")
    page = client.get(f"/resotrack/staff/dashboard/cycles/{scripted.cycle_id}")
    assert 'href="/resotrack/staff/dashboard/gx/index.html"' in page.text
    served = client.get("/resotrack/staff/dashboard/gx/index.html")
    assert served.status_code == 200 and "GX docs" in served.text
    assert served.headers["content-security-policy"].startswith("sandbox")
    (get_settings().home / "secret.txt").write_text("no")
    escape = client.get("/resotrack/staff/dashboard/gx/..%2F..%2Fsecret.txt")
    assert escape.status_code == 404


def test_review_form_needs_our_origin_and_sends_the_correction(
    scripted: Script, client: TestClient, smtp_server: SmtpServer
) -> None:
    code = next(c for c in scripted.codes if scripted.kinds[c] == 1)
    submission = scripted.submission_of[code]
    url = f"/resotrack/staff/dashboard/submissions/{submission}/review"
    form = {"decision": "correct", "comment": "Paragraph 5: add the decree number."}
    forged = client.post(url, data=form, headers={"origin": "https://evil.example"})
    assert forged.status_code == 403
    bare = client.post(url, data=form)
    assert bare.status_code == 403
    with session_scope() as s:
        sub = s.get(Submission, submission)
        assert sub is not None and sub.state == "accepted"

    sent = client.post(url, data=form, headers={"origin": f"http://{HOST}"}, follow_redirects=False)
    assert sent.status_code == 303
    assert sent.headers["location"].startswith(
        f"/resotrack/staff/dashboard/cycles/{scripted.cycle_id}?done="
    )
    with session_scope() as s:
        sub = s.get(Submission, submission)
        assert sub is not None and sub.state == "correction_requested"
        kinds = list(s.scalars(select(OutboxMessage.kind)))
    assert kinds == ["correction_request"]
    (message,) = smtp_server.received()
    body = message.message.get_body(("plain",))
    assert body is not None and "add the decree number" in body.get_content()

    again = client.post(
        url,
        data={"decision": "accept", "comment": ""},
        headers={"origin": f"http://{HOST}"},
        follow_redirects=False,
    )
    assert again.status_code == 303 and "error=" in again.headers["location"]


def test_the_dashboard_in_french_and_arabic_has_no_english_left(
    scripted: Script, client: TestClient
) -> None:
    build_report(scripted.cycle_id)
    code = next(c for c in scripted.codes if scripted.kinds[c] == 1)
    after_deadline = datetime.combine(scripted.deadline + timedelta(days=5), time(9), tzinfo=UTC)
    cycle = f"/resotrack/staff/dashboard/cycles/{scripted.cycle_id}"
    with clock.frozen(after_deadline):
        for language, direction in (("fr", "ltr"), ("ar", "rtl")):
            for path in ("/resotrack/staff/dashboard/", cycle):
                page = client.get(path, params={"lang": language})
                assert page.status_code == 200
                assert f'<html lang="{language}" dir="{direction}">' in page.text
                assert leaks(html.unescape(page.text), language, ["staff"]) == [], path
        french = client.get(cycle, params={"lang": "fr"}).text
        assert "En retard" in french and "Demander une correction" in french
        assert "Importer les modifications" in french and "Connecté en tant que amina" in french
        assert "/heatmap.png?lang=fr" in french
        arabic = client.get(cycle, params={"lang": "ar"}).text
        assert "متأخرة" in arabic and "طلب تصحيح" in arabic
        png = client.get(f"{cycle}/heatmap.png", params={"lang": "ar"})
        assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
        english = client.get(cycle, params={"lang": "en"}).text
        assert leaks(html.unescape(english), "fr", ["staff"])  # the check does see English

    # A decision and a refusal come back in the language of the page the form was on.
    url = f"/resotrack/staff/dashboard/submissions/{scripted.submission_of[code]}/review"
    origin = {"origin": f"http://{HOST}"}
    refused = client.post(
        f"{url}?lang=fr",
        data={"decision": "correct", "comment": " "},
        headers=origin,
        follow_redirects=False,
    )
    assert refused.status_code == 303 and "lang=fr" in refused.headers["location"]
    page = client.get(refused.headers["location"]).text
    assert "indiquez ce qui doit être corrigé" in page
    done = client.post(
        f"{url}?lang=ar",
        data={"decision": "accept", "comment": ""},
        headers=origin,
        follow_redirects=False,
    )
    page = client.get(done.headers["location"]).text
    assert f"قُبل الرد رقم {scripted.submission_of[code]}." in html.unescape(page)
