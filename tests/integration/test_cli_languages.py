"""Every line the command prints is the terminal's language, the codes it names as well:
``LANG=fr_FR.UTF-8`` reads French, ``LANG=ar_SA.UTF-8`` Arabic, ``LANG=C`` English."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import SEED_000
from resotrack import clock
from resotrack.catalog import Said, Words
from resotrack.cli import app
from resotrack.publicsite.site import SiteResult
from resotrack.reminders.ladder import Fatigue, Rung, rung_label
from resotrack.reminders.plan import Reason, Sent, fatigue_verdict, reason_label
from support.catalog_leaks import leaks
from support.smtp_server import SmtpServer
from support.world import queue_notice

NBSP = "\u00a0"
runner = CliRunner()


@pytest.fixture
def speak(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``speak("fr")`` sets the terminal's locale as a shell would (``LANG``) for what follows."""
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "200")

    def to(language: str) -> None:
        locale = {"fr": "fr_FR.UTF-8", "ar": "ar_SA.UTF-8", "en": "C"}[language]
        monkeypatch.setenv("LANG", locale)

    return to


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def _flat(output: str) -> str:
    """``output`` on one line (rich folds long lines); no-break spaces kept."""
    return re.sub(r"[ \n]+", " ", output)


# --- a. the reports of outbox send, site build, verify, restore, consolidate, show ---------


def test_outbox_send_import_show_and_verify_in_french_and_arabic(
    db_url: str, shared_dir: Path, speak: Any, smtp_server: SmtpServer, monkeypatch: Any
) -> None:
    monkeypatch.setenv("RESOTRACK_SMTP_PORT", str(smtp_server.port))
    speak("fr")
    assert run("init")[0] == 0
    code, output = run("outbox", "send")
    assert code == 0 and "Rien n’attendait dans la boîte d’envoi." in output
    row = queue_notice("languages:1")
    code, output = run("outbox", "send")
    assert code == 0, output
    assert f"1 message envoyé{NBSP}: {row}" in output and "SendReport" not in output
    code, output = run("resolutions", "import", str(SEED_000))
    assert code == 0 and "1/49-IT version 1 importée (5 paragraphes du dispositif)" in output
    code, output = run("resolutions", "import", str(SEED_000))
    assert code == 0 and "inchangée (déjà importée)" in output
    code, output = run("resolutions", "show", "1/49-IT")
    assert code == 0 and f"version 1{NBSP}: importée le " in output
    assert "5 paragraphes, sha256" in output and "imported" not in output
    code, output = run("verify")
    assert "resotrack verify" in output and "schéma" in output and "réponses" in output
    assert "révision" in output and "(à jour)" in output
    assert leaks(output, "fr", ["cli"]) == [], output

    speak("ar")
    code, output = run("resolutions", "show", "1/49-IT")
    assert code == 0 and "الإصدار 1: استُورد في" in output and "5 فقرات" in output
    code, output = run("verify")
    assert "المخطط" in output and "الإجابات" in output and "صندوق الصادر" in output
    assert leaks(output, "ar", ["cli"]) == [], output
    row = queue_notice("languages:2")
    code, output = run("outbox", "send")
    assert code == 0 and f"أُرسلت رسالة واحدة: {row}" in output

    speak("en")  # the default stays English
    code, output = run("verify")
    assert "schema" in output and ("OK: nothing wrong found" in output or "NOT OK" in output)


def test_site_build_and_consolidate_lines_in_french_and_arabic(
    speak: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import resotrack.consolidation.builds as builds
    import resotrack.publicsite.site as site

    monkeypatch.setattr(site, "build_site", lambda session, folder: SiteResult(folder, 12, [3]))
    monkeypatch.setattr("resotrack.store.session_scope", _no_session)
    result = SimpleNamespace(
        created=True,
        version=2,
        build_id=7,
        outputs=[],
        summary={
            "entities_asked": 57,
            "entities_returned": 40,
            "entities_on_time": 31,
            "response_rate": 40 / 57,
        },
    )
    monkeypatch.setattr(builds, "build_report", lambda cycle, **_: result)
    monkeypatch.setattr(builds, "write_outputs", lambda outputs, folder: [folder / "a.docx"])

    speak("fr")
    code, output = run("site", "build", "--out", str(tmp_path / "site"))
    assert code == 0, output
    assert f"site public écrit dans {tmp_path / 'site'}{NBSP}: 12 pages tirées de 1 version" in (
        output.replace("\n", "")
    )
    code, output = run("consolidate", "--cycle", "4", "--out", str(tmp_path / "out"))
    assert code == 0, output
    assert f"cycle 4{NBSP}: version v2 produite (id 7){NBSP}; 1 fichier dans" in output
    assert "40 entités sur 57 ont répondu (70" in output and "31 dans les délais" in output
    assert leaks(output, "fr", ["cli"]) == []
    monkeypatch.setattr("resotrack.orchestration.trigger_dag", lambda dag, conf: None)
    code, output = run("reports", "submit", "7")
    assert code == 1 and "erreur\u00a0:" in output and "Airflow n’a pas lancé l’exécution" in output
    monkeypatch.setattr("resotrack.orchestration.trigger_dag", lambda dag, conf: "manual__1")
    code, output = run("reports", "submit", "7")
    assert code == 0 and "en attente d’approbation dans l’exécution Airflow manual__1" in output

    speak("ar")
    code, output = run("site", "build", "--out", str(tmp_path / "site"))
    assert code == 0 and "من إصدار معتمد واحد من التقرير" in output
    code, output = run("consolidate", "--cycle", "4", "--out", str(tmp_path / "out"))
    assert code == 0 and "ردّت 40 من أصل 57 جهةً (70%)، 31 في الموعد" in output
    assert leaks(output, "ar", ["cli"]) == []


class _no_session:
    def __init__(self, *_: object) -> None:
        pass

    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: object) -> None:
        return None


