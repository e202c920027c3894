"""Messages render in Arabic, English and French, as text and HTML, and hostile names stay inert."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from importlib.resources import files
from typing import Any

import pytest
from jinja2 import UndefinedError

from resotrack.catalog import LANGUAGES
from resotrack.mail.config import MailSettings
from resotrack.mail.render import TEMPLATES, UnknownTemplate, render
from resotrack.mail.sender import XLSX, Attachment, compose
from support.catalog_leaks import leaks
from support.reminder_samples import SAMPLE_CONTEXTS as REMINDER_CONTEXTS
from support.reminder_samples import sample

HOSTILE = '<script>alert("x")</script> & Co'
DEADLINE = "15 March 2026 (25 Ramadan 1447 AH)"


def questionnaire(name: str = "Amina Diallo", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "entity_name": "Senegal",
        "cycle_title": "Follow-up of the 49th CFM",
        "deadline_text": DEADLINE,
        "attachment_names": ["questionnaire-SEN.xlsx"],
        "upload_url": "https://portal.example/resotrack/t/abc.def",
        **extra,
    }


def summary(**extra: Any) -> dict[str, Any]:
    return {
        "cycle_title": "Follow-up of the 49th CFM",
        "sent": 54,
        "queued": 2,
        "problems": [
            {"kind": "bad_address", "entity": "Mali", "focal_point": "A. Traoré", "email": "a@"},
            {"kind": "no_focal_point", "entity": "Chad"},
        ],
        **extra,
    }


def notice(**extra: Any) -> dict[str, Any]:
    return {"subject": "Reminder", "paragraphs": ["First.", "Second."], "name": "Ali", **extra}


def feedback(**extra: Any) -> dict[str, Any]:
    problem = {
        "row": 5,
        "paragraph": 4,
        "column": "Measures taken",
        "message": "The measures taken are not described.",
        "fix": "Describe briefly what was done.",
        "severity": "blocker",
        "severity_label": "To correct",
    }
    return {
        "name": "Ali",
        "entity_name": "Senegal",
        "cycle_title": "Follow-up of the 49th CFM",
        "file_name": "12-SEN.xlsx",
        "received_text": "2026-03-01 10:00 UTC",
        "outcome": "refused",
        "outcome_label": "Return to be corrected",
        "answers": 0,
        "problems": [problem],
        "more": 0,
        "has_annotated_copy": True,
        **extra,
    }


CONTEXTS = {
    "questionnaire": questionnaire,
    "dispatch_summary": summary,
    "notice": notice,
    "feedback": feedback,
}
CONTEXTS.update(REMINDER_CONTEXTS)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_renders_in_every_language(template: str, language: str) -> None:
    rendered = render(template, language, CONTEXTS[template]())
    assert rendered.subject and "\n" not in rendered.subject
    assert rendered.text.strip() and "<" not in rendered.text
    assert rendered.html.startswith("<!DOCTYPE html>")
    direction = "rtl" if language == "ar" else "ltr"
    assert f'<html lang="{language}" dir="{direction}">' in rendered.html
    assert "<img" not in rendered.html and "<link" not in rendered.html  # light: no fetches


def test_questionnaire_says_what_a_focal_point_needs() -> None:
    for language in LANGUAGES:
        rendered = render("questionnaire", language, questionnaire())
        for part in (rendered.text, rendered.html):
            assert "Amina Diallo" in part
            assert "Follow-up of the 49th CFM" in part
            assert DEADLINE in part
            assert "https://portal.example/resotrack/t/abc.def" in part
            assert "questionnaire-SEN.xlsx" in part
    en = render("questionnaire", "en", questionnaire())
    assert "reply to this email" in en.text and "Senegal" in en.subject


def test_without_a_link_the_questionnaire_only_offers_a_reply() -> None:
    rendered = render("questionnaire", "fr", questionnaire(upload_url=None))
    assert "/t/" not in rendered.text and "lien personnel" not in rendered.text
    assert "répondez à ce message" in rendered.text


def test_arabic_is_right_to_left_with_the_link_kept_left_to_right() -> None:
    rendered = render("questionnaire", "ar", questionnaire(name="فاطمة الزهراء"))
    assert '<html lang="ar" dir="rtl">' in rendered.html
    assert "text-align:right" in rendered.html
    assert '<span dir="ltr"><a href="https://portal.example/resotrack/t/abc.def"' in rendered.html
    assert "فاطمة الزهراء" in rendered.text and "استبيان" in rendered.subject


@pytest.mark.parametrize("language", LANGUAGES)
def test_hostile_names_are_escaped_in_html_and_kept_readable_in_text(language: str) -> None:
    rendered = render("questionnaire", language, questionnaire(name=HOSTILE, entity_name=HOSTILE))
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in rendered.html
    assert HOSTILE in rendered.text

    problems = [{"kind": "bad_address", "entity": HOSTILE, "focal_point": HOSTILE, "email": "x"}]
    rendered = render("dispatch_summary", language, summary(problems=problems, cycle_title=HOSTILE))
    assert "<script>" not in rendered.html and HOSTILE in rendered.text

    rendered = render("notice", language, notice(paragraphs=[HOSTILE], name=HOSTILE))
    assert "<script>" not in rendered.html and HOSTILE in rendered.text


def test_a_subject_cannot_carry_a_second_header() -> None:
    rendered = render("notice", "en", notice(subject="Reminder\r\nBcc: spy@example.org"))
    assert rendered.subject == "Reminder Bcc: spy@example.org"


def test_summary_names_each_problem_in_plain_words() -> None:
    problems = [
        {"kind": "bad_address", "entity": "Mali", "focal_point": "A. Traoré", "email": "a@"},
        {"kind": "no_focal_point", "entity": "Chad"},
        {"kind": "other", "entity": "Iran", "detail": "the workbook could not be built"},
    ]
    text = render("dispatch_summary", "en", summary(problems=problems)).text
    assert 'A. Traoré (Mali): the email address "a@" is not valid' in text
    assert "Chad has no active focal point" in text
    assert "Iran: the workbook could not be built" in text
    assert "Sent: 54" in text and "Queued, waiting to be sent: 2" in text
    fr = render("dispatch_summary", "fr", summary(problems=problems))
    assert "Tchad" not in fr.text and "Chad n'a aucun point focal actif" in fr.text
    as_dispatch_reports_them = summary(sent=None, questionnaires=57, problems=["Chad: <no one>"])
    early = render("dispatch_summary", "en", as_dispatch_reports_them)
    assert "Sent:" not in early.text and "Questionnaires prepared: 57" in early.text
    assert "- Chad: <no one>" in early.text and "Chad: &lt;no one&gt;" in early.html
    assert early.subject == 'Dispatch of "Follow-up of the 49th CFM": 2 queued, 1 to check'
    calm = render("dispatch_summary", "ar", summary(problems=[]))
    assert "لا شيء يستدعي انتباهكم" in calm.text and "يلزم التحقق" not in calm.subject


def test_unknown_template_language_or_missing_context_fail_loudly() -> None:
    with pytest.raises(UnknownTemplate):
        render("welcome", "en", {})
    with pytest.raises(UnknownTemplate):
        render("notice", "es", notice())
    with pytest.raises(UndefinedError):
        render("questionnaire", "en", {"name": "X"})


def test_composed_message_has_both_parts_the_attachment_and_our_headers() -> None:
    settings = MailSettings(
        mail_from="secretariat@oic.test",
        mail_from_name="Secrétariat général",
        mail_reply_to="returns@oic.test",
    )
    rendered = render("questionnaire", "ar", questionnaire())
    workbook = b"PK\x03\x04 pretend workbook \x00\xff"
    msg = compose(
        settings=settings,
        rendered=rendered,
        to=["fp@gov.example"],
        cc=["mission@gov.example"],
        message_id="<outbox-1.abc@oic.test>",
        language="ar",
        date=datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
        attachments=[Attachment("questionnaire-SEN.xlsx", XLSX, workbook)],
    )
    parsed = message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert parsed["Message-ID"] == "<outbox-1.abc@oic.test>"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["Reply-To"] == "returns@oic.test"
    assert parsed["Subject"] == rendered.subject  # Arabic survives RFC 2047 encoding
    assert parsed["From"].addresses[0].display_name == "Secrétariat général"
    assert parsed["Cc"] == "mission@gov.example"
    assert parsed.get_content_type() == "multipart/mixed"
    body = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert body is not None and html is not None
    assert body.get_content().replace("\r\n", "\n") == rendered.text  # CRLF on the wire
    assert html.get_content().replace("\r\n", "\n") == rendered.html
    (attachment,) = list(parsed.iter_attachments())
    assert attachment.get_filename() == "questionnaire-SEN.xlsx"
    assert attachment.get_content_type() == XLSX
    assert attachment.get_content() == workbook
    assert all(len(line) <= 998 for line in msg.as_bytes().split(b"\r\n"))


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESOTRACK_SMTP_HOST", "relay.oic.test")
    monkeypatch.setenv("RESOTRACK_SMTP_SECURITY", "starttls")
    monkeypatch.setenv("RESOTRACK_SMTP_PASSWORD", "s3cret")
    monkeypatch.setenv("RESOTRACK_MAIL_FROM", "resotrack@oic-oci.test")
    monkeypatch.setenv("RESOTRACK_MAIL_SECRETARIAT", "a@oic.test, b@oic.test;c@oic.test")
    monkeypatch.setenv("RESOTRACK_MAIL_PORTAL_URL", "https://oic.test/resotrack/")
    settings = MailSettings()
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_security) == (
        "relay.oic.test",
        8025,
        "starttls",
    )
    assert settings.mail_secretariat == ["a@oic.test", "b@oic.test", "c@oic.test"]
    assert settings.from_domain == "oic-oci.test"
    assert settings.upload_url("tok") == "https://oic.test/resotrack/t/tok"
    assert "s3cret" not in repr(settings)
    assert settings.smtp_password.get_secret_value() == "s3cret"


@pytest.mark.parametrize("language", ["ar", "fr"])
@pytest.mark.parametrize("template", TEMPLATES)
def test_no_english_leaks_into_french_or_arabic_mail(template: str, language: str) -> None:
    # A reminder's context is built in its reader's language (names, dates, form of address).
    context = sample(template, language) if template in REMINDER_CONTEXTS else CONTEXTS[template]()
    rendered = render(template, language, context)
    text = "\n".join((rendered.subject, rendered.text, rendered.html))
    assert leaks(text, language, ["mail", "common", "registry"]) == []


def test_the_leak_check_sees_english() -> None:
    english = render("questionnaire", "en", questionnaire())
    assert "Shortly after you send it" in " ".join(leaks(english.text, "fr", ["mail"]))


@pytest.mark.parametrize(
    ("paragraphs", "said"),
    [
        (1, "عن الفقرة المطلوبة"),
        (2, "عن الفقرتين المطلوبتين"),
        (3, "عن 3 فقرات"),
        (12, "عن 12 فقرة"),
    ],
)
def test_arabic_reminders_count_paragraphs_as_arabic_does(paragraphs: int, said: str) -> None:
    context = {**sample("reminder", "ar"), "paragraphs": paragraphs}
    context.pop("paragraphs_text")
    rendered = render("reminder", "ar", context)
    assert said in rendered.text and "وعددها" not in rendered.text


def test_each_message_is_one_set_of_templates_translated_by_the_catalog() -> None:
    root = files("resotrack.mail") / "templates"
    for template in TEMPLATES:
        names = {p.name for p in (root / template).iterdir()}
        assert {"message.subject.txt", "message.txt", "message.html"} <= names, template
        assert not [n for n in names if n.split(".")[0] in LANGUAGES], template


#: Each branch of the messages that have branches, in a French and an Arabic reading.
VARIANTS: list[tuple[str, dict[str, Any]]] = [
    *(("feedback", {"outcome": o, "answers": 1, "more": 2}) for o in ("accepted", "unreadable")),
    ("feedback", {"outcome": "accepted_with_warnings", "answers": 5, "name": None, "more": 0}),
    ("escalation", {"standing": "needs_correction", "more": 2, "has_annotated_copy": True}),
    ("escalation", {"focal_points": ["A. B.", "C. D."]}),
    ("escalation", {"focal_points": [], "upload_url": None}),
    ("final_notice", {"standing": "needs_correction", "more": 1, "has_annotated_copy": False}),
    *(
        ("correction_needed", {"correction_reason": r})
        for r in ("unreadable", "correction_requested")
    ),
    ("correction_needed", {"past_deadline": True, "more": 3, "upload_url": None}),
    ("reminder", {"past_deadline": True, "owed": ["§ 4"], "upload_url": None}),
    ("dispatch_summary", {"sent": None, "questionnaires": 3, "problems": ["Chad: none"]}),
]


def _variant(template: str, language: str, extra: dict[str, Any]) -> dict[str, Any]:
    base = sample(template, language) if template in REMINDER_CONTEXTS else CONTEXTS[template]()
    return {**base, **extra}


@pytest.mark.parametrize("language", ["ar", "fr"])
@pytest.mark.parametrize(("template", "extra"), VARIANTS)
def test_no_english_leaks_into_any_branch(
    template: str, extra: dict[str, Any], language: str
) -> None:
    rendered = render(template, language, _variant(template, language, extra))
    text = "\n".join((rendered.subject, rendered.text, rendered.html))
    assert leaks(text, language, ["mail", "common", "registry", "reminders"]) == []


def test_counted_words_take_each_language_s_plural() -> None:
    def text(template: str, language: str, **extra: Any) -> str:
        return render(template, language, _variant(template, language, extra)).text

    assert "1 answer is now recorded" in text("feedback", "en", outcome="accepted", answers=1)
    assert "5 réponses sont désormais" in text("feedback", "fr", outcome="accepted", answers=5)
    assert "سُجلت الآن إجابة واحدة" in text("feedback", "ar", outcome="accepted", answers=1)
    assert "سُجلت الآن 5 إجابات" in text("feedback", "ar", outcome="accepted", answers=5)
    assert "سُجلت الآن 11 إجابة" in text("feedback", "ar", outcome="accepted", answers=11)
    nc = {"standing": "needs_correction", "has_annotated_copy": False}
    assert "… et 1 autre point." in text("final_notice", "fr", more=1, **nc)
    assert "… et 2 autres points." in text("final_notice", "fr", more=2, **nc)
    assert "… ونقطتان أخريان." in text("final_notice", "ar", more=2, **nc)
    assert "… و4 نقاط أخرى." in text("final_notice", "ar", more=4, **nc)
    two = ["A. B.", "C. D."]
    assert "aux points focaux (A. B., C. D.)" in text("escalation", "fr", focal_points=two)
    assert "إلى جهتَي الاتصال (A. B.، C. D.)" in text("escalation", "ar", focal_points=two)
    assert "2 envoyés" in render("dispatch_summary", "fr", summary(sent=2)).subject
    assert "1 envoyé," in render("dispatch_summary", "fr", summary(sent=1)).subject


def test_a_sentence_names_the_entity_in_the_form_its_language_needs() -> None:
    fr = render("reminder", "fr", sample("reminder", "fr"))
    assert "Le rapport <strong>du Senegal</strong> est attendu" in fr.html
    assert "Ce lien est réservé au Senegal\u00a0;" in fr.text
    ar = render("escalation", "ar", sample("escalation", "ar"))
    assert '<html lang="ar" dir="rtl">' in ar.html and "text-align:right" in ar.html
    assert "تتوجه الأمانة العامة إلى <strong>" in ar.html
    hostile = render("reminder", "fr", sample("reminder", "fr", entity=HOSTILE))
    assert "<script>" not in hostile.html and HOSTILE in hostile.text
