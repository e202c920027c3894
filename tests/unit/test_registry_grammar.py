"""How entities are named in sentences: articles, contractions, forms of address, in mails."""

from __future__ import annotations

import pytest

from resotrack.mail.render import render
from resotrack.registry.entities import shipped_entities
from resotrack.registry.grammar import Named, articles, display_name, words


def _named(code: str) -> Named:
    for e in shipped_entities():
        if e.code == code:
            return Named(e.code, e.kind, {"en": e.name_en, "fr": e.name_fr, "ar": e.name_ar})
    raise LookupError(code)


def test_every_shipped_entity_has_its_articles() -> None:
    assert {e.code for e in shipped_entities()} == set(articles())


@pytest.mark.parametrize(
    ("code", "the", "of", "to"),
    [
        ("BEN", "le Bénin", "du Bénin", "au Bénin"),
        ("EGY", "l'Égypte", "de l'Égypte", "à l'Égypte"),
        ("ARE", "les Émirats arabes unis", "des Émirats arabes unis", "aux Émirats arabes unis"),
        ("COM", "les Comores", "des Comores", "aux Comores"),
        ("GMB", "la Gambie", "de la Gambie", "à la Gambie"),
        ("OMN", "Oman", "d'Oman", "à Oman"),
        ("DJI", "Djibouti", "de Djibouti", "à Djibouti"),
        ("IsDB", "la Banque islamique de développement", "de la Banque islamique de développement",
         "à la Banque islamique de développement"),
    ],
)  # fmt: skip
def test_french_articles_and_contractions(code: str, the: str, of: str, to: str) -> None:
    named = words(_named(code), "fr")
    assert (named.entity, named.of_entity, named.to_entity) == (the, of, to)


def test_english_articles() -> None:
    assert words(_named("ARE"), "en").entity == "the United Arab Emirates"
    assert words(_named("GMB"), "en").of_entity == "of the Gambia"
    assert words(_named("BEN"), "en").entity == "Benin"


def test_arabic_li_joins_its_noun() -> None:
    assert words(_named("SEN"), "ar").to_entity == "للسنغال"
    assert words(_named("EGY"), "ar").to_entity == "لمصر"
    assert words(_named("ARE"), "ar").addressee == "البعثة الدائمة للإمارات العربية المتحدة"


@pytest.mark.parametrize(
    ("code", "language", "addressee"),
    [
        ("BEN", "fr", "la Mission permanente du Bénin"),
        ("ARE", "en", "the Permanent Mission of the United Arab Emirates"),
        ("ICESCO", "ar", "رئاسة منظمة العالم الإسلامي للتربية والعلوم والثقافة"),
        ("IsDB", "fr", "la direction de la Banque islamique de développement"),
        ("IUT", "en", "the head of the Islamic University of Technology"),
        ("SG", "fr", "le département compétent du Secrétariat général"),
        ("SG", "ar", "الإدارة المعنية في الأمانة العامة"),
    ],
)
def test_the_form_of_address_follows_the_kind(code: str, language: str, addressee: str) -> None:
    assert words(_named(code), language).addressee == addressee  # type: ignore[arg-type]


def _questionnaire(code: str, language: str) -> str:
    fields = words(_named(code), language).fields()  # type: ignore[arg-type]
    context = {
        "name": "A. Focal",
        "cycle_title": "Cycle 2026",
        "deadline_text": "1 July 2026",
        "paragraphs": 3,
        **fields,
    }
    rendered = render("questionnaire", language, {**context, "upload_url": "https://x/u/t"})
    return rendered.subject + "\n" + rendered.text + "\n" + rendered.html


def test_french_questionnaire_mail_uses_the_article() -> None:
    text = _questionnaire("BEN", "fr")
    assert "Questionnaire pour le Bénin" in text
    assert "réservé au Bénin" in text
    assert "invite le Bénin" in text or "invite <strong>le Bénin</strong>" in text
    assert "pour Bénin" not in text and "à Bénin" not in text


def _escalation(code: str, language: str) -> str:
    fields = words(_named(code), language).fields()  # type: ignore[arg-type]
    context = {
        "name": "A. Head",
        "cycle_title": "Cycle 2026",
        "deadline_text": "1 July 2026",
        "paragraphs": 3,
        "standing": "no_return",
        "focal_points": ["A. Focal"],
        "problems": [],
        "more": 0,
        **fields,
    }
    rendered = render("escalation", language, context)
    return rendered.subject + "\n" + rendered.text + "\n" + rendered.html


def test_an_institution_is_never_written_to_as_a_permanent_mission() -> None:
    assert "البعثة" not in _escalation("ICESCO", "ar")
    assert "Mission" not in _escalation("ICESCO", "fr")
    assert "Mission" not in _escalation("IsDB", "en")
    assert "s'adresse à la direction de l'Organisation du monde islamique" in _escalation(
        "ICESCO", "fr"
    )


def test_a_state_is_written_to_through_its_permanent_mission() -> None:
    assert "s'adresse à la Mission permanente du Cameroun" in _escalation("CMR", "fr")
    assert "البعثة الدائمة لبنن" in _escalation("BEN", "ar")  # بنن: the UN's Arabic name


def test_a_bracketed_registry_name_reads_as_a_sentence_needs_it() -> None:
    """``Iran (République islamique d')`` is how the registry sorts; a sentence says
    ``la République islamique d'Iran``, a list ``République islamique d'Iran``."""
    assert display_name("Iran (République islamique d')") == "République islamique d'Iran"
    assert display_name("Iran (Islamic Republic of)") == "Islamic Republic of Iran"
    assert display_name("Bénin") == "Bénin"
    assert display_name("Guinée-Bissau") == "Guinée-Bissau"
    fr, en = words(_named("IRN"), "fr"), words(_named("IRN"), "en")
    assert (fr.entity, fr.of_entity, fr.to_entity) == (
        "la République islamique d'Iran",
        "de la République islamique d'Iran",
        "à la République islamique d'Iran",
    )
    assert fr.addressee == "la Mission permanente de la République islamique d'Iran"
    assert (en.entity_name, en.entity) == (
        "Islamic Republic of Iran",
        "the Islamic Republic of Iran",
    )
    assert "(" not in words(_named("IRN"), "ar").entity