def test_restore_next_steps_are_said_in_each_language() -> None:
    from resotrack.recovery.restore import _next_steps

    manifest = SimpleNamespace(
        revision="0001", database={"snapshot_at": "2026-11-24T02:15:00Z"}, started_at="x"
    )
    result = SimpleNamespace(manifest=manifest, held_messages=[4, 9])
    steps = _next_steps(result, current=False)  # type: ignore[arg-type]
    assert steps[1].startswith("2 emails pending at backup time are held as uncertain")
    assert json.loads(json.dumps(steps)) == [str(step) for step in steps]  # JSON: English
    french = [Words("fr", "cli").said(step) for step in steps]
    assert french[0].startswith("lancez `resotrack init` pour mettre le schéma à niveau de 0001")
    assert french[1].startswith("2 courriels en attente au moment de la sauvegarde")
    assert "(messages sortants 4, 9)" in french[1]
    assert "ne sont pas dans cette sauvegarde" in french[2]
    arabic = [Words("ar", "cli").said(step) for step in steps]
    assert arabic[1].startswith("رسالتان كانتا قيد الانتظار")
    assert arabic[3].startswith("أعد ضبط الأسرار")
    for language, said in (("fr", french), ("ar", arabic)):
        assert leaks("\n".join(said), language, ["cli"]) == []


def test_said_keeps_its_message_through_copies() -> None:
    import copy
    import pickle

    said = Said.n("{n} message sent: {ids}", "{n} messages sent: {ids}", 3, ids="1, 2, 3")
    assert said == "3 messages sent: 1, 2, 3"
    for again in (copy.deepcopy(said), pickle.loads(pickle.dumps(said))):
        assert Words("fr", "cli").said(again) == f"3 messages envoyés{NBSP}: 1, 2, 3"
    assert Words("fr", "cli").said("plain") == "plain"


# --- b. codes inside sentences: states, kinds, rungs, reasons ----------------------------


def test_states_kinds_and_rungs_are_labelled_in_french_and_arabic(
    db_url: str, speak: Any, tmp_path: Path
) -> None:
    speak("fr")
    assert run("init")[0] == 0
    run("resolutions", "import", str(SEED_000))
    deadline = f"{clock.today() + timedelta(days=60):%Y-%m-%d}"
    code, output = run(
        "cycles", "open", "--resolution", "1/49-IT", "--deadline", deadline,
        "--entities", "SEN", "--no-dispatch",
    )  # fmt: skip
    assert code == 0, output
    code, output = run("cycles", "show", "1")
    assert code == 0, output
    assert "en attente d’envoi" in output and "waiting" not in output
    assert "J-14 rappel" in output and "J+3 retard" in output and "dernier avis" in output
    code, output = run("cycles", "list")
    assert code == 0 and "en attente d’envoi" in output
    code, output = run("entities", "list", "--kind", "member_state")
    assert code == 0 and "État membre" in output and "member_state" not in output
    code, output = run("entities", "list", "--kind", "member_state", "--json")
    assert {e["kind"] for e in json.loads(output)} == {"member_state"}  # JSON keeps the codes
    queue_notice("labels:1")
    code, output = run("outbox", "list")
    assert code == 0 and "en attente d’envoi" in output and "avis" in output
    assert "pending" not in output
    code, output = run("reminders", "ladder", "show", "--cycle", "1")
    assert code == 0, output
    # Words, not a phrase: the table folds its cells at the terminal's width.
    flat = _flat(output)
    assert all(word in flat for word in ("focaux", "copie", "saisine", "mission")), output
    code, output = run("resolutions", "relink")
    assert code == 0 and "filiation recalculée" in output and "paragraph(s)" not in output
    code, output = run("resolutions", "themes", "1/49-IT")
    assert code == 0 and "sujets" in output and "rejeté par le personnel" in output
    code, output = run("resolutions", "themes", "1/49-IT", "--language", "de")
    assert code == 1 and "erreur" in output and "utilisez ar, en ou fr" in output

    speak("ar")
    code, output = run("cycles", "show", "1")
    assert code == 0 and "بانتظار الإرسال" in output and "تذكير (الموعد -14 يوم)" in output
    code, output = run("outbox", "list")
    assert code == 0 and "بانتظار الإرسال" in output and "إشعار" in output
    code, output = run("entities", "list", "--kind", "member_state")
    assert code == 0 and "دولة عضو" in output

    speak("en")
    code, output = run("cycles", "show", "1")
    assert code == 0 and "waiting to be dispatched" in output and "D-14 reminder" in output


