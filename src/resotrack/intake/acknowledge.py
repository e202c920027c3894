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


_HOW_SUBJECT = {
    "en": "Your return could not be accepted by email",
    "fr": "Votre réponse n'a pas pu être acceptée par courriel",
    "ar": "تعذّر قبول ردّكم عبر البريد الإلكتروني",
}
_HOW_BODY = {
    "en": (
        "We received a message sent from your address with a questionnaire attached, but we "
        "could not confirm that it came from you, so it was set aside.",
        "To send your return, reply to the email that brought you the questionnaire (its "
        "reply address is personal to you), or upload the workbook through your personal "
        "link. If you did not send this message, you need do nothing.",
    ),
    "fr": (
        "Nous avons reçu un message envoyé depuis votre adresse avec un questionnaire en "
        "pièce jointe, mais nous n'avons pas pu confirmer qu'il venait de vous ; il a donc été "
        "mis de côté.",
        "Pour envoyer votre réponse, répondez au courriel qui vous a apporté le questionnaire "
        "(son adresse de réponse vous est personnelle), ou déposez le classeur par votre lien "
        "personnel. Si vous n'avez pas envoyé ce message, vous n'avez rien à faire.",
    ),
    "ar": (
        "تلقّينا رسالة مرسلة من عنوانكم مرفقًا بها استبيان، لكننا لم نتمكن من التأكد من أنها "
        "صادرة عنكم، فوُضعت جانبًا.",
        "لإرسال ردّكم، أجيبوا على الرسالة التي وصلكم بها الاستبيان (فعنوان الرد فيها خاص "
        "بكم)، أو حمّلوا المصنف عبر رابطكم الشخصي. وإن لم تكونوا أنتم من أرسل هذه الرسالة، "
        "فلا يلزمكم فعل شيء.",
    ),
}


def how_to_send(language: str) -> tuple[str, list[str]]:
    """Subject and paragraphs telling a focal point how to send a return we can trust."""
    lang = language if language in _HOW_BODY else "en"
    return _HOW_SUBJECT[lang], list(_HOW_BODY[lang])


_REFUSED_SUBJECT = {
    "en": "Your workbook could not be accepted: {name}",
    "fr": "Votre classeur n'a pas pu être accepté : {name}",
    "ar": "تعذّر قبول مصنّفكم: {name}",
}
_REFUSED_LINE = {
    "en": "{name}: {words}",
    "fr": "{name} : {words}",
    "ar": "{name}: {words}",
}


def refusal_notice(language: str, refused: list[tuple[str, str]]) -> tuple[str, list[str]]:
    """Subject and one paragraph per refused workbook (``(name, what is wrong and how to fix
    it)``, already in ``language``)."""
    lang = language if language in _REFUSED_SUBJECT else "en"
    subject = _REFUSED_SUBJECT[lang].format(name=refused[0][0])
    return subject, [_REFUSED_LINE[lang].format(name=n, words=w) for n, w in refused]
