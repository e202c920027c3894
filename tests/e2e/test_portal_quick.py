"""The quick check on upload, through a real portal process (uvicorn on loopback) and a real
browser: structural errors show on the page at once, in the focal point's language; every
upload is kept as a submission and the full validation then gives the same report (page and
email); hostile files are answered without hurting the portal process.

The world is seed 004 with questionnaires built as dispatch leaves them (``return_fixtures``).
"""

from __future__ import annotations

import contextlib
import re
import statistics
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from resotrack import tokens
from resotrack.intake.receive import reset_announce_backoff
from resotrack.mail.models import OutboxMessage
from resotrack.mail.render import render
from resotrack.questionnaires.spec import QuestionRow
from resotrack.registry.models import FocalPoint
from resotrack.settings import get_settings
from resotrack.store import session_scope
from resotrack.store.blobs import blob_store
from resotrack.validation import ingest
from resotrack.validation.models import Submission
from support.intake_world import NO_AIRFLOW, PortalProcess
from support.return_fixtures import (
    KEY,
    World,
    case,
    filled,
    make_world,
    rows_of,
    set_text,
    with_openpyxl,
)

pytestmark = pytest.mark.slow

BOUNDARY = "resotrack-quick-boundary"
HEADERS = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
JSON = HEADERS | {"accept": "application/json"}
MEASURES_COLUMN = 7  # G: "Mesures prises" in a French questionnaire
STATUS_COLUMN = 6  # F


@pytest.fixture
def world(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("RESOTRACK_SECRET_KEY", KEY)
    monkeypatch.setenv("RESOTRACK_AIRFLOW_API_URL", NO_AIRFLOW)  # Airflow down: the sweep
    get_settings.cache_clear()
    reset_announce_backoff()
    yield make_world(tmp_path)
    reset_announce_backoff()


@pytest.fixture
def links(world: World) -> dict[str, str]:
    """A personal upload link (the raw token) for each focal point of the world."""
    found = {}
    with session_scope() as session:
        for entity, person_id in world.focal_points.items():
            person = session.get(FocalPoint, person_id)
            assert person is not None
            found[entity] = tokens.issue(session, person, world.cycle_id)
    return found


@pytest.fixture
def portal(world: World, tmp_path: Path) -> Iterator[PortalProcess]:
    """The portal as its own process, started with this world's database and key."""
    process = PortalProcess(tmp_path / "portal.log")
    try:
        yield process.start()
    finally:
        process.stop()


def _multipart(data: bytes, name: str = "reponse.xlsx") -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def _root(portal: PortalProcess) -> str:
    return f"http://127.0.0.1:{portal.port}"


def _post(
    portal: PortalProcess, world: World, link: str, entity: str, data: bytes, **kw: Any
) -> httpx.Response:
    url = f"{portal.url}/t/{link}/c/{world.cycle_id}/{entity}/returns"
    return httpx.post(url, content=_multipart(data), timeout=60, **kw)


def _upload_page(
    portal: PortalProcess, world: World, link: str, entity: str, data: bytes
) -> tuple[int, str]:
    """Upload as the HTML form does; the submission id and the page the browser lands on."""
    response = _post(portal, world, link, entity, data, headers=HEADERS, follow_redirects=False)
    assert response.status_code == 303, response.text[:500]
    assert re.fullmatch(r"quick;dur=[\d.]+(;desc=\w+)?", response.headers["server-timing"])
    location = response.headers["location"]
    submission_id = int(location.split("/returns/")[1].split("?")[0])
    page = httpx.get(_root(portal) + location, timeout=30)
    assert page.status_code == 200
    return submission_id, page.text


def _stored(submission_id: int) -> Submission:
    with session_scope() as session:
        row = session.get(Submission, submission_id)
        assert row is not None
        return row


def _problem_rows(page: str) -> list[list[str]]:
    """The cells of the problems table, as text."""
    table = re.search(r'<table id="problems">(.*?)</table>', page, re.S)
    assert table is not None, "no problems table on the page"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1), re.S)[1:]
    return [[unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)] for r in rows]


def _renamed_measures(data: bytes) -> bytes:
    def change(book: Any) -> None:
        book["Return"].cell(row=1, column=MEASURES_COLUMN).value = "Mesures"

    return with_openpyxl(data, change)


def _status_typo(data: bytes, value: str) -> bytes:
    def change(book: Any) -> None:
        set_text(book["Return"].cell(row=3, column=STATUS_COLUMN), value)

    return with_openpyxl(data, change)


def _rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    assert match is not None
    return int(match.group(1))


