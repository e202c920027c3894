"""Seed 004 (OIC/MCSD-2/2023/RES/FINAL) against the hand-made ground truth in shared/.

The ground truth is read from the TSV at test time; nothing here restates its content, so a
parser change that breaks one paragraph fails with that paragraph named.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from resotrack.resolutions import ParsedResolution, parse_file, parse_resolution
from resotrack.resolutions.model import ADDRESSEE_CODES

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SEED_004 = SHARED / "seeds" / "004_7627369674135aea.txt"
TRUTH_004 = SHARED / "groundtruth" / "004_operative_paragraphs.tsv"
SCORED = range(1, 86)  # the ground truth fills addressees for paragraphs 1-85


def _shared(path: Path) -> Path:
    if not path.is_file():
        pytest.fail(f"missing shared file {path}: shared/ must be checked out beside the repo")
    return path


@pytest.fixture(scope="module")
def parsed() -> ParsedResolution:
    return parse_file(_shared(SEED_004))


@pytest.fixture(scope="module")
def truth() -> list[dict[str, str]]:
    with _shared(TRUTH_004).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert rows, "the ground-truth TSV is empty"
    return rows


def test_header(parsed: ParsedResolution) -> None:
    assert parsed.symbol == "OIC/MCSD-2/2023/RES/FINAL"  # printed RES/FIANL
    assert parsed.document_symbol == "OIC/MCSD-2/2023/RES/FINAL"
    assert parsed.language == "fr"
    assert parsed.title.startswith("Résolution adoptée par la Deuxième Conférence ministérielle")
    assert parsed.title.endswith("Développement social dans les États membres")
    assert parsed.place == "Le Caire - République arabe d'Égypte"
    assert parsed.adopted_gregorian == "5-6 Juin 2023"
    assert parsed.adopted_on == date(2023, 6, 6)
    assert parsed.adopted_hijri == "16-17 Dhoul Qaa'da 1444H"
    assert parsed.body is not None
    assert parsed.body.startswith("La Deuxième Conférence ministérielle sur le Développement")
    assert parsed.session == "Deuxième Conférence ministérielle"


def test_preamble_is_kept_apart(parsed: ParsedResolution) -> None:
    assert parsed.preamble[0].startswith("La Deuxième Conférence ministérielle")
    assert parsed.preamble[1].startswith("Se référant aux dispositions")
    assert parsed.preamble[-1] == "Décide ce qui suit :"
    assert all(not p.startswith(("1.", "- 1.", "A)")) for p in parsed.preamble)
    # a preambular paragraph cut by a page break ("ainsi qu'à" / "éliminer ...") is whole
    assert any("ainsi qu'à éliminer toutes formes de violence" in p for p in parsed.preamble)
    assert len(parsed.preamble) == 26


def test_paragraphs_are_numbered_1_to_137(parsed: ParsedResolution) -> None:
    assert [p.number for p in parsed.paragraphs] == list(range(1, 138))


def test_sections_match_ground_truth(parsed: ParsedResolution, truth: list[dict[str, str]]) -> None:
    expected: dict[str, list[int]] = {}
    for row in truth:
        expected.setdefault(row["section"], []).append(int(row["paragraph"]))
    assert [s.letter for s in parsed.sections] == sorted(expected) == list("ABCDEF")
    for letter, numbers in expected.items():
        got = [p.number for p in parsed.paragraphs if p.section == letter]
        assert got == numbers, f"section {letter}"
    titles = {s.letter: s.title for s in parsed.sections}
    assert titles["C"] == (
        "Dans les domaines de la préservation du bien-être et de la sécurité sociale des "
        "personnes âgées"
    )
    assert titles["F"] == "Autres questions liées au développement social"


def test_verbs_equal_ground_truth(parsed: ParsedResolution, truth: list[dict[str, str]]) -> None:
    wrong = []
    for row in truth:
        expected = [verb.strip() for verb in row["verbs"].split("|")]
        got = list(parsed.paragraph(int(row["paragraph"])).verbs)
        if got != expected:
            wrong.append((row["paragraph"], got, expected))
    assert wrong == []
    assert len(truth) == 137


def test_addressees_match_ground_truth(
    parsed: ParsedResolution, truth: list[dict[str, str]]
) -> None:
    scored = [r for r in truth if int(r["paragraph"]) in SCORED and r["addressees"] != "?"]
    mismatches = []
    for row in scored:
        expected = set(row["addressees"].split(","))
        got = set(parsed.paragraph(int(row["paragraph"])).addressees)
        if got != expected:
            mismatches.append((row["paragraph"], sorted(got), sorted(expected)))
    score = 1 - len(mismatches) / len(scored)
    print(f"\naddressees on paragraphs 1-85: {len(scored) - len(mismatches)}/{len(scored)}")
    for number, parsed_codes, truth_codes in mismatches:
        print(f"  paragraph {number}: parsed {parsed_codes}, ground truth {truth_codes}")
    assert len(scored) == 85
    assert score >= 0.95, mismatches


def test_paragraph_text_is_clean(parsed: ParsedResolution) -> None:
    for paragraph in parsed.paragraphs:
        text = paragraph.text
        assert "*" not in text and "^" not in text, paragraph.number
        assert not text[:1].isdigit() and not text.startswith(("-", " ")), paragraph.number
        assert text == " ".join(text.split()), paragraph.number
        assert text.startswith(paragraph.verbs[0]), paragraph.number
    first = parsed.paragraph(1).text
    assert first.startswith("ACCUEILLE FAVORABLEMENT les Résolutions du Conseil")
    assert "lors de sa 47ème Session (Niamey 2020)" in first
    assert "; et EXHORTE les Etats membres" in first
    assert parsed.paragraph(14).text.startswith("INVITE instamment les Etats membres")


def test_page_breaks_are_rejoined(parsed: ParsedResolution) -> None:
    assert "tout en invitant les institutions compétentes de l'OCI" in parsed.paragraph(2).text
    assert "en application de la Résolution n°4/43-C du CMAE ; et INVITE instamment" in (
        parsed.paragraph(8).text
    )
    assert "de protection de remplacement et de formuler" in parsed.paragraph(40).text
    last = parsed.paragraph(137).text
    assert "Conférence ministérielle sur le Développement social dans les États membres" in last
    assert last.endswith("au Conseil des Ministres des Affaires étrangères.")
    assert parsed.stray_text == ("NDJ-TEY – 06062023",)


def test_canonical_actions(parsed: ParsedResolution) -> None:
    def actions(number: int) -> list[tuple[str, str]]:
        return [(a.verb, a.action) for a in parsed.paragraph(number).actions]

    assert actions(85) == [("LANCE EN APPEL", "call")]  # misprint kept, meaning normalised
    assert actions(117) == [("LANCE UN APPEL", "call")]
    assert actions(32) == [("INSISTE SUR LA NECESSITE", "stress"), ("LANCE UN APPEL", "call")]
    assert actions(16) == [
        ("SALUE", "commend"),
        ("SE FELICITE", "welcome"),
        ("PREND ACTE", "note"),
    ]
    assert actions(55)[0] == ("FELICITE", "commend")  # not SE FELICITE
    assert actions(86) == [("EXPRIME", "appreciate")]  # "EXPRIME son appréciation"
    assert actions(64) == [("RAPPELLE", "remind")]  # "RAPPELLE aux États membres"
    assert actions(136) == [("ACCUEILLE FAVORABLEMENT", "welcome"), ("CHARGE", "entrust")]


def test_modifiers(parsed: ParsedResolution) -> None:
    assert parsed.paragraph(8).actions[1].modifier == "instamment"  # "INVITE** instamment"
    assert parsed.paragraph(14).actions[0].modifier == "instamment"  # "**INVITE instamment**"
    assert parsed.paragraph(53).actions[0].modifier == "en outre"  # "APPELLE, en outre, le"
    assert parsed.paragraph(74).actions[0].modifier == "par ailleurs"
    assert parsed.paragraph(3).actions[0].modifier is None


def test_partners_are_not_addressees(parsed: ParsedResolution) -> None:
    for number in (9, 25, 57):  # "au Secrétariat général, en coordination avec ... ICESCO"
        assert parsed.paragraph(number).addressees == ("SG",), number
        assert parsed.paragraph(number).institutions == (), number


def test_named_institutions(parsed: ParsedResolution) -> None:
    assert set(parsed.paragraph(45).institutions) == {"ICESCO", "IIFA", "SESRIC", "IsDB", "IPHRC"}
    assert parsed.paragraph(53).institutions == ("IsDB", "ISF")
    assert parsed.paragraph(30).institutions == ("IPHRC",)
    assert parsed.paragraph(92).institutions == ("IPHRC",)  # "à la CPIDH"
    assert set(parsed.paragraph(2).institutions) == {"OIC-NY", "OIC-GENEVA"}
    assert set(parsed.paragraph(114).institutions) == {"OIC-NY", "OIC-GENEVA"}
    assert parsed.paragraph(114).addressees == ("GRP",)


def test_json_shape(parsed: ParsedResolution) -> None:
    data = json.loads(parsed.to_json())
    assert data == parsed.as_dict()
    assert {"symbol", "title", "language", "sections", "paragraphs"} <= set(data)
    assert data["sections"][0] == {"letter": "A", "title": parsed.sections[0].title}
    paragraph = data["paragraphs"][1]
    assert set(paragraph) == {"number", "section", "text", "verbs", "actions", "addressees"}
    assert paragraph["verbs"] == ["REAFFIRME", "SALUE", "EXHORTE"]
    assert set(paragraph["actions"][0]) == {
        "verb",
        "modifier",
        "action",
        "addressees",
        "institutions",
    }
    for item in data["paragraphs"]:
        assert item["addressees"] == sorted(item["addressees"])
        assert set(item["addressees"]) <= set(ADDRESSEE_CODES)


def test_hash_ignores_cosmetic_changes(parsed: ParsedResolution) -> None:
    text = _shared(SEED_004).read_text(encoding="utf-8")
    assert parse_resolution(text.replace("\n", "\r\n") + "\n\n").text_sha256 == parsed.text_sha256
    assert parse_resolution("\ufeff" + text).text_sha256 == parsed.text_sha256
    changed = text.replace("5-6 Juin 2023", "5-7 Juin 2023")
    assert parse_resolution(changed).text_sha256 != parsed.text_sha256
