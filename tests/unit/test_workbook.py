"""The questionnaire workbook, built for real and read back the way the validation stage will.

Every workbook here has 137 rows (the size of seed 004). It is read back with python-calamine
(what the validation stage uses) and inspected with openpyxl for what calamine does not
expose: data validation, protection, right-to-left, hyperlinks.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from dataclasses import replace
from datetime import date, datetime
from typing import Any, cast

import openpyxl
import pytest
from openpyxl.utils import range_boundaries
from python_calamine import CalamineWorkbook

from resotrack import catalog
from resotrack.catalog import LANGUAGES, Language
from resotrack.questionnaires import (
    ANSWER_KEYS,
    COLUMNS,
    INSTRUCTIONS_SHEET,
    META_KEYS,
    META_SHEET,
    RETURN_SHEET,
    STATUSES,
    MetaError,
    QuestionRow,
    as_language,
    build_workbook,
    format_deadline,
    read_meta,
    sign_meta,
    status_from_label,
    status_label,
    status_labels,
    verify_meta,
    workbook_filename,
)
from resotrack.questionnaires.i18n import MESSAGES, text
from resotrack.questionnaires.workbook import LISTS_SHEET, return_rows, row_height
from support.catalog_leaks import leaks
from support.workbook_spec import (
    KEY,
    PREFILL_5,
    REPLY_TO,
    ROWS,
    SAMPLE_PARAGRAPHS,
    SYMBOL,
    UPLOAD_URL,
    make_rows,
    make_spec,
)

FORMULA_LIKE = tuple(p for p in SAMPLE_PARAGRAPHS if p[0] in "=+-@")


@pytest.fixture(scope="module")
def workbooks() -> dict[Language, bytes]:
    return {lang: build_workbook(make_spec(lang), signing_key=KEY) for lang in LANGUAGES}


def calamine_rows(data: bytes, sheet: str) -> list[list[Any]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return book.get_sheet_by_name(sheet).to_python()


def open_xlsx(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def column_letter(key: str) -> str:
    return "ABCDEFGHIJKL"[[c.key for c in COLUMNS].index(key)]


# -- the Return sheet ------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_sheets_header_and_rows_read_back(
    workbooks: dict[Language, bytes], language: Language
) -> None:
    data = workbooks[language]
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    assert book.sheet_names == [INSTRUCTIONS_SHEET, RETURN_SHEET, LISTS_SHEET, META_SHEET]

    rows = calamine_rows(data, RETURN_SHEET)
    assert rows[0] == [column.header[language] for column in COLUMNS]
    assert len(rows) == 1 + ROWS
    assert [row[1] for row in rows[1:]] == list(range(1, ROWS + 1))
    assert {row[0] for row in rows[1:]} == {SYMBOL}
    assert [row[4] for row in rows[1:8]] == [*SAMPLE_PARAGRAPHS[1:], SAMPLE_PARAGRAPHS[0]]


def test_columns_contract() -> None:
    assert [c.key for c in COLUMNS] == [
        "resolution",
        "paragraph",
        "section",
        "verb",
        "text",
        "status",
        "measures",
        "start_date",
        "national_body",
        "challenges",
        "support_requested",
        "evidence",
    ]
    assert [c.key for c in COLUMNS if c.locked] == [
        "resolution",
        "paragraph",
        "section",
        "verb",
        "text",
    ]
    assert tuple(c.key for c in COLUMNS if not c.locked) == ANSWER_KEYS
    for column in COLUMNS:
        assert set(column.header) == set(LANGUAGES)
        assert all(column.header.values()) and column.width > 0
    assert COLUMNS[5].header == {
        "fr": "État de mise en œuvre",
        "en": "Implementation status",
        "ar": "حالة التنفيذ",
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_status_dropdown_lists_the_localised_scale(
    workbooks: dict[Language, bytes], language: Language
) -> None:
    book = open_xlsx(workbooks[language])
    sheet = book[RETURN_SHEET]
    lists = [dv for dv in sheet.data_validations.dataValidation if dv.type == "list"]
    assert len(lists) == 1
    dropdown = lists[0]
    status = column_letter("status")
    assert str(dropdown.sqref) == f"{status}2:{status}{ROWS + 1}"
    assert dropdown.showErrorMessage and dropdown.errorStyle in (None, "stop")

    # The source is a range on a hidden sheet, never an inline "a,b,c" string.
    source_sheet, source_range = dropdown.formula1.lstrip("=").split("!")
    assert source_sheet.strip("'") == LISTS_SHEET
    min_col, min_row, max_col, max_row = range_boundaries(source_range.replace("$", ""))
    hidden = book[LISTS_SHEET]
    assert hidden.sheet_state == "veryHidden"
    assert hidden.protection.sheet
    offered = [
        hidden.cell(row=r, column=c).value
        for r in range(min_row, max_row + 1)
        for c in range(min_col, max_col + 1)
    ]
    assert offered == list(status_labels(language))
    assert len(offered) == len(STATUSES) == 6


def test_french_dropdown_has_accents_and_the_whole_scale(workbooks: dict[Language, bytes]) -> None:
    offered = [row[0] for row in calamine_rows(workbooks["fr"], LISTS_SHEET)]
    assert offered == [
        "Pleinement mis en œuvre",
        "Partiellement mis en œuvre",
        "En cours",
        "Non commencé",
        "Sans objet",
        "Aucune information",
    ]
    arabic = [row[0] for row in calamine_rows(workbooks["ar"], LISTS_SHEET)]
    assert arabic == [
        "منفذ بالكامل",
        "منفذ جزئيًا",
        "قيد التنفيذ",
        "لم يبدأ",
        "لا ينطبق",
        "لا توجد معلومات",
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_start_date_accepts_dates_1990_to_2100_and_says_the_format(
    workbooks: dict[Language, bytes], language: Language
) -> None:
    sheet = open_xlsx(workbooks[language])[RETURN_SHEET]
    (dv,) = [dv for dv in sheet.data_validations.dataValidation if dv.type == "date"]
    col = column_letter("start_date")
    assert str(dv.sqref) == f"{col}2:{col}{ROWS + 1}"
    assert dv.operator in (None, "between")  # between is the OOXML default
    # Excel serial numbers: 32874 is 1990-01-01, 73415 is 2100-12-31.
    assert (dv.formula1, dv.formula2) == ("32874", "73415")
    assert dv.showInputMessage
    assert {"en": "YYYY-MM-DD", "fr": "AAAA-MM-JJ", "ar": "YYYY-MM-DD"}[language] in dv.prompt
    assert sheet[f"{col}2"].number_format == "yyyy-mm-dd"


@pytest.mark.parametrize("language", LANGUAGES)
def test_only_answer_cells_are_editable(
    workbooks: dict[Language, bytes], language: Language
) -> None:
    sheet = open_xlsx(workbooks[language])[RETURN_SHEET]
    for row in (1, 2, 70, ROWS + 1):
        for index, column in enumerate(COLUMNS, start=1):
            locked = sheet.cell(row=row, column=index).protection.locked
            expected = True if row == 1 else column.locked
            assert locked is expected, (row, column.key)
    # Below the table nothing is editable: rows cannot be added by typing under it.
    assert sheet.cell(row=ROWS + 2, column=6).protection.locked is True


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_answer_cell_is_written_unlocked_even_when_blank(
    workbooks: dict[Language, bytes], language: Language
) -> None:
    """Blank answer cells are real cells with the answer format, never left to a default.

    openpyxl reads a cell that is not in the file as locked, so this fails if one is missing.
    """
    sheet = open_xlsx(workbooks[language])[RETURN_SHEET]
    for row in range(2, ROWS + 2):
        for index, column in enumerate(COLUMNS, start=1):
            if column.locked:
                continue
            cell = sheet.cell(row=row, column=index)
            assert cell.protection.locked is False, (row, column.key)
            assert cell.border.left.style == "thin", (row, column.key)
            expected = "yyyy-mm-dd" if column.key == "start_date" else "General"
            assert cell.number_format == expected, (row, column.key)


def _return_sheet_xml(data: bytes) -> str:
    book = open_xlsx(data)
    index = book.sheetnames.index(RETURN_SHEET) + 1
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read(f"xl/worksheets/sheet{index}.xml").decode("utf-8")


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_column_or_row_format_unlocks_cells_outside_the_table(
    workbooks: dict[Language, bytes], language: Language
) -> None:
    """Excel and LibreOffice give a cell absent from the file its column's (or row's) format.

    An unlocked column format would save writing blank answer cells, but it would also
    unlock every cell below the table, so the focal point could type rows we never read
    (and openpyxl, which ignores column formats, would not even notice). Hence none.
    """
    xml = _return_sheet_xml(workbooks[language])
    columns = re.findall(r"<col [^>]*/>", xml)
    assert len(columns) >= 1
    assert not [col for col in columns if " style=" in col]
    assert "customFormat" not in xml


def test_row_heights_follow_row_height_of_every_text() -> None:
    """The cached paragraph part gives the heights ``row_height`` gives for the whole row."""
    long_answer = "Mesures prises : " + "loi, décret, plan national ; " * 30
    rows = (
        *make_rows(),
        QuestionRow(SYMBOL, 500, None, "DEMANDE", "court", {"measures": long_answer}),
        QuestionRow(SYMBOL, 501, "F", "", "", {"challenges": "", "status": "in_progress"}),
        QuestionRow(SYMBOL, 502, "F", "INVITE", "x\n" * 40, {}),
    )
    spec = make_spec("fr", rows=rows)
    widths = [column.width for column in COLUMNS]
    for values, height in return_rows(spec):
        texts = [(v, w) for v, w in zip(values, widths, strict=True) if isinstance(v, str)]
        assert height == row_height(texts, min_lines=2), values[:2]


@pytest.mark.parametrize("language", LANGUAGES)
def test_sheets_and_workbook_structure_are_protected(
    workbooks: dict[Language, bytes], language: Language
) -> None:
    book = open_xlsx(workbooks[language])
    assert book.security is not None and book.security.lockStructure
    answers = book[RETURN_SHEET].protection
    assert answers.sheet
    # openpyxl: True means the action is forbidden while the sheet is protected.
    assert answers.insertRows and answers.deleteRows
    assert answers.insertColumns and answers.deleteColumns
    assert answers.formatCells and answers.formatColumns and answers.formatRows
    assert answers.sort
    assert not answers.autoFilter  # filtering stays allowed
    assert answers.password is None  # protection against slips, not a secret
    assert book[INSTRUCTIONS_SHEET].protection.sheet
    assert book[META_SHEET].protection.sheet
    assert book[META_SHEET].sheet_state == "veryHidden"


@pytest.mark.parametrize("language", LANGUAGES)
def test_right_to_left_only_for_arabic(
    workbooks: dict[Language, bytes], language: Language
) -> None:
    book = open_xlsx(workbooks[language])
    for sheet in book.worksheets:
        assert bool(sheet.sheet_view.rightToLeft) is (language == "ar"), sheet.title


@pytest.mark.parametrize("language", LANGUAGES)
def test_frozen_header_print_setup_and_readable_rows(
    workbooks: dict[Language, bytes], language: Language
) -> None:
    sheet = open_xlsx(workbooks[language])[RETURN_SHEET]
    assert sheet.freeze_panes == "C2"  # header row, resolution and paragraph stay in view
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.paperSize == 9  # A4
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.page_setup.fitToWidth in (None, 1) and sheet.page_setup.fitToHeight == 0
    assert sheet.print_title_rows == "$1:$1"
    assert sheet.auto_filter.ref == f"A1:L{ROWS + 1}"
    assert sheet["E2"].alignment.wrap_text
    widths = {}  # xlsxwriter writes neighbouring columns of equal width as one <col> range
    for dimension in sheet.column_dimensions.values():
        for index in range(dimension.min, dimension.max + 1):
            widths[index] = dimension.width
    assert [widths[i] for i in range(1, len(COLUMNS) + 1)] == pytest.approx(
        [column.width for column in COLUMNS], abs=1
    )
    # Long paragraphs get tall rows (LibreOffice would otherwise show a single line).
    long_row = next(r for r in range(2, ROWS + 2) if len(str(sheet[f"E{r}"].value)) > 250)
    assert sheet.row_dimensions[long_row].height >= 4 * 15


# -- text that looks like a formula ----------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_text_starting_with_formula_characters_stays_text(
    workbooks: dict[Language, bytes], language: Language
) -> None:
    data = workbooks[language]
    texts = [row[4] for row in calamine_rows(data, RETURN_SHEET)[1:]]
    for paragraph in FORMULA_LIKE:
        assert paragraph in texts

    sheet = open_xlsx(data)[RETURN_SHEET]
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row if isinstance(c.value, str)]
    starting = [c for c in cells if c.value[0] in "=+-@"]
    assert {c.value for c in starting} >= set(FORMULA_LIKE)
    assert all(c.data_type == "s" for c in starting)

    # And in the file itself: not a single formula element anywhere.
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)


# -- prefill ---------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_previous_answers_are_prefilled(
    workbooks: dict[Language, bytes], language: Language
) -> None:
    rows = calamine_rows(workbooks[language], RETURN_SHEET)
    index = {c.key: i for i, c in enumerate(COLUMNS)}
    fifth, sixth, seventh = rows[5], rows[6], rows[7]
    assert fifth[index["status"]] == status_label("partially_implemented", language)
    assert fifth[index["measures"]] == PREFILL_5["measures"]
    assert fifth[index["start_date"]] == date(2021, 5, 1)
    assert fifth[index["national_body"]] == PREFILL_5["national_body"]
    assert fifth[index["evidence"]] == PREFILL_5["evidence"]  # text, not a formula
    assert fifth[index["challenges"]] == ""
    assert sixth[index["status"]] == status_label("not_started", language)
    assert sixth[index["start_date"]] == date(2019, 11, 30)  # ISO text became a real date
    assert all(seventh[index[key]] == "" for key in ANSWER_KEYS)
    # The prefilled label is one the dropdown offers, and maps back to its code.
    assert status_from_label(fifth[index["status"]]) == "partially_implemented"


def test_prefill_with_an_unknown_key_or_status_is_refused() -> None:
    bad_key = (QuestionRow(SYMBOL, 1, "A", "DEMANDE", "texte", {"statut": "in_progress"}),)
    with pytest.raises(ValueError, match="statut"):
        build_workbook(make_spec("fr", rows=bad_key), signing_key=KEY)
    bad_status = (QuestionRow(SYMBOL, 1, "A", "DEMANDE", "texte", {"status": "done"}),)
    with pytest.raises(ValueError, match="done"):
        build_workbook(make_spec("fr", rows=bad_status), signing_key=KEY)


# -- _meta and its signature -----------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_meta_is_signed_and_verifies(workbooks: dict[Language, bytes], language: Language) -> None:
    meta = read_meta(workbooks[language])
    assert list(meta) == [*META_KEYS, "signature"]
    assert meta == {
        "questionnaire_id": "42",
        "cycle_id": "7",
        "entity_code": "EG",
        "language": language,
        "template_version": "2026.1",
        "row_count": str(ROWS),
        "signature": meta["signature"],
    }
    assert verify_meta(meta, meta["signature"], KEY)
    assert not verify_meta(meta, meta["signature"], b"another key")


def test_meta_signature_covers_every_field_in_any_order(workbooks: dict[Language, bytes]) -> None:
    meta = read_meta(workbooks["fr"])
    signature = meta.pop("signature")
    assert sign_meta(dict(reversed(meta.items())), KEY) == signature
    for key in meta:
        tampered = {**meta, key: meta[key] + "0"}
        assert not verify_meta(tampered, signature, KEY), key
    assert not verify_meta({**meta, "extra": "1"}, signature, KEY)
    assert not verify_meta({k: v for k, v in meta.items() if k != "row_count"}, signature, KEY)
    flipped = signature[:-1] + ("1" if signature[-1] == "0" else "0")
    assert not verify_meta(meta, flipped, KEY)
    assert not verify_meta(meta, "not hex at all é", KEY)


def test_an_empty_signing_key_is_refused() -> None:
    with pytest.raises(ValueError, match="empty signing key"):
        build_workbook(make_spec("en"), signing_key=b"")


def test_a_workbook_edited_to_claim_another_entity_fails_verification(
    workbooks: dict[Language, bytes],
) -> None:
    book = open_xlsx(workbooks["fr"])
    meta_sheet = book[META_SHEET]
    for row in meta_sheet.iter_rows():
        if row[0].value == "entity_code":
            row[1].value = "SA"
    edited = io.BytesIO()
    book.save(edited)

    meta = read_meta(edited.getvalue())
    assert meta["entity_code"] == "SA"
    assert not verify_meta(meta, meta["signature"], KEY)


def test_read_meta_refuses_a_workbook_without_meta() -> None:
    book = openpyxl.Workbook()
    data = io.BytesIO()
    book.save(data)
    with pytest.raises(MetaError):
        read_meta(data.getvalue())
    with pytest.raises(MetaError):
        read_meta(b"PK\x03\x04 not really a zip")


# -- the Instructions sheet ------------------------------------------------------------------


def instruction_texts(data: bytes) -> list[str]:
    return [str(v) for row in calamine_rows(data, INSTRUCTIONS_SHEET) for v in row if v != ""]


@pytest.mark.parametrize("language", LANGUAGES)
def test_instructions_explain_statuses_deadline_and_return(
    workbooks: dict[Language, bytes], language: Language
) -> None:
    data = workbooks[language]
    texts = instruction_texts(data)
    joined = "\n".join(texts)
    for code in STATUSES:
        assert status_label(code, language) in texts
        assert text(f"status.{code}.meaning", language) in joined
    assert format_deadline(date(2023, 6, 5), language) in texts
    assert "1444" in joined
    assert REPLY_TO in joined
    assert RETURN_SHEET in joined  # tells them which sheet to fill

    sheet = open_xlsx(data)[INSTRUCTIONS_SHEET]
    links = [c for row in sheet.iter_rows() for c in row if c.hyperlink is not None]
    assert [c.hyperlink.target for c in links] == [UPLOAD_URL]
    assert links[0].value == UPLOAD_URL


def test_instructions_without_upload_link_ask_for_an_email_reply() -> None:
    data = build_workbook(make_spec("en", upload_url=None, reply_to=None), signing_key=KEY)
    joined = "\n".join(instruction_texts(data))
    assert "Reply to the email that brought you this workbook" in joined
    assert "Or reply" not in joined
    sheet = open_xlsx(data)[INSTRUCTIONS_SHEET]
    assert not [c for row in sheet.iter_rows() for c in row if c.hyperlink is not None]


def test_instructions_mention_prefill_only_when_there_is_some() -> None:
    prefill_note = text("instructions.fill.prefill", "fr")
    with_prefill = build_workbook(make_spec("fr"), signing_key=KEY)
    plain_rows = tuple(replace(row, prefill={}) for row in make_rows())
    without = build_workbook(make_spec("fr", rows=plain_rows), signing_key=KEY)
    assert any(prefill_note in t for t in instruction_texts(with_prefill))
    assert not any(prefill_note in t for t in instruction_texts(without))


# -- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "language", "expected"),
    [
        # Seed 004: "les 5 et 6 juin 2023, (correspondant aux 16-17 Dhoul Qaa'da 1444H)".
        (date(2023, 6, 5), "en", "5 June 2023 (16 Dhu al-Qi'dah 1444 AH)"),
        (date(2023, 6, 5), "fr", "5 juin 2023 (16 dhou al-qi'da 1444 H)"),
        (date(2023, 6, 5), "ar", "5 يونيو 2023 م (16 ذو القعدة 1444 هـ)"),
        # Seed 000: "les 16-17 mars 2023 (24-25 Chaâbane 1444H)".
        (date(2023, 3, 17), "fr", "17 mars 2023 (25 chaabane 1444 H)"),
        # 1 Muharram 1448 is 16 June 2026 (Umm al-Qura), so 30 June is the 15th.
        (date(2026, 6, 30), "en", "30 June 2026 (15 Muharram 1448 AH)"),
        (date(2026, 6, 16), "fr", "16 juin 2026 (1 mouharram 1448 H)"),
        (date(2026, 6, 15), "en", "15 June 2026 (29 Dhu al-Hijjah 1447 AH)"),
    ],
)
def test_deadline_in_gregorian_and_hijri(day: date, language: Language, expected: str) -> None:
    assert format_deadline(day, language) == expected


# -- statuses --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("Pleinement mis en œuvre", "fully_implemented"),
        ("pleinement mis en oeuvre", "fully_implemented"),
        ("  PARTIELLEMENT\u00a0mis   en œuvre ", "partially_implemented"),
        ("Non commence", "not_started"),
        ("NON COMMENCÉ", "not_started"),
        ("sans\u202fobjet", "not_applicable"),
        ("Aucune information\n", "no_information"),
        ("Fully implemented", "fully_implemented"),
        ("in progress", "in_progress"),
        ("Not-Applicable", "not_applicable"),
        ("منفذ جزئيًا", "partially_implemented"),
        ("منفذ جزئيا", "partially_implemented"),  # without the tanwin
        ("\u200fقيد التنفيذ", "in_progress"),  # with a right-to-left mark
        ("لا توجد  معلومات", "no_information"),
        ("fully_implemented", "fully_implemented"),
        ("NO_INFORMATION", "no_information"),
        ("", None),
        ("done", None),
        ("Pleinement", None),
        (None, None),
    ],
)
def test_status_from_label(label: str | None, code: str | None) -> None:
    assert status_from_label(label) == code


def test_every_label_of_every_language_maps_back() -> None:
    for language in LANGUAGES:
        for code, label in zip(STATUSES, status_labels(language), strict=True):
            assert status_from_label(label) == code
            assert status_from_label(label.upper()) == code


def test_as_language_narrows_stored_codes() -> None:
    assert [as_language(code) for code in ("ar", "en", "fr")] == ["ar", "en", "fr"]
    with pytest.raises(ValueError):
        as_language("de")


def test_every_string_is_translated() -> None:
    for key, message in MESSAGES.items():
        for language in ("ar", "fr"):
            assert catalog.translated(language, "questionnaire", message), (key, language)
        assert all(text(key, language).strip() for language in LANGUAGES), key


# -- the spec and the file -------------------------------------------------------------------


def test_filename_and_deterministic_bytes() -> None:
    spec = make_spec("fr")
    assert workbook_filename(spec) == "7-EG.xlsx"
    created = datetime(2026, 5, 1, 9, 0)
    first = build_workbook(spec, signing_key=KEY, created=created)
    assert build_workbook(spec, signing_key=KEY, created=created) == first
    assert build_workbook(spec, signing_key=b"other", created=created) != first


def test_spec_refuses_what_the_reader_could_not_match() -> None:
    twice = (
        QuestionRow(SYMBOL, 3, "A", "DEMANDE", "a"),
        QuestionRow(SYMBOL, 3, "A", "DEMANDE", "b"),
    )
    with pytest.raises(ValueError, match="twice"):
        make_spec("fr", rows=twice)
    with pytest.raises(ValueError, match="language"):
        replace(make_spec("fr"), language=cast(Language, "de"))
    with pytest.raises(ValueError, match="file name"):
        make_spec("fr", entity_code="../EG")


def test_an_empty_questionnaire_still_builds() -> None:
    data = build_workbook(make_spec("en", rows=()), signing_key=KEY)
    assert read_meta(data)["row_count"] == "0"
    assert len(calamine_rows(data, RETURN_SHEET)) == 1


@pytest.mark.parametrize("language", ["ar", "fr"])
def test_no_english_leaks_into_a_french_or_arabic_workbook(
    workbooks: dict[Language, bytes], language: Language
) -> None:
    """Every visible string of the package (cells, shared strings, pop-up help, headers)."""
    with zipfile.ZipFile(io.BytesIO(workbooks[language])) as package:
        text = "\n".join(
            html.unescape(package.read(name).decode("utf-8"))
            for name in package.namelist()
            if name.endswith(".xml")
        )
    assert leaks(text, language, ["questionnaire", "common"]) == []
    english = zipfile.ZipFile(io.BytesIO(workbooks["en"]))
    english_text = "\n".join(html.unescape(english.read(n).decode()) for n in english.namelist()
                             if n.endswith(".xml"))  # fmt: skip
    assert leaks(english_text, language, ["questionnaire"])  # the check does see English