def _loaded_libraries(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


# --- a valid return ----------------------------------------------------------------------


def test_a_valid_upload_passes_the_first_check_at_once(
    portal: PortalProcess, world: World, links: dict[str, str]
) -> None:
    data = filled(world, "SEN")
    submission_id, page = _upload_page(portal, world, links["SEN"], "SEN", data)
    rows = rows_of(world, "SEN")
    assert '<html lang="fr"' in page and 'data-outcome="ok"' in page
    assert "Merci\u00a0: nous avons bien reçu votre classeur." in page
    assert (
        f"Première vérification réussie\u00a0: c&#39;est bien votre questionnaire et ses {rows}"
        in page
    )
    assert 'id="problems"' not in page and 'role="alert"' not in page
    assert "Reçu — en cours de vérification" in page  # the full check is still to come
    stored = _stored(submission_id)
    assert stored.state == "received" and blob_store().get(stored.sha256) == data
    quick = stored.report["quick"]
    assert (quick["outcome"], quick["rows"], quick["problems"]) == ("ok", rows, [])

    # An API client gets the same verdict in the receipt; Pakistan answers all 137 paragraphs.
    body = _post(portal, world, links["PAK"], "PAK", filled(world, "PAK"), headers=JSON).json()
    assert body["state"] == "received" and body["quick"]["outcome"] == "ok"
    assert body["quick"]["rows"] == 137 and body["quick"]["entity_code"] == "PAK"


def test_the_first_check_of_a_137_row_return_takes_under_300_ms(
    portal: PortalProcess, world: World, links: dict[str, str]
) -> None:
    """The issue's target, measured by the portal around the check (Server-Timing, wall
    time, printed) and asserted in CPU time: the portal and its sandboxed readers' CPU for the
    whole upload, check included, must stay under 300 ms. On a loaded machine the wall time
    measures the wait for a core, not the work, so it is not what the test asserts."""
    import psutil

    assert portal.process is not None
    server = psutil.Process(portal.process.pid)

    def cpu() -> float:
        total = 0.0
        for p in [server, *server.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                times = p.cpu_times()
                total += times.user + times.system
        return total

    durations, used = [], []
    for n in range(7):  # distinct files: a duplicate is not checked again

        def per_row(r: QuestionRow, n: int = n) -> dict[str, str]:
            return {"measures": f"Mesure {n}.{r.number}"}

        data = filled(world, "PAK", per_row=per_row)
        before = cpu()
        response = _post(portal, world, links["PAK"], "PAK", data, headers=JSON)
        used.append((cpu() - before) * 1000)
        assert response.status_code == 201 and response.json()["quick"]["outcome"] == "ok"
        timing = response.headers["server-timing"]
        durations.append(float(re.search(r"dur=([\d.]+)", timing).group(1)))  # type: ignore[union-attr]
    print(
        f"quick check through the portal, 137 rows: {sorted(durations)} ms wall (check), "
        f"{sorted(round(u) for u in used)} ms CPU (whole upload)"
    )
    assert statistics.median(used) < 300


# --- a structurally broken return --------------------------------------------------------


def test_a_broken_upload_shows_its_errors_at_once_and_the_full_report_agrees(
    portal: PortalProcess, world: World, links: dict[str, str]
) -> None:
    broken = _renamed_measures(filled(world, "SEN"))
    submission_id, page = _upload_page(portal, world, links["SEN"], "SEN", broken)
    assert 'data-outcome="invalid"' in page and 'role="alert"' in page
    assert "Ce classeur ne peut pas être accepté en l&#39;état." in page
    quick_rows = _problem_rows(page)
    assert len(quick_rows) == 1
    severity, row, paragraph, column, message, fix = quick_rows[0]
    assert (severity, row, paragraph, column) == ("À corriger", "1", "", "Mesures prises")
    assert "devrait s'intituler «\u00a0Mesures prises\u00a0»" in message and fix
    stored = _stored(submission_id)  # kept, waiting for the full validation
    assert stored.state == "received" and blob_store().get(stored.sha256) == broken
    assert [p["rule"] for p in stored.report["quick"]["problems"]] == ["contract.column_renamed"]

    # Arabic for Egypt: an unknown status is a blocker the contract finds at once.
    egypt = _status_typo(filled(world, "EGY"), "منجز تقريبا")
    egypt_id, egypt_page = _upload_page(portal, world, links["EGY"], "EGY", egypt)
    assert '<html lang="ar" dir="rtl">' in egypt_page and 'data-outcome="invalid"' in egypt_page
    (egypt_row,) = _problem_rows(egypt_page)
    assert egypt_row[0] == "يجب تصحيحه" and egypt_row[1] == "3" and "منجز تقريبا" in egypt_row[4]

    # The full validation refuses both with the same problems, worded the same; the page
    # now shows its report, which is the email's.
    results = {r["submission_id"]: r for r in ingest.run(send=False, docs=False)}
    assert results[submission_id]["outcome"] == "refused"
    assert results[egypt_id]["outcome"] == "refused"
    final = httpx.get(f"{portal.url}/t/{links['SEN']}/returns/{submission_id}", timeout=30).text
    assert "À corriger" in final and 'id="quick"' not in final
    assert "Votre réponse n&#39;a pas encore pu être acceptée" in final
    assert _problem_rows(final) == quick_rows
    with session_scope() as session:
        email = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.idempotency_key == f"feedback:{submission_id}"
            )
        ).one()
        rendered = render(email.template, email.language, email.context)
    assert message in rendered.text and fix in rendered.text
    annotated = re.search(r'href="([^"]+/feedback)"', final)
    assert annotated is not None  # the annotated copy, as attached to the email
    copy = httpx.get(_root(portal) + annotated.group(1), timeout=30)
    assert copy.status_code == 200 and copy.content[:2] == b"PK"
    egypt_final = httpx.get(f"{portal.url}/t/{links['EGY']}/returns/{egypt_id}", timeout=30).text
    assert _problem_rows(egypt_final)[0] == egypt_row  # then what the quality rules add


