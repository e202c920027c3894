"""Verbs, modifiers, addressees and institutions of OIC resolutions, in French, English, Arabic.

Everything a reviewer may want to extend is a table here, not a branch in the parser: add a
verb, an adverb or an institution's name and the parser, the routing and the registry (which
imports ``INSTITUTIONS``) all pick it up. Matching is insensitive to case, accents, apostrophe
style and Arabic diacritics through ``fold``; acronyms are the exception and must be printed
exactly (``BID`` is the bank, ``bid`` is an English word).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal

# --------------------------------------------------------------------------------------------
# Folding: one comparable form for "SE FÉLICITE", "se felicite", "l’OCI", "علماً"
# --------------------------------------------------------------------------------------------

_SPECIAL_FOLDS: Final = {
    "’": "'",
    "‘": "'",
    "ʼ": "'",
    "`": "'",
    "´": "'",
    "\u00a0": " ",
    "\u202f": " ",
    "\u2009": " ",
    "\u2007": " ",
    "أ": "ا",
    "إ": "ا",
    "آ": "ا",
    "ٱ": "ا",
    "ى": "ي",
    "ة": "ه",
    "ـ": None,  # tatweel, a typographic stretch
}


def _fold_char(char: str) -> str | None:
    """Fold one character to at most one character (``None`` deletes it)."""
    if char in _SPECIAL_FOLDS:
        return _SPECIAL_FOLDS[char]
    if unicodedata.combining(char):  # Arabic harakat, stray Latin accents
        return None
    decomposed = unicodedata.normalize("NFD", char)
    base = decomposed[0]
    lower = base.lower()
    return lower if len(lower) == 1 else base


class _FoldTable(dict[int, str | None]):
    """A ``str.translate`` table that fills itself, so folding costs one C-level pass."""

    def __missing__(self, code: int) -> str | None:
        value = _fold_char(chr(code))
        self[code] = value
        return value


_FOLD_TABLE: Final = _FoldTable()


def fold(text: str) -> str:
    """Lower-case, accent-free, apostrophe-normalised text for comparisons."""
    return text.translate(_FOLD_TABLE)


@dataclass(frozen=True, slots=True)
class Folded:
    """A text and its folded form, with a way back from folded offsets to original ones.

    Folding only ever deletes characters (Arabic diacritics) or replaces one by one, so the
    map is the identity for Latin-script text and is only built when something was deleted.
    """

    original: str
    text: str
    index: tuple[int, ...] | None = None

    @classmethod
    def of(cls, original: str) -> Folded:
        folded = fold(original)
        if len(folded) == len(original):
            return cls(original, folded)
        index = [i for i, char in enumerate(original) if fold(char)]
        return cls(original, folded, tuple(index))

    def to_original(self, position: int) -> int:
        """The original offset of folded offset ``position`` (end positions allowed)."""
        if self.index is None:
            return position
        if position >= len(self.index):
            return len(self.original)
        return self.index[position]

    def original_slice(self, start: int, end: int) -> str:
        if start >= end:
            return ""
        if self.index is None:
            return self.original[start:end]
        return self.original[self.index[start] : self.index[end - 1] + 1]


# --------------------------------------------------------------------------------------------
# Actions: canonical names and whether they ask someone to act
# --------------------------------------------------------------------------------------------

ActionKind = Literal["ask", "acknowledge", "decide"]

#: ``ask``: the verb asks someone to act; no named addressee means everyone (ALL).
#: ``acknowledge``: welcomes, thanks, notes... nobody is asked (NONE), unless the clause
#: embeds a request ("SALUE les Groupes ... et les appelle à ...").
#: ``decide``: the body's own decision; NONE unless someone is named as the actor.
ACTION_KIND: Final[dict[str, ActionKind]] = {
    "request": "ask",
    "urge": "ask",
    "invite": "ask",
    "call": "ask",
    "encourage": "ask",
    "stress": "ask",
    "emphasise": "ask",
    "recommend": "ask",
    "remind": "ask",
    "entrust": "ask",
    "welcome": "acknowledge",
    "note": "acknowledge",
    "reaffirm": "acknowledge",
    "affirm": "acknowledge",
    "commend": "acknowledge",
    "thank": "acknowledge",
    "appreciate": "acknowledge",
    "express": "acknowledge",
    "concern": "acknowledge",
    "condemn": "acknowledge",
    "deplore": "acknowledge",
    "reject": "acknowledge",
    "recognise": "acknowledge",
    "consider": "acknowledge",
    "recall": "acknowledge",
    "support": "acknowledge",
    "decide": "decide",
    "approve": "decide",
    "adopt": "decide",
    "endorse": "decide",
    "other": "decide",
}

#: Operative verbs as printed (capitals in fr/en), each with its canonical action.
#: Multi-word entries win over their first word ("SE FÉLICITE" vs "FÉLICITE").
VERBS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "fr": (
        ("DEMANDE", "request"),
        ("PRIE", "request"),
        ("SOLLICITE", "request"),
        ("REQUIERT", "request"),
        ("EXHORTE", "urge"),
        ("PRESSE", "urge"),
        ("ADJURE", "urge"),
        ("ENJOINT", "urge"),
        ("ENGAGE", "urge"),
        ("INVITE", "invite"),
        ("CONVIE", "invite"),
        ("APPELLE", "call"),
        ("EN APPELLE", "call"),
        ("LANCE UN APPEL", "call"),
        ("LANCE UN APPEL PRESSANT", "call"),
        ("LANCE EN APPEL", "call"),  # misprint of LANCE UN APPEL in seed 004, paragraph 85
        ("LANCE APPEL", "call"),
        ("FAIT APPEL", "call"),
        ("ENCOURAGE", "encourage"),
        ("INCITE", "encourage"),
        ("ACCUEILLE FAVORABLEMENT", "welcome"),
        ("ACCUEILLE AVEC SATISFACTION", "welcome"),
        ("ACCUEILLE", "welcome"),
        ("SE FÉLICITE", "welcome"),
        ("SE RÉJOUIT", "welcome"),
        ("PREND NOTE", "note"),
        ("PREND BONNE NOTE", "note"),
        ("PREND NOTE AVEC SATISFACTION", "note"),
        ("PREND NOTE AVEC APPRÉCIATION", "note"),
        ("PREND ACTE", "note"),
        ("NOTE", "note"),
        ("CONSTATE", "note"),
        ("NOTE AVEC PRÉOCCUPATION", "concern"),
        ("RÉAFFIRME", "reaffirm"),
        ("RÉITÈRE", "reaffirm"),
        ("RENOUVELLE", "reaffirm"),
        ("AFFIRME", "affirm"),
        ("CONFIRME", "affirm"),
        ("DÉCLARE", "affirm"),
        ("PROCLAME", "affirm"),
        ("INSISTE", "stress"),
        ("INSISTE SUR LA NÉCESSITÉ", "stress"),
        ("INSISTE SUR L'IMPORTANCE", "stress"),
        ("SOULIGNE", "emphasise"),
        ("SOULIGNE LA NÉCESSITÉ", "emphasise"),
        ("MET L'ACCENT", "emphasise"),
        ("MET EN EXERGUE", "emphasise"),
        ("MET EN RELIEF", "emphasise"),
        ("SALUE", "commend"),
        ("FÉLICITE", "commend"),
        ("LOUE", "commend"),
        ("REND HOMMAGE", "commend"),
        ("REMERCIE", "thank"),
        ("EXPRIME SA GRATITUDE", "thank"),
        ("EXPRIME SES REMERCIEMENTS", "thank"),
        ("APPRÉCIE", "appreciate"),
        ("EXPRIME SON APPRÉCIATION", "appreciate"),
        ("EXPRIME", "express"),
        ("SE DÉCLARE PRÉOCCUPÉ", "concern"),
        ("DÉCIDE", "decide"),
        ("ARRÊTE", "decide"),
        ("APPROUVE", "approve"),
        ("ADOPTE", "adopt"),
        ("ENTÉRINE", "endorse"),
        ("AVALISE", "endorse"),
        ("CHARGE", "entrust"),
        ("MANDATE", "entrust"),
        ("DONNE MANDAT", "entrust"),
        ("CONFIE", "entrust"),
        ("RECOMMANDE", "recommend"),
        ("PRÉCONISE", "recommend"),
        ("APPUIE", "support"),
        ("SOUTIENT", "support"),
        ("RAPPELLE", "recall"),  # "RAPPELLE aux États membres" is "remind": CONTEXTUAL_ACTIONS
        ("CONDAMNE", "condemn"),
        ("DÉNONCE", "condemn"),
        ("DÉPLORE", "deplore"),
        ("REGRETTE", "deplore"),
        ("REJETTE", "reject"),
        ("RECONNAÎT", "recognise"),
        ("CONSIDÈRE", "consider"),
        ("ESTIME", "consider"),
        ("EXIGE", "request"),
        ("ORDONNE", "request"),
        ("ÉTABLIT", "decide"),
        ("CRÉE", "decide"),
        ("INSTITUE", "decide"),
        ("NOMME", "decide"),
        ("DÉSIGNE", "decide"),
        ("PROROGE", "decide"),
        ("AUTORISE", "entrust"),
        ("ACCEPTE", "approve"),
        ("CONVIENT", "decide"),
        ("TRANSMET", "express"),
        ("RÉINTÈGRE", "decide"),
        ("ADRESSE UN APPEL", "call"),
        ("ADRESSE", "call"),
    ),
    "en": (
        ("REQUESTS", "request"),
        ("ASKS", "request"),
        ("DEMANDS", "request"),
        ("URGES", "urge"),
        ("EXHORTS", "urge"),
        ("PRESSES", "urge"),
        ("INVITES", "invite"),
        ("CALLS UPON", "call"),
        ("CALLS ON", "call"),
        ("CALLS FOR", "call"),
        ("CALLS", "call"),
        ("APPEALS", "call"),
        ("APPEALS TO", "call"),
        ("MAKES AN APPEAL", "call"),
        ("LAUNCHES AN APPEAL", "call"),
        ("ENCOURAGES", "encourage"),
        ("WELCOMES", "welcome"),
        ("WELCOMES WITH APPRECIATION", "welcome"),
        ("TAKES NOTE", "note"),
        ("TAKES NOTE WITH APPRECIATION", "note"),
        ("TAKES NOTE WITH SATISFACTION", "note"),
        ("NOTES", "note"),
        ("NOTES WITH APPRECIATION", "note"),
        ("NOTES WITH SATISFACTION", "note"),
        ("ACKNOWLEDGES", "note"),
        ("NOTES WITH CONCERN", "concern"),
        ("REAFFIRMS", "reaffirm"),
        ("REITERATES", "reaffirm"),
        ("RENEWS", "reaffirm"),
        ("AFFIRMS", "affirm"),
        ("CONFIRMS", "affirm"),
        ("DECLARES", "affirm"),
        ("STRESSES", "stress"),
        ("STRESSES THE NEED", "stress"),
        ("INSISTS", "stress"),
        ("EMPHASIZES", "emphasise"),
        ("EMPHASISES", "emphasise"),
        ("UNDERLINES", "emphasise"),
        ("UNDERSCORES", "emphasise"),
        ("HIGHLIGHTS", "emphasise"),
        ("COMMENDS", "commend"),
        ("PRAISES", "commend"),
        ("LAUDS", "commend"),
        ("SALUTES", "commend"),
        ("HAILS", "commend"),
        ("CONGRATULATES", "commend"),
        ("PAYS TRIBUTE", "commend"),
        ("PAYS HOMAGE", "commend"),
        ("THANKS", "thank"),
        ("EXPRESSES ITS GRATITUDE", "thank"),
        ("EXPRESSES ITS THANKS", "thank"),
        ("APPRECIATES", "appreciate"),
        ("EXPRESSES ITS APPRECIATION", "appreciate"),
        ("EXPRESSES APPRECIATION", "appreciate"),
        ("EXPRESSES", "express"),
        ("EXPRESSES CONCERN", "concern"),
        ("EXPRESSES ITS CONCERN", "concern"),
        ("DECIDES", "decide"),
        ("RESOLVES", "decide"),
        ("APPROVES", "approve"),
        ("ADOPTS", "adopt"),
        ("ENDORSES", "endorse"),
        ("ENTRUSTS", "entrust"),
        ("MANDATES", "entrust"),
        ("TASKS", "entrust"),
        ("DIRECTS", "entrust"),
        ("INSTRUCTS", "entrust"),
        ("CHARGES", "entrust"),
        ("RECOMMENDS", "recommend"),
        ("SUPPORTS", "support"),
        ("REMINDS", "remind"),
        ("RECALLS", "recall"),
        ("CONDEMNS", "condemn"),
        ("DENOUNCES", "condemn"),
        ("DEPLORES", "deplore"),
        ("REGRETS", "deplore"),
        ("REJECTS", "reject"),
        ("RECOGNIZES", "recognise"),
        ("RECOGNISES", "recognise"),
        ("CONSIDERS", "consider"),
        ("AGREES", "decide"),
        ("ESTABLISHES", "decide"),
        ("CREATES", "decide"),
        ("APPOINTS", "decide"),
        ("DESIGNATES", "decide"),
        ("ELECTS", "decide"),
        ("PROCLAIMS", "decide"),
        ("EXTENDS", "decide"),
        ("AUTHORIZES", "entrust"),
        ("AUTHORISES", "entrust"),
        ("ACCEPTS", "approve"),
        ("CONVEYS", "express"),
        ("EXPRESSES ITS DEEP CONCERN", "concern"),
        ("DEMANDS", "request"),
        ("ASKS", "request"),
        ("APPROVE", "approve"),
        ("COMMISSIONS", "entrust"),
        ("ASSIGNS", "entrust"),
        ("REFERS", "decide"),
        ("CALLS UPON", "call"),
    ),
    # Arabic verbs in the masculine (المجلس / المؤتمر); the feminine (الدورة / القمة) form
    # with ت instead of the leading ي is added automatically below.
    "ar": (
        ("يطلب", "request"),
        ("يرجو", "request"),
        ("يحث", "urge"),
        ("يدعو", "call"),
        ("يهيب", "call"),
        ("يناشد", "call"),
        ("يشجع", "encourage"),
        ("يرحب", "welcome"),
        ("يحيط علما", "note"),
        ("يأخذ علما", "note"),
        ("يلاحظ", "note"),
        ("يلاحظ مع القلق", "concern"),
        ("يؤكد", "reaffirm"),
        ("يؤكد مجددا", "reaffirm"),
        ("يجدد التأكيد", "reaffirm"),
        ("يعيد التأكيد", "reaffirm"),
        ("يشدد", "stress"),
        ("يبرز", "emphasise"),
        ("يشيد", "commend"),
        ("يثني", "commend"),
        ("يهنئ", "commend"),
        ("يشكر", "thank"),
        ("يعرب عن شكره", "thank"),
        ("يعرب عن امتنانه", "thank"),
        ("يعرب عن تقديره", "appreciate"),
        ("يقدر", "appreciate"),
        ("يعرب", "express"),
        ("يعرب عن قلقه", "concern"),
        ("يقرر", "decide"),
        ("يوافق", "approve"),
        ("يعتمد", "adopt"),
        ("يقر", "endorse"),
        ("يؤيد", "support"),
        ("يدعم", "support"),
        ("يكلف", "entrust"),
        ("يوصي", "recommend"),
        ("يذكر", "remind"),
        ("يستذكر", "recall"),
        ("يشير", "recall"),
        ("يدين", "condemn"),
        ("يستنكر", "condemn"),
        ("يأسف", "deplore"),
        ("يرفض", "reject"),
        ("يعترف", "recognise"),
        ("يقبل", "approve"),
        ("يعقد", "decide"),
        ("يوجه", "call"),
        ("يناشد", "call"),
        ("يطالب", "request"),
        ("يستنكر", "condemn"),
        ("يساند", "support"),
        # Verbal nouns heading the clauses under "يقرر" (League of Arab States style).
        ("تكليف", "entrust"),
        ("تأجيل", "decide"),
        ("دعوة", "call"),
        ("إحالة", "decide"),
        ("الموافقة", "approve"),
        ("الطلب", "request"),
        ("مطالبة", "request"),
        ("حث", "urge"),
        ("مناشدة", "call"),
        ("الترحيب", "welcome"),
        ("التأكيد", "reaffirm"),
        ("الإعراب", "express"),
        ("توجيه", "call"),
        ("تشكيل", "decide"),
        ("اعتماد", "adopt"),
        ("إقرار", "endorse"),
        ("الإشادة", "commend"),
        ("توصية", "recommend"),
    ),
}

#: French infinitives that are not the present form + "r" ("PREND" → "prendre").
FR_IRREGULAR_INFINITIVES: Final[dict[str, str]] = {
    "prend": "prendre",
    "fait": "faire",
    "appelle": "appeler",
    "accueille": "accueillir",
    "reconnait": "reconnaitre",
    "soutient": "soutenir",
    "requiert": "requerir",
    "convient": "convenir",
    "transmet": "transmettre",
    "met": "mettre",
    "rend": "rendre",
    "etablit": "etablir",
    "exprime": "exprimer",
    "lance": "lancer",
}
#: Infinitives that head the items of a "Décide :" or "To ..." list and are not derived.
EXTRA_INFINITIVES: Final[tuple[tuple[str, str], ...]] = (
    ("se faire représenter", "decide"),
    ("réintégrer", "decide"),
    ("réintégration", "decide"),
    ("autoriser", "entrust"),
    ("demander", "request"),
)

#: Verbs whose meaning depends on what follows: (folded verb, ((regex on the folded words
#: after it, action), ...)). The first pattern that matches the next few words wins.
CONTEXTUAL_ACTIONS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "exprime": (
        (r"gratitude|remerciements|reconnaissance", "thank"),
        (r"appreciation|satisfaction", "appreciate"),
        (r"preoccupation|inquietude|consternation", "concern"),
        (r"soutien|appui|solidarite", "support"),
    ),
    "expresses": (
        (r"gratitude|thanks", "thank"),
        (r"appreciation|satisfaction", "appreciate"),
        (r"concern|alarm", "concern"),
        (r"support|solidarity", "support"),
    ),
    "يعرب": (
        (r"شكر|امتنان", "thank"),
        (r"تقدير", "appreciate"),
        (r"قلق", "concern"),
        (r"دعم|تضامن", "support"),
    ),
    # "RAPPELLE aux États membres la nécessité de ..." reminds someone; otherwise it recalls.
    "rappelle": ((r"^(?:aux|au|a)\s", "remind"),),
}

#: Adverbs that colour a verb without changing it: "INVITE instamment", "ALSO URGES".
#: They are reported as the action's modifier and are never part of the verb.
MODIFIERS: Final[dict[str, tuple[str, ...]]] = {
    "fr": (
        "instamment",
        "vivement",
        "également",
        "aussi",
        "en outre",
        "par ailleurs",
        "de nouveau",
        "à nouveau",
        "encore",
        "fermement",
        "chaleureusement",
        "sincèrement",
        "fortement",
        "énergiquement",
        "hautement",
        "pleinement",
        "enfin",
        "de même",
        "en particulier",
        "notamment",
        "d'autre part",
        "à cet égard",
        "en conséquence",
        "par conséquent",
        "dans ce contexte",
        "dans ce cadre",
        "à cet effet",
    ),
    "en": (
        "also",
        "further",
        "furthermore",
        "strongly",
        "urgently",
        "once again",
        "again",
        "earnestly",
        "warmly",
        "sincerely",
        "firmly",
        "kindly",
        "fully",
        "moreover",
        "likewise",
        "similarly",
        "additionally",
        "deeply",
        "highly",
        "respectfully",
        "in this regard",
        "in particular",
        "therefore",
        "accordingly",
        "finally",
    ),
    "ar": ("أيضا", "كذلك", "بشدة", "مجددا", "مرة أخرى", "كما", "وكما", "ثم"),
}

#: Gregorian month names in Arabic (Egyptian/Gulf and Levantine names), folded, → month.
ARABIC_MONTHS: Final[dict[str, int]] = {
    **dict.fromkeys(("يناير", "كانون الثاني", "جانفي"), 1),
    **dict.fromkeys(("فبراير", "شباط", "فيفري"), 2),
    **dict.fromkeys(("مارس", "اذار"), 3),
    **dict.fromkeys(("ابريل", "نيسان", "افريل"), 4),
    **dict.fromkeys(("مايو", "ايار", "ماي"), 5),
    **dict.fromkeys(("يونيو", "يونيه", "حزيران", "جوان"), 6),
    **dict.fromkeys(("يوليو", "يوليه", "تموز", "جويليه"), 7),
    **dict.fromkeys(("اغسطس", "اب", "اوت"), 8),
    **dict.fromkeys(("سبتمبر", "ايلول"), 9),
    **dict.fromkeys(("اكتوبر", "تشرين الاول"), 10),
    **dict.fromkeys(("نوفمبر", "تشرين الثاني"), 11),
    **dict.fromkeys(("ديسمبر", "كانون الاول"), 12),
}

#: How recitals of the preamble open (folded): a line starting so is never the body's
#: opening sentence, so a date in it is a recalled text's date, not the adoption date.
PREAMBLE_OPENERS: Final[tuple[str, ...]] = (
    "recalling",
    "rappelant",
    "noting",
    "notant",
    "prenant",
    "taking",
    "reaffirming",
    "reaffirmant",
    "considering",
    "considerant",
    "guided",
    "guide",
    "having",
    "ayant",
    "recognizing",
    "recognising",
    "reconnaissant",
    "welcoming",
    "expressing",
    "exprimant",
    "bearing",
    "mindful",
    "conscient",
    "convinced",
    "convaincu",
    "deeply",
    "emphasizing",
    "emphasising",
    "stressing",
    "soulignant",
    "soucieux",
    "se referant",
    "tenant",
    "affirmant",
    "referring",
    "acknowledging",
    "aware",
    "alarmed",
    "concerned",
    "preoccupe",
    "اذ ",
    "واذ ",
)

#: Arabic purpose phrases ("لدراسة", "لاتخاذ"): like an infinitive, what follows is the
#: task, not who is asked (folded forms).
AR_PURPOSE: Final[tuple[str, ...]] = (
    "لدراسه",
    "لاتخاذ",
    "لتقديم",
    "لمتابعه",
    "لاعداد",
    "لتنفيذ",
    "لبحث",
    "لمناقشه",
    "لتوفير",
    "لدعم",
    "لوضع",
    "لاجراء",
    "لمواصله",
    "لتعزيز",
    "للنظر",
)

#: Conjunctions that may be printed in capitals with the verb ("; ET EXHORTE").
CONJUNCTIONS: Final = frozenset({"et", "and", "puis", "then", "و"})


# --------------------------------------------------------------------------------------------
# Institutions: canonical code (English acronym), names and acronyms in every language
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Institution:
    """A named OIC body that can be addressed; the registry reuses these as entity seeds.

    ``names`` match case- and accent-insensitively; ``acronyms`` only as printed.
    ``addressee`` is the class the body belongs to (the Groups are ``GRP``, the rest ``ORG``).
    """

    code: str
    names: tuple[str, ...]
    acronyms: tuple[str, ...] = ()
    addressee: str = "ORG"


INSTITUTIONS: Final[tuple[Institution, ...]] = (
    Institution(
        "SESRIC",
        (
            "Centre de recherches statistiques, économiques et sociales et de formation "
            "pour les pays islamiques",
            "Statistical, Economic and Social Research and Training Centre for Islamic Countries",
            "مركز الأبحاث الإحصائية والاقتصادية والاجتماعية والتدريب للدول الإسلامية",
            "سيسرك",
        ),
        ("SESRIC",),
    ),
    Institution(
        "ICESCO",
        (
            "Organisation du monde islamique pour l'éducation, les sciences et la culture",
            "Islamic World Educational, Scientific and Cultural Organization",
            "Islamic World Educational, Scientific and Cultural Organisation",
            "منظمة العالم الإسلامي للتربية والعلوم والثقافة",
            "الإيسيسكو",
        ),
        ("ICESCO", "ISESCO"),
    ),
    Institution(
        "IsDB",
        (
            "Groupe de la Banque islamique de développement",
            "Groupe de la Banque de développement islamique",
            "Banque islamique de développement",
            "Banque de développement islamique",
            "Islamic Development Bank Group",
            "Islamic Development Bank",
            "مجموعة البنك الإسلامي للتنمية",
            "البنك الإسلامي للتنمية",
        ),
        ("BID", "IsDB", "ISDB", "IDB"),
    ),
    Institution(
        "ISF",
        ("Fonds de solidarité islamique", "Islamic Solidarity Fund", "صندوق التضامن الإسلامي"),
        ("FSI", "ISF"),
    ),
    Institution(
        "IPHRC",
        (
            "Commission permanente indépendante des droits de l'homme",
            "Independent Permanent Human Rights Commission",
            "الهيئة الدائمة المستقلة لحقوق الإنسان",
        ),
        ("CPIDH", "CPIH", "IPHRC"),
    ),
    Institution(
        "IRCICA",
        (
            "Centre de recherches sur l'histoire, l'art et la culture islamiques",
            "Research Centre for Islamic History, Art and Culture",
            "مركز الأبحاث للتاريخ والفنون والثقافة الإسلامية",
            "إرسيكا",
        ),
        ("IRCICA",),
    ),
    Institution(
        "ICCIA",
        (
            "Chambre islamique de commerce, d'industrie et d'agriculture",
            "Islamic Chamber of Commerce, Industry and Agriculture",
            "Islamic Chamber of Commerce and Industry",
            "الغرفة الإسلامية للتجارة والصناعة والزراعة",
        ),
        ("CICIA", "ICCIA", "ICCI"),
    ),
    Institution(
        "WDO",
        (
            "Organisation pour le développement de la femme",
            "Organisation de développement de la femme",
            "Women Development Organization",
            "Women Development Organisation",
            "منظمة تنمية المرأة",
        ),
        ("ODF", "WDO"),
    ),
    Institution(
        "IIFA",
        (
            "Académie internationale du fiqh islamique",
            "Académie islamique internationale du fiqh",
            "International Islamic Fiqh Academy",
            "Islamic Fiqh Academy",
            "مجمع الفقه الإسلامي الدولي",
        ),
        ("IIFA",),
    ),
    Institution(
        "IIUM",
        (
            "Université islamique internationale de Malaisie",
            "International Islamic University Malaysia",
            "International Islamic University of Malaysia",
            "الجامعة الإسلامية العالمية بماليزيا",
        ),
        ("UIIM", "IIUM"),
    ),
    Institution(
        "BAYTMAL",
        (
            "Agence Bayt Mal Al-Qods Acharif",
            "Agence Bayt Mal Al-Qods",
            "Agence Beit Mal Al-Qods",
            "Bayt Mal Al-Quds Asharif Agency",
            "Bayt Mal Al-Quds Agency",
            "Bayt Mal Al-Qods",
            "Beit Mal Al-Qods",
            "Bayt Mal Al-Quds",
            "وكالة بيت مال القدس",
            "بيت مال القدس",
        ),
    ),
    Institution(
        "SMIIC",
        (
            "Institut de normalisation et de métrologie pour les pays islamiques",
            "Standards and Metrology Institute for Islamic Countries",
            "معهد المواصفات والمقاييس للدول الإسلامية",
        ),
        ("SMIIC", "INMPI"),
    ),
    Institution(
        "IUT",
        (
            "Université islamique de technologie",
            "Islamic University of Technology",
            "الجامعة الإسلامية للتكنولوجيا",
        ),
        ("IUT",),
    ),
    Institution(
        "IOFS",
        (
            "Organisation islamique pour la sécurité alimentaire",
            "Islamic Organization for Food Security",
            "Islamic Organisation for Food Security",
            "المنظمة الإسلامية للأمن الغذائي",
        ),
        ("IOFS", "OISA"),
    ),
    Institution(
        "ICYF",
        (
            "Forum de la jeunesse de la coopération islamique",
            "Forum de la jeunesse de l'OCI",
            "Islamic Cooperation Youth Forum",
            "منتدى شباب التعاون الإسلامي",
        ),
        ("ICYF",),
    ),
    Institution(
        "ICDT",
        (
            "Centre islamique pour le développement du commerce",
            "Islamic Centre for Development of Trade",
            "Islamic Center for Development of Trade",
            "المركز الإسلامي لتنمية التجارة",
        ),
        ("ICDT", "CIDC"),
    ),
    Institution(
        "IUIU",
        ("Université islamique en Ouganda", "Islamic University in Uganda"),
        ("IUIU",),
    ),
    Institution(
        "ISBO",
        (
            "Union des radiodiffusions des États islamiques",
            "Islamic States Broadcasting Union",
            "اتحاد إذاعات الدول الإسلامية",
        ),
        ("ISBO",),
    ),
    Institution(
        "UNA",
        ("Union des agences de presse de l'OCI", "Union of OIC News Agencies"),
        ("UNA",),
    ),
    # The Groups are found by GROUP_PATTERNS (they are often named together: "les Groupes
    # de l'OCI à Genève et à New York"); their names here are for the registry.
    Institution(
        "OIC-NY",
        (
            "Groupe de l'OCI à New York",
            "Groupe islamique à New York",
            "OIC Group in New York",
            "المجموعة الإسلامية في نيويورك",
        ),
        addressee="GRP",
    ),
    Institution(
        "OIC-GENEVA",
        (
            "Groupe de l'OCI à Genève",
            "Groupe islamique à Genève",
            "OIC Group in Geneva",
            "المجموعة الإسلامية في جنيف",
        ),
        addressee="GRP",
    ),
)

INSTITUTIONS_BY_CODE: Final = {institution.code: institution for institution in INSTITUTIONS}

# --------------------------------------------------------------------------------------------
# Addressee classes other than named institutions
# --------------------------------------------------------------------------------------------

#: Plain phrases (any language) for each addressee class, matched like institution names.
ADDRESSEE_PHRASES: Final[tuple[tuple[str, str], ...]] = (
    ("MS", "الدول الأعضاء"),
    ("MS", "الدولة العضو"),
    ("SG", "الأمانة العامة"),
    ("SG", "الأمين العام"),
    ("ORG", "مؤسسات المنظمة"),
    ("ORG", "أجهزة المنظمة"),
    ("ORG", "الأجهزة المتفرعة"),
    ("ORG", "المؤسسات المتخصصة"),
    ("ORG", "المؤسسات المنتمية"),
    ("ORG", "المؤسسات المعنية"),
    ("ORG", "الأجهزة والمؤسسات"),
    ("GRP", "المجموعة الإسلامية"),
    ("GRP", "مجموعة منظمة التعاون الإسلامي"),
    ("GRP", "مجموعتي منظمة التعاون الإسلامي"),
    ("INTL", "المجتمع الدولي"),
    ("INTL", "الأمم المتحدة"),
    ("INTL", "المنظمات الدولية"),
)

_PLACE = r"(?:new[\s-]+york|geneve|geneva|نيويورك|جنيف)"
_UN = r"(?:nations\s+unies|onu)"

#: Regular expressions on folded text (lower case, no accents), most specific first: at one
#: position the first pattern that matches wins ("Secrétaire général des Nations unies" is
#: INTL, not SG). Inner groups must be non-capturing.
GROUP_PATTERNS: Final[tuple[str, ...]] = (
    r"groupes?\s+(?:islamiques?|de\s+l'oci|de\s+l'organisation(?:\s+de\s+la\s+cooperation"
    r"\s+islamique)?)(?:\s+(?:a|en|in|at)\s+" + _PLACE + r"(?:\s*(?:,|et|and)\s*(?:a\s+|in\s+"
    r"|at\s+)?" + _PLACE + r")?)?",
    r"(?:oic|islamic)\s+groups?(?:\s+(?:in|at)\s+"
    + _PLACE
    + r"(?:\s+and\s+(?:in\s+)?"
    + _PLACE
    + r")?)?",
)

ADDRESSEE_PATTERNS: Final[tuple[tuple[str, str], ...]] = (
    ("INTL", r"communaute\s+internationale"),
    ("INTL", r"international\s+community"),
    (
        "INTL",
        r"(?:organisation|systeme|agences?|organes?|organismes?|organisations?|institutions?"
        r"|fonds|programmes?|secretaire[\s-]+general|secretariat|assemblee\s+generale"
        r"|conseil\s+de\s+securite|haut[\s-]+commissariat)(?:\s+(?:specialisee?s?"
        r"|competente?s?|concernee?s?|pertinente?s?))?\s+(?:des|de\s+l')\s*" + _UN,
    ),
    (
        "INTL",
        r"(?:secretary[\s-]+general|agencies|organs|bodies|general\s+assembly"
        r"|security\s+council|organi[sz]ations)\s+of\s+the\s+united\s+nations",
    ),
    ("INTL", r"united\s+nations(?:\s+(?:system|agencies|organi[sz]ations|bodies))?"),
    ("INTL", r"un\s+(?:agencies|bodies|system|organi[sz]ations)"),
    ("INTL", r"speciali[sz]ed\s+agencies"),
    ("INTL", r"international\s+(?:bodies|institutions|agencies|financial\s+institutions)"),
    ("INTL", r"regional\s+(?:and\s+international\s+)?(?:organi[sz]ations|bodies)"),
    ("INTL", r"organismes\s+internationaux|organisations\s+regionales"),
    ("INTL", r"institutions\s+specialisees\s+des\s+nations\s+unies"),
    ("INTL", r"(?:human\s+rights|economic\s+and\s+social|trusteeship)\s+council"),
    ("INTL", r"conseil\s+(?:des\s+droits\s+de\s+l'homme|economique\s+et\s+social)"),
    ("INTL", r"(?:unesco|unicef|undp|unhcr|unrwa|unctad|unep|unfpa|unido|fao|who|ilo|wfp|iaea)\b"),
    (
        "INTL",
        r"(?:high\s+commissioner|special\s+rapporteur|special\s+envoy|truce\s+commission"
        r"|intergovernmental\s+(?:committee|working\s+group|body))",
    ),
    ("INTL", r"(?:haut[\s-]+commissaire|rapporteur\s+special|commission\s+de\s+treve)"),
    ("INTL", r"(?:مجلس\s+الامن|مجلس\s+حقوق\s+الانسان|وكالات\s+الامم\s+المتحده)"),
    ("INTL", _UN),
    ("INTL", r"organisations\s+internationales(?:\s+et\s+regionales)?"),
    ("INTL", r"international\s+(?:and\s+regional\s+)?organi[sz]ations"),
    (
        "MS",
        r"(?:ministeres|gouvernements|autorites|ministries|governments|authorities)\b"
        r"[^;:.]{0,80}?\b(?:(?:etats?|pays)\s+membres?|member\s+(?:states?|countries))",
    ),
    ("MS", r"(?:etats?|pays)\s+membres?"),
    ("MS", r"etats\s+qui"),
    ("MS", r"member\s+(?:states?|countries)"),
    ("MS", r"states\s+(?:that|which|who)"),
    ("MS", r"all\s+(?:member\s+)?states|states\s+parties|all\s+governments"),
    ("MS", r"(?:its\s+|ses\s+)?(?:permanent\s+members|membres\s+permanents)"),
    ("MS", r"tous\s+les\s+etats|etats\s+parties|tous\s+les\s+gouvernements"),
    (
        "MS",
        r"(?:all\s+)?(?:the\s+)?parties(?:\s+concerned)?|(?:toutes\s+les\s+)?parties"
        r"(?:\s+(?:interessees|en\s+cause))?",
    ),
    ("MS", r"جميع\s+الاطراف|الاطراف\s+المعنيه|الدول\s+العربيه|جميع\s+الدول"),
    # A member State's government, however it is named: "the Turkish Government", "the
    # Government of Qatar", "le Gouvernement turc", "حكومة".
    ("MS", r"governments?|gouvernements?|(?:ال)?حكوم(?:ه|ات)"),
    # Islamic bodies outside the adopting organisation (its own are named, or "OIC ...").
    (
        "INTL",
        r"islamic\s+(?:(?:financial|charitable|humanitarian|non-governmental|relief)\s+)?"
        r"(?:organi[sz]ations|institutions|bodies)",
    ),
    ("INTL", r"(?:organisations|institutions|organismes)\s+islamiques"),
    ("INTL", r"(?:ال)?(?:منظمات|مؤسسات|هيئات)\s+(?:ال)?اسلاميه"),
    # The adopting organisation named as an actor acts through its secretariat; not when it
    # only qualifies what comes before ("Member States of the Organisation of ...").
    (
        "SG",
        r"(?<!of\s)(?<!of\sthe\s)(?<!in\s)(?<!in\sthe\s)(?<!to\sthe\s)(?<!de\s)(?<!de\sl')"
        r"(?<!a\sl')(?:organi[sz]ation\s+of\s+(?:the\s+)?islamic\s+(?:conference|cooperation)"
        r"|organisation\s+de\s+la\s+(?:conference|cooperation)\s+islamique)"
        r"(?!\s+(?:member|institutions|organs|bodies|group))",
    ),
    (
        "SG",
        r"(?<!\S)(?<!في\s)(?<!اعضاء\s)(?:ال)?منظمه\s+(?:التعاون|المؤتمر)\s+الاسلامي"
        r"(?!\s+(?:و)?(?:مؤسسات|اجهزه))",
    ),
    ("SG", r"secretariat\s+general"),
    ("SG", r"secretaire[\s-]+general"),
    ("SG", r"general\s+secretariat"),
    ("SG", r"secretary[\s-]+general"),
    ("ORG", r"organes?"),
    ("ORG", r"organs"),
    ("ORG", r"organismes?\s+(?:subsidiaires?|specialises?|affilies?|de\s+l'oci)"),
    (
        "ORG",
        r"institutions?\s+(?:et\s+organes?\s+)?(?:competente?s?|pertinentes?|concernees?"
        r"|specialisees?|affiliees?|subsidiaires?|de\s+l'oci|de\s+l'organisation)",
    ),
    (
        "ORG",
        r"(?:relevant|competent|concerned|specialized|specialised|affiliated|subsidiary)"
        r"\s+(?:oic\s+)?(?:organs|institutions|bodies)",
    ),
    ("ORG", r"oic\s+(?:organs|institutions|bodies|entities)"),
    ("ORG", r"(?:ال)?لجنه\s+(?:الدائمه|الش[ئؤ]ون|المتابعه|القدس)"),
    ("ORG", r"(?:الالكسو|المنظمه\s+العربيه\s+للتربيه)"),
    ("ORG", r"institutions\s+of\s+the\s+oic"),
)

#: Patterns that only count when printed with a capital: a "Département" in OIC texts is a
#: department of the General Secretariat (seed 000: "le Département des Technologies...").
CAPITALISED_PATTERNS: Final[tuple[tuple[str, str], ...]] = (
    ("SG", r"departements?"),
    ("SG", r"departments?"),
    # "Urges States ...": States with a capital are States (not "the League of Arab States").
    ("MS", r"(?<!league\sof\sarab\s)(?<!league\sof\sthe\sarab\s)states"),
    ("MS", r"(?<!ligue\sdes\s)etats"),
    # A Commission not named in INSTITUTIONS: a commission of the Security Council or of the
    # General Assembly ("Requests the Commission to report ..."); the OIC's own are named
    # (the Independent Permanent Human Rights Commission is ORG).
    (
        "INTL",
        r"(?<!permanent\s)(?<!rights\s)(?<!islamic\s)(?<!oic\s)"
        r"commission(?!\s+(?:permanente|islamique))",
    ),
)

#: Partners named after these are not addressees: "DEMANDE au Secrétariat général, en
#: coordination avec les organes ..., de ..." asks the Secretariat only.
PARTNER_PATTERNS: Final[tuple[str, ...]] = (
    r"en\s+(?:etroite\s+)?(?:coordination|cooperation|collaboration|concertation|consultation"
    r"|partenariat|liaison)\s+avec",
    r"avec\s+(?:le\s+soutien|l'appui|l'aide|le\s+concours|la\s+participation)\s+d",
    r"in\s+(?:close\s+)?(?:coordination|co-?operation|collaboration|consultation|partnership"
    r"|liaison)\s+with",
    r"with\s+the\s+(?:support|assistance|help|participation)\s+of",
    r"together\s+with",
    r"بالتنسيق\s+مع",
    r"بالتعاون\s+مع",
    r"بالتشاور\s+مع",
    r"بالشراكه\s+مع",
    r"بدعم\s+من",
)

#: A reference set off in the verb's object ("Invite le Secrétaire général, conformément à
#: l'Article 20 de la Charte des Nations Unies, à ..."): up to the next comma it names a text,
#: not someone asked to act.
REFERENCE_PATTERNS: Final[tuple[str, ...]] = (
    r"conformement\s+(?:a|aux|au)",
    r"en\s+application\s+d",
    r"in\s+accordance\s+with",
    r"pursuant\s+to",
    r"in\s+conformity\s+with",
    r"وفقا\s+ل",
    r"طبقا\s+ل",
)

#: A request embedded in an acknowledging clause: "SALUE les Groupes ... et les appelle à".
EMBEDDED_REQUEST_PATTERNS: Final[tuple[str, ...]] = (
    r"\bet\s+(?:les|l'|la|le|leur|lui)\s*(?:appelle|invite|exhorte|encourage|prie|demande"
    r"|engage|incite)\b",
    r"\band\s+(?:calls\s+upon|calls\s+on|invites|urges|encourages|requests|asks)\s+"
    r"(?:them|it|him|her)\b",
    # "Reiterates its call upon all States to ...", "renouvelle son appel aux États ..."
    r"^\s*(?:its|their)\s+(?:urgent\s+|earnest\s+)?(?:call|appeal|request)s?\s+(?:upon|on|to)\b",
    r"^\s*(?:son|sa|ses)\s+(?:appel|demande|invitation)s?\s+(?:pressants?\s+)?(?:a|aux|au)\b",
    r"^\s*(?:دعوته|مناشدته|نداءه|طلبه)\b",
)

#: Verbs (folded, as printed) that hand something over to someone named after a preposition,
#: past what is handed over: "Recommends the guidelines ... to all Member States", "Refers the
#: question to ...", "إحالة الموضوع ... إلى المنظمة العربية للتربية ...": that someone is asked
#: to act on it.
RECIPIENT_VERBS: Final = frozenset(
    {
        "recommends",
        "recommend",
        "refers",
        "refer",
        "transmits",
        "transmit",
        "recommande",
        "recommander",
        "renvoie",
        "renvoyer",
        "يوصي",
        "توصي",
        "يحيل",
        "احاله",
    }
)
RECIPIENT_PREPOSITIONS: Final = frozenset({"to", "a", "aux", "au", "الي"})

#: "Decides that ...", "Décide que ...", "يقرر أن ...": who the clause names as its subject
#: (or between whom something is to happen) is asked to act.
THAT_WORDS: Final = frozenset({"that", "que", "qu", "ان", "بان"})

#: Arabic puts the subject after the verb: "يطلب المجلس من الأمين العام", "توصي اللجنة الدول
#: الأعضاء ...". The body that speaks, named there, is skipped before looking for the object
#: (folded forms).
AR_BODY_SUBJECTS: Final = frozenset({"المجلس", "اللجنه", "المؤتمر", "الجمعيه", "القمه"})

#: Words that may stand before an addressee at the start of a verb's object ("aux", "les
#: deux", "all", "the relevant", "من"): if only these precede it, it is the verb's object.
LEAD_WORDS: Final = frozenset(
    {
        # fr
        "les",
        "le",
        "la",
        "l",
        "aux",
        "au",
        "a",
        "de",
        "du",
        "des",
        "d",
        "tous",
        "toutes",
        "tout",
        "deux",
        "trois",
        "ensemble",
        "chacun",
        "chacune",
        "chaque",
        "leurs",
        "ses",
        "son",
        "sa",
        "divers",
        "differents",
        "differentes",
        "autres",
        # en
        "the",
        "all",
        "its",
        "their",
        "each",
        "both",
        "two",
        "to",
        "of",
        "oic",
        "relevant",
        "concerned",
        "competent",
        "respective",
        "various",
        "other",
        "every",
        "provisional",
        "interim",
        "acting",
        "executive",
        "interimaire",
        "provisoire",
        # ar
        "من",
        "كل",
        "جميع",
        "كافه",
        "الى",
    }
)

#: Prepositions after which a named party is an actor even when the verb's object is not a
#: person: "SOULIGNE l'impératif pour les États membres de ..." (for), "LANCE UN APPEL en
#: faveur de la coopération entre le Secrétariat général et les organes ..." (between, only
#: when two different classes are named: "coopération entre les États membres" stays ALL).
ACTOR_ANCHORS: Final[dict[str, str]] = {
    "pour": "for",
    "for": "for",
    "entre": "between",
    "between": "between",
    "بين": "between",
}

# --------------------------------------------------------------------------------------------
# Telling an infinitive from a noun: where the verb's object ends
# --------------------------------------------------------------------------------------------

#: French infinitive endings (after "à", "de", "pour": "à unifier", "de prendre").
FR_INFINITIVE_ENDINGS: Final = (
    "er",
    "ir",
    "oir",
    "faire",
    "prendre",
    "mettre",
    "duire",
    "truire",
    "suivre",
    "vivre",
    "dire",
    "crire",
    "battre",
    "etre",
    "endre",
    "ondre",
    "oindre",
    "eindre",
    "aindre",
    "aitre",
    "oitre",
    "clure",
    "lire",
    "rompre",
    "vaincre",
    "soudre",
    "traire",
    "croire",
    "boire",
    "plaire",
    "taire",
    "coudre",
    "moudre",
    "rire",
)

#: French nouns and adjectives with an infinitive's ending ("de premier plan", "à la mer").
FR_NOT_INFINITIVE: Final = frozenset(
    (
        "premier",
        "dernier",
        "entier",
        "particulier",
        "regulier",
        "singulier",
        "financier",
        "foncier",
        "immobilier",
        "hospitalier",
        "petrolier",
        "policier",
        "dossier",
        "atelier",
        "quartier",
        "chantier",
        "papier",
        "calendrier",
        "courrier",
        "pilier",
        "palier",
        "cahier",
        "fichier",
        "metier",
        "sentier",
        "ouvrier",
        "pionnier",
        "prisonnier",
        "banquier",
        "officier",
        "levier",
        "escalier",
        "janvier",
        "fevrier",
        "routier",
        "saisonnier",
        "douanier",
        "fermier",
        "guerrier",
        "familier",
        "coutumier",
        "hier",
        "mer",
        "fer",
        "cancer",
        "enfer",
        "hiver",
        "danger",
        "etranger",
        "foyer",
        "loyer",
        "clavier",
        "bouclier",
        "leader",
        "laser",
        "avenir",
        "desir",
        "plaisir",
        "loisir",
        "soupir",
        "emir",
        "espoir",
        "miroir",
        "couloir",
        "trottoir",
        "mouchoir",
        "tiroir",
        "comptoir",
        "terroir",
        "soir",
        "noir",
        "reservoir",
        "dortoir",
        "abattoir",
        "fenetre",
        "metre",
        "kilometre",
        "perimetre",
        "parametre",
        "pretre",
    )
)

#: English words after "to" that do not start an infinitive ("to the", "to all Member").
EN_NOT_VERBS: Final = frozenset(
    (
        "the",
        "a",
        "an",
        "all",
        "its",
        "their",
        "this",
        "that",
        "these",
        "those",
        "each",
        "every",
        "any",
        "his",
        "her",
        "our",
        "your",
        "my",
        "member",
        "members",
        "relevant",
        "such",
        "other",
        "some",
        "both",
        "date",
        "it",
        "them",
        "him",
        "us",
        "me",
        "which",
        "whom",
        "what",
        "whose",
        "national",
        "regional",
        "international",
        "oic",
        "un",
        "more",
        "most",
        "further",
        "various",
        "concerned",
        "competent",
        "specialized",
        "specialised",
        "affected",
        "vulnerable",
        "least",
        "new",
    )
)

# --------------------------------------------------------------------------------------------
# Compiled forms and lookups
# --------------------------------------------------------------------------------------------


_ARABIC_LETTER_FOLDS: Final = str.maketrans(
    {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ئ": "ي", "ؤ": "و", "ة": "ه"}
)


def fold_pattern(pattern: str) -> str:
    """A hand-written regex brought to the folded letters it is matched against ("الى" is
    "الي", "الدائمة" is "الدايمه" once folded); regex syntax is left alone."""
    return pattern.translate(_ARABIC_LETTER_FOLDS)


def _is_arabic(char: str) -> bool:
    return "\u0600" <= char <= "\u06ff"


def _phrase_body(phrase: str) -> str:
    words: list[str] = re.findall(r"[\w']+", fold(phrase))
    body = r"[\s,\-]+".join(re.escape(word) for word in words)
    if words and _is_arabic(words[0][0]):
        first, rest = words[0], body[len(re.escape(words[0])) :]
        if first.startswith("ال"):
            return r"(?:[وف]?(?:[بلك]?ال|لل))" + re.escape(first[2:]) + rest + r"(?!\w)"
        return r"[وفبلك]{0,2}" + re.escape(first) + rest + r"(?!\w)"
    return body + r"(?!\w)"


def phrase_pattern(phrase: str) -> str:
    """A regex (on folded text) for a literal phrase: flexible spaces, hyphens and commas.

    Arabic phrases also accept the attached particles (و ب ل ف ك, and لل for ل + ال).
    """
    return _WORD_START + _phrase_body(phrase)


_WORD_START: Final = r"(?<![\w-])"


@dataclass(frozen=True, slots=True)
class _Spec:
    code: str
    institution: str | None = None
    exact: str | None = None
    capitalised: bool = False
    group: bool = False


@dataclass(frozen=True, slots=True)
class EntityMatch:
    """An addressee found in a text; offsets are in the folded text."""

    start: int
    end: int
    code: str
    institutions: tuple[str, ...]


def _entity_branches() -> list[tuple[str, _Spec]]:
    """Every addressee pattern, most specific first (at one position the first one wins)."""
    branches: list[tuple[str, _Spec]] = [
        (p + r"(?!\w)", _Spec("GRP", group=True)) for p in GROUP_PATTERNS
    ]
    branches += [
        (_phrase_body(p), _Spec("GRP", group=True)) for c, p in ADDRESSEE_PHRASES if c == "GRP"
    ]
    names = [
        (name, institution)
        for institution in INSTITUTIONS
        if institution.addressee != "GRP"
        for name in institution.names
    ]
    names.sort(key=lambda item: -len(item[0]))  # longest first: "Groupe de la Banque ..."
    branches += [(_phrase_body(n), _Spec(i.addressee, i.code)) for n, i in names]
    branches += [(fold_pattern(p) + r"(?!\w)", _Spec(c)) for c, p in ADDRESSEE_PATTERNS]
    branches += [(_phrase_body(p), _Spec(c)) for c, p in ADDRESSEE_PHRASES if c != "GRP"]
    branches += [(p + r"(?![\w-])", _Spec(c, capitalised=True)) for c, p in CAPITALISED_PATTERNS]
    acronyms = [(a, i) for i in INSTITUTIONS for a in i.acronyms]
    acronyms.sort(key=lambda item: -len(item[0]))
    branches += [
        (re.escape(a.lower()) + r"(?![\w-])", _Spec(i.addressee, i.code, a)) for a, i in acronyms
    ]
    return branches


# One alternation without groups finds the matches fast (the regex engine skips branches
# whose first letter differs); the branch that matched is then found by trying them in order.
_BRANCHES: Final = tuple((re.compile(p), spec) for p, spec in _entity_branches())
_ENTITY_RE: Final = re.compile(
    _WORD_START + "(?:" + "|".join(p.pattern for p, _ in _BRANCHES) + ")"
)
_PLACE_RE: Final = re.compile(_PLACE)
_NEW_YORK_RE: Final = re.compile(r"new[\s-]+york|نيويورك")
PARTNER_RE: Final = re.compile("|".join(rf"(?<!\w)(?:{fold_pattern(p)})" for p in PARTNER_PATTERNS))
REFERENCE_RE: Final = re.compile(
    "|".join(rf"(?<!\w)(?:{fold_pattern(p)})[^,;]*" for p in REFERENCE_PATTERNS)
)
EMBEDDED_REQUEST_RE: Final = re.compile(fold_pattern("|".join(EMBEDDED_REQUEST_PATTERNS)))
ACTOR_ANCHOR_RE: Final = re.compile(
    r"(?<!\w)(?:" + "|".join(re.escape(word) for word in ACTOR_ANCHORS) + r")(?!\w)"
)


def _spec_at(text: str, position: int) -> _Spec:
    for pattern, spec in _BRANCHES:
        if pattern.match(text, position):
            return spec
    raise AssertionError("the combined pattern matched but no branch does")  # pragma: no cover


@lru_cache(maxsize=4096)
def _spec_for(window: str) -> _Spec:
    """The branch that matched: it depends only on the matched words and the one character
    after them (the branches' only look-aheads are one character long), so it is looked up
    once per wording, not once per mention."""
    return _spec_at(window, 0)


def find_addressees(text: str) -> tuple[Folded, tuple[EntityMatch, ...]]:
    """Every addressee mention in ``text``, in order, with its class and institution codes."""
    folded = Folded.of(text)
    found: list[EntityMatch] = []
    for match in _ENTITY_RE.finditer(folded.text):
        spec = _spec_for(folded.text[match.start() : match.end() + 1])
        printed = folded.original_slice(match.start(), match.end())
        if spec.exact is not None and printed != spec.exact:
            continue
        if spec.capitalised and not printed[:1].isupper():
            continue
        institutions: tuple[str, ...] = (spec.institution,) if spec.institution else ()
        if spec.group:
            window = folded.text[match.start() : match.end() + 30]
            places = [m.group() for m in _PLACE_RE.finditer(window)]
            institutions = tuple(
                dict.fromkeys(
                    "OIC-NY" if _NEW_YORK_RE.fullmatch(place) else "OIC-GENEVA" for place in places
                )
            )
        found.append(EntityMatch(match.start(), match.end(), spec.code, institutions))
    return folded, tuple(found)


def _index(entries: Sequence[tuple[str, str]]) -> dict[tuple[str, ...], str]:
    table: dict[tuple[str, ...], str] = {}
    for phrase, action in entries:
        words = tuple(fold(phrase).split())
        table[words] = action
        if _is_arabic(words[0][0]) and words[0].startswith("ي"):
            table[("ت" + words[0][1:], *words[1:])] = action  # feminine subject
    return table


VERB_INDEX: Final = _index([entry for entries in VERBS.values() for entry in entries])


def _english_base(word: str) -> str:
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _infinitives() -> dict[tuple[str, ...], str]:
    """``urge`` from URGES, ``demander`` from DEMANDE, ``se feliciter`` from SE FÉLICITE."""
    table: dict[tuple[str, ...], str] = {}
    for phrase, action in VERBS["en"]:
        words = fold(phrase).split()
        table[(_english_base(words[0]), *words[1:])] = action
    for phrase, action in VERBS["fr"]:
        words = fold(phrase).split()
        head = 1 if words[0] in ("se", "en") and len(words) > 1 else 0
        verb = words[head]
        base = FR_IRREGULAR_INFINITIVES.get(verb) or (verb + "r" if verb.endswith("e") else "")
        if base:
            table[(*words[:head], base, *words[head + 1 :])] = action
    for phrase, action in EXTRA_INFINITIVES:
        table[tuple(fold(phrase).split())] = action
    return table


#: The infinitive forms ("To urge", "Demander", "D'autoriser") that head list items.
INFINITIVE_INDEX: Final = _infinitives()
_MAX_INFINITIVE_WORDS: Final = max(len(key) for key in INFINITIVE_INDEX)


def match_infinitive(words: Sequence[str]) -> tuple[int, str] | None:
    """The longest infinitive phrase at the start of folded ``words``."""
    for size in range(min(_MAX_INFINITIVE_WORDS, len(words)), 0, -1):
        action = INFINITIVE_INDEX.get(tuple(words[:size]))
        if action is not None:
            return size, action
    return None


MODIFIER_INDEX: Final = frozenset(
    tuple(fold(m).split()) for modifiers in MODIFIERS.values() for m in modifiers
)
_MAX_VERB_WORDS: Final = max(len(key) for key in VERB_INDEX)
_MAX_MODIFIER_WORDS: Final = max(len(key) for key in MODIFIER_INDEX)
_CONTEXTUAL: Final = {
    verb: tuple((re.compile(pattern), action) for pattern, action in rules)
    for verb, rules in CONTEXTUAL_ACTIONS.items()
}


def match_verb(words: Sequence[str]) -> tuple[int, str] | None:
    """The longest verb phrase at the start of ``words`` (folded): (word count, action)."""
    for size in range(min(_MAX_VERB_WORDS, len(words)), 0, -1):
        action = VERB_INDEX.get(tuple(words[:size]))
        if action is not None:
            return size, action
    return None


def match_modifier(words: Sequence[str]) -> int:
    """How many of the leading folded ``words`` form a modifier (0 if none)."""
    for size in range(min(_MAX_MODIFIER_WORDS, len(words)), 0, -1):
        if tuple(words[:size]) in MODIFIER_INDEX:
            return size
    return 0


def canonical_action(verb: str, following: str = "") -> str:
    """The canonical action of a printed verb; ``following`` resolves EXPRIME, RAPPELLE...

    Unknown verbs are ``"other"``: they are kept, and a reviewer sees them.
    """
    words = fold(verb).split()
    found = match_verb(words)
    if found is None or found[0] != len(words):
        found = match_infinitive(words)
    if found is None or found[0] != len(words):
        return "other"
    rules = _CONTEXTUAL.get(" ".join(words))
    if rules:
        window = fold(following).lstrip(" ,")[:80]
        for pattern, action in rules:
            if pattern.search(window):
                return action
    return found[1]
