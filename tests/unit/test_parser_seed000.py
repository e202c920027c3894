"""Seed 000: resolution 1/49-IT of the 49th CFM (Nouakchott), a short text with a full header."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from resotrack.resolutions import ParsedResolution, parse_file

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SEED_000 = SHARED / "seeds" / "000_538a0b500d10359b.txt"


@pytest.fixture(scope="module")
def parsed() -> ParsedResolution:
    if not SEED_000.is_file():
        pytest.fail(f"missing shared file {SEED_000}: shared/ must be checked out beside the repo")
    return parse_file(SEED_000)


def test_symbols_and_title(parsed: ParsedResolution) -> None:
    assert parsed.symbol == "1/49-IT"  # from "RESOLUTION N°1/49-IT"
    assert parsed.document_symbol == "OIC/CFM-49/2023/IT/RES/FINAL"
    assert parsed.title == ("LE PROJET DE TRANSFORMATION NUMERIQUE DU SECRETARIAT GENERAL DE L’OCI")
    assert parsed.language == "fr"


def test_place_dates_body_session(parsed: ParsedResolution) -> None:
    assert parsed.place == "Nouakchott, République islamique de Mauritanie"
    assert parsed.adopted_gregorian == "16-17 mars 2023"
    assert parsed.adopted_on == date(2023, 3, 17)
    assert parsed.adopted_hijri == "24-25 cha'ban 1444"
    assert parsed.body == (
        "Le Conseil des Ministres des Affaires étrangères de l’Organisation de la "
        "Coopération Islamique (OCI)"
    )
    assert parsed.session == "quarante-neuvième session"


def test_preamble(parsed: ParsedResolution) -> None:
    assert len(parsed.preamble) == 6
    assert parsed.preamble[0].startswith("Le Conseil des Ministres des Affaires étrangères")
    assert parsed.preamble[1] == "Tenant compte des objectifs et principes de la Charte de l’OCI ;"
    assert "défis du XXIe siècle" in parsed.preamble[2]  # XXI^e
    assert "adopté par le 13ème Sommet islamique" in parsed.preamble[3]  # 13^{ème}
    assert parsed.preamble[-1].startswith("Soucieux de maintenir la sécurité")


def test_five_paragraphs_with_verbs_actions_addressees(parsed: ParsedResolution) -> None:
    expected = [
        (1, ["APPROUVE", "SE FELICITE"], ["approve", "welcome"], ("NONE",)),
        (2, ["CHARGE"], ["entrust"], ("SG",)),  # the GS's IT Department
        (3, ["DEMANDE"], ["request"], ("MS", "ORG")),  # ... et aux organes subsidiaires
        (4, ["REMERCIE"], ["thank"], ("NONE",)),
        (5, ["DEMANDE"], ["request"], ("SG",)),
    ]
    assert len(parsed.paragraphs) == 5
    assert parsed.sections == ()
    for number, verbs, actions, addressees in expected:
        paragraph = parsed.paragraph(number)
        assert list(paragraph.verbs) == verbs, number
        assert [a.action for a in paragraph.actions] == actions, number
        assert paragraph.addressees == addressees, number
        assert paragraph.section is None


def test_paragraph_text(parsed: ParsedResolution) -> None:
    first = parsed.paragraph(1)
    assert first.text.startswith("APPROUVE la finalisation des efforts")  # "- 1. APPROUVE**"
    assert "; et SE FELICITE, en outre, des efforts" in first.text
    assert "lors de la 48ème Session du Conseil" in first.text
    assert first.actions[1].modifier == "en outre"
    # the partner "en coordination avec le Département des Affaires juridiques" is not asked
    assert parsed.paragraph(2).actions[0].addressees == ("SG",)
    assert parsed.paragraph(5).text.endswith("à la 50ème session du CMAE.")
