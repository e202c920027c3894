"""Render messages per language, in plain text and HTML, from jinja2 templates.

Each message has one set of templates, ``<name>/message.subject.txt``, ``<name>/message.txt``
and ``<name>/message.html``, whose sentences are translated by the ``mail`` catalog through
jinja2's i18n extension (``_()``, ``ngettext``): a sentence is one message id, so translators
write whole sentences in their language, naming an entity in the form its grammar needs
(``**forms``: ``entity``, ``of_entity``, ``to_entity`` … see :mod:`resotrack.registry.grammar`).
The layout sets the direction (right to left for Arabic). Only ``.html`` is autoescaped, so a
hostile name stays inert in the HTML part and readable in the text part and the subject.
Undefined variables raise, so a missing context key fails at enqueue time, not in a minister's
inbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateNotFound, select_autoescape
from markupsafe import Markup

from resotrack import catalog
from resotrack.catalog import ENTITY_FIELDS, LANGUAGES, RTL
from resotrack.registry.grammar import fields

TEMPLATE_DIR = Path(__file__).with_name("templates")
#: Every message kind: each folder of templates/ (not ``_`` shared parts), so a stage adds a
#: message by adding a folder, and a misspelt name still fails loudly.
TEMPLATES = tuple(
    sorted(p.name for p in TEMPLATE_DIR.iterdir() if p.is_dir() and not p.name.startswith("_"))
)
RTL_LANGUAGES = RTL

# Optional context keys: templates test them with ``{% if %}`` instead of ``is defined``.
_DEFAULTS: dict[str, Any] = {
    "signature": "",
    "attachment_names": [],
    "upload_url": None,
    "name": None,
}
_TEMPLATE_DEFAULTS: dict[str, dict[str, Any]] = {
    "dispatch_summary": {"sent": None, "questionnaires": None},
}


@dataclass(frozen=True)
class Rendered:
    """One message in one language: a one-line subject, a text part and an HTML part."""

    subject: str
    text: str
    html: str


class UnknownTemplate(LookupError):
    """No such template, or not in that language."""


DOMAIN = "mail"


def strong(value: Any) -> Any:
    """``<strong>value</strong>`` (escaped), or each value of a mapping so: the HTML part
    stresses an entity or a date inside a translated sentence (``**(forms | strong)``)."""
    if isinstance(value, Mapping):
        return {key: strong(item) for key, item in value.items()}
    return Markup("<strong>%s</strong>") % (value,)


@lru_cache(maxsize=len(LANGUAGES) + 1)
def environment(language: str | None = None) -> Environment:
    """The templates' environment; with a ``language``, jinja2's i18n extension reads that
    language's ``mail`` catalog (``{% trans %}``, ``_()``, ``ngettext``) — one per language,
    so concurrent renders never share an installed catalog."""
    env = Environment(
        loader=PackageLoader("resotrack.mail", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.filters["strong"] = strong
    if language is not None:
        translations = catalog.translations(catalog.language(language), DOMAIN)
        env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    return env


def _names(template: str) -> tuple[str, str, str]:
    """The subject, text and HTML files of ``template``, translated by the catalog."""
    stem = f"{template}/message"
    return f"{stem}.subject.txt", f"{stem}.txt", f"{stem}.html"


def check(template: str, language: str) -> None:
    """Raise :class:`UnknownTemplate` unless ``template`` exists in ``language``."""
    if template not in TEMPLATES:
        raise UnknownTemplate(f"no mail template {template!r}; known: {', '.join(TEMPLATES)}")
    if language not in LANGUAGES:
        raise UnknownTemplate(f"no language {language!r}; known: {', '.join(LANGUAGES)}")


def render(template: str, language: str, context: Mapping[str, Any]) -> Rendered:
    """Render ``template`` in ``language``; the subject is folded onto one line."""
    check(template, language)
    env = environment(language)
    values: dict[str, Any] = {**_DEFAULTS, **_TEMPLATE_DEFAULTS.get(template, {}), **context}
    if "entity_name" in values:
        # The forms a caller did not give, from the name (see registry.grammar): a sentence
        # may name the entity in any of them in a translation.
        code = str(values.get("entity_code") or "")
        kind = str(values.get("entity_kind") or "institution")
        names = {language: str(values["entity_name"])}
        values = {**fields(code, kind, names, catalog.language(language)), **values}
    if "entity" in values:
        values = {**dict.fromkeys(ENTITY_FIELDS, values["entity"]), **values}
        values["forms"] = {key: values[key] for key in ENTITY_FIELDS}
    else:
        values["forms"] = {}
    if isinstance(values.get("paragraphs"), int) and "paragraphs_text" not in values:
        values["paragraphs_text"] = catalog.ngettext(
            catalog.language(language),
            "reminders",
            "{n} paragraph",
            "{n} paragraphs",
            values["paragraphs"],
        )
    values["language"] = language
    values["direction"] = "rtl" if language in RTL_LANGUAGES else "ltr"
    try:
        subject_file, text_file, html_file = _names(template)
        raw_subject = env.get_template(subject_file).render(values)
        # One line, whatever the names contain: a newline in a header is an injection.
        values["subject"] = " ".join(raw_subject.split())
        text = env.get_template(text_file).render(values)
        html = env.get_template(html_file).render(values)
    except TemplateNotFound as exc:
        raise UnknownTemplate(f"template file {exc.name} is missing") from exc
    return Rendered(values["subject"], text, html)
