"""Pieces of validation on their own: text safety, parsing, the sandbox's limits, the rules."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import date

import pytest
import yaml

from resotrack.questionnaires.workbook import COLUMNS
from resotrack.textsafety import neutralise, neutralise_cell
from resotrack.validation.config import contract_path, suite_path
from resotrack.validation.contract import load_contract, parse_date_text, to_date, to_integer
from resotrack.validation.messages import RULES, describe, quality_rules
from resotrack.validation.read import (
    Refusal,
    check_extent,
    classify,
    column_letter,
    column_number,
    formula_cells,
)
from resotrack.validation.report import Problem, outcome_of
from resotrack.validation.sandbox import ReaderLost, Sandbox
from support.catalog_leaks import leaks


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+33 1 23", "'+33 1 23"),
        ("-- note", "'-- note"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Loi 2024", "Loi 2024"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_neutralise(text: str, expected: str) -> None:
    assert neutralise(text) == expected


def test_neutralise_cell_leaves_other_values() -> None:
    assert neutralise_cell(3) == 3 and neutralise_cell(None) is None
    assert neutralise_cell(date(2024, 1, 1)) == date(2024, 1, 1)


@pytest.mark.parametrize(
    "text",
    [
        "2024-03-15",
        "2024/03/15",
        "2024.03.15",
        "15/03/2024",
        "15-03-2024",
        "15.03.2024",
        "15/3/24",
        "15 mars 2024",
        "15 March 2024",
        "1er mars 2024".replace("1er", "15"),
        "March 15, 2024",
        "15 مارس 2024",
        "١٥/٠٣/٢٠٢٤",
        "\u200f15/03/2024\u200f",
        "2024-03-15 00:00:00",
        "45366",
        "45366,0",
    ],
)
def test_dates_typed_as_text(text: str) -> None:
    assert parse_date_text(text) == date(2024, 3, 15)


def test_dates_are_read_in_the_workbook_date_system() -> None:
    assert to_date(45366.0) == date(2024, 3, 15)
    assert to_date(43904.0, date1904=True) == date(2024, 3, 15)
    assert to_date("43904", date1904=True) == date(2024, 3, 15)


@pytest.mark.parametrize("text", ["début 2024", "03/15/2024", "31/02/2024", "soon", "-5"])
def test_dates_that_cannot_be_read_stay_as_typed(text: str) -> None:
    assert to_date(text) == text


def test_paragraph_numbers() -> None:
    assert to_integer("١٢") == 12 and to_integer("12,0") == 12 and to_integer(12.0) == 12
    assert to_integer("12a") == "12a" and to_integer(12.5) == 12.5


def test_what_the_bytes_are() -> None:
    from resotrack.validation.read import Refusal

    def rule(data: bytes) -> str:
        with pytest.raises(Refusal) as caught:
            classify(data)
        return caught.value.rule

    assert rule(b"") == "read.empty"
    assert rule(b"a;b;c\n1;2;3\n") == "read.csv"
    assert rule(b"<html><table></table></html>") == "read.not_a_workbook"
    assert rule(bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 600) == "read.xls"
    assert rule(bytes.fromhex("D0CF11E0A1B11AE1") + "EncryptedPackage".encode("utf-16-le")) == (
        "read.encrypted"
    )
    assert rule(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4) == "read.not_a_workbook"
    classify(b"PK\x03\x04rest")  # a zip: goes on to the package checks


def test_column_letters() -> None:
    assert [column_letter(n) for n in (1, 12, 26, 27, 16384)] == ["A", "L", "Z", "AA", "XFD"]
    assert column_number("XFD") == 16384


def test_formula_cells_found_in_the_sheet_xml() -> None:
    xml = (
        b'<sheetData><row r="2"><c r="G2" t="str"><f>1+1</f><v>2</v></c>'
        b'<c r="H2"><v>3</v></c><x:c r="I2"><x:f t="shared" si="0"/><x:v>1</x:v></x:c>'
        b'<c r="J2" t="s"><v>0</v></c></row></sheetData>'
    )
    assert formula_cells(xml) == ["G2", "I2"]
    assert formula_cells(b'<c r="A1" t="s"><v>4</v></c>') == []
    # ":f " in a text, not a tag: the full pattern has the last word; a prefixed tag alone
    assert formula_cells(b'<c r="A1" t="inlineStr"><is><t>note:f x</t></is></c>') == []
    assert formula_cells(b'<x:c r="B3"><x:f>A1</x:f></x:c>') == ["B3"]


def _sheet(cells: bytes, dimension: str = "A1:C3") -> bytes:
    head = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    return (
        head
        + b'<dimension ref="%s"/><sheetData>' % dimension.encode()
        + cells
        + (b"</sheetData></worksheet>")
    )


def _extent(blob: bytes, max_rows: int = 100, max_cols: int = 5) -> str | None:
    """``check_extent``'s verdict: the declared extent, or the extent it refuses."""
    try:
        check_extent("Return", blob, {"max_rows": max_rows, "max_cols": max_cols})
        return None
    except Refusal as refusal:
        assert refusal.rule == "read.extent"
        return str(refusal.values["extent"])


