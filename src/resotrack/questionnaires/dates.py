"""Deadlines written the way OIC documents write dates: Gregorian, then Hijri in brackets.

The conversion uses ``hijridate`` (the Umm al-Qura calendar, valid 1343–1500 AH, that is
1924–2077); month names come from the tables below rather than from the machine's locale,
so a workbook reads the same whichever server builds it.
"""

from __future__ import annotations

from datetime import date
from typing import Final

from hijridate import Gregorian

from resotrack.catalog import Language

GREGORIAN_MONTHS: Final[dict[Language, tuple[str, ...]]] = {
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
    "fr": (
        "janvier", "février", "mars", "avril", "mai", "juin",
        "juillet", "août", "septembre", "octobre", "novembre", "décembre",
    ),
    "ar": (
        "يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو",
        "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر",
    ),
}  # fmt: skip

HIJRI_MONTHS: Final[dict[Language, tuple[str, ...]]] = {
    "en": (
        "Muharram", "Safar", "Rabi' al-Awwal", "Rabi' al-Thani", "Jumada al-Ula",
        "Jumada al-Akhirah", "Rajab", "Sha'ban", "Ramadan", "Shawwal", "Dhu al-Qi'dah",
        "Dhu al-Hijjah",
    ),
    "fr": (
        "mouharram", "safar", "rabia al-awal", "rabia ath-thani", "joumada al-oula",
        "joumada ath-thania", "rajab", "chaabane", "ramadan", "chawwal", "dhou al-qi'da",
        "dhou al-hijja",
    ),
    "ar": (
        "محرم", "صفر", "ربيع الأول", "ربيع الآخر", "جمادى الأولى", "جمادى الآخرة",
        "رجب", "شعبان", "رمضان", "شوال", "ذو القعدة", "ذو الحجة",
    ),
}  # fmt: skip

# How each language writes "<Gregorian> (<Hijri>)"; {hm} is the Hijri month name.
_PATTERNS: Final[dict[Language, str]] = {
    "en": "{d} {gm} {y} ({hd} {hm} {hy} AH)",
    "fr": "{d} {gm} {y} ({hd} {hm} {hy} H)",
    "ar": "{d} {gm} {y} م ({hd} {hm} {hy} هـ)",
}


def to_hijri(day: date) -> tuple[int, int, int]:
    """``(year, month, day)`` in the Umm al-Qura calendar; OverflowError outside 1924–2077."""
    hijri = Gregorian(day.year, day.month, day.day).to_hijri()
    return hijri.year, hijri.month, hijri.day


def format_deadline(day: date, language: Language) -> str:
    """The date in ``language``, Gregorian then Hijri: ``30 June 2026 (15 Muharram 1448 AH)``."""
    h_year, h_month, h_day = to_hijri(day)
    return _PATTERNS[language].format(
        d=day.day,
        gm=GREGORIAN_MONTHS[language][day.month - 1],
        y=day.year,
        hd=h_day,
        hm=HIJRI_MONTHS[language][h_month - 1],
        hy=h_year,
    )
