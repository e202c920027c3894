"""What a sentence needs to know about an entity: its article, its forms after a preposition and
how to address it, in Arabic, English and French.

The article of each shipped entity is data (``data/grammar.csv``: ``le Bénin``, ``l'Égypte``,
``les Comores``, ``the Gambia``), given for the name as sentences show it
(:func:`display_name`: ``la République islamique d'Iran``, not ``Iran (République islamique
d')``, the form the registry sorts by); the contractions that follow from it are French grammar
(``à le`` → ``au``, ``de les`` → ``des``, ``de`` → ``d'`` before a vowel) and the Arabic
``لـ`` joins its noun (``لبنين``, and ``ل`` + ``ال`` → ``لل``). The form of address depends on the
kind: a state is written to through its permanent mission, an institution through its head, the
Secretariat through the department concerned; those words are the ``registry`` catalog domain's.

Messages that name an entity take these fields (:data:`resotrack.catalog.ENTITY_FIELDS`), and
each translation picks the one its grammar needs: ``Questionnaire pour {entity}``,
``réservé {to_entity}``, ``la Mission permanente {of_entity}``.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final, Protocol

from resotrack import catalog
from resotrack.catalog import N_, Language

DOMAIN: Final = "registry"
#: French articles the data may carry; "" is a name without article (Djibouti, Oman).
FRENCH_ARTICLES: Final = ("le", "la", "l'", "les", "")
_ADDRESS: Final[dict[str, str]] = {
    "member_state": N_("the Permanent Mission of {entity}"),
    "institution": N_("the head of {entity}"),
    "secretariat": N_("the department concerned in {entity}"),
}
_VOWELS: Final = frozenset("aeiouyh")


class NamedEntity(Protocol):
    """What the forms are built from: a reporting entity of the registry (or a stand-in)."""

    @property
    def code(self) -> str: ...
    @property
    def kind(self) -> str: ...
    def name(self, language: str) -> str: ...


@dataclass(frozen=True)
class EntityWords:
    """One entity named in one language, in every form a sentence may need."""

    entity_name: str  # as a title: "Bénin", "Émirats arabes unis"
    entity: str  # as a subject or object: "le Bénin", "the United Arab Emirates"
    of_entity: str  # after "of": "du Bénin", "of the Gambia"
    to_entity: str  # after "to"/"for": "au Bénin", "to Benin", "لبنين"
    entity_capitalized: str  # at the start of a sentence: "Le Bénin"
    addressee: str  # whom a formal letter is addressed to: "la Mission permanente du Bénin"
    to_addressee: str  # after "to": "à la Mission permanente du Bénin", "au département …"

    def fields(self) -> dict[str, str]:
        return {
            "entity_name": self.entity_name,
            "entity": self.entity,
            "of_entity": self.of_entity,
            "to_entity": self.to_entity,
            "entity_capitalized": self.entity_capitalized,
            "addressee": self.addressee,
            "to_addressee": self.to_addressee,
        }


@cache
def articles() -> dict[str, tuple[str, str]]:
    """Entity code -> (English article, French article) as shipped."""
    text = resources.files("resotrack.registry.data").joinpath("grammar.csv").read_text("utf-8")
    rows = csv.DictReader(io.StringIO(text))
    found: dict[str, tuple[str, str]] = {}
    for row in rows:
        if row["article_fr"] not in FRENCH_ARTICLES or row["article_en"] not in ("the", ""):
            raise ValueError(f"grammar.csv: {row['code']} has an unknown article")
        found[row["code"]] = (row["article_en"], row["article_fr"])
    return found


_BRACKETED: Final = re.compile(r"^\s*(?P<name>[^()]+?)\s*\((?P<before>[^()]+)\)\s*$")


def display_name(name: str) -> str:
    """A registry name as a sentence or a list shows it: the bracketed part the registry sorts
    by goes back in front (``Iran (Islamic Republic of)`` → ``Islamic Republic of Iran``,
    ``Iran (République islamique d')`` → ``République islamique d'Iran``); other names are
    kept as they are."""
    found = _BRACKETED.match(name)
    if found is None:
        return name
    before, rest = found["before"].strip(), found["name"].strip()
    if before.endswith(("'", "’")):
        return before + rest
    return f"{before} {rest}"


def _starts_with_vowel(name: str) -> bool:
    first = unicodedata.normalize("NFKD", name[:1].lower())[:1]
    return first in _VOWELS


def _french(name: str, article: str) -> tuple[str, str, str]:
    """(with article, after "de", after "à") of a French name."""
    if article == "le":
        return f"le {name}", f"du {name}", f"au {name}"
    if article == "les":
        return f"les {name}", f"des {name}", f"aux {name}"
    if article == "la":
        return f"la {name}", f"de la {name}", f"à la {name}"
    if article == "l'":
        return f"l'{name}", f"de l'{name}", f"à l'{name}"
    return name, (f"d'{name}" if _starts_with_vowel(name) else f"de {name}"), f"à {name}"


def _french_to(phrase: str) -> str:
    """``à`` + a French phrase that starts with its article: ``au département …``."""
    for article, contracted in (("le ", "au "), ("les ", "aux ")):
        if phrase.startswith(article):
            return contracted + phrase[len(article) :]
    return f"à {phrase}"


def arabic_li(name: str) -> str:
    """``name`` after the preposition لـ, joined to it: لبنين, للسنغال, للأمانة العامة."""
    if name.startswith("ال"):
        return "لل" + name[2:]
    return "ل" + name


def words(entity: NamedEntity, language: Language) -> EntityWords:
    """How to name ``entity`` in ``language``; an entity the data lacks takes no article."""
    name = display_name(entity.name(language))
    article_en, article_fr = articles().get(entity.code, ("", ""))
    if language == "fr":
        the, of, to = _french(name, article_fr)
    elif language == "ar":
        the, of, to = name, name, arabic_li(name)
    else:
        the = f"the {name}" if article_en else name
        of, to = f"of {the}", f"to {the}"
    forms = {"entity_name": name, "entity": the, "of_entity": of, "to_entity": to}
    kind = entity.kind if entity.kind in _ADDRESS else "institution"
    addressee = catalog.gettext(language, DOMAIN, _ADDRESS[kind], **forms)
    if language == "fr":
        to_addressee = _french_to(addressee)
    elif language == "ar":
        to_addressee = f"إلى {addressee}"
    else:
        to_addressee = f"to {addressee}"
    return EntityWords(
        entity_name=name,
        entity=the,
        of_entity=of,
        to_entity=to,
        entity_capitalized=the[:1].upper() + the[1:],
        addressee=addressee,
        to_addressee=to_addressee,
    )


@dataclass(frozen=True)
class Named:
    """An entity known by its code, kind and names (a row read without the ORM)."""

    code: str
    kind: str
    names: Mapping[str, str]

    def name(self, language: str) -> str:
        return self.names.get(language) or self.names.get("en") or self.code


def fields(code: str, kind: str, names: Mapping[str, str], language: Language) -> dict[str, str]:
    """The name fields of an entity given by its parts, for a message's values."""
    return words(Named(code, kind, names), language).fields()
