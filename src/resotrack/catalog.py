"""The message catalog: every sentence a person reads, in Arabic, English and French.

Words live in gettext catalogs, ``resotrack/locales/<language>/LC_MESSAGES/<domain>.po``, one
domain per audience (``report``, ``portal``, ``mail``, …), so translators work on ordinary
``.po`` files with ordinary tools (Poedit, Weblate, ``pybabel``). The message id is the English
sentence; ``en`` catalogs may leave ``msgstr`` empty, which falls back to the id.

Catalogs are compiled in memory from the ``.po`` files the first time a domain is used in a
process (Babel's reader and writer), so a checkout never runs with a stale ``.mo``. Placeholders
use ``str.format`` names (``{entity}``); plurals use the catalog's own ``Plural-Forms`` (Arabic
has six), through :func:`ngettext`.
"""

from __future__ import annotations

import gettext as _gettext
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from io import BytesIO
from pathlib import Path
from typing import Any, Final, Literal, cast, get_args

Language = Literal["ar", "en", "fr"]
LANGUAGES: Final[tuple[Language, ...]] = cast(tuple[Language, ...], get_args(Language))
DEFAULT: Final[Language] = "en"
RTL: Final[frozenset[Language]] = frozenset({"ar"})
#: Each language in its own words, for a language switcher.
NATIVE_NAMES: Final[dict[Language, str]] = {"ar": "العربية", "en": "English", "fr": "Français"}
#: The forms of an entity's name a message may take (``resotrack.registry.grammar``): a message
#: that names one of them may use any other in a translation, as that language's grammar needs
#: ("for {entity}" → "pour {entity}", "reserved for {entity}" → "réservé {to_entity}").
ENTITY_FIELDS: Final = frozenset(
    {
        "entity_name",
        "entity",
        "of_entity",
        "to_entity",
        "entity_capitalized",
        "addressee",
        "to_addressee",
    }
)
#: Babel/BCP 47 locale of each language, for dates, numbers and a document's language tag.
LOCALES: Final[dict[Language, str]] = {"ar": "ar", "en": "en_GB", "fr": "fr_FR"}
#: The domain of the names of stored codes (states, kinds, channels): :class:`ValueNames`.
VALUES: Final = "values"


def language(value: object, default: Language = DEFAULT) -> Language:
    """The catalog language of ``value`` ("FR", "fr-CA", "ar_SA" …), else ``default``."""
    text = str(value or "").strip().lower()[:2]
    for lang in LANGUAGES:
        if text == lang:
            return lang
    return default


def terminal_words(domain: str) -> Words:
    """``domain`` in the language of the terminal's locale (``LANG=fr_FR.UTF-8``): what a
    command line says to whoever runs it."""
    env = os.environ
    return Words(language(env.get("LC_ALL") or env.get("LC_MESSAGES") or env.get("LANG")), domain)


def locales_dir() -> Path:
    return Path(str(resources.files("resotrack") / "locales"))


def domains() -> list[str]:
    """Every catalog domain, from the English folder (the reference)."""
    return sorted(p.stem for p in (locales_dir() / "en" / "LC_MESSAGES").glob("*.po"))


@cache
def translations(lang: Language, domain: str) -> _gettext.NullTranslations:
    """The compiled catalog of one domain in one language (cached per process)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    path = locales_dir() / lang / "LC_MESSAGES" / f"{domain}.po"
    if not path.exists():
        raise LookupError(f"no {lang} catalog for the domain {domain!r} ({path.name})")
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=LOCALES[lang], domain=domain)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


def N_(message: str) -> str:
    """Marks ``message`` for extraction (``make catalogs``) where it is named, not shown."""
    return message


def N_n(singular: str, plural: str) -> tuple[str, str]:
    """Marks a counted message (``ngettext``) for extraction; returns its two English forms."""
    return singular, plural


def NP_(context: str, message: str) -> str:
    """Marks a message of a context (``pgettext``) for extraction; returns the message."""
    return message


def translated(lang: Language, domain: str, message: str, context: str | None = None) -> bool:
    """Whether the ``lang`` catalog of ``domain`` has its own text for ``message``."""
    key = message if context is None else f"{context}\x04{message}"
    return key in cast(_gettext.GNUTranslations, translations(lang, domain))._catalog  # type: ignore[attr-defined]


def gettext(lang: Language, domain: str, message: str, **values: Any) -> str:
    """``message`` (its English text) in ``lang``, with ``values`` filled in."""
    text = translations(lang, domain).gettext(message)
    return text.format(**values) if values else text


def pgettext(lang: Language, domain: str, context: str, message: str, **values: Any) -> str:
    """Like :func:`gettext`, for a message whose English text is shared by other meanings."""
    text = translations(lang, domain).pgettext(context, message)
    return text.format(**values) if values else text


def ngettext(lang: Language, domain: str, singular: str, plural: str, n: int, **values: Any) -> str:
    """The form of a counted message that ``n`` takes in ``lang``; ``{n}`` is filled in."""
    text = translations(lang, domain).ngettext(singular, plural, n)
    return text.format(n=n, **values)


class Said(str):
    """A sentence made where its reader is not known yet: the string is its English text
    (what JSON and the logs carry), and it keeps its message id and values, so
    :meth:`Words.said` says it in the reader's language. A value that is itself ``Said`` is
    said in that language too."""

    msgid: str
    plural: str | None
    many: int | None
    values: dict[str, Any]
    context: str | None = None
    parts: tuple[str, ...] | None = None
    #: The domain the message is said from, when it is not the reader's (:class:`ValueNames`).
    domain: str | None = None

    def __new__(cls, msgid: str, /, **values: Any) -> Said:
        made = super().__new__(cls, msgid.format(**values) if values else msgid)
        made.msgid, made.plural, made.many, made.values = msgid, None, None, values
        return made

    @classmethod
    def p(cls, context: str, message: str) -> Said:
        """A word whose English is shared by other meanings (:func:`pgettext`)."""
        made = cls(message)
        made.context = context
        return made

    @classmethod
    def listed(cls, parts: list[str], separator: str = ", ") -> Said:
        """``parts`` joined by ``separator``, each said in the reader's language."""
        made = str.__new__(cls, separator.join(parts))
        made.msgid, made.plural, made.many, made.values = separator, None, None, {}
        made.parts = tuple(parts)
        return made

    @classmethod
    def n(cls, singular: str, plural: str, n: int, /, **values: Any) -> Said:
        """A counted sentence (:func:`ngettext`); ``{n}`` is ``n``."""
        english = singular if n == 1 else plural
        made = str.__new__(cls, english.format(n=n, **values))
        made.msgid, made.plural, made.many, made.values = singular, plural, n, values
        return made

    def __reduce__(self) -> tuple[Any, ...]:  # copies and pickles keep the message id
        shape = (self.msgid, self.plural, self.many, self.values, self.context, self.parts)
        return (_said, (*shape, self.domain))


