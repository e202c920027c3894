"""The "we received your workbook" email for the channels that have no page to show it on."""

from __future__ import annotations

from resotrack.intake.receive import Receipt

_SUBJECT = {
    "en": "Received: {name}",
    "fr": "Bien reçu : {name}",
    "ar": "تم الاستلام: {name}",
}
_BODY = {
    "en": (
        "We received your workbook {name} on {date} (reference {id}).",
        "It is being checked now; you will receive the result by email. "
        "There is nothing else to do for the moment.",
    ),
    "fr": (
        "Nous avons bien reçu votre classeur {name} le {date} (référence {id}).",
        "Il est en cours de vérification ; vous recevrez le résultat par courriel. "
        "Vous n'avez rien d'autre à faire pour l'instant.",
    ),
    "ar": (
        "تسلّمنا مصنّفكم {name} بتاريخ {date} (المرجع {id}).",
        "يجري الآن التحقق منه، وستصلكم النتيجة بالبريد الإلكتروني. "
        "لا يلزمكم القيام بأي إجراء آخر في الوقت الحالي.",
    ),
}


def acknowledgement(language: str, receipt: Receipt) -> tuple[str, list[str]]:
    """Subject and paragraphs, in the focal point's language (English if unknown)."""
    lang = language if language in _BODY else "en"
    values = {
        "name": receipt.original_name,
        "date": receipt.received_at.strftime("%Y-%m-%d %H:%M UTC"),
        "id": f"#{receipt.submission_id}",
    }
    subject = _SUBJECT[lang].format(**values)
    return subject, [paragraph.format(**values) for paragraph in _BODY[lang]]
