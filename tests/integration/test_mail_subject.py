"""Long Arabic and French subjects reach the mailbox with every space: sent through a real SMTP
server, parsed back from the received bytes with the ``email`` package."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from resotrack.mail.config import MailSettings
from resotrack.mail.headers import encoded_words
from resotrack.mail.render import render
from resotrack.mail.sender import Envelope, YagmailSender, compose
from resotrack.registry.grammar import Named, words
from support.smtp_server import SmtpServer

UAE = Named(
    "ARE",
    "member_state",
    {"en": "United Arab Emirates", "fr": "Émirats arabes unis", "ar": "الإمارات العربية المتحدة"},
)
# Cycle titles of every length, Arabic and French, with the ASCII words a demo title carries:
# where Python's own folding cuts at a space varies with the length, so a sweep finds the cuts
# that lose one («لقراراتالدورة», «resotrackdemo»).
_WORDS = (
    "متابعة resotrack demo لقرارات الدورة الحادية والخمسين لمجلس وزراء خارجية منظمة التعاون "
    "الإسلامي 2026",
    "Suivi resotrack demo des résolutions de la 51e session du Conseil des ministres des "
    "Affaires étrangères 2026",
)
TITLES = [" ".join(words.split()[:k]) for words in _WORDS for k in range(2, len(words.split()) + 1)]
DEADLINES = {"ar": "15 يوليو 2026", "fr": "15 juillet 2026"}


def _send(server: SmtpServer, template: str, language: str, title: str) -> tuple[str, str]:
    context = {
        "name": "A. Focal",
        "cycle_title": title,
        "deadline_text": DEADLINES[language],
        "paragraphs": 12,
        "standing": "no_return",
        "past_deadline": False,
        "focal_points": [],
        "problems": [],
        "more": 0,
        "owed": [],
        **words(UAE, language).fields(),  # type: ignore[arg-type]
    }
    rendered = render(template, language, context)
    settings = MailSettings(smtp_port=server.port, smtp_timeout_seconds=5)
    message = compose(
        settings=settings,
        rendered=rendered,
        to=["focal@uae.test"],
        cc=[],
        message_id="<subject-test@resotrack.test>",
        language=language,
        date=datetime(2026, 6, 1, 9, 0, tzinfo=UTC),
    )
    sender = YagmailSender(settings)
    try:
        sender.begin(Envelope(settings.mail_from, ("focal@uae.test",)))
        sender.data(message.as_bytes())
    finally:
        sender.close()
    return rendered.subject, str(server.messages[-1].message["Subject"])


@pytest.mark.parametrize("language", ["ar", "fr"])
@pytest.mark.parametrize("template", ["questionnaire", "reminder", "escalation"])
def test_a_long_subject_is_decoded_with_all_its_spaces(
    smtp_server: SmtpServer, template: str, language: str
) -> None:
    lost = []
    for title in TITLES:
        intended, received = _send(smtp_server, template, language, title)
        if received != intended:
            lost.append((intended, received))
        raw = smtp_server.messages[-1].raw.split(b"\r\n\r\n", 1)[0]
        subject_lines = raw.split(b"Subject: ", 1)[1].split(b"\r\n")
        assert max(len(line) for line in subject_lines[:3]) <= 78
    assert len(intended.encode()) > 150  # the longest is folded many times
    assert lost == []


def test_encoded_words_hold_whole_characters() -> None:
    text = "آخر موعد " * 10
    pieces = encoded_words(text)
    assert len(pieces) > 2
    decoded = [base64.b64decode(p.split("?")[3]).decode("utf-8") for p in pieces]
    assert "".join(decoded) == text
