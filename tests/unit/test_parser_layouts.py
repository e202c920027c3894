"""Layouts real resolutions use, beyond the seeds: symbols, dates, numbering, lists, verbs.

The texts are short excerpts in the shape of published OIC and UN resolutions (their
wording follows real ones); each test states the rule it holds the parser to.
"""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from resotrack.resolutions import ResolutionParseError, parse_resolution
from resotrack.resolutions.clean import Cleaned, clean_characters, clean_pages
from resotrack.resolutions.document import parse_text, read_document, split_resolutions

UN = """United Nations A/RES/78/123 |

General Assembly Distr.: General 20 December 2023

Seventy-eighth session

Resolution adopted by the General Assembly on 18 December 2023

78/123. Cooperation between the United Nations and the Organization of Islamic Cooperation

The General Assembly,

Recalling its resolution 77/5 of 17 November 2022,

1. Takes note with appreciation of the report of the Secretary-General;

2. Also requests the Secretary-General to submit to the General Assembly at its eightieth session a report on the implementation of the present resolution;

3. Urges the specialized agencies and other organizations of the United Nations system to continue to expand their cooperation with the Organization of Islamic Cooperation, and invites the Member States to support it;

4. Decides to include in the provisional agenda of its eightieth session the sub-item entitled "Cooperation between the United Nations and the Organization of Islamic Cooperation".
"""  # noqa: E501


def test_un_resolution_stray_symbol_characters_and_date_from_the_header() -> None:
    parsed = parse_resolution(UN)
    assert parsed.symbol == "A/RES/78/123"  # the "|" after the symbol is ignored
    assert parsed.adopted_on == date(2023, 12, 18)  # not the Distr. date, not 77/5's date
    assert parsed.title.startswith("Cooperation between the United Nations")
    assert [p.verbs for p in parsed.paragraphs] == [
        ("Takes note with appreciation",),
        ("requests",),
        ("Urges", "invites"),
        ("Decides",),
    ]
    assert parsed.paragraph(2).actions[0].modifier == "also"
    assert parsed.paragraph(2).addressees == ("SG",)
    assert parsed.paragraph(3).addressees == ("INTL", "MS")


def test_a_date_in_the_preamble_is_never_the_adoption_date() -> None:
    text = UN.replace("Resolution adopted by the General Assembly on 18 December 2023\n", "")
    parsed = parse_resolution(text)
    assert parsed.adopted_on is None


ARABIC_HEADER = """قرار رقم 4/ 15- أف
بشأن التعاون الاقتصادي

إن مؤتمر وزراء الخارجية المنعقد في دورته الخامسة عشرة في صنعاء من 18 إلى 22 ديسمبر 1984م (الموافق 25-29 ربيع الأول 1405هـ)،

إذ يشير إلى القرار رقم 2/14 المعتمد في 11 ديسمبر 1983،

١ -
یطلب من الأمين العام متابعة تنفيذ هذا القرار.

٢ - كما يدعو الدول الأعضاء إلى ما يلي:
أ) تقديم الدعم للمركز؛
ب) المشاركة في اجتماعاته.

٣ - يقرر تكليف إرسيكا بإعداد دراسة.
"""  # noqa: E501


def test_arabic_symbol_dates_numbering_and_nested_list() -> None:
    parsed = parse_resolution(ARABIC_HEADER)
    assert parsed.language == "ar"
    assert parsed.symbol == "4/15-أف"
    assert parsed.adopted_on == date(1984, 12, 22)
    assert parsed.adopted_hijri is not None and "1405" in parsed.adopted_hijri
    assert [p.number for p in parsed.paragraphs] == [1, 2, 3]  # "١ -" alone on its line
    assert parsed.paragraph(1).verbs == ("يطلب",)  # Persian yeh folded
    assert parsed.paragraph(1).addressees == ("SG",)
    assert parsed.paragraph(2).verbs == ("يدعو",)  # after "كما"
    assert "ب) المشاركة" in parsed.paragraph(2).text  # the lettered list stays inside
    assert parsed.paragraph(2).addressees == ("MS",)
    assert parsed.sections == ()


@pytest.mark.parametrize(
    ("line", "symbol"),
    [
        ("القرار رقم 6/39", "6/39"),
        ("القرار الرقم 6/39", "6/39"),
        ("قرار رقم 4/ 15- أف", "4/15-أف"),
        ("RESOLUTION NO. 1/49-POL", "1/49-POL"),
        ("RÉSOLUTION N° 2/5-EX(IS)", "2/5-EX(IS)"),
        ("Resolution No.3/14-C", "3/14-C"),
    ],
)
def test_oic_resolution_numbers(line: str, symbol: str) -> None:
    body = UN.split("The General Assembly,")[1].replace("Recalling", "The Council, Recalling")
    text = f"{line}\n\n{body}"
    assert parse_resolution(text).symbol == symbol


