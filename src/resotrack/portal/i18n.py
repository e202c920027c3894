"""Every word a focal point reads on the portal, by key, from the ``portal`` catalog domain.

The sentences live in ``resotrack/locales/<language>/LC_MESSAGES/portal.po`` (English message
ids, ``make catalogs`` extracts them from ``MESSAGES`` below); the keys are the names pages and
code use. ``test_catalog`` fails on a message untranslated in any language. The Secretariat's
pages have their own domain, ``staff`` (``resotrack.consolidation.staff_words``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, NamedTuple

from resotrack import catalog
from resotrack.catalog import DEFAULT, LANGUAGES, N_, Language, N_n
from resotrack.catalog import NATIVE_NAMES as NATIVE_NAMES  # the switcher reads it here

DOMAIN: Final = "portal"


#: Key -> English message id.
MESSAGES: Final[dict[str, str]] = {
    "brand": N_("Resolution follow-up"),
    "language": N_("Language"),
    "contact_line": N_("Questions? Write to"),
    "back_home": N_("Back to your page"),
    "megabytes": N_("{n} MB"),
    "kilobytes": N_("{n} KB"),
    "hello": N_("Hello {name},"),
    "home_intro": N_(
        "This is your personal page for reporting on behalf of {entity}. Please do not share "
        "its address."
    ),
    "cycle_heading": N_("Your reporting cycle"),
    "cycle": N_("Cycle"),
    "deadline": N_("Deadline"),
    "status": N_("Status"),
    "days_left": N_("Days remaining: {days}"),
    "due_today": N_("The deadline is today."),
    "overdue": N_("The deadline has passed; your return is still welcome."),
    "cycle_state.waiting": N_("Being prepared"),
    "cycle_state.open": N_("Open"),
    "cycle_state.closed": N_("Closed"),
    "link_valid_until": N_("Your link is valid until {date}."),
    "step_download": N_("1. Download your questionnaire"),
    "download_link": N_("Download the questionnaire (Excel)"),
    "download_hint": N_(
        "Fill it in with Excel or LibreOffice. Keep it as .xlsx and do not rename or delete its"
        " sheets."
    ),
    "step_upload": N_("2. Send back the completed workbook"),
    "upload_label": N_("Completed workbook (.xlsx, up to {max})"),
    "choose_file": N_("Choose the file"),
    "no_file_chosen": N_("No file chosen yet."),
    "file_chosen": N_("A file is chosen; you can send it."),
    "upload_button": N_("Send"),
    "upload_hint": N_("You can also reply to our email with the workbook attached."),
    "cycle_closed_note": N_("This cycle is closed: uploads are no longer accepted."),
    "history_heading": N_("Your returns"),
    "history_empty": N_("Nothing received yet."),
    "col_received": N_("Received"),
    "col_file": N_("File"),
    "col_channel": N_("Sent through"),
    "col_state": N_("Result"),
    "details": N_("Details"),
    "channel.portal": N_("this page"),
    "channel.email": N_("email"),
    "channel.dropfolder": N_("the Secretariat"),
    "channel.cli": N_("the Secretariat"),
    "state.received": N_("Received — being checked"),
    "state.accepted": N_("Accepted"),
    "state.rejected": N_("Needs corrections"),
    "state.superseded": N_("Replaced by a later return"),
    "state.failed": N_("Could not be checked; the Secretariat has been told"),
    "state.validating": N_("Being checked"),
    "state.accepted_with_warnings": N_("Accepted, with remarks"),
    "state.refused": N_("To be corrected"),
    "state.unreadable": N_("Could not be opened"),
    "state.correction_requested": N_("Correction requested by the Secretariat"),
    "result_title": N_("Return #{id}"),
    "just_received": N_(
        "Thank you: we received your workbook. It is being checked; the result will appear on "
        "this page and will also be sent to you by email."
    ),
    "received_notice": N_("Thank you: we received your workbook."),
    "quick_heading": N_("First check"),
    "quick.ok": N_(
        "First check passed: this is your questionnaire and its {rows} rows have the expected "
        "shape. The content checks follow; their result will appear on this page and will be "
        "sent to you by email."
    ),
    "quick.invalid": N_(
        "This workbook cannot be accepted as it is. Please correct the points below and send it"
        " again. We have kept this file: the same report, with a copy of your workbook marking "
        "each point, will also reach you by email."
    ),
    "quick.unreadable": N_(
        "This file cannot be opened safely, so it cannot be accepted (see below). Please send "
        "your questionnaire workbook again, saved as an Excel workbook (.xlsx). We have kept "
        "this file; you will also be told by email."
    ),
    "remarks_heading": N_("Remarks"),
    "col_severity": N_("Type"),
    "col_fix": N_("How to fix it"),
    "download_annotated": N_("Download your workbook with each point marked"),
    "duplicate_notice": N_(
        "This file is identical to return #{id}, received on {date}: it was not counted twice."
    ),
    "being_checked_note": N_(
        "The check usually takes a few minutes. Reload this page to see the result."
    ),
    "field_size": N_("Size"),
    "field_sender": N_("Sender"),
    "outcome": N_("Outcome"),
    "problems_heading": N_("Problems to correct"),
    "warnings_heading": N_("Warnings"),
    "col_row": N_("Row"),
    "col_paragraph": N_("Paragraph"),
    "col_column": N_("Column"),
    "col_message": N_("Problem"),
    "download_original": N_("Download the file you sent"),
    "refused_title": N_("This link cannot be used"),
    "refused.expired": N_("Your personal link has expired."),
    "refused.revoked": N_("Your personal link was withdrawn by the Secretariat."),
    "refused.invalid": N_(
        "This link is not valid. Please check that you copied the whole address from the email."
    ),
    "refused_next": N_(
        "To get a new link, write to the Secretariat. You can also reply to the email that "
        "brought you the questionnaire, with your completed workbook attached."
    ),
    "error.too_large.title": N_("The file is too large"),
    "error.too_large": N_(
        "The limit is {max}. Remove pictures or sheets you added, save, and try again."
    ),
    "error.not_workbook.title": N_("This file is not an Excel workbook"),
    "sniff.not_xlsx": N_(
        "Please send the questionnaire as an Excel workbook (.xlsx). Renaming a file does not "
        "change its format: open it in Excel or LibreOffice and choose “Save as” → Excel "
        "workbook (.xlsx)."
    ),
    "sniff.ole": N_(
        "This is an old-format (.xls) or password-protected file. Open it, remove any password,"
        " and save it as an Excel workbook (.xlsx)."
    ),
    "sniff.ods": N_(
        "This is an OpenDocument (.ods) spreadsheet. In LibreOffice choose “Save as” → Excel "
        "2007-365 (.xlsx)."
    ),
    "sniff.macros": N_(
        "The workbook contains macros, which we cannot accept. Save it as an Excel workbook "
        "(.xlsx) without macros."
    ),
    "sniff.corrupt": N_(
        "The file is damaged or was not completely saved. Open it in Excel or LibreOffice, save"
        " it again and retry."
    ),
    "sniff.empty": N_("The file is empty."),
    "error.no_file.title": N_("No file was sent"),
    "error.no_file": N_("Choose your completed workbook, then press “Send”."),
    "error.rate_limited.title": N_("Please wait before sending again"),
    "error.rate_limited": N_(
        "You have sent {files} in the last {window}. You can send again at {time} UTC (in "
        "about {wait})."
    ),
    "error.forbidden.title": N_("Not available with your link"),
    "error.forbidden": N_("Your personal link is for {entity}, cycle {cycle}, only."),
    "error.not_found.title": N_("Page not found"),
    "error.not_found": N_(
        "There is nothing at this address. Open your personal page from the link in our email."
    ),
    "error.cycle_closed.title": N_("This cycle is closed"),
    "error.cycle_closed": N_(
        "Uploads are no longer accepted for this cycle. Please write to the Secretariat."
    ),
    "error.no_questionnaire.title": N_("Your questionnaire is not ready"),
    "error.no_questionnaire": N_("Please try again later, or write to the Secretariat."),
    "error.server.title": N_("Something went wrong"),
    "error.server": N_(
        "Your file was not received. Please try again in a few minutes; if it happens again, "
        "write to the Secretariat."
    ),
    "error.bad_request.title": N_("The form could not be read"),
    "error.bad_request": N_("Please go back to your page and send the file again."),
}


#: Key -> English singular and plural of a count, ``{n}`` (each language has its own forms).
COUNTED: Final[dict[str, tuple[str, str]]] = {
    "files": N_n("{n} file", "{n} files"),
    "minutes": N_n("{n} minute", "{n} minutes"),
}


class Count(NamedTuple):
    """A value of a message that is a count of something (:data:`COUNTED`), said in the
    reader's language when the message is: ``text("error.rate_limited", "ar", files=Count(
    "files", 3))``."""

    key: str
    n: int


def counted(key: str, language: str, n: int) -> str:
    """``n`` things of the kind ``key`` in ``language``: "1 file", "3 fichiers", "ملفين"."""
    singular, plural = COUNTED[key]
    return catalog.ngettext(catalog.language(language), DOMAIN, singular, plural, n)


def text(key: str, language: str, **values: object) -> str:
    """The message ``key`` in ``language`` (English for a language we lack), filled in."""
    said = {
        name: counted(value.key, language, value.n) if isinstance(value, Count) else value
        for name, value in values.items()
    }
    return catalog.gettext(catalog.language(language), DOMAIN, MESSAGES[key], **said)


def has(key: str) -> bool:
    return key in MESSAGES


def direction(language: str) -> str:
    return "rtl" if language == "ar" else "ltr"


def normalise(language: str | None) -> Language | None:
    """``language`` if it is one of ours (``fr-CA`` counts as ``fr``), else None."""
    if not language:
        return None
    code = language.strip().lower()[:2]
    for known in LANGUAGES:
        if known == code:
            return known
    return None


def from_accept_language(header: str | None) -> Language | None:
    """The best of our languages in an ``Accept-Language`` header, or None."""
    if not header:
        return None
    ranked: list[tuple[float, int, Language]] = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        language = normalise(tag)
        if language and quality > 0:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else None


def choose(*candidates: str | None) -> Language:
    """The first candidate that is one of our languages, else English."""
    for candidate in candidates:
        language = normalise(candidate)
        if language:
            return language
    return DEFAULT


def size_text(size: int, language: str) -> str:
    """A byte count for people: ``10 MB``, ``212 KB``."""
    if size >= 1024 * 1024:
        value = size / (1024 * 1024)
        number = f"{value:.0f}" if value >= 10 or value.is_integer() else f"{value:.1f}"
        return text("megabytes", language, n=number)
    return text("kilobytes", language, n=max(1, round(size / 1024)))


def missing_translations(keys: Iterable[str] | None = None) -> list[str]:
    """``key/lang`` for every message the French or Arabic catalog leaves untranslated."""
    return [
        f"{key}/{language}"
        for key in (keys if keys is not None else MESSAGES)
        for language in LANGUAGES
        if language != "en" and not catalog.translated(language, DOMAIN, MESSAGES[key])
    ]