@pytest.mark.parametrize(
    ("cells", "refused"),
    [
        (b'<row r="1"><c r="A1"/><c r="E1"/></row><row r="100"><c r="B100"/></row>', None),
        (b'<row r="1"><c r="F1"/></row>', "F1"),  # one column too many
        (b'<row r="1"><c r="f1"/></row>', "F1"),  # lower case letters count the same
        (b'<row r="101"><c r="A101"/></row>', "A101"),  # one row too many
        (b'<row r="1"><c r="A1"/><c r="AB1"/></row>', "AB1"),  # two letters
        # out of order: the far cell first, then ordinary ones
        (b'<row r="1"><c r="E1"/></row><row r="2"><c r="ZZ2"/><c r="A2"/></row>', "ZZ2"),
        # the r attribute after a tab or a new line, not a space: still read
        (b'<row\tr="1"><c\tr="G1"/></row>', "G1"),
        (b'<row\nr="150"><c\nr="A150"/></row>', "A150"),
        (b'<row r="1"><c s="1" r="H1"/></row>', "H1"),  # r after another attribute
        (b'<row r="0000101"><c r="A2"/></row>', "A101"),  # leading zeros
        # more rows or cells than the bounds, without any r at all
        (b"<row>" * 101, "A101"),
        (b"<row>" + b"<c>" * 500 + b"</row>", None),
        (b"<row>" + b"<c>" * 501 + b"</row>", "A1"),
        # empty tags count like the others
        (b"<row/>" * 101, "A101"),
        (b"<row>" + b"<c/>" * 501 + b"</row>", "A1"),
        # the r attribute in single quotes: read all the same
        (b"<row r='1'><c r='XFD8'/></row>", "XFD1"),
        (b"<row r='150'><c r='A150'/></row>", "A150"),
        (b"<row r='1'><c r='E1'/></row>", None),
        # namespace prefixes: the careful count, by tags
        (b"<x:row/>" * 101, "A101"),
        (b'<x:row r="1"><x:c r="A1"/></x:row>', None),
    ],
)
def test_the_extent_of_a_sheet_quick_pass_or_careful_count(
    cells: bytes, refused: str | None
) -> None:
    """The quick pass only lets a sheet through that the careful count would let through,
    and every refusal is the careful count's (with its wording of the extent)."""
    assert _extent(_sheet(cells)) == refused


def test_the_declared_extent_is_checked_and_returned() -> None:
    blob = _sheet(b'<row r="1"><c r="A1"/></row>', dimension="A1:E100")
    assert check_extent("Return", blob, {"max_rows": 100, "max_cols": 5}) == "A1:E100"
    assert _extent(_sheet(b"", dimension="A1:F1")) == "A1:F1"
    assert _extent(_sheet(b"", dimension="A1:A101")) == "A1:A101"


def test_the_sandbox_kills_a_reader_that_overruns_time_or_memory() -> None:
    sandbox = Sandbox(workers=1, memory_mb=256, timeout=1.0)
    try:
        pid = sandbox.call("probe", b"")["pid"]
        started = time.monotonic()
        with pytest.raises(ReaderLost, match="timeout"):
            sandbox.call("probe", b"", {"sleep": 30})
        assert time.monotonic() - started < 5
        assert sandbox.pids() != [pid] and sandbox.replaced == 1
        answer = sandbox.call("probe", b"", {"allocate_mb": 600})  # over RLIMIT_AS
        assert answer["ok"] is False and answer["rule"] == "read.too_slow"
        assert sandbox.call("probe", b"", {"allocate_mb": 50})["ok"]  # a fresh reader
        assert sandbox.replaced == 2
    finally:
        sandbox.close()


def test_the_contract_matches_the_template_and_names_known_rules() -> None:
    spec = yaml.safe_load(contract_path().read_text("utf-8"))
    assert list(spec["columns"]) == [c.key for c in COLUMNS]
    contract = load_contract()
    for column in contract.columns:
        for rule in (column.missing, column.invalid, column.out_of_range):
            assert rule in RULES, rule
    assert contract.schema.strict and contract.schema.ordered


def test_every_quality_rule_has_a_severity_and_three_languages() -> None:
    suite = json.loads(suite_path().read_text("utf-8"))
    gx_severity = {"blocker": "critical", "warning": "warning"}
    rules = quality_rules()
    for expectation in suite["expectations"]:
        meta = expectation["meta"]
        assert meta["severity"] in ("blocker", "warning")
        assert expectation["severity"] == gx_severity[meta["severity"]]
        assert set(rules[meta["rule"]]["message"]) == {"ar", "en", "fr"}
    required = {
        "quality.measures_required",
        "quality.reason_required",
        "quality.start_date_future",
        "quality.start_date_before_adoption",
        "quality.evidence_not_url",
        "quality.not_a_reply",
        "quality.same_text_everywhere",
    }
    assert required <= set(rules)


