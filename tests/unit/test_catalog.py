"""The message catalog: complete in every language, placeholders intact, plurals per language."""

from __future__ import annotations

import re
import string
from typing import Any

import pytest
from babel.messages.pofile import read_po

from resotrack import catalog
from resotrack.catalog import LANGUAGES, Words


def _read(lang: str, domain: str):  # type: ignore[no-untyped-def]
    path = catalog.locales_dir() / lang / "LC_MESSAGES" / f"{domain}.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=lang)


def _fields(text: str) -> set[str]:
    """Placeholders: ``{name}`` (code) or ``%(name)s`` (jinja2's ``{% trans %}``)."""
    if "%(" in text:
        return set(re.findall(r"%\((\w+)\)s", text))
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_there_are_domains() -> None:
    assert "common" in catalog.domains()


@pytest.mark.parametrize("domain", catalog.domains())
@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_every_message_is_translated_with_its_placeholders(lang: str, domain: str) -> None:
    reference = {
        (m.context, m.id if isinstance(m.id, str) else m.id[0]): m
        for m in _read("en", domain)
        if m.id
    }
    translated = {
        (m.context, m.id if isinstance(m.id, str) else m.id[0]): m
        for m in _read(lang, domain)
        if m.id
    }
    missing = sorted(str(key) for key in reference if key not in translated)
    assert not missing, f"{lang}/{domain}.po lacks {missing}"
    for key, message in translated.items():
        assert key in reference, f"{lang}/{domain}.po has {key}, which en/{domain}.po lacks"
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(forms), f"{lang}/{domain}.po: {key} is not translated"
        assert not message.fuzzy, f"{lang}/{domain}.po: {key} is marked fuzzy"
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        allowed = set().union(*(_fields(i) for i in ids))
        if allowed & catalog.ENTITY_FIELDS:  # a translation picks the form its grammar needs
            allowed |= catalog.ENTITY_FIELDS
        for form in forms:
            assert _fields(form) <= allowed, f"{lang}/{domain}.po: {key} names unknown fields"


def test_arabic_plurals_take_six_forms() -> None:
    words = Words("ar", "common")
    said = [words.n("{n} paragraph", "{n} paragraphs", n) for n in (0, 1, 2, 3, 11, 100)]
    assert said == ["لا توجد فقرات", "فقرة واحدة", "فقرتان", "3 فقرات", "11 فقرة", "100 فقرة"]


def test_french_counts_zero_and_one_as_singular() -> None:
    words = Words("fr", "common")
    assert words.n("{n} paragraph", "{n} paragraphs", 0) == "0 paragraphe"
    assert words.n("{n} paragraph", "{n} paragraphs", 2) == "2 paragraphes"


def test_english_falls_back_to_the_message_id_and_contexts_are_kept() -> None:
    assert Words("en", "common").p("status", "In progress") == "In progress"
    assert Words("fr", "common").p("status", "In progress") == "En cours"


def test_language_is_read_from_what_people_write() -> None:
    assert catalog.language("FR-ca") == "fr"
    assert catalog.language("ar_SA") == "ar"
    assert catalog.language("de") == "en"
    assert catalog.language(None, default="fr") == "fr"


def test_an_unknown_domain_is_named() -> None:
    with pytest.raises(LookupError, match="nowhere"):
        catalog.translations("fr", "nowhere")


#: Where the names of stored codes are (``make catalogs``' VALUES_SOURCES), below ``resotrack``.
VALUES_SOURCES = (
    "validation/lifecycle.py",
    "questionnaires/cycles.py",
    "consolidation/builds.py",
    "consolidation/dashboard.py",
    "mail/labels.py",
    "intake/queries.py",
    "registry/entities.py",
    "reminders/ladder.py",
    "resolutions/lineage.py",
    "recovery/verify.py",
    "resolutions/themes.py",
)


