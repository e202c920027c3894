"""Questionnaire workbooks: what each reporting entity receives, fills in and sends back.

``build_workbook(spec, signing_key=...)`` makes the ``.xlsx``; ``read_meta`` and
``verify_meta`` let the validation stage recognise a returned one; ``status_from_label`` maps
any language"s status label back to its canonical code.

Each name is imported on first use (``lazy_loader``), not when the package loads: every
process that opens the database loads each stage's tables, and most need few of these modules.
"""

from typing import TYPE_CHECKING

import lazy_loader

if TYPE_CHECKING:
    from resotrack.questionnaires.dates import format_deadline
    from resotrack.questionnaires.i18n import (
        STATUSES,
        as_language,
        status_from_label,
        status_label,
        status_labels,
    )
    from resotrack.questionnaires.meta import (
        META_KEYS,
        META_SHEET,
        MetaError,
        read_meta,
        sign_meta,
        verify_meta,
    )
    from resotrack.questionnaires.spec import TEMPLATE_VERSION, QuestionnaireSpec, QuestionRow
    from resotrack.questionnaires.workbook import (
        ANSWER_KEYS,
        COLUMNS,
        INSTRUCTIONS_SHEET,
        RETURN_SHEET,
        Column,
        build_workbook,
        workbook_filename,
    )

__getattr__, __dir__, _ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "dates": ["format_deadline"],
        "i18n": ["STATUSES", "as_language", "status_from_label", "status_label", "status_labels"],
        "meta": ["META_KEYS", "META_SHEET", "MetaError", "read_meta", "sign_meta", "verify_meta"],
        "spec": ["TEMPLATE_VERSION", "QuestionnaireSpec", "QuestionRow"],
        "workbook": [
            "ANSWER_KEYS",
            "COLUMNS",
            "INSTRUCTIONS_SHEET",
            "RETURN_SHEET",
            "Column",
            "build_workbook",
            "workbook_filename",
        ],
    },
)

__all__ = [
    "ANSWER_KEYS",
    "COLUMNS",
    "INSTRUCTIONS_SHEET",
    "META_KEYS",
    "META_SHEET",
    "RETURN_SHEET",
    "STATUSES",
    "TEMPLATE_VERSION",
    "Column",
    "MetaError",
    "QuestionRow",
    "QuestionnaireSpec",
    "as_language",
    "build_workbook",
    "format_deadline",
    "read_meta",
    "sign_meta",
    "status_from_label",
    "status_label",
    "status_labels",
    "verify_meta",
    "workbook_filename",
]