def test_every_message_fills_its_placeholders() -> None:
    values = {
        "detail": "d",
        "sheet": "Return",
        "extent": "XFD1",
        "max_rows": 1,
        "max_cols": 1,
        "found": "x",
        "expected": "y",
        "entity": {"ar": "السنغال", "en": "Senegal", "fr": "Sénégal"},
        "letter": "M",
        "value": "v",
        "min": "a",
        "max": "b",
        "length": "9",
        "cells": "A1:B1",
        "adopted": "2023-06-06",
        "resolution": "1/49-IT",
        "paragraphs": "1–4, 9",
    }
    for rule in [*RULES, *quality_rules()]:
        message, fix = describe(
            Problem(rule, row=3, paragraph=4, column="measures", cell="G3", values=values)
        )
        for text in [*message.values(), *fix.values()]:
            assert "{" not in text and "}" not in text, (rule, text)


def test_outcomes() -> None:
    assert outcome_of([]) == "accepted"
    assert outcome_of([Problem("x", "warning")]) == "accepted_with_warnings"
    assert outcome_of([Problem("x", "warning"), Problem("y")]) == "refused"
    assert outcome_of([], unreadable=True) == "unreadable"


def test_importing_the_package_is_cheap() -> None:
    import subprocess
    import sys

    code = (
        "import sys, resotrack.validation, resotrack.textsafety; "
        "heavy = [m for m in ('pandas', 'pandera', 'great_expectations', 'openpyxl') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_value_checks_pass_blanks_and_name_each_failing_row() -> None:
    """The contract's value checks run over a column at once: blanks (None, NaN) pass as
    pandera's own blank-dropping would let them, and each failing row is named once."""
    from resotrack.validation.contract import check_contract

    header = [c.key for c in COLUMNS]

    def row(**values: object) -> list[object]:
        base: dict[str, object] = {"resolution": "R", "status": "fully_implemented"}
        return [{**base, **values}.get(key) for key in header]

    rows: list[Sequence[object]] = [
        header,
        row(paragraph=1, start_date=float("nan")),  # a blank date: no problem
        row(paragraph=2, start_date="not a date"),
        row(paragraph=3, start_date=date(1980, 1, 1)),
        row(paragraph=4, section="x" * 11),
        row(paragraph=10_000),
        row(paragraph=6),
    ]
    sent = [("R", n) for n in (1, 2, 3, 4, 10_000, 6)]
    result = check_contract(rows, sent=sent)
    found = sorted((p.rule, p.row, p.column) for p in result.problems)
    assert found == [
        ("contract.date_invalid", 3, "start_date"),
        ("contract.date_out_of_range", 4, "start_date"),
        ("contract.paragraph_invalid", 6, "paragraph"),
        ("contract.text_too_long", 5, "section"),
    ]
    clean = check_contract([header, row(paragraph=1), row(paragraph=2)], sent=sent[:2])
    assert clean.problems == []


@pytest.mark.parametrize("n", [0, 1, 199, 200, 201, 399, 500, 1000, 1234])
def test_a_run_is_split_in_batches_smaller_at_both_ends(n: int) -> None:
    from resotrack.validation.ingest import split

    ids = list(range(100, 100 + n))
    batches = split(ids, 200)
    assert [i for batch in batches for i in batch] == ids  # each once, in order
    sizes = [len(batch) for batch in batches]
    assert all(0 < size <= 200 for size in sizes)
    if n >= 500:  # a long run starts and ends with a quarter batch, then a half one
        assert sizes[:2] == [50, 100] == sizes[:-3:-1]


def test_counted_messages_take_each_language_s_plural() -> None:
    def said(found: int) -> dict[str, str]:
        return describe(Problem("contract.row_count", values={"found": found, "expected": 12}))[0]

    assert said(1)["en"].startswith("The sheet has 1 answer row,")
    assert said(1)["fr"].startswith("La feuille compte 1 ligne de réponse,")
    assert said(7)["fr"].startswith("La feuille compte 7 lignes de réponse,")
    assert "على صفّين للإجابات" in said(2)["ar"]
    assert "على 7 صفوف للإجابات" in said(7)["ar"]
    assert "على 13 صفًا للإجابات" in said(13)["ar"]
    long = describe(Problem("contract.text_too_long", values={"length": "1,234", "max": "1,000"}))
    assert long[0]["en"] == "This cell holds 1,234 characters; the limit is 1,000."


def test_no_english_in_a_french_or_arabic_problem() -> None:
    values = {"found": 3, "expected": 4, "letter": "M", "length": "9", "paragraphs": "1–4, 9"}
    for rule in RULES:
        message, fix = describe(Problem(rule, row=3, paragraph=4, cell="G3", values=values))
        for lang in ("ar", "fr"):
            said = f"{message[lang]}\n{fix[lang]}"
            assert leaks(said, lang, ["validation"]) == [], (rule, lang)
