"""Questionnaire workbooks: what each reporting entity receives, fills in and sends back.

``build_workbook(spec, signing_key=...)`` makes the ``.xlsx``; ``read_meta`` and
``verify_meta`` let the validation stage recognise a returned one; ``status_from_label`` maps
any language's status label back to its canonical code.
"""

from resotrack.catalog import LANGUAGES, Language
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

__all__ = [
    "ANSWER_KEYS",
    "COLUMNS",
    "INSTRUCTIONS_SHEET",
    "LANGUAGES",
    "META_KEYS",
    "META_SHEET",
    "RETURN_SHEET",
    "STATUSES",
    "TEMPLATE_VERSION",
    "Column",
    "Language",
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