NESTED = """RESOLUTION NO. 5/49-POL

The Council of Foreign Ministers, meeting in its forty-ninth session in Nouakchott on 16-17 March 2023,

1. Requests the Secretary-General to prepare the following:
1. a report on the situation;
2. a plan of action;
3. a budget.

2. Urges the Member States to contribute.

3. Decides to remain seized of the matter.
"""  # noqa: E501


def test_a_numbered_list_inside_a_paragraph_stays_in_it() -> None:
    parsed = parse_resolution(NESTED)
    assert [p.number for p in parsed.paragraphs] == [1, 2, 3]
    assert "3. a budget." in parsed.paragraph(1).text
    assert parsed.paragraph(2).addressees == ("MS",)
    assert parsed.adopted_on == date(2023, 3, 17)


DECIDES = """Résolution n° 7/49-C

Le Conseil des ministres des Affaires étrangères, réuni en sa quarante-neuvième session à Nouakchott les 16 et 17 mars 2023,

Rappelant sa résolution 4/46-C,

Décide :

- de demander au Secrétaire général de suivre la mise en œuvre de la présente résolution ;
- d'inviter les États membres à soutenir le Centre ;
- de charger l'IRCICA de préparer une exposition.
"""  # noqa: E501


def test_unnumbered_items_after_decides() -> None:
    parsed = parse_resolution(DECIDES)
    assert [p.number for p in parsed.paragraphs] == [1, 2, 3]
    assert [p.verbs for p in parsed.paragraphs] == [("demander",), ("inviter",), ("charger",)]
    assert parsed.paragraph(1).addressees == ("SG",)
    assert parsed.paragraph(2).addressees == ("MS",)
    assert parsed.paragraph(3).addressees == ("ORG",)


def test_to_plus_verb_items() -> None:
    text = DECIDES.replace("Décide :", "Decides:").replace(
        "- de demander au Secrétaire général de suivre la mise en œuvre de la présente "
        "résolution ;",
        "- To urge the Member States to ratify the Statute;",
    )
    parsed = parse_resolution(text, language="en")
    assert parsed.paragraph(1).verbs == ("urge",)
    assert parsed.paragraph(1).addressees == ("MS",)


def test_commissioning_an_institution_addresses_it() -> None:
    text = NESTED.replace(
        "3. Decides to remain seized of the matter.",
        "3. Decides to commission IRCICA to prepare a study on the heritage of Al-Quds.",
    )
    assert parse_resolution(text).paragraph(3).addressees == ("ORG",)


def test_overrides_win() -> None:
    parsed = parse_resolution(
        NESTED, symbol="X/1", title="A title", adopted_on=date(2023, 3, 20), language="en"
    )
    assert (parsed.symbol, parsed.title, parsed.adopted_on) == ("X/1", "A title", date(2023, 3, 20))


def test_missing_symbol_names_where_it_was_looked_for_and_the_way_on() -> None:
    text = NESTED.replace("RESOLUTION NO. 5/49-POL\n", "")
    with pytest.raises(ResolutionParseError) as caught:
        parse_resolution(text)
    message = str(caught.value)
    assert message.startswith("no resolution symbol was found in the header (lines 1-")
    assert "--symbol" in message
    assert parse_resolution(text, require_symbol=False).symbol == ""


def test_nothing_operative_names_the_lines_read_and_the_way_on() -> None:
    with pytest.raises(ResolutionParseError) as caught:
        parse_resolution("RESOLUTION NO. 5/49-POL\n\nThe Council,\n\nRecalling its work,\n")
    message = str(caught.value)
    assert "no numbered operative paragraphs were found (read from line 1 to line 5)" in message
    assert "--language" in message and "paragraphs.xlsx" in message


# --- session documents ---------------------------------------------------------------------

SESSION = (
    "FORTY-NINTH SESSION OF THE COUNCIL OF FOREIGN MINISTERS\n"
    "Nouakchott, Islamic Republic of Mauritania\n16-17 March 2023\n\n"
    + NESTED
    + "\n"
    + NESTED.replace("5/49-POL", "6/49-POL").replace(
        "in Nouakchott on 16-17 March 2023", "in Nouakchott"
    )
)


def test_a_session_document_is_split_into_its_resolutions() -> None:
    parts = split_resolutions(SESSION)
    assert len(parts) == 2 and parts[1].first_line > parts[0].first_line
    document = parse_text(Cleaned(SESSION, ()), source="session.txt")
    assert [r.symbol for r in document.resolutions] == ["5/49-POL", "6/49-POL"]
    assert all(len(r.paragraphs) == 3 for r in document.resolutions)
    # the second prints no date: it takes the session's, from the cover
    assert document.resolutions[1].adopted_on == date(2023, 3, 17)


def test_a_recalled_resolution_in_a_preamble_does_not_split() -> None:
    text = NESTED.replace(
        "1. Requests", "Recalling its\nResolution No. 4/48-POL on the same subject;\n\n1. Requests"
    )
    assert len(split_resolutions(text)) == 1