def _said(
    msgid: str,
    plural: str | None,
    many: int | None,
    values: dict[str, Any],
    context: str | None = None,
    parts: tuple[str, ...] | None = None,
    domain: str | None = None,
) -> Said:
    if parts is not None:
        return Said.listed(list(parts), msgid)
    if context is not None:
        made = Said.p(context, msgid)
        made.domain = domain
        return made
    if plural is None or many is None:
        return Said(msgid, **values)
    return Said.n(msgid, plural, many, **values)


@dataclass(frozen=True, eq=False)
class ValueNames:
    """What the codes of one kind of stored value (a submission's state, a channel, a kind of
    message) are called, in the ``values`` domain: one English name per code, lowercase so that
    it reads inside a sentence ("accepted", "being checked", "member state"); a table cell
    capitalises it where it shows it. The stage that owns the value keeps its table, and the
    staff pages and the command line both say its codes through it.

    ``names`` maps a code to its English message id, marked with :func:`NP_` and ``context``
    for ``make catalogs``; a code the table does not know is said as it is stored, so nothing
    is hidden."""

    context: str
    names: Mapping[str, str]

    def name(self, lang: Language, code: object) -> str:
        """The name of ``code`` in ``lang``."""
        text = "" if code is None else str(code)
        found = self.names.get(text)
        return pgettext(lang, VALUES, self.context, found) if found else text

    def said(self, code: object) -> Said:
        """The name of ``code`` to be said once its reader is known (:meth:`Words.said`)."""
        text = "" if code is None else str(code)
        made = Said.p(self.context, self.names.get(text, text))
        made.domain = VALUES
        return made


def capital(text: str) -> str:
    """``text`` with a capital first letter, for a table cell or a heading (no effect on a
    script without capitals, such as Arabic)."""
    return text[:1].upper() + text[1:]


class Words:
    """One domain in one language, for code that says many things to one reader."""

    def __init__(self, lang: Language, domain: str) -> None:
        self.language: Language = lang
        self.domain = domain
        self.rtl = lang in RTL

    def __call__(self, message: str, **values: Any) -> str:
        return gettext(self.language, self.domain, message, **values)

    def n(self, singular: str, plural: str, n: int, **values: Any) -> str:
        return ngettext(self.language, self.domain, singular, plural, n, **values)

    def p(self, context: str, message: str, **values: Any) -> str:
        return pgettext(self.language, self.domain, context, message, **values)

    def said(self, text: str) -> str:
        """``text`` in this language when it is :class:`Said`, else as it is."""
        if not isinstance(text, Said):
            return text
        if text.parts is not None:
            return text.msgid.join(self.said(part) for part in text.parts)
        if text.context is not None:
            return pgettext(self.language, text.domain or self.domain, text.context, text.msgid)
        values = {k: self.said(v) if isinstance(v, Said) else v for k, v in text.values.items()}
        if text.plural is not None and text.many is not None:
            return self.n(text.msgid, text.plural, text.many, **values)
        return self(text.msgid, **values)

    def date(self, value: Any, form: str = "long") -> str:
        from babel.dates import format_date

        return str(format_date(value, format=form, locale=LOCALES[self.language]))

    def number(self, value: float | int) -> str:
        from babel.numbers import format_decimal

        return str(format_decimal(value, locale=LOCALES[self.language]))

    def percent(self, value: float, digits: int = 0) -> str:
        from babel.numbers import format_percent

        pattern = "#,##0%" if digits == 0 else "#,##0." + "0" * digits + "%"
        return str(format_percent(value, format=pattern, locale=LOCALES[self.language]))
