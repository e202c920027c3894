"""The reminder messages render in Arabic, English and French and say what is still missing.

The contexts are made by :func:`resotrack.reminders.messages.context` itself, so a key the
templates need and the code does not supply fails here. ``SAMPLE_CONTEXTS`` also feeds the
mail module's test that renders every registered template in every language.
"""

from __future__ import annotations

from datetime import date

import pytest

from resotrack.catalog import LANGUAGES
from resotrack.mail.render import TEMPLATES, render
from resotrack.questionnaires.dates import format_deadline
from resotrack.reminders import messages
from resotrack.reminders.plan import (
    MESSAGE_KINDS,
)
from support.reminder_samples import (
    DEADLINE,
    LINK,
    PROBLEM,
    sample,
)

HOSTILE = '<script>alert("x")</script> & Co'


def test_the_reminder_templates_are_registered_with_the_mail_module() -> None:
    missing = [kind for kind in MESSAGE_KINDS if kind not in TEMPLATES]
    assert not missing, (
        f"add {missing} to resotrack.mail.render.TEMPLATES (and SAMPLE_CONTEXTS to the "
        "CONTEXTS of tests/unit/test_mail_render.py)"
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", MESSAGE_KINDS)
def test_every_message_says_when_what_and_how(kind: str, language: str) -> None:
    rendered = render(kind, language, sample(kind, language))
    deadline = format_deadline(DEADLINE, language)  # type: ignore[arg-type]
    assert rendered.subject and "\n" not in rendered.subject
    assert "<" not in rendered.text and rendered.html.startswith("<!DOCTYPE html>")
    direction = "rtl" if language == "ar" else "ltr"
    assert f'<html lang="{language}" dir="{direction}">' in rendered.html
    for part in (rendered.text, rendered.html):
        assert "Follow-up of the 49th CFM" in part and "Senegal" in part
        assert deadline in part  # Gregorian and Hijri
        assert LINK in part
        if kind == "correction_needed":  # the problems, in the recipient's language
            assert PROBLEM["message"][language] in part and PROBLEM["fix"][language] in part
        else:  # "your return for N paragraphs has not reached us"
            assert "12" in part
    if language == "ar":
        assert f'<span dir="ltr"><a href="{LINK}"' in rendered.html


def test_english_wording_of_each_rung() -> None:
    reminder = render("reminder", "en", sample("reminder"))
    assert "is due by 1 April 2026 (13 Shawwal 1447 AH)" in reminder.text
    assert "answers on 12 paragraphs have not reached us yet" in reminder.text
    late = render("reminder", "en", sample("reminder", today=date(2026, 4, 2)))
    assert "was due on 1 April 2026" in late.text
    overdue = render("overdue", "en", sample("overdue"))
    assert overdue.subject.startswith("Overdue:") and "No information" in overdue.text
    escalation = render("escalation", "en", sample("escalation"))
    assert "Permanent Mission of Senegal" in escalation.text
    assert "reminders to the focal point (Amina Diallo)" in escalation.text
    refused = render("escalation", "en", sample("escalation", standing="needs_correction"))
    assert (
        "could not be accepted as it stands" in refused.text and "Measures missing." in refused.text
    )
    final = render("final_notice", "fr", sample("final_notice", "fr"))
    assert "figurera parmi les entités n'ayant pas fait rapport" in final.text
    assert final.subject.startswith("Dernier rappel")


def test_a_correction_request_lists_problems_and_points_to_the_annotated_copy() -> None:
    many = sample("correction_needed", problems=11)
    rendered = render("correction_needed", "en", many)
    assert (
        "Row 5, paragraph 18, “Measures taken”: Measures missing. Describe them." in rendered.text
    )
    assert rendered.text.count("Measures missing.") == messages.MAX_LISTED
    assert "… and 3 more, marked in the attached copy of your workbook." in rendered.text
    assert many["attachment_names"] == ["feedback-9.xlsx"]
    unreadable = sample("correction_needed", "fr", state="unreadable", problems=0)
    text = render("correction_needed", "fr", unreadable).text
    assert "n'a pas pu être ouvert" in text and "Points à corriger" not in text
    sent_back = render(
        "correction_needed", "ar", sample("correction_needed", "ar", state="correction_requested")
    )
    assert "طلبت الأمانة العامة" in sent_back.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_hostile_names_stay_inert(language: str) -> None:
    for kind in MESSAGE_KINDS:
        rendered = render(kind, language, sample(kind, language, name=HOSTILE, entity=HOSTILE))
        assert "<script>" not in rendered.html and HOSTILE in rendered.text
        assert "\n" not in rendered.subject