def test_reminder_reasons_and_rungs_are_said_in_the_reader_language() -> None:
    fatigue = Fatigue(max_messages=3, min_gap_days=5)
    rung = Rung(-7, "reminder")
    deferred = fatigue_verdict([Sent(date(2026, 3, 16))], rung, date(2026, 3, 18), fatigue)
    assert deferred.reason == "deferred: last message on 2026-03-16, minimum gap 5 days"
    french = reason_label(Words("fr", "cli"), deferred.reason)
    assert french.startswith(f"reporté{NBSP}: dernier message le ") and "5\u00a0jours" in french
    arabic = reason_label(Words("ar", "cli"), deferred.reason)
    assert arabic.startswith("مؤجَّل: آخر رسالة في")
    assert rung_label(Words("fr", "cli"), rung) == "J-7 rappel"
    assert rung_label(Words("fr", "cli"), Rung(0, "final")) == "Jour J dernier avis"
    assert rung_label(Words("en", "cli"), Rung(3, "overdue")) == "D+3 overdue"
    problem = Reason(
        "{who} has no active focal point with a valid address, so its {rung} message was not sent",
        who="Senegal (SEN)",
        rung=rung,
    )
    assert (
        problem.startswith("Senegal (SEN) has no active focal point") and "D-7 reminder" in problem
    )
    french = reason_label(Words("fr", "cli"), problem)
    assert french == (
        "Senegal (SEN) n’a aucun point focal actif à l’adresse valide, son message J-7 rappel "
        "n’a donc pas été envoyé"
    )
    assert "تذكير (الموعد -7 يوم)" in reason_label(Words("ar", "cli"), problem)
    from resotrack.reminders.ladder import default_ladder, warnings

    notes = warnings(default_ladder(), Fatigue(4, 5))
    assert any("D+30 final will not reach" in note for note in notes)  # English, as logged
    said_fr = [Words("fr", "cli").said(note) for note in notes]
    assert any("J+30 dernier avis n’atteindra pas un point focal" in note for note in said_fr)
    assert any(f"J+3 retard vient 4{NBSP}jours après J-1 rappel" in note for note in said_fr)
    for language in ("fr", "ar"):
        joined = "\n".join(Words(language, "cli").said(note) for note in notes)
        assert leaks(joined, language, ["cli"]) == []


# --- c. parse findings inside refusals ---------------------------------------------------


def test_parse_findings_are_said_in_french_and_arabic(
    db_url: str, speak: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = SEED_000.read_text("utf-8").replace("- 3. DEMANDE", "- 2. DEMANDE")
    broken = tmp_path / "broken.txt"
    broken.write_text(text, "utf-8")
    table = tmp_path / "paragraphs.csv"
    table.write_text(
        "number,section,text,verbs,addressees\none,,Urges,,\n2,,,,\n3,,Asks,,XX\n", "utf-8"
    )
    speak("fr")
    code, output = run("resolutions", "parse", str(broken))
    assert code == 1
    flat = _flat(output)
    assert "le paragraphe 2 apparaît deux fois (lignes" in flat
    assert "le paragraphe 3 manque" in flat and "appears twice" not in flat
    code, output = run("resolutions", "import", "--symbol", "X/1", str(table))
    assert code == 1
    flat = _flat(output)
    assert "le tableau de paragraphes n’a pas été importé" in flat
    assert f"ligne 2{NBSP}: le numéro 'one' n’est pas un nombre" in flat
    assert f"ligne 3{NBSP}: le paragraphe 2 n’a pas de texte" in flat
    assert f"ligne 4{NBSP}: destinataire inconnu XX" in flat and "row 2" not in flat
    assert leaks(flat, "fr", ["resolutions"]) == []

    speak("ar")
    code, output = run("resolutions", "parse", str(broken))
    flat = _flat(output)
    assert code == 1 and "الفقرة 2 تظهر مرتين (الأسطر" in flat and "الفقرة 3 مفقودة" in flat
    code, output = run("resolutions", "import", "--symbol", "X/1", str(table))
    flat = _flat(output)
    assert code == 1 and "الصف 2: الرقم 'one' ليس عددًا" in flat
    assert leaks(flat, "ar", ["resolutions"]) == []

    from resotrack.resolutions import import_inbox
    from resotrack.settings import get_settings

    inbox = get_settings().resolutions_inbox
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "broken.txt").write_text(text, "utf-8")
    import_inbox()
    said = (inbox / "failed" / "broken.txt.error.txt").read_text("utf-8")
    assert "paragraph 2 appears twice" in said  # English first
    assert "le paragraphe 2 apparaît deux fois" in said and "الفقرة 2 تظهر مرتين" in said