def _extracted(domain: str) -> set[tuple[str | None, str]]:
    """The message ids the code and templates name, as ``make catalogs`` extracts them."""
    from babel.messages.extract import extract_from_dir, extract_from_file

    src = catalog.locales_dir().parent
    found: list[tuple[int, str | tuple[str, ...], list[str], str | None]] = []
    if domain == "mail":
        for _, _, message, _, context in extract_from_dir(
            str(src / "mail" / "templates"),
            method_map=[("**/message.*", "jinja2")],
            options_map={
                "**/message.*": {
                    "extensions": "jinja2.ext.i18n",
                    "trim_blocks": "true",
                    "lstrip_blocks": "true",
                    "newstyle_gettext": "true",
                }
            },
            keywords={"_": None, "gettext": None, "ngettext": (1, 2)},
        ):
            found.append((0, message, [], context))
        for written in ("consolidation/review.py", "intake/acknowledge.py"):
            found += extract_from_file("python", str(src / written), keywords={"N_": None})
    else:
        sources: dict[str, tuple[str, dict[str, Any]]] = {
            "portal": ("portal/i18n.py", {"N_": None, "N_n": (1, 2)}),
            "questionnaire": ("questionnaires/i18n.py", {"N_": None}),
            "registry": ("registry/grammar.py", {"N_": None}),
            "reminders": ("reminders/messages.py", {"ngettext": (3, 4)}),
            "validation": ("validation/messages.py", {"N_": None, "Counted": (1, 2)}),
            # the CLI's words: w(…), w.n(…), w.p(context, …) and N_n(…) in cli.py
            "cli": ("cli.py", {"w": None, "n": (1, 2), "p": ((1, "c"), 2), "N_n": (1, 2)}),
        }
    if domain == "staff":
        # the Secretariat's pages: t("…") and tn("…", "…", n) in their templates; t("…") and
        # the review's refusals (ReviewError) in their code
        spoken: dict[str, Any] = {"t": None, "tn": (1, 2), "ReviewError": None}
        for folder in ("portal/templates/staff", "consolidation/templates/dashboard"):
            for page in sorted((src / folder).glob("*.html")):
                found += extract_from_file("jinja2", str(page), keywords=spoken)
        for module in (
            *sorted((src / "portal" / "staff").glob("*.py")),
            src / "consolidation" / "staff_words.py",
            src / "consolidation" / "dashboard.py",
            src / "consolidation" / "review.py",
        ):
            found += extract_from_file("python", str(module), keywords=spoken)
        return {(c, m if isinstance(m, str) else m[0]) for _, m, _, c in found}
    if domain == "values":
        # the names of stored codes: each stage's ValueNames tables, NP_(context, name)
        named_here: dict[str, Any] = {"NP_": ((1, "c"), 2)}
        for written in VALUES_SOURCES:
            found += extract_from_file("python", str(src / written), keywords=named_here)
        return {(c, m if isinstance(m, str) else m[0]) for _, m, _, c in found}
    if domain == "resolutions":
        # the parser's refusals (``ResolutionParseError(msgid, …)``), the phrases they carry
        # (``N_``) and the words the confidence column and routing sheet say (``words(…)``)
        said: dict[str, Any] = {
            "ResolutionParseError": None,
            "N_": None,
            "words": None,
            "p": ((1, "c"), 2),
        }
        for module in sorted((src / "resolutions").glob("*.py")):
            if module.name == "cli.py":  # the command's own lines are the cli domain's
                continue
            found += extract_from_file("python", str(module), keywords=said)
        found.append((0, "confidence", [], None))  # the routing sheet's column, Words(…)(…)
    elif domain == "demo":
        # the demo's screen: w(…), w.n(…) at print time, Said(…)/Said.n(…) where a stage
        # reports, N_/NP_ where a message is named
        said_here = {"w": None, "n": (1, 2), "N_": None, "NP_": ((1, "c"), 2), "Said": None}
        for module in sorted((src / "demo").glob("*.py")):
            found += extract_from_file("python", str(module), keywords=said_here)
    elif domain != "mail":
        path, keywords = sources[domain]
        found = list(extract_from_file("python", str(src / path), keywords=keywords))
        if domain == "cli":  # the sub-commands' lines, and the report drafts' refusals
            for other, named in (
                ("consolidation/cli.py", {"w": None, "n": (1, 2), "p": ((1, "c"), 2)}),
                ("reminders/cli.py", {"w": None, "n": (1, 2), "p": ((1, "c"), 2)}),
                ("intake/cli.py", {"w": None, "n": (1, 2), "p": ((1, "c"), 2)}),
                ("recovery/cli.py", {"w": None, "n": (1, 2)}),
                ("resolutions/cli.py", {"w": None, "n": (1, 2), "p": ((1, "c"), 2)}),
                ("validation/cli.py", {"w": None, "p": ((1, "c"), 2)}),
                ("publicsite/cli.py", {"w": None, "n": (1, 2)}),
                # the reasons a reminder goes out or not, and the ladder's sentences
                ("reminders/ladder.py", {"w": None, "Said": None, "n": (1, 2)}),
                ("reminders/plan.py", {"N_": None}),
                # sentences made before their reader is known (catalog.Said)
                ("recovery/restore.py", {"Said": None, "n": (1, 2)}),
                ("recovery/verify.py", {"Said": None, "n": (1, 2), "w": None, "p": ((1, "c"), 2)}),
                ("consolidation/edits.py", {"EditError": None}),
                ("consolidation/drafts.py", {"DraftUnreadable": None}),
                ("consolidation/dashboard.py", {"w": None, "n": (1, 2), "EditError": None}),
            ):
                found += extract_from_file("python", str(src / other), keywords=named)
    return {(c, m if isinstance(m, str) else m[0]) for _, m, _, c in found}


@pytest.mark.parametrize(
    "domain",
    [
        "portal",
        "questionnaire",
        "registry",
        "reminders",
        "mail",
        "validation",
        "cli",
        "resolutions",
        "staff",
        "demo",
        "values",
    ],
)
def test_the_catalog_holds_what_the_code_names(domain: str) -> None:
    """``make catalogs`` has been run since the last message was added, renamed or removed."""
    in_catalog = {
        (m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in _read("en", domain) if m.id
    }
    assert _extracted(domain) == in_catalog


def test_a_stored_code_has_one_name_in_every_language() -> None:
    import pickle

    from resotrack.validation.lifecycle import SUBMISSION_STATES

    assert SUBMISSION_STATES.name("en", "validating") == "being checked"
    assert SUBMISSION_STATES.name("fr", "validating") == "en cours de vérification"
    assert SUBMISSION_STATES.name("fr", "odd_state") == "odd_state"  # unknown: as stored
    assert SUBMISSION_STATES.name("fr", None) == ""
    said = SUBMISSION_STATES.said("accepted_with_warnings")
    assert said == "accepted with warnings"
    # said from the values domain whatever the reader's domain, also after a copy
    assert Words("fr", "cli").said(pickle.loads(pickle.dumps(said))) == "accepté avec remarques"
    assert catalog.capital("being checked") == "Being checked"
    assert catalog.capital("قيد التحقق") == "قيد التحقق"
