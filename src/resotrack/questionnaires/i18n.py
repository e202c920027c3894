"""Every word a focal point reads in a questionnaire, by key, from the message catalog.

The sentences live in ``resotrack/locales/<language>/LC_MESSAGES/questionnaire.po`` (English
message ids; ``test_catalog`` fails on one untranslated in any language); the implementation
status scale is the ``common`` domain's. ``status_from_label`` turns whatever a focal point typed
or picked back into its code.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Final

from resotrack import catalog
from resotrack.catalog import LANGUAGES as LANGUAGES  # re-exported for older callers
from resotrack.catalog import N_, NP_
from resotrack.catalog import Language as Language

DOMAIN: Final = "questionnaire"

#: The implementation status scale, canonical codes in the order shown to focal points.
STATUSES: Final[tuple[str, ...]] = (
    "fully_implemented",
    "partially_implemented",
    "in_progress",
    "not_started",
    "not_applicable",
    "no_information",
)

#: Key -> English message id of the ``questionnaire`` catalog domain. The status labels are the
#: ``common`` domain's (context "status"), shared with the reports.
MESSAGES: Final[Mapping[str, str]] = {
    "status.fully_implemented.meaning": N_("Everything the paragraph asks for has been done."),
    "status.partially_implemented.meaning": N_(
        "Part of what the paragraph asks for has been done."
    ),
    "status.in_progress.meaning": N_("Measures have started but none is complete yet."),
    "status.not_started.meaning": N_("Nothing has been done yet."),
    "status.not_applicable.meaning": N_(
        "The paragraph does not concern your country or institution."
    ),
    "status.no_information.meaning": N_("The information is not available at this time."),
    "column.resolution": N_("Resolution"),
    "column.paragraph": N_("Paragraph"),
    "column.section": N_("Section"),
    "column.verb": N_("Operative verb(s)"),
    "column.text": N_("Text of the paragraph"),
    "column.status": N_("Implementation status"),
    "column.measures": N_("Measures taken"),
    "column.start_date": N_("Start date"),
    "column.national_body": N_("Responsible national body"),
    "column.challenges": N_("Challenges encountered"),
    "column.support_requested": N_("Support requested from the OIC"),
    "column.evidence": N_("Evidence (links)"),
    "input.status.title": N_("Status"),
    "input.status.message": N_("Choose a status from the list."),
    "error.status.message": N_("Please choose one of the statuses in the list."),
    "input.date.title": N_("Date"),
    "input.date.message": N_("Type the date as YYYY-MM-DD, e.g. 2024-03-15."),
    "error.date.message": N_("Enter a date between 1990-01-01 and 2100-12-31, as YYYY-MM-DD."),
    "error.title": N_("Invalid entry"),
    "instructions.title": N_("Follow-up questionnaire — {entity}"),
    "instructions.reference": N_("Questionnaire no. {questionnaire} · template {version}"),
    "instructions.entity": N_("Reporting entity"),
    "instructions.cycle": N_("Reporting cycle"),
    "instructions.paragraphs": N_("Paragraphs to report on"),
    "instructions.deadline": N_("Deadline"),
    "instructions.fill.heading": N_("What to fill in"),
    "instructions.fill.rows": N_(
        "Open the sheet “{sheet}”: one row per operative paragraph addressed to you."
    ),
    "instructions.fill.locked": N_(
        "Grey columns recall what was asked (resolution, paragraph, its text); they are locked."
    ),
    "instructions.fill.answers": N_(
        "Fill in the white columns: pick a status from the list, then the measures taken, start"
        " date, responsible body, challenges, support needed and links to evidence."
    ),
    "instructions.fill.prefill": N_(
        "Your answers from the previous cycle are already filled in: please update them."
    ),
    "instructions.fill.dates": N_("Dates: type them as YYYY-MM-DD, e.g. 2024-03-15."),
    "instructions.fill.structure": N_(
        "Do not add, delete or move rows or sheets: the file is read automatically."
    ),
    "instructions.statuses.heading": N_("Implementation status scale"),
    "instructions.return.heading": N_("How to return it"),
    "instructions.return.upload": N_("Upload the completed workbook with your personal link:"),
    "instructions.return.reply": N_(
        "Reply to the email that brought you this workbook, with the completed workbook attached."
    ),
    "instructions.return.reply_alternative": N_(
        "Or reply to the email that brought you this workbook, with the completed workbook "
        "attached."
    ),
    "instructions.return.address": N_("Address: {address}"),
    "instructions.return.format": N_(
        "Keep the file as an .xlsx workbook (Excel or LibreOffice both work)."
    ),
}
_STATUS_LABELS: Final[Mapping[str, str]] = {
    "fully_implemented": NP_("status", "Fully implemented"),
    "partially_implemented": NP_("status", "Partially implemented"),
    "in_progress": NP_("status", "In progress"),
    "not_started": NP_("status", "Not started"),
    "not_applicable": NP_("status", "Not applicable"),
    "no_information": NP_("status", "No information"),
}


def as_language(value: str) -> Language:
    """A stored language code (a plain ``str`` from the database) as a ``Language``."""
    for language in LANGUAGES:
        if value == language:
            return language
    raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {value!r}")


def text(key: str, language: Language, **values: object) -> str:
    """The message ``key`` in ``language``, with its ``{placeholders}`` filled from ``values``."""
    if key.startswith("status.") and key.removeprefix("status.") in _STATUS_LABELS:
        return status_label(key.removeprefix("status."), language)
    return catalog.gettext(language, DOMAIN, MESSAGES[key], **values)


def status_label(code: str, language: Language) -> str:
    """The label of a canonical status code as shown in the dropdown of ``language``."""
    if code not in STATUSES:
        raise ValueError(f"unknown status code {code!r}; expected one of {', '.join(STATUSES)}")
    return catalog.pgettext(language, "common", "status", _STATUS_LABELS[code])


def status_labels(language: Language) -> tuple[str, ...]:
    """The whole scale in ``language``, in canonical order (the dropdown's list)."""
    return tuple(status_label(code, language) for code in STATUSES)


_SPACES = re.compile(r"[\s_\-]+")


def _fold(label: str) -> str:
    """A spelling-insensitive key: case, accents, Arabic marks, NBSP, ``_``/``-`` all ignored.

    NFKC first turns compatibility spaces (NBSP, narrow NBSP) into spaces; NFKD then separates
    accents and Arabic diacritics (tanwin, shadda, hamza above/below) so they can be dropped.
    """
    folded = unicodedata.normalize("NFKC", label).casefold().replace("œ", "oe")
    decomposed = unicodedata.normalize("NFKD", folded)
    kept = "".join(
        ch
        for ch in decomposed
        if not unicodedata.combining(ch)
        and unicodedata.category(ch) != "Cf"  # invisible marks: LRM, RLM, zero-width space
        and ch != "\u0640"  # the Arabic tatweel, a stretching stroke
    )
    return _SPACES.sub(" ", kept).strip()


def _index_labels() -> dict[str, str]:
    """Folded spelling -> code, for every language and the codes themselves; no ambiguity."""
    index: dict[str, str] = {}
    for code in STATUSES:
        for spelling in (code, *(status_label(code, lang) for lang in LANGUAGES)):
            if index.setdefault(_fold(spelling), code) != code:  # pragma: no cover
                raise RuntimeError(f"status label {spelling!r} is ambiguous once folded")
    return index


_BY_FOLDED_LABEL: Final[Mapping[str, str]] = _index_labels()


def status_from_label(label: str | None) -> str | None:
    """The canonical status code for a label in any language (or the code itself), else None.

    Tolerates what real workbooks contain: other case, missing accents or ``oe`` for ``œ``,
    doubled or non-breaking spaces, Arabic with or without vowel marks.
    """
    if label is None:
        return None
    return _BY_FOLDED_LABEL.get(_fold(label))