# --- hostile files -----------------------------------------------------------------------


def test_hostile_uploads_are_kept_answered_at_once_and_do_not_hurt_the_portal(
    portal: PortalProcess, world: World, links: dict[str, str]
) -> None:
    assert portal.process is not None
    pid = portal.process.pid
    before = _rss_kb(pid)
    expected = {
        "zip_bomb_total": ("read.too_large", "par sécurité, il n&#39;a pas été ouvert"),
        "xml_entity_expansion": ("read.unsafe_xml", "pour des raisons de sécurité"),
        "zip_lying_sizes": ("read.too_large", "par sécurité, il n&#39;a pas été ouvert"),
        "dimension_huge": ("read.extent", "bien au-delà du tableau du questionnaire"),
    }
    for name, (rule, words) in expected.items():
        data = case(name).build(world)
        submission_id, page = _upload_page(portal, world, links["SEN"], "SEN", data)
        assert 'data-outcome="unreadable"' in page, name
        assert "Ce fichier ne peut pas être ouvert en toute sécurité" in page, name
        assert words in page, name
        stored = _stored(submission_id)
        assert stored.state == "received" and blob_store().get(stored.sha256) == data, name
        assert [p["rule"] for p in stored.report["quick"]["problems"]] == [rule], name
    grown = _rss_kb(pid) - before
    print(f"portal RSS grew by {grown} kB over {len(expected)} hostile uploads")
    assert grown < 50_000  # the bomb alone inflates to 160 MB: it was never opened here
    libraries = _loaded_libraries(pid)
    assert "/pandas/" not in libraries  # the readers parse; the portal never loads pandas
    # The portal and its readers are fine: a good return is checked as quickly as ever.
    response = _post(portal, world, links["MLI"], "MLI", filled(world, "MLI"), headers=JSON)
    assert response.status_code == 201 and response.json()["quick"]["outcome"] == "ok"
    assert httpx.get(f"{portal.url}/healthz", timeout=5).text == "ok"


# --- in a real browser -------------------------------------------------------------------


@pytest.mark.browser
def test_in_a_browser_the_errors_are_on_the_page_after_sending(
    browser: Browser,
    portal: PortalProcess,
    world: World,
    links: dict[str, str],
    tmp_path: Path,
) -> None:
    workbook = tmp_path / "réponse Sénégal.xlsx"
    workbook.write_bytes(_renamed_measures(filled(world, "SEN")))
    context = browser.new_context(java_script_enabled=False, locale="fr-FR")
    page = context.new_page()
    try:
        page.goto(f"{portal.url}/t/{links['SEN']}")
        page.locator("input[type=file]").set_input_files(workbook)
        page.get_by_role("button", name="Envoyer").click()
        page.wait_for_url("**/returns/*")
        expect(page.get_by_role("status")).to_contain_text("nous avons bien reçu votre classeur")
        expect(page.get_by_role("alert")).to_contain_text("ne peut pas être accepté en l'état")
        problems = page.locator("#problems tbody tr")
        expect(problems).to_have_count(1)
        expect(problems.first).to_contain_text("devrait s'intituler «\u00a0Mesures prises\u00a0»")
        page.get_by_role("link", name="العربية").click()
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        expect(page.get_by_role("alert")).to_contain_text("لا يمكن قبول هذا المصنف على حاله")
        expect(page.locator("#problems tbody tr").first).to_contain_text("يجب تصحيحه")
    finally:
        context.close()