# --- d. the demo's screen ----------------------------------------------------------------


def _demo_facts() -> dict[str, Any]:
    from resotrack.catalog import Said

    return {
        "synthetic": False,
        "resolutions": [{"symbol": "1/49-IT", "version": 1, "paragraphs": 5, "created": True}],
        "entities": {"member_states": 57, "institutions": 33},
        "focal_points": Said(
            "{added} added, {updated} updated, {unchanged} unchanged, {deactivated} deactivated",
            added=60,
            updated=0,
            unchanged=0,
            deactivated=0,
        ),
        "cycle": {
            "id": 1,
            "title": "Demo",
            "deadline": "2027-01-06",
            "questionnaires": 60,
            "reused": False,
        },
        "simulation": {
            "days": 45,
            "focal_points": 60,
            "planned": {"on_time": 30, "with_errors": 10, "late": 10, "never": 10},
            "first_uploads": {"portal": 50},
            "corrections": 10,
            "problems": [],
        },
        "entities_replied": 48,
        "submissions": {"accepted": 48, "refused": 10},
        "mail": {
            "sent_by_kind": {"questionnaire": 60, "final_notice": 4},
            "not_sent": 0,
            "in_maildir": 64,
        },
        "report": {
            "version": 1,
            "build_id": 1,
            "headline": Said(
                "{returned} of {asked} entities returned, {on_time} on time",
                returned=48,
                asked=60,
                on_time=40,
            ),
            "state": "awaiting_approval",
            "run_id": "manual__1",
        },
        "airflow": {
            "ingest_runs": {"upload": 58, "by_hand": 1, "scheduled": 2},
            "uploads": 58,
            "metadata_database": "PostgreSQL 17",
            "postgres_data": "var/postgres",
            "parallelism": 4,
            "component_checks": 30,
        },
        "seconds_to_summary": 200,
    }


def test_the_demo_screen_speaks_the_terminal_language(speak: Any) -> None:
    import io

    from rich.console import Console

    from resotrack.catalog import N_, Said
    from resotrack.demo import summary
    from resotrack.demo.run import Story

    where = [
        (N_("Dashboard"), "http://127.0.0.1:28080/resotrack/staff/dashboard/cycles/1"),
        (N_("Mail folder"), Said("{folder}/new/ (a maildir: one message per file)", folder="var")),
    ]

    def screen() -> str:
        out = io.StringIO()
        console = Console(file=out, width=200)
        summary.show(console, _demo_facts(), where)
        frame = SimpleNamespace(console=console)
        with Story.step(frame, N_("Opening the demo cycle"), spinner=False) as step:  # type: ignore[arg-type]
            step.done(Said("cycle {cycle}, {n} questionnaires, deadline {deadline} (new)",
                           cycle=1, n=60, deadline="2027-01-06"))  # fmt: skip
        return re.sub(r"[ \n│]+", " ", out.getvalue())

    speak("fr")
    french = screen()
    assert "démo resotrack — bilan" in french and "Où regarder" in french
    assert (
        "Tableau de bord" in french
        and "(un maildir : un message par fichier)" in french.replace(NBSP, " ")
    )
    assert "48 entités acceptées sur 60" in french and "48 accepté" in french
    assert "60 questionnaire" in french and "4 dernier avis" in french
    assert "Ouverture du cycle de démonstration" in french and "(nouveau)" in french
    assert "en attente d’approbation dans l’exécution publish_report manual__1" in french
    assert leaks(french, "fr", ["demo"]) == []
    speak("ar")
    arabic = screen()
    assert "عرض resotrack — الملخص" in arabic and "أين تنظر" in arabic
    assert "فتح دورة العرض" in arabic and "ردّت 48 من أصل 60 جهة" in arabic
    assert leaks(arabic, "ar", ["demo"]) == []
    speak("en")
    english = screen()
    assert "resotrack demo — summary" in english and "Opening the demo cycle" in english
    assert "48 of 60 entities accepted (80 %)" in english
