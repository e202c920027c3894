"""What a focal point reads about a problem, in Arabic, English and French.

Written for diplomats and civil servants, not for programmers: what is wrong, where, and the
one thing to do about it, in the words of Excel's own menus. Never a stack trace, never
"schema" or "regex". Each rule has a ``message`` and a ``fix``, written here in English and
translated by the ``validation`` catalog (``locales/<language>/LC_MESSAGES/validation.po``,
``make catalogs``); a message about a count (:class:`Counted`) takes the plural its language
needs through ``ngettext``. Placeholders are filled from a problem's values, and a value given
as ``{"ar": ..., "en": ..., "fr": ...}`` is picked per language (column titles, entity names,
status labels).

The wording of the quality rules lives with the rules, in the ``meta`` of each expectation of
``expectations/return_quality.json``, so that staff who change a rule change its words too;
:func:`describe` finds it there. A missing translation fails when the suite is loaded or in
``tests/unit/test_catalog.py``, never in an email.
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from resotrack import catalog
from resotrack.catalog import N_
from resotrack.questionnaires.i18n import LANGUAGES, Language, status_labels, text

if TYPE_CHECKING:
    from resotrack.validation.report import Problem

DOMAIN: Final = "validation"
Texts = Mapping[Language, str]


class Counted(NamedTuple):
    """A message about a count: its English singular and plural, and the value that counts
    (the catalog gives each language its forms: Arabic has six)."""

    singular: str
    plural: str
    number: str


Wording = str | Counted

_GENERIC_FIX: Final = N_(
    "If you are unsure what to change, reply to this email and the Secretariat will help."
)

# rule id -> {"message": English text, "fix": English text}, translated by the catalog
RULES: Final[dict[str, dict[str, Wording]]] = {
    # --- reading the file (outcome "unreadable") ----------------------------------------
    "read.empty": {
        "message": N_("The file you sent is empty."),
        "fix": N_("Please send the completed questionnaire workbook again."),
    },
    "read.not_a_workbook": {
        "message": N_("The file you sent is not an Excel workbook."),
        "fix": N_("Please send the questionnaire workbook (.xlsx) we sent you, once completed."),
    },
    "read.csv": {
        "message": N_(
            "The file is a plain text (CSV) file named like a workbook: it does not contain "
            "the questionnaire."
        ),
        "fix": N_(
            "Open the questionnaire we sent you in Excel or LibreOffice, complete it and save"
            " it as an Excel workbook (.xlsx)."
        ),
    },
    "read.xls": {
        "message": N_("The file is in the old Excel 97-2003 format (.xls)."),
        "fix": N_(
            "Open it and choose File > Save As > “Excel Workbook (.xlsx)”, then send that file."
        ),
    },
    "read.ods": {
        "message": N_("The file is an OpenDocument spreadsheet (.ods), not an Excel workbook."),
        "fix": N_(
            "In LibreOffice choose File > Save As, pick “Excel 2007-365 (.xlsx)” and send "
            "that file."
        ),
    },
    "read.encrypted": {
        "message": N_("The workbook is protected by a password, so it cannot be opened."),
        "fix": N_(
            "Remove the password (File > Info > Protect Workbook > Encrypt with Password, "
            "then clear it), save, and send it again."
        ),
    },
    "read.macros": {
        "message": N_(
            "The workbook contains macros or other active content, which cannot be accepted "
            "for security reasons."
        ),
        "fix": N_(
            "Save it as “Excel Workbook (.xlsx)”, not as a macro-enabled workbook (.xlsm), "
            "and send it again."
        ),
    },
    "read.embedded": {
        "message": N_(
            "The workbook contains an embedded object or hidden data (another document, a "
            "package or custom XML) that a questionnaire never has; for security reasons it "
            "cannot be accepted."
        ),
        "fix": N_(
            "Copy your answers into the questionnaire workbook we sent you, without inserting"
            " objects, save it as “Excel Workbook (.xlsx)” and send it again."
        ),
    },
    "read.external": {
        "message": N_(
            "The workbook links to other files, programs or data sources (external links, DDE"
            " or data connections), which cannot be accepted for security reasons."
        ),
        "fix": N_(
            "In Excel, use Data › Edit Links › Break Link (and remove any data connection), "
            "save the workbook and send it again."
        ),
    },
    "read.damaged": {
        "message": N_(
            "The file is damaged or incomplete; it may have been cut off while being sent."
        ),
        "fix": N_("Check that the workbook opens on your computer, save it again and resend it."),
    },
    "read.too_large": {
        "message": N_(
            "Once opened, the workbook would be far larger than the questionnaire can be "
            "({detail}); for safety it was not opened."
        ),
        "fix": N_(
            "Send the questionnaire workbook we sent you, completed, without added sheets, "
            "pictures or other content."
        ),
    },
    "read.unsafe_xml": {
        "message": N_(
            "The workbook has an unusual internal structure ({detail}) that cannot be "
            "accepted for security reasons."
        ),
        "fix": N_(
            "Open the questionnaire in Excel or LibreOffice and save it again as .xlsx before"
            " sending it."
        ),
    },
    "read.extent": {
        "message": N_(
            "The sheet “{sheet}” reaches {extent}, far beyond the questionnaire's table (at "
            "most {max_rows} rows and {max_cols} columns)."
        ),
        "fix": N_("Delete whatever was added outside the table, save and send it again."),
    },
    "read.too_slow": {
        "message": N_(
            "The workbook could not be read in reasonable time or memory; for safety, reading"
            " was stopped."
        ),
        "fix": N_("Send the questionnaire workbook we sent you, completed, without added content."),
    },
    # --- which questionnaire is it? (outcome "refused") ---------------------------------
    "identify.meta_missing": {
        "message": N_(
            "This workbook cannot be recognised as one of our questionnaires: its hidden "
            "identification sheet is missing. This happens when answers are copied into a new"
            " workbook."
        ),
        "fix": N_("Please fill in the workbook attached to our message, not a copy, and send it."),
    },
    "identify.meta_altered": {
        "message": N_(
            "The workbook's identification data has been altered, so we cannot be sure which "
            "questionnaire it answers."
        ),
        "fix": N_("Please fill in the original workbook we sent you and send it again."),
    },
    "identify.template_version": {
        "message": N_(
            "This workbook comes from an earlier edition of the questionnaire ({found}); "
            "returns are read with edition {expected}."
        ),
        "fix": N_("Please use the workbook we sent for this reporting cycle."),
    },
    "identify.wrong_entity": {
        "message": N_(
            "This workbook is the questionnaire of another country or institution, not that "
            "of {entity}."
        ),
        "fix": N_("Please send the questionnaire that was sent to {entity}."),
    },
    "identify.wrong_cycle": {
        "message": N_(
            "This workbook belongs to another reporting cycle (no. {found}), not to cycle no."
            " {expected}."
        ),
        "fix": N_("Please send the workbook we sent for this cycle."),
    },
    "identify.unknown_questionnaire": {
        "message": N_("We have no record of this questionnaire (no. {found}) for this cycle."),
        "fix": _GENERIC_FIX,
    },
    "identify.sender": {
        "message": N_(
            "The workbook came from an address that is not registered as a focal point of {entity}."
        ),
        "fix": N_("Send it from your registered address, or upload it with your personal link."),
    },
    # --- the contract: the shape of the Return sheet (outcome "refused") ------------------
    "contract.sheet_missing": {
        "message": N_(
            "The sheet “{sheet}” is missing; it may have been renamed or deleted (sheets "
            "found: {found})."
        ),
        "fix": N_(
            "Give the sheet back its name “{sheet}” (right-click its tab > Rename), or use "
            "the workbook we sent."
        ),
    },
    "contract.column_missing": {
        "message": N_("The column “{column_name}” is missing."),
        "fix": N_("Restore the column as it was in the workbook we sent; do not delete columns."),
    },
    "contract.column_unexpected": {
        "message": N_("Column {letter} (“{found}”) is not part of the questionnaire."),
        "fix": N_(
            "Delete this column; put any extra information in “Measures taken” or “Challenges"
            " encountered”."
        ),
    },
    "contract.column_renamed": {
        "message": N_("Column {letter} should be titled “{column_name}” but is titled “{found}”."),
        "fix": N_("Give the column back its original title."),
    },
    "contract.column_order": {
        "message": N_("The column “{column_name}” has been moved."),
        "fix": N_("Put the columns back in the order of the workbook we sent."),
    },
    "contract.paragraph_missing": {
        "message": N_("The row for paragraph {paragraph} of resolution {resolution} is missing."),
        "fix": N_("Restore this row from the workbook we sent, and answer it."),
    },
    "partial.still_owed": {
        "message": N_(
            "Resolution {resolution}: paragraphs {paragraphs} are not answered yet; the "
            "answers you sent for the others were recorded."
        ),
        "fix": N_(
            "Whoever answers these paragraphs (another ministry, for instance) may send the "
            "same workbook with only their rows filled in: answers already recorded are kept."
        ),
    },
    "contract.paragraph_unexpected": {
        "message": N_(
            "This row is for paragraph {paragraph} of resolution {resolution}, which was not "
            "in your questionnaire."
        ),
        "fix": N_("Delete this row."),
    },
    "contract.paragraph_duplicated": {
        "message": N_("Paragraph {paragraph} of resolution {resolution} appears more than once."),
        "fix": N_("Keep a single row per paragraph: merge the answers and delete this row."),
    },
    "contract.paragraph_invalid": {
        "message": N_("“{value}” is not a paragraph number."),
        "fix": N_("Restore the paragraph number from the workbook we sent."),
    },
    "contract.resolution_missing": {
        "message": N_("The resolution of this row is missing."),
        "fix": N_("Restore the row from the workbook we sent."),
    },
    "contract.status_unknown": {
        "message": N_("“{value}” is not one of the statuses of the list."),
        "fix": N_("Choose a status from the drop-down list: {choices}."),
    },
    "contract.date_invalid": {
        "message": N_("“{value}” is not a date that can be read."),
        "fix": N_("Type the date as YYYY-MM-DD, for example 2024-03-15."),
    },
    "contract.date_out_of_range": {
        "message": N_("The date {value} is not between {min} and {max}."),
        "fix": N_("Check the year; type the date as YYYY-MM-DD."),
    },
    "contract.text_too_long": {
        "message": Counted(
            "This cell holds {length} character; the limit is {max}.",
            "This cell holds {length} characters; the limit is {max}.",
            "length",
        ),
        "fix": N_(
            "Shorten it; put the details in a document and give its link under “Evidence (links)”."
        ),
    },
    "contract.formula": {
        "message": N_("Cell {cell} contains a formula; answers must be typed values."),
        "fix": N_("Replace the formula by its value: copy the cell, then Paste Special > Values."),
    },
    "contract.merged_cells": {
        "message": N_("Cells {cells} have been merged."),
        "fix": N_(
            "Unmerge them (Home > Merge & Center > Unmerge Cells) and answer each row separately."
        ),
    },
    "contract.control_characters": {
        "message": N_("Invisible control characters were removed from this cell."),
        "fix": N_("Nothing to do; please check that the text reads as you intended."),
    },
    "contract.value_missing": {
        "message": N_("This cell must not be empty."),
        "fix": N_("Restore its content from the workbook we sent."),
    },
    "contract.value_invalid": {
        "message": N_("“{value}” is not a valid value for this column."),
        "fix": _GENERIC_FIX,
    },
    "contract.row_count": {
        "message": Counted(
            "The sheet has {found} answer row, but the questionnaire sent had {expected}.",
            "The sheet has {found} answer rows, but the questionnaire sent had {expected}.",
            "found",
        ),
        "fix": N_("Keep the rows as in the workbook we sent: do not add or delete rows."),
    },
    "contract.rows_reordered": {
        "message": N_(
            "The rows are not in the order we sent them; each answer was matched to its "
            "paragraph number, so nothing is lost."
        ),
        "fix": N_("Nothing to do."),
    },
}


#: Words of the feedback itself (summary sheet, email), by key; translated by the catalog.
FEEDBACK: Final[dict[str, str]] = {
    "sheet_title": N_("Feedback"),
    "heading": N_("Our reading of your return"),
    "outcome.accepted": N_("Your return has been accepted. Thank you."),
    "outcome.accepted_with_warnings": N_(
        "Your return has been accepted. Please look at the remarks below: if something needs "
        "correcting, send the corrected workbook and it will replace this one."
    ),
    "outcome.refused": N_(
        "Your return could not be accepted yet, and nothing from this file has been recorded."
        " Please correct the points below (marked in red in the attached copy of your "
        "workbook) and send the workbook again."
    ),
    "outcome.unreadable": N_(
        "Your file could not be opened, and nothing from it has been recorded."
    ),
    "subject.accepted": N_("Return accepted"),
    "subject.accepted_with_warnings": N_("Return accepted, with remarks"),
    "subject.refused": N_("Return to be corrected"),
    "subject.unreadable": N_("File could not be opened"),
    "col.row": N_("Row"),
    "col.paragraph": N_("Paragraph"),
    "col.column": N_("Column"),
    "col.problem": N_("What is wrong"),
    "col.fix": N_("How to fix it"),
    "severity.blocker": N_("To correct"),
    "severity.warning": N_("Remark"),
    "file": N_("File"),
    "received": N_("Received"),
    "answers": N_("Answers recorded"),
}


def feedback_text(key: str, language: str) -> str:
    """A word of the feedback in ``language`` (English for an unknown language)."""
    return catalog.gettext(catalog.language(language), DOMAIN, FEEDBACK[key])


_FORMATTER = string.Formatter()


@lru_cache(maxsize=1)
def quality_rules() -> dict[str, dict[str, Texts]]:
    """The wording of the quality rules, read from the expectation suite's ``meta``.

    Plain JSON: no Great Expectations import, so the portal and the CLI can word them too.
    """
    from resotrack.validation.config import suite_path

    suite = json.loads(suite_path().read_text("utf-8"))
    found: dict[str, dict[str, Texts]] = {}
    for expectation in suite.get("expectations", []):
        meta = expectation.get("meta") or {}
        rule = meta.get("rule")
        if not rule:
            raise ValueError(f"expectation {expectation.get('type')} has no meta.rule")
        texts = {"message": meta.get("message") or {}, "fix": meta.get("fix") or {}}
        _check_complete(rule, texts)
        found[rule] = texts
    return found


def _check_complete(rule: str, texts: Mapping[str, Any]) -> None:
    for part in ("message", "fix"):
        missing = [lang for lang in LANGUAGES if not (texts.get(part) or {}).get(lang)]
        if missing:
            raise ValueError(f"rule {rule}: {part} is not translated into {', '.join(missing)}")


def _count(value: Any) -> int:
    """The number a counted message is about (``"1,234"`` reads as 1234)."""
    if isinstance(value, Mapping):
        value = value.get("en")
    try:
        return int(str(value).replace(",", "").replace("\u202f", "").replace("\xa0", ""))
    except ValueError:
        return 100  # not a number: the general plural


def _translated(wording: Wording, values: Mapping[str, Any], language: Language) -> str:
    """``wording`` in ``language``, placeholders not yet filled."""
    words = catalog.translations(language, DOMAIN)
    if isinstance(wording, Counted):
        n = _count(values.get(wording.number))
        return words.ngettext(wording.singular, wording.plural, n)
    return words.gettext(wording)


def wording(rule: str, values: Mapping[str, Any] | None = None) -> Mapping[str, Texts]:
    """The ``message`` and ``fix`` of ``rule`` in each language, placeholders not yet filled
    (``values`` choose the form of a counted message); an unknown rule is a programming
    error."""
    written = RULES.get(rule)
    if written is None:
        texts = quality_rules().get(rule)
        if texts is None:
            raise KeyError(f"no wording for validation rule {rule!r}")
        return texts
    given = values or {}
    return {
        part: {lang: _translated(written[part], given, lang) for lang in LANGUAGES}
        for part in ("message", "fix")
    }


def _pick(value: Any, language: Language) -> Any:
    if isinstance(value, Mapping) and "en" in value:
        return value.get(language) or value["en"]
    return value


def _fill(template: str, values: Mapping[str, Any], language: Language) -> str:
    """``template`` with its placeholders filled; a placeholder without a value stays visible."""
    needed = {name for _, name, _, _ in _FORMATTER.parse(template) if name}
    filled = {name: _pick(values.get(name, "{" + name + "}"), language) for name in needed}
    return template.format(**filled)


def language_values(problem: Problem) -> dict[str, Any]:
    """Values every message may use, per language: the column's title and the status list."""
    values: dict[str, Any] = dict(problem.values)
    if problem.column and "column_name" not in values:
        key = f"column.{problem.column}"
        try:
            values["column_name"] = {lang: text(key, lang) for lang in LANGUAGES}
        except KeyError:
            values["column_name"] = problem.column
    values.setdefault("choices", {lang: ", ".join(status_labels(lang)) for lang in LANGUAGES})
    values.setdefault("cell", problem.cell or "")
    values.setdefault("paragraph", problem.paragraph if problem.paragraph is not None else "")
    values.setdefault("resolution", problem.resolution or "")
    return values


def describe(problem: Problem) -> tuple[dict[str, str], dict[str, str]]:
    """The problem's message and fix, each as ``{"ar", "en", "fr"}``."""
    values = language_values(problem)
    texts = wording(problem.rule, values)
    message: dict[str, str] = {
        lang: _fill(texts["message"][lang], values, lang) for lang in LANGUAGES
    }
    fix: dict[str, str] = {lang: _fill(texts["fix"][lang], values, lang) for lang in LANGUAGES}
    return message, fix


__all__ = [
    "DOMAIN",
    "FEEDBACK",
    "RULES",
    "Counted",
    "describe",
    "feedback_text",
    "quality_rules",
    "wording",
]
