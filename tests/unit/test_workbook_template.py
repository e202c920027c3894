"""The cycle path (template.py) must give every entity exactly ``build_workbook``'s workbook.

The oracle is part-by-part byte equality with the direct build at a fixed creation date (the
zip container may differ). Each case is checked twice: through ``build_cycle_workbook`` (what
dispatch calls) and through ``splice`` itself, so that a silent fallback to the direct build
cannot make a broken splice pass.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest

from resotrack.catalog import LANGUAGES, Language
from resotrack.questionnaires import (
    QuestionnaireSpec,
    QuestionRow,
    build_workbook,
    status_label,
)
from resotrack.questionnaires import template as template_module
from resotrack.questionnaires.i18n import text
from resotrack.questionnaires.template import (
    RETURN_PART,
    STRINGS_PART,
    build_cycle_workbook,
    paragraphs,
    rows_template,
    splice,
)
from resotrack.questionnaires.workbook import build_workbook_without_rows
from support.workbook_spec import KEY, SYMBOL, VERBS, make_rows, make_spec  # no tests package

CREATED = datetime(2026, 11, 24, 9, 30)
NASTY = "Côte d'Ivoire & <Fils> \"Ltd\" 'x' — دولة 🌍"


@pytest.fixture(autouse=True)
def fresh_templates() -> Iterator[None]:
    """Each test starts a new cycle: no template from another test."""
    rows_template.cache_clear()
    yield
    rows_template.cache_clear()


def first_cycle(language: Language, **changes: Any) -> QuestionnaireSpec:
    """A questionnaire without last cycle's answers: the case the template serves."""
    changes.setdefault("rows", tuple(replace(row, prefill={}) for row in make_rows()))
    return make_spec(language, **changes)


def parts(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return [(name, package.read(name)) for name in package.namelist()]


def assert_same_workbook(spec: QuestionnaireSpec) -> None:
    direct = parts(build_workbook(spec, signing_key=KEY, created=CREATED))
    assert parts(build_cycle_workbook(spec, signing_key=KEY, created=CREATED)) == direct
    if spec.rows and not any(row.prefill for row in spec.rows):
        without_rows = build_workbook_without_rows(spec, signing_key=KEY, created=CREATED)
        spliced = splice(without_rows, rows_template(spec.language, paragraphs(spec)))
        assert parts(spliced) == direct


LONG_URL = "https://resotrack.example.org/upload/" + "t" * 2100  # stays text, not a link

CASES: dict[str, dict[str, Any]] = {
    "plain": {},
    "markup and emoji in names and addresses": {
        "entity_name": NASTY,
        "upload_url": "https://x.example/u?a=1&b=<2>&c=\"3\"&d='4'&e=🌍",
        "reply_to": "points-focaux&co@example.org",
    },
    "Arabic entity name": {"entity_name": "المملكة العربية السعودية"},
    "upload link too long for a hyperlink": {"upload_url": LONG_URL},
    "no upload link, no reply address": {"upload_url": None, "reply_to": None},
}


@pytest.mark.filterwarnings("ignore:Ignoring URL:UserWarning")
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("case", CASES)
def test_spliced_workbook_is_the_direct_one(language: Language, case: str) -> None:
    assert_same_workbook(first_cycle(language, **CASES[case]))


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_rows_and_prefilled_rows_are_built_directly(language: Language) -> None:
    assert_same_workbook(first_cycle(language, rows=()))
    assert_same_workbook(make_spec(language))  # rows 5 and 6 carry last cycle's answers
    assert rows_template.cache_info().currsize == 0


def test_strings_shared_with_an_entity_are_counted_once() -> None:
    """A paragraph text equal to one entity's own strings: dedupe, first occurrence wins.

    The template's strings may already be in the workbook, and not in the same way for every
    entity: a status label (Instructions and ``_lists``), the title naming the entity, its
    code (in ``_meta``).
    """
    language: Language = "fr"
    title = text("instructions.title", language, entity="Colliding state")
    label = status_label("not_started", language)
    rows = (
        QuestionRow(SYMBOL, 1, "A", VERBS[0], title),
        QuestionRow(SYMBOL, 2, "A", "MS1", label),
        QuestionRow(SYMBOL, 3, "B", VERBS[1], "Un paragraphe à part."),
        QuestionRow(SYMBOL, 4, "B", VERBS[0], label),
    )
    colliding = first_cycle(language, rows=rows, entity_name="Colliding state", entity_code="MS1")
    other = first_cycle(language, rows=rows, entity_name="Other state", entity_code="MS2")
    for spec in (colliding, other, colliding):
        assert_same_workbook(spec)
    assert rows_template.cache_info().currsize == 1


def test_one_entity_data_never_reaches_another() -> None:
    """Build A, B, A with one template: each is its own direct build (no entity in the cache)."""
    a = first_cycle("ar", entity_code="SA", entity_name="السعودية", upload_url=None)
    b = first_cycle("ar", entity_code="EG", entity_name=NASTY, questionnaire_id=43)
    for spec in (a, b, a):
        assert_same_workbook(spec)
    template = rows_template("ar", paragraphs(a))
    assert rows_template.cache_info().currsize == 1
    held = "".join(template.literals) + "".join(template.strings)
    assert "السعودية" not in held and "Fils" not in held and "SA" not in template.columns


def test_a_changed_paragraph_gives_a_new_template() -> None:
    """The key is what the rows show: same ids, new text → new rows, not yesterday's."""
    spec = first_cycle("en")
    assert_same_workbook(spec)
    edited_row = replace(spec.rows[3], text=spec.rows[3].text + " (as amended)")
    edited = replace(spec, rows=(*spec.rows[:3], edited_row, *spec.rows[4:]))
    assert_same_workbook(edited)
    assert rows_template.cache_info().currsize == 2
    strings = dict(parts(build_cycle_workbook(edited, signing_key=KEY)))[STRINGS_PART]
    assert b"(as amended)" in strings


def test_the_rows_strings_come_last_in_the_direct_build() -> None:
    """What the splice relies on: the workbook without rows has the same strings, in front."""
    spec = first_cycle("fr")
    full = dict(parts(build_workbook(spec, signing_key=KEY, created=CREATED)))
    light = dict(parts(build_workbook_without_rows(spec, signing_key=KEY, created=CREATED)))
    light_strings = light[STRINGS_PART].split(b"<si>")
    assert full[STRINGS_PART].split(b"<si>")[1 : len(light_strings) - 1] == light_strings[1:-1]
    assert {name for name in full if full[name] != light[name]} == {RETURN_PART, STRINGS_PART}


def test_an_unexpected_package_falls_back_to_the_direct_build(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = first_cycle("en")

    def refuse(without_rows: bytes, template: Any) -> bytes:
        raise template_module.CannotSplice("not as expected")

    monkeypatch.setattr(template_module, "splice", refuse)
    direct = build_workbook(spec, signing_key=KEY, created=CREATED)
    assert parts(build_cycle_workbook(spec, signing_key=KEY, created=CREATED)) == parts(direct)
