"""An English resolution in the OIC style, and the fr/en/ar lexicons on their own.

The fixture (tests/fixtures/resolutions/en_sample.txt) was written by hand with the same PDF
artefacts as the French seeds: misplaced ``**``, ``- 5. ENCOURAGES**`` list markers,
``50^{TH}`` superscripts, italics and a paragraph cut by a page break.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from resotrack.resolutions import ParsedResolution, lexicon, parse_file, parse_resolution
from resotrack.resolutions.model import Language
from resotrack.resolutions.parser import analyse_paragraph

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "resolutions" / "en_sample.txt"

# number, section, [(verb, modifier, action, addressees, institutions)]
EXPECTED = [
    (1, "A", [("REQUESTS", None, "request", ("SG",), ())]),
    (2, "A", [("URGES", None, "urge", ("MS",), ())]),
    (3, "A", [("CALLS UPON", None, "call", ("INTL",), ())]),
    (4, "A", [("INVITES", None, "invite", ("ORG",), ("SESRIC", "ICESCO", "ISF"))]),
    (5, "B", [("ENCOURAGES", None, "encourage", ("MS", "SG"), ())]),
    (
        6,
        "B",
        [
            ("WELCOMES", None, "welcome", ("NONE",), ()),
            ("URGES", "also", "urge", ("MS",), ()),  # printed "ALSO URGES"
        ],
    ),
    (7, "B", [("TAKES NOTE", None, "note", ("NONE",), ())]),
    (8, "B", [("CALLS FOR", None, "call", ("ORG", "SG"), ("ISF",))]),  # cooperation between
    (9, "B", [("STRESSES", None, "stress", ("MS",), ())]),  # the need for Member States to
    (10, "C", [("REQUESTS", None, "request", ("GRP",), ("OIC-NY", "OIC-GENEVA"))]),
    (11, "C", [("INVITES", "further", "invite", ("ORG",), ("ICESCO",))]),
    (
        12,
        "C",
        [
            ("COMMENDS", None, "commend", ("NONE",), ()),
            ("REQUESTS", None, "request", ("SG",), ()),
        ],
    ),
]


@pytest.fixture(scope="module")
def parsed() -> ParsedResolution:
    return parse_file(FIXTURE)


def test_header(parsed: ParsedResolution) -> None:
    assert parsed.language == "en"
    assert parsed.symbol == "3/50-SD"
    assert parsed.document_symbol == "OIC/CFM-50/2024/SD/RES/FINAL"
    assert parsed.title == (
        "STRENGTHENING SOCIAL PROTECTION AND FAMILY WELL-BEING IN OIC MEMBER STATES"
    )
    assert parsed.place == "Yaoundé, Republic of Cameroon"
    assert parsed.adopted_gregorian == "29-30 August 2024"
    assert parsed.adopted_on == date(2024, 8, 30)
    assert parsed.adopted_hijri == "24-25 Safar 1446H"
    assert parsed.body == (
        "The Council of Foreign Ministers of the Organisation of Islamic Cooperation (OIC)"
    )
    assert parsed.session == "Fiftieth Session"


def test_preamble(parsed: ParsedResolution) -> None:
    assert [p.split()[0] for p in parsed.preamble] == [
        "The",
        "Guided",
        "Recalling",
        "Recalling",
        "Having",
    ]
    assert "in the 21st century" in parsed.preamble[2]
    assert "OIC Strategy for the Welfare of the Elderly, which" in parsed.preamble[3]
    assert parsed.preamble[3].endswith("and to promote their participation in society;")


def test_structure(parsed: ParsedResolution) -> None:
    assert [(s.letter, s.title) for s in parsed.sections] == [
        ("A", "Social protection and the family"),
        ("B", "Children, youth and the elderly"),
        ("C", "Follow-up"),
    ]
    assert [p.number for p in parsed.paragraphs] == list(range(1, 13))
    assert parsed.stray_text == ("CFM-50/SD – 30082024",)


@pytest.mark.parametrize(("number", "section", "actions"), EXPECTED)
def test_paragraph_actions(
    parsed: ParsedResolution,
    number: int,
    section: str,
    actions: list[tuple[str, str | None, str, tuple[str, ...], tuple[str, ...]]],
) -> None:
    paragraph = parsed.paragraph(number)
    assert paragraph.section == section
    got = [(a.verb, a.modifier, a.action, a.addressees, a.institutions) for a in paragraph.actions]
    assert got == actions
    assert "*" not in paragraph.text and not paragraph.text[:1].isdigit()


def test_page_break_and_partners(parsed: ParsedResolution) -> None:
    tenth = parsed.paragraph(10).text
    assert "coordinate closely with the General Secretariat in this regard." in tenth
    first = parsed.paragraph(1)
    assert first.text.startswith("REQUESTS the Secretary-General, in coordination with SESRIC")
    assert first.institutions == ()  # SESRIC and the IsDB are partners, not addressees
    twelfth = parsed.paragraph(12).text
    assert twelfth.endswith("to the 51st Session of the Council of Foreign Ministers.")


def test_lower_case_verbs_are_found_at_paragraph_start() -> None:
    text = FIXTURE.read_text(encoding="utf-8").replace("**URGES**", "Urges")
    paragraph = parse_resolution(text).paragraph(2)
    assert paragraph.verbs == ("Urges",)
    assert paragraph.actions[0].action == "urge"
    assert paragraph.addressees == ("MS",)


# -------------------------------------------------------------------------------------------
# The lexicons on their own
# -------------------------------------------------------------------------------------------

ARABIC_VERBS = [
    ("يطلب", "request"),
    ("تطلب", "request"),  # feminine subject (الدورة)
    ("يحث", "urge"),
    ("يدعو", "call"),
    ("يشجع", "encourage"),
    ("يرحب", "welcome"),
    ("يحيط علماً", "note"),  # with tanween
    ("يحيط علما", "note"),
    ("يؤكد", "reaffirm"),
    ("يشيد", "commend"),
    ("يكلف", "entrust"),
    ("يعرب", "express"),
]


@pytest.mark.parametrize(("verb", "action"), ARABIC_VERBS)
def test_arabic_verbs(verb: str, action: str) -> None:
    assert lexicon.canonical_action(verb) == action


def test_arabic_contextual_verb() -> None:
    assert lexicon.canonical_action("يعرب", "عن تقديره للأمانة العامة") == "appreciate"
    assert lexicon.canonical_action("يعرب", "عن شكره لحكومة") == "thank"


@pytest.mark.parametrize(
    ("verb", "action"),
    [
        ("SE FELICITE", "welcome"),
        ("SE FÉLICITE", "welcome"),
        ("se félicite", "welcome"),
        ("FÉLICITE", "commend"),
        ("LANCE EN APPEL", "call"),
        ("INSISTE SUR LA NÉCESSITÉ", "stress"),
        ("RÉAFFIRME", "reaffirm"),
        ("TAKES NOTE", "note"),
        ("CALLS UPON", "call"),
        ("Requests", "request"),
        ("DÉPLORE", "deplore"),
        ("FROBNICATES", "other"),
    ],
)
def test_latin_verbs(verb: str, action: str) -> None:
    assert lexicon.canonical_action(verb) == action


def _codes(text: str) -> list[tuple[str, tuple[str, ...]]]:
    _, found = lexicon.find_addressees(text)
    return [(match.code, match.institutions) for match in found]


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("les États membres", [("MS", ())]),
        ("les Etats membres", [("MS", ())]),
        ("Member States", [("MS", ())]),
        ("الدول الأعضاء", [("MS", ())]),
        ("بالدول الأعضاء", [("MS", ())]),
        ("le Secrétariat général", [("SG", ())]),
        ("the Secretary-General", [("SG", ())]),
        ("الأمانة العامة", [("SG", ())]),
        ("الأمين العام", [("SG", ())]),
        ("le Secrétaire général des Nations unies", [("INTL", ())]),
        ("la communauté internationale", [("INTL", ())]),
        ("المجتمع الدولي", [("INTL", ())]),
        ("les organes et institutions compétents", [("ORG", ()), ("ORG", ())]),
        ("les institutions nationales", []),
        # the adopting organisation as an actor acts through its secretariat (corpus README)
        ("l'Organisation de la Coopération Islamique", [("SG", ())]),
        ("les États membres de l'Organisation de la Coopération Islamique", [("MS", ())]),
        ("Member States of the Organisation of Islamic Cooperation", [("MS", ())]),
        ("the Turkish Government", [("MS", ())]),
        ("الدول الأعضاء في منظمة التعاون الإسلامي", [("MS", ())]),
        ("other Islamic financial institutions", [("INTL", ())]),
        ("Islamic organisations and personalities", [("INTL", ())]),
        ("the League of Arab States", []),
        ("la Banque islamique de développement", [("ORG", ("IsDB",))]),
        ("(BID)", [("ORG", ("IsDB",))]),
        ("a bid to host the conference", []),  # acronyms only as printed
        ("l'Organisation pour le Développement de la Femme", [("ORG", ("WDO",))]),
        ("l'Agence Bayt Mal Al-Qods", [("ORG", ("BAYTMAL",))]),
        ("البنك الإسلامي للتنمية", [("ORG", ("IsDB",))]),
        ("le Groupe islamique à New York", [("GRP", ("OIC-NY",))]),
        ("the OIC Groups in New York and Geneva", [("GRP", ("OIC-NY", "OIC-GENEVA"))]),
        ("المجموعة الإسلامية في جنيف", [("GRP", ("OIC-GENEVA",))]),
        ("le Département des Affaires juridiques", [("SG", ())]),
        ("le département de la santé", []),  # only a capitalised Département is the GS's
    ],
)
def test_addressee_lexicon(text: str, codes: list[tuple[str, tuple[str, ...]]]) -> None:
    assert _codes(text) == codes


def test_institution_table_is_reusable() -> None:
    codes = [institution.code for institution in lexicon.INSTITUTIONS]
    assert len(codes) == len(set(codes))
    for code in ("SESRIC", "ICESCO", "IsDB", "ISF", "IPHRC", "IRCICA", "ICCIA", "WDO", "IIFA"):
        assert code in lexicon.INSTITUTIONS_BY_CODE
    assert "FSI" in lexicon.INSTITUTIONS_BY_CODE["ISF"].acronyms
    assert lexicon.INSTITUTIONS_BY_CODE["OIC-NY"].addressee == "GRP"
    pattern = lexicon.phrase_pattern("Fonds de solidarité islamique")
    assert re.search(pattern, lexicon.fold("le FONDS DE SOLIDARITE ISLAMIQUE"))


def test_arabic_resolution_parses() -> None:
    text = "\n".join(
        [
            "OIC/CFM-49/2023/SOC/RES/FINAL",
            "",
            "قرار رقم 4/49-س",
            "",
            "بشأن",
            "",
            "حماية قيم مؤسسة الزواج والأسرة",
            "",
            "إن مجلس وزراء الخارجية لمنظمة التعاون الإسلامي، المنعقد في دورته التاسعة والأربعين"
            " في نواكشوط؛",
            "",
            "1. يطلب من الأمين العام متابعة تنفيذ هذا القرار.",
            "2. يحث الدول الأعضاء على تعزيز التعاون فيما بينها؛ ويرحب بجهود الأمانة العامة.",
            "3. يحيط علماً بتقرير الأمين العام.",
            "٤. يدعو المجموعة الإسلامية في نيويورك وجنيف إلى تنسيق المواقف بالتنسيق مع الأمانة"
            " العامة.",
        ]
    )
    parsed = parse_resolution(text)
    assert parsed.language == "ar"
    assert parsed.symbol == "4/49-س"
    assert parsed.title == "حماية قيم مؤسسة الزواج والأسرة"
    assert [p.number for p in parsed.paragraphs] == [1, 2, 3, 4]  # ٤ is 4
    got = [([a.action for a in p.actions], p.addressees) for p in parsed.paragraphs]
    assert got == [
        (["request"], ("SG",)),
        (["urge", "welcome"], ("MS",)),
        (["note"], ("NONE",)),
        (["call"], ("GRP",)),  # the Secretariat is only a partner here
    ]
    assert parsed.paragraph(2).verbs == ("يحث", "يرحب")  # the و of ويرحب is not the verb


@pytest.mark.parametrize(
    ("text", "language", "addressees"),
    [
        # the recipient of what is recommended or referred is asked to act on it
        ("Recommends the guidelines to all Member States for implementation;", "en", ("MS",)),
        ("Refers the question to the Secretary-General for his opinion.", "en", ("SG",)),
        ("إحالة الموضوع إلى الأمانة العامة لإبداء الرأي فيه.", "ar", ("SG",)),
        # "decides that X shall ...": X
        ("Decides that the Secretary-General shall convene a meeting;", "en", ("SG",)),
        ("Décide que les États membres présenteront un rapport.", "fr", ("MS",)),
        ("Decides that talks start between the parties concerned;", "en", ("MS",)),
        ("Decides that the next session shall be held in Dakar;", "en", ("NONE",)),
        # a renewed call: whom it is made upon
        ("Reiterates its call upon all States to refrain from such measures;", "en", ("MS",)),
        # a partner or a reference is not an addressee
        ("Calls upon the Secretary-General, in co-operation with UNESCO, to act;", "en", ("SG",)),
        (
            "Requests the Secretary-General to bring it to the attention of all States;",
            "en",
            ("SG",),
        ),
        (
            "Invite le Secrétaire général, conformément à l'Article 20 de la Charte des Nations"
            " Unies, à convoquer une session extraordinaire.",
            "fr",
            ("SG",),
        ),
        # later verbs joined without punctuation, or in a new sentence, ask too
        (
            "Requests the Secretary-General to follow up the matter and invites the Member"
            " States to contribute to the Fund.",
            "en",
            ("MS", "SG"),
        ),
        (
            "Demande au Secrétaire général de suivre la question et invite les États membres à"
            " contribuer au Fonds.",
            "fr",
            ("MS", "SG"),
        ),
        (
            "Requests the Secretary-General to pay the arrears. Also invites Member States to"
            " make donations.",
            "en",
            ("MS", "SG"),
        ),
        ("Takes note of the report and recommendations of the Secretary-General.", "en", ("NONE",)),
        # Arabic verb-subject order: the speaking body is not the object
        ("يطلب المجلس من الأمين العام متابعة التنفيذ.", "ar", ("SG",)),
        # approving a quoted recommendation asks what the recommendation asks
        (
            'يقرر المجلس الموافقة على توصية اللجنة الآتية: "توصي اللجنة الدول الأعضاء بالمشاركة".',
            "ar",
            ("MS",),
        ),
        (
            'يقرر المجلس الموافقة على توصية اللجنة الآتية: "نظرت اللجنة المذكرة". "وتوصي بمتابعة'
            ' التنفيذ".',
            "ar",
            ("ALL",),
        ),
        # Arabic patterns are matched on folded letters ("إلى", "الدائمة")
        ("تعقد اللجنة الدائمة للشئون المالية دورة طارئة.", "ar", ("ORG",)),
    ],
)
def test_addressee_rules(text: str, language: Language, addressees: tuple[str, ...]) -> None:
    actions = analyse_paragraph(text, language)
    assert tuple(sorted({code for action in actions for code in action.addressees})) == addressees


def test_arabic_date_with_both_month_names_and_a_presenting_line() -> None:
    text = (
        "قرار مجلس الأمن 338\n\n"
        "قرار مجلس الأمن الدولي رقم 338 في 22 تشرين الأول (أكتوبر) 1973. تبنى المجلس هذا"
        " القرار كالآتي:\n"
        "إن مجلس الأمن،\n"
        "1 - يدعو جميع الأطراف إلى وقف إطلاق النار.\n"
    )
    parsed = parse_resolution(text)
    assert parsed.adopted_on == date(1973, 10, 22)
