"""Every word a focal point reads in a questionnaire, in Arabic, English and French.

The strings live in one table (``STRINGS``) so that a translator can review a language by
reading one column, and so that a missing translation fails at import time, not in a
workbook sent to a member state. The implementation status scale is part of the table;
``status_from_label`` turns whatever a focal point typed or picked back into its code.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Final, Literal

Language = Literal["ar", "en", "fr"]
LANGUAGES: Final[tuple[Language, ...]] = ("ar", "en", "fr")

#: The implementation status scale, canonical codes in the order shown to focal points.
STATUSES: Final[tuple[str, ...]] = (
    "fully_implemented",
    "partially_implemented",
    "in_progress",
    "not_started",
    "not_applicable",
    "no_information",
)

# Left-to-right mark: keeps "2024-03-15" in that order inside Arabic text. Without it the
# Unicode bidi algorithm treats each number after Arabic letters as an Arabic number and
# shows the date as 15-03-2024.
_LRM: Final = "\u200e"

# One entry per message: key -> {language: text}. Placeholders use str.format ({entity}).
STRINGS: Final[Mapping[str, Mapping[Language, str]]] = {
    # -- the status scale: label, then a one-line meaning ------------------------------------
    "status.fully_implemented": {
        "en": "Fully implemented",
        "fr": "Pleinement mis en œuvre",
        "ar": "منفذ بالكامل",
    },
    "status.fully_implemented.meaning": {
        "en": "Everything the paragraph asks for has been done.",
        "fr": "Tout ce que demande le paragraphe a été réalisé.",
        "ar": "تم إنجاز كل ما تطلبه الفقرة.",
    },
    "status.partially_implemented": {
        "en": "Partially implemented",
        "fr": "Partiellement mis en œuvre",
        "ar": "منفذ جزئيًا",
    },
    "status.partially_implemented.meaning": {
        "en": "Part of what the paragraph asks for has been done.",
        "fr": "Une partie de ce que demande le paragraphe a été réalisée.",
        "ar": "تم إنجاز جزء مما تطلبه الفقرة.",
    },
    "status.in_progress": {
        "en": "In progress",
        "fr": "En cours",
        "ar": "قيد التنفيذ",
    },
    "status.in_progress.meaning": {
        "en": "Measures have started but none is complete yet.",
        "fr": "Des mesures ont commencé, aucune n'est encore achevée.",
        "ar": "بدأت التدابير ولم يكتمل أي منها بعد.",
    },
    "status.not_started": {
        "en": "Not started",
        "fr": "Non commencé",
        "ar": "لم يبدأ",
    },
    "status.not_started.meaning": {
        "en": "Nothing has been done yet.",
        "fr": "Rien n'a encore été entrepris.",
        "ar": "لم يُتخذ أي إجراء بعد.",
    },
    "status.not_applicable": {
        "en": "Not applicable",
        "fr": "Sans objet",
        "ar": "لا ينطبق",
    },
    "status.not_applicable.meaning": {
        "en": "The paragraph does not concern your country or institution.",
        "fr": "Le paragraphe ne concerne pas votre pays ou votre institution.",
        "ar": "الفقرة لا تخص بلدكم أو مؤسستكم.",
    },
    "status.no_information": {
        "en": "No information",
        "fr": "Aucune information",
        "ar": "لا توجد معلومات",
    },
    "status.no_information.meaning": {
        "en": "The information is not available at this time.",
        "fr": "L'information n'est pas disponible pour l'instant.",
        "ar": "المعلومات غير متوفرة حاليًا.",
    },
    # -- column headers of the Return sheet --------------------------------------------------
    "column.resolution": {"en": "Resolution", "fr": "Résolution", "ar": "القرار"},
    "column.paragraph": {"en": "Paragraph", "fr": "Paragraphe", "ar": "الفقرة"},
    "column.section": {"en": "Section", "fr": "Section", "ar": "القسم"},
    "column.verb": {
        "en": "Operative verb(s)",
        "fr": "Verbe(s) opératif(s)",
        "ar": "الأفعال التنفيذية",
    },
    "column.text": {
        "en": "Text of the paragraph",
        "fr": "Texte du paragraphe",
        "ar": "نص الفقرة",
    },
    "column.status": {
        "en": "Implementation status",
        "fr": "État de mise en œuvre",
        "ar": "حالة التنفيذ",
    },
    "column.measures": {"en": "Measures taken", "fr": "Mesures prises", "ar": "التدابير المتخذة"},
    "column.start_date": {"en": "Start date", "fr": "Date de début", "ar": "تاريخ البدء"},
    "column.national_body": {
        "en": "Responsible national body",
        "fr": "Organisme national responsable",
        "ar": "الجهة الوطنية المسؤولة",
    },
    "column.challenges": {
        "en": "Challenges encountered",
        "fr": "Difficultés rencontrées",
        "ar": "التحديات التي تمت مواجهتها",
    },
    "column.support_requested": {
        "en": "Support requested from the OIC",
        "fr": "Appui demandé à l'OCI",
        "ar": "الدعم المطلوب من منظمة التعاون الإسلامي",
    },
    "column.evidence": {
        "en": "Evidence (links)",
        "fr": "Justificatifs (liens)",
        "ar": "الأدلة (روابط)",
    },
    # -- pop-up help on answer cells (Excel: title ≤ 32 characters, message ≤ 255) ----------
    "input.status.title": {"en": "Status", "fr": "État", "ar": "الحالة"},
    "input.status.message": {
        "en": "Choose a status from the list.",
        "fr": "Choisissez un état dans la liste.",
        "ar": "اختاروا الحالة من القائمة.",
    },
    "error.status.message": {
        "en": "Please choose one of the statuses in the list.",
        "fr": "Veuillez choisir l'un des états de la liste.",
        "ar": "يرجى اختيار إحدى الحالات الواردة في القائمة.",
    },
    "input.date.title": {"en": "Date", "fr": "Date", "ar": "التاريخ"},
    "input.date.message": {
        "en": "Type the date as YYYY-MM-DD, e.g. 2024-03-15.",
        "fr": "Saisissez la date au format AAAA-MM-JJ, par exemple 2024-03-15.",
        "ar": f"اكتبوا التاريخ بصيغة YYYY-MM-DD، مثال: {_LRM}2024-03-15.",
    },
    "error.date.message": {
        "en": "Enter a date between 1990-01-01 and 2100-12-31, as YYYY-MM-DD.",
        "fr": "Saisissez une date entre le 1990-01-01 et le 2100-12-31, au format AAAA-MM-JJ.",
        "ar": f"أدخلوا تاريخًا بين {_LRM}1990-01-01 و{_LRM}2100-12-31 بصيغة YYYY-MM-DD.",
    },
    "error.title": {"en": "Invalid entry", "fr": "Saisie non valide", "ar": "إدخال غير صالح"},
    # -- the Instructions sheet --------------------------------------------------------------
    "instructions.title": {
        "en": "Follow-up questionnaire — {entity}",
        "fr": "Questionnaire de suivi — {entity}",
        "ar": "استبيان المتابعة — {entity}",
    },
    "instructions.reference": {
        "en": "Questionnaire no. {questionnaire} · template {version}",
        "fr": "Questionnaire n° {questionnaire} · modèle {version}",
        "ar": "الاستبيان رقم {questionnaire} · النموذج {version}",
    },
    "instructions.entity": {"en": "Reporting entity", "fr": "Entité", "ar": "الجهة المعنية"},
    "instructions.cycle": {
        "en": "Reporting cycle",
        "fr": "Cycle de suivi",
        "ar": "دورة المتابعة",
    },
    "instructions.paragraphs": {
        "en": "Paragraphs to report on",
        "fr": "Paragraphes à renseigner",
        "ar": "الفقرات المطلوب الإفادة بشأنها",
    },
    "instructions.deadline": {"en": "Deadline", "fr": "Date limite", "ar": "الموعد النهائي"},
    "instructions.fill.heading": {
        "en": "What to fill in",
        "fr": "Ce qu'il faut remplir",
        "ar": "ما يجب ملؤه",
    },
    "instructions.fill.rows": {
        "en": "Open the sheet “{sheet}”: one row per operative paragraph addressed to you.",
        "fr": "Ouvrez la feuille « {sheet} » : une ligne par paragraphe opératif qui vous "
        "concerne.",
        "ar": "افتحوا ورقة «{sheet}»: صف واحد لكل فقرة تنفيذية موجهة إليكم.",
    },
    "instructions.fill.locked": {
        "en": "Grey columns recall what was asked (resolution, paragraph, its text); they are "
        "locked.",
        "fr": "Les colonnes grises rappellent ce qui est demandé (résolution, paragraphe, texte) ; "
        "elles sont verrouillées.",
        "ar": "تذكّر الأعمدة الرمادية بما هو مطلوب (القرار، الفقرة، نصها)، وهي مقفلة.",
    },
    "instructions.fill.answers": {
        "en": "Fill in the white columns: pick a status from the list, then the measures taken, "
        "start date, responsible body, challenges, support needed and links to evidence.",
        "fr": "Remplissez les colonnes blanches : choisissez un état dans la liste, puis les "
        "mesures prises, la date de début, l'organisme responsable, les difficultés, l'appui "
        "souhaité et les liens vers les justificatifs.",
        "ar": "املؤوا الأعمدة البيضاء: اختاروا الحالة من القائمة، ثم التدابير المتخذة وتاريخ "
        "البدء والجهة المسؤولة والتحديات والدعم المطلوب وروابط الأدلة.",
    },
    "instructions.fill.prefill": {
        "en": "Your answers from the previous cycle are already filled in: please update them.",
        "fr": "Vos réponses du cycle précédent sont déjà saisies : veuillez les mettre à jour.",
        "ar": "إجاباتكم في الدورة السابقة مدرجة مسبقًا: يرجى تحديثها.",
    },
    "instructions.fill.dates": {
        "en": "Dates: type them as YYYY-MM-DD, e.g. 2024-03-15.",
        "fr": "Dates : saisissez-les au format AAAA-MM-JJ, par exemple 2024-03-15.",
        "ar": f"التواريخ: اكتبوها بصيغة YYYY-MM-DD، مثال: {_LRM}2024-03-15.",
    },
    "instructions.fill.structure": {
        "en": "Do not add, delete or move rows or sheets: the file is read automatically.",
        "fr": "N'ajoutez, ne supprimez et ne déplacez ni lignes ni feuilles : le fichier est lu "
        "automatiquement.",
        "ar": "لا تضيفوا صفوفًا أو أوراقًا ولا تحذفوها ولا تنقلوها: تتم قراءة الملف آليًا.",
    },
    "instructions.statuses.heading": {
        "en": "Implementation status scale",
        "fr": "Échelle des états de mise en œuvre",
        "ar": "سلّم حالات التنفيذ",
    },
    "instructions.return.heading": {
        "en": "How to return it",
        "fr": "Comment le renvoyer",
        "ar": "طريقة الإرسال",
    },
    "instructions.return.upload": {
        "en": "Upload the completed workbook with your personal link:",
        "fr": "Déposez le classeur complété grâce à votre lien personnel :",
        "ar": "ارفعوا المصنف بعد ملئه عبر رابطكم الشخصي:",
    },
    "instructions.return.reply": {
        "en": "Reply to the email that brought you this workbook, with the completed workbook "
        "attached.",
        "fr": "Répondez au courriel qui vous a apporté ce classeur, en y joignant le classeur "
        "complété.",
        "ar": "ردّوا على رسالة البريد الإلكتروني التي وصلكم بها هذا المصنف، مع إرفاق المصنف بعد "
        "ملئه.",
    },
    "instructions.return.reply_alternative": {
        "en": "Or reply to the email that brought you this workbook, with the completed "
        "workbook attached.",
        "fr": "Ou répondez au courriel qui vous a apporté ce classeur, en y joignant le classeur "
        "complété.",
        "ar": "أو ردّوا على رسالة البريد الإلكتروني التي وصلكم بها هذا المصنف، مع إرفاق المصنف "
        "بعد ملئه.",
    },
    "instructions.return.address": {
        "en": "Address: {address}",
        "fr": "Adresse : {address}",
        "ar": "العنوان: {address}",
    },
    "instructions.return.format": {
        "en": "Keep the file as an .xlsx workbook (Excel or LibreOffice both work).",
        "fr": "Gardez le fichier au format .xlsx (Excel ou LibreOffice conviennent).",
        "ar": "احتفظوا بالملف بصيغة xlsx (يصلح إكسل أو ليبر أوفيس).",
    },
}

_missing = [
    f"{key} [{lang}]" for key, texts in STRINGS.items() for lang in LANGUAGES if not texts.get(lang)
]
if _missing:  # pragma: no cover - a guard for translators, not a runtime path
    raise RuntimeError(f"untranslated questionnaire strings: {', '.join(_missing)}")


def as_language(value: str) -> Language:
    """A stored language code (a plain ``str`` from the database) as a ``Language``."""
    for language in LANGUAGES:
        if value == language:
            return language
    raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, not {value!r}")


def text(key: str, language: Language, **values: object) -> str:
    """The string ``key`` in ``language``, with its ``{placeholders}`` filled from ``values``."""
    template = STRINGS[key][language]
    return template.format(**values) if values else template


def status_label(code: str, language: Language) -> str:
    """The label of a canonical status code as shown in the dropdown of ``language``."""
    if code not in STATUSES:
        raise ValueError(f"unknown status code {code!r}; expected one of {', '.join(STATUSES)}")
    return STRINGS[f"status.{code}"][language]


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
        for spelling in (code, *(STRINGS[f"status.{code}"][lang] for lang in LANGUAGES)):
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
