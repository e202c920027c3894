"""The "we received your workbook" email for the channels that have no page to show it on."""

from __future__ import annotations

from typing import Final

from resotrack import catalog
from resotrack.catalog import N_
from resotrack.intake.receive import Receipt

# The ``mail`` catalog domain's words for these emails (``make catalogs`` extracts them).
_SUBJECT: Final = N_("Received: {name}")
_BODY: Final = (
    N_("We received your workbook {name} on {date} (reference {id})."),
    N_(
        "It is being checked now; you will receive the result by email. "
        "There is nothing else to do for the moment."
    ),
)


def acknowledgement(language: str, receipt: Receipt) -> tuple[str, list[str]]:
    """Subject and paragraphs, in the focal point's language (English if unknown)."""
    words = catalog.Words(catalog.language(language), "mail")
    values = {
        "name": receipt.original_name,
        "date": receipt.received_at.strftime("%Y-%m-%d %H:%M UTC"),
        "id": f"#{receipt.submission_id}",
    }
    return words(_SUBJECT, **values), [words(paragraph, **values) for paragraph in _BODY]


_HOW_SUBJECT: Final = N_("Your return could not be accepted by email")
_HOW_BODY: Final = (
    N_(
        "We received a message sent from your address with a questionnaire attached, but we "
        "could not confirm that it came from you, so it was set aside."
    ),
    N_(
        "To send your return, reply to the email that brought you the questionnaire (its "
        "reply address is personal to you), or upload the workbook through your personal "
        "link. If you did not send this message, you need do nothing."
    ),
)


def how_to_send(language: str) -> tuple[str, list[str]]:
    """Subject and paragraphs telling a focal point how to send a return we can trust."""
    words = catalog.Words(catalog.language(language), "mail")
    return words(_HOW_SUBJECT), [words(paragraph) for paragraph in _HOW_BODY]


_REFUSED_SUBJECT: Final = N_("Your workbook could not be accepted: {name}")
_REFUSED_LINE: Final = N_("{name}: {words}")


def refusal_notice(language: str, refused: list[tuple[str, str]]) -> tuple[str, list[str]]:
    """Subject and one paragraph per refused workbook (``(name, what is wrong and how to fix
    it)``, already in ``language``)."""
    words = catalog.Words(catalog.language(language), "mail")
    subject = words(_REFUSED_SUBJECT, name=refused[0][0])
    return subject, [words(_REFUSED_LINE, name=n, words=w) for n, w in refused]