def test_one_bad_resolution_in_a_session_is_reported_and_the_others_kept() -> None:
    broken = SESSION.replace("2. Urges the Member States to contribute.\n\n3.", "3.", 1)
    document = parse_text(Cleaned(broken, ()), source="session.txt")
    assert [r.symbol for r in document.resolutions] == ["6/49-POL"]
    assert len(document.failures) == 1
    message = str(document.failures[0])
    assert message.startswith("session.txt, the resolution starting at line 5:")
    assert "paragraph 2 is missing" in message


def test_symbol_override_on_a_session_document_is_refused() -> None:
    with pytest.raises(ResolutionParseError, match="--symbol names one resolution"):
        parse_text(
            Cleaned(SESSION, ()),
            source="session.txt",
            overrides=__import__("resotrack.resolutions.document").resolutions.document.Overrides(
                symbol="X"
            ),
        )


# --- cleaning ------------------------------------------------------------------------------


def test_characters_bidi_persian_and_presentation_forms() -> None:
    assert clean_characters("\u200fیطلب\u200e من کل") == "يطلب من كل"
    assert clean_characters("\ufefb\ufe97\ufea4\ufe8e\ufea9") == "لاتحاد"
    assert clean_characters("e\ufb03cace") == "efficace"


def test_page_furniture_and_hyphenation() -> None:
    pages = [
        "OIC/CFM-49/2023/RES/FINAL\nRESOLUTION NO. 1/49-POL\nThe Council, meeting in Nouakchott,\n"
        "1. Requests the Member States to support the indépen-\ndante commission and the socio-\n"
        "économique plan;\n- 1 -",
        "OIC/CFM-49/2023/RES/FINAL\n2. Urges the States to ap - puyer the indépendante body and"
        " the socio-économique work.\n- 2 -",
        "OIC/CFM-49/2023/RES/FINAL\n3. Decides to appuyer the plan.\n- 3 -",
    ]
    cleaned = clean_pages(pages)
    text = cleaned.text
    assert text.count("OIC/CFM-49/2023/RES/FINAL") == 1  # the title page keeps its own
    assert "- 2 -" not in text and "- 3 -" not in text
    assert "support the indépendante\ncommission" in text  # the word is printed whole later
    assert "the socio-économique\nplan;" in text  # a real compound keeps its hyphen
    assert "States to appuyer the indépendante body" in text  # "ap - puyer"
    line = text.split("\n").index("3. Decides to appuyer the plan.") + 1
    assert cleaned.where(line) == f"page 3, line {line}"


def test_rtl_pdf_lines_are_put_back_in_reading_order() -> None:
    cleaned = clean_pages([".يطلب من الأمين العام متابعة التنفيذ 2-\nالقرار رقم /2 7 - أق"])
    first, second = cleaned.text.split("\n")[:2]
    assert first == "2- يطلب من الأمين العام متابعة التنفيذ."
    assert second.startswith("القرار رقم 2/7")


def test_paragraphs_run_together_on_one_line() -> None:
    text = (
        "E/RES/1972/1664(LII)\n\nThe Economic and Social Council, Having considered the "
        "report, Recognizing that an effective Fund requires a strong base, 1. Endorses the "
        "work of the Fund; 2. Urges States to contribute to the Fund; 3. Requests the "
        "Secretary-General to report. 1816th plenary meeting,\n"
    )
    parsed = parse_resolution(text)
    assert [p.number for p in parsed.paragraphs] == [1, 2, 3]
    assert [p.verbs for p in parsed.paragraphs] == [("Endorses",), ("Urges",), ("Requests",)]
    assert parsed.paragraph(3).addressees == ("SG",)


# --- files that are not what their name says --------------------------------------------


def _zip(tmp_path: Path, name: str, member: str) -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(member, "<x/>")
    return path


def test_a_workbook_or_a_broken_word_file_named_docx(tmp_path: Path) -> None:
    with pytest.raises(ResolutionParseError) as caught:
        read_document(_zip(tmp_path, "book.docx", "xl/workbook.xml"))
    assert str(caught.value).startswith(
        "book.docx: this is an Excel workbook, not a Word document (.docx)."
    )
    with pytest.raises(ResolutionParseError) as caught:
        read_document(_zip(tmp_path, "broken.docx", "word/document.xml"))
    assert "this Word document cannot be read" in str(caught.value)
    assert "save it again as .docx" in str(caught.value)


def test_a_pdf_named_txt_is_read_as_a_pdf(tmp_path: Path) -> None:
    path = tmp_path / "scan.txt"
    document = pdfium.PdfDocument.new()
    document.new_page(595, 842)
    document.save(str(path))
    document.close()
    with pytest.raises(ResolutionParseError, match="has no text layer"):
        read_document(path)
