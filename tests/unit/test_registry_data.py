"""The reference data behind the reporting entities: OIC member states and OIC institutions.

Both tables ship inside the package (``resotrack.registry.data``) and are read here the way the
application reads them, through ``importlib.resources``.

Institution kinds (``institutions.csv``, column ``kind``), following the OIC's own classification:
- ``secretariat``: the General Secretariat itself (row ``SG``); its internal return collects the
  paragraphs addressed to the Secretariat or the Secretary-General, including its departments.
- ``subsidiary``: subsidiary organs (SESRIC, IRCICA, IUT, ICDT, IIFA, ISF).
- ``specialized``: specialized institutions (ICESCO, IsDB, IOFS, WDO).
- ``affiliated``: affiliated institutions (ICCIA, ICYF, ISSF, SMIIC, IIUM, Bayt Mal Al-Quds Agency).
  SMIIC is listed as affiliated because the OIC's list of affiliated institutions and SMIIC itself
  call it so, although it is sometimes described as a subsidiary organ.
- ``statutory``: organs set up by the OIC Charter itself. Only IPHRC (Charter, art. 15) is here; it
  is neither a subsidiary organ nor a specialized institution, so it gets a kind of its own.
- ``standing_committee``: the Charter's standing committees (COMCEC, COMSTECH), which have their
  own coordination offices that can report.
- ``group``: the OIC Groups of ambassadors in New York and Geneva.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from functools import cache
from importlib import resources
from pathlib import Path

import pytest

from resotrack.consolidation.regions import REGION

DATA_PACKAGE = "resotrack.registry.data"
STATE_HEADER = ["code", "name_en", "name_fr", "name_ar", "language", "joined"]
INSTITUTION_HEADER = [
    "code",
    "kind",
    "acronym_en",
    "acronym_fr",
    "name_en",
    "name_fr",
    "name_ar",
    "language",
    "aliases",
]
LANGUAGES = {"ar", "en", "fr"}
KINDS = {
    "subsidiary",
    "specialized",
    "affiliated",
    "statutory",
    "standing_committee",
    "group",
    "secretariat",
}

# The 57 members of the OIC (2023), typed out independently of the CSV: the geoscheme list the
# report's regions are drawn from (``consolidation.regions``), read here rather than copied, so
# that the CSV, the regions and this test cannot drift apart. Syria's membership is suspended
# (2012) but it remains a member.
OIC_MEMBERS = frozenset(REGION)
# Members of the League of Arab States; all correspond with the OIC in Arabic except Comoros,
# whose administration works in French.
ARAB_LEAGUE = frozenset(
    {
        "DZA",
        "BHR",
        "COM",
        "DJI",
        "EGY",
        "IRQ",
        "JOR",
        "KWT",
        "LBN",
        "LBY",
        "MRT",
        "MAR",
        "OMN",
        "PSE",
        "QAT",
        "SAU",
        "SOM",
        "SDN",
        "SYR",
        "TUN",
        "ARE",
        "YEM",
    }
)
ARAB_LEAGUE_NOT_AR = {"COM": "fr"}

# Every spelling by which the seed resolutions (shared/seeds/*.txt) name an OIC institution or the
# General Secretariat, exactly as printed, with the entity it must resolve to.
SEED_MENTIONS: list[tuple[str, str]] = [
    ("SESRIC", "SESRIC"),
    (
        "Centre de Recherches statistiques, économiques et sociales et de Formation pour les pays "
        "islamiques",
        "SESRIC",
    ),
    ("ICESCO", "ICESCO"),
    ("Organisation du Monde Islamique pour l'Education, les Sciences et la Culture", "ICESCO"),
    ("Organisation du monde islamique pour l'Éducation, les Sciences et la Culture", "ICESCO"),
    ("BID", "IsDB"),
    ("Banque Islamique de Développement", "IsDB"),
    ("Groupe de la Banque Islamique de Développement", "IsDB"),
    ("Groupe de la Banque de développement islamique", "IsDB"),  # word order as printed (§45)
    ("CPIH", "IPHRC"),
    ("CPIDH", "IPHRC"),
    ("Commission Permanente Indépendante des Droits de l'Homme", "IPHRC"),
    ("Commission permanente indépendante des droits de l'Homme de l'OCI", "IPHRC"),
    ("FSI", "ISF"),
    ("Fonds de Solidarité Islamique", "ISF"),
    ("IRCICA", "IRCICA"),
    ("Centre de Recherches sur l'Histoire, l'Art et la Culture Islamiques", "IRCICA"),
    ("CICIA", "ICCIA"),
    ("Chambre Islamique de Commerce, d'Industrie et d'Agriculture", "ICCIA"),
    ("UIIM", "IIUM"),
    ("Université Islamique Internationale de Malaisie", "IIUM"),
    ("ODF", "WDO"),
    ("Organisation pour le Développement de la Femme", "WDO"),
    ("Organisation pour le Développement de la femme dans les États membres de l'OCI", "WDO"),
    ("Académie internationale du Fiqh islamique", "IIFA"),
    ("Agence Beit Mal Al-Qods", "BAYTMAL"),
    ("Secrétariat général", "SG"),
    ("Secrétariat Général de l'OCI", "SG"),
    ("Secrétariat général de l’OCI", "SG"),
    ("Secrétariat Général de l'Organisation", "SG"),
    ("Secrétaire général", "SG"),
    ("Département des Technologies de l’information", "SG"),
    ("Département des Affaires juridiques", "SG"),
]
# Phrases that name two groups at once; a parser has to distribute the shared head noun.
SEED_COMBINED_MENTIONS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Groupes de l'OCI à Genève et à New York",
        [("Groupe de l'OCI à Genève", "OIC-GENEVA"), ("Groupe de l'OCI à New York", "OIC-NY")],
    ),
    (
        "Groupe islamique à New York et à Genève",
        [("Groupe islamique à New York", "OIC-NY"), ("Groupe islamique à Genève", "OIC-GENEVA")],
    ),
]
# Bodies the seeds name that are deliberately not reporting entities: OIC policy organs that
# receive reports rather than send them, UN bodies (addressee class INTL) and non-OIC bodies.
SEED_NAMED_NOT_REGISTERED = [
    "Conseil des Ministres des Affaires étrangères",
    "CMAE",
    "Comité d'Al-Qods",
    "Comité de la famille",
    "Fondation Akhuwat",
    "UNRWA",
    "PNUD",
    "Haut-Commissariat des Nations unies pour les Réfugiés",
    "Centre arabe des Etudes sociales et de l'Eradication de la pauvreté",
]

ALPHA3 = re.compile(r"^[A-Z]{3}$")
ARABIC = re.compile(r"[\u0600-\u06FF]")
LATIN_LETTER = re.compile(r"[A-Za-z]")


def norm(text: str) -> str:
    """Case-, accent-, apostrophe- and hyphen-insensitive form of a name."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = stripped.casefold().replace("’", "'").replace("‘", "'")
    folded = re.sub(r"[-‐‑–—]", " ", folded)
    return " ".join(folded.split())


def _read(name: str) -> tuple[list[str], list[dict[str, str]]]:
    text = resources.files(DATA_PACKAGE).joinpath(name).read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    return list(reader.fieldnames or []), list(reader)


@cache
def states() -> list[dict[str, str]]:
    return _read("member_states.csv")[1]


@cache
def institutions() -> list[dict[str, str]]:
    return _read("institutions.csv")[1]


def institution_keys(row: dict[str, str]) -> set[str]:
    """Every normalised spelling under which an institution row can be found."""
    spellings = [
        row["code"],
        row["acronym_en"],
        row["acronym_fr"],
        row["name_en"],
        row["name_fr"],
        row["name_ar"],
    ]
    spellings += [a for a in row["aliases"].split("|") if a.strip()]
    return {norm(s) for s in spellings}


@cache
def lookup() -> dict[str, str]:
    index: dict[str, str] = {}
    for row in institutions():
        for key in institution_keys(row):
            index.setdefault(key, row["code"])
    return index


def resolve(mention: str) -> str | None:
    return lookup().get(norm(mention))


# --- member states ---------------------------------------------------------------------------


def test_member_states_header_is_exact() -> None:
    assert _read("member_states.csv")[0] == STATE_HEADER


def test_exactly_the_57_oic_members() -> None:
    codes = [row["code"] for row in states()]
    assert len(codes) == 57
    assert len(set(codes)) == 57, "duplicate state codes"
    assert set(codes) == OIC_MEMBERS


def test_state_codes_are_alpha3() -> None:
    bad = [row["code"] for row in states() if not ALPHA3.fullmatch(row["code"])]
    assert bad == []


@pytest.mark.parametrize("column", ["name_en", "name_fr", "name_ar"])
def test_state_names_are_filled_and_trimmed(column: str) -> None:
    bad = [row["code"] for row in states() if not row[column] or row[column] != row[column].strip()]
    assert bad == []


def test_state_arabic_names_are_in_arabic_script() -> None:
    bad = [
        row["code"]
        for row in states()
        if not ARABIC.search(row["name_ar"]) or LATIN_LETTER.search(row["name_ar"])
    ]
    assert bad == []


def test_state_languages_are_oic_working_languages() -> None:
    bad = {row["code"]: row["language"] for row in states() if row["language"] not in LANGUAGES}
    assert bad == {}


def test_arab_league_members_correspond_in_arabic() -> None:
    by_code = {row["code"]: row["language"] for row in states()}
    expected = {code: ARAB_LEAGUE_NOT_AR.get(code, "ar") for code in ARAB_LEAGUE}
    assert {code: by_code[code] for code in ARAB_LEAGUE} == expected


def test_state_accession_year_is_empty_or_plausible() -> None:
    bad = [
        (row["code"], row["joined"])
        for row in states()
        if row["joined"] and not (row["joined"].isdigit() and 1969 <= int(row["joined"]) <= 2030)
    ]
    assert bad == []


def test_state_names_are_unique_per_language() -> None:
    for column in ("name_en", "name_fr", "name_ar"):
        names = [norm(row[column]) for row in states()]
        assert len(names) == len(set(names)), column


# --- institutions ----------------------------------------------------------------------------


def test_institutions_header_is_exact() -> None:
    assert _read("institutions.csv")[0] == INSTITUTION_HEADER


def test_institution_codes_unique_and_disjoint_from_states() -> None:
    codes = [row["code"] for row in institutions()]
    assert len(codes) == len(set(codes)), "duplicate institution codes"
    assert set(codes).isdisjoint(row["code"] for row in states())


def test_secretariat_row_exists() -> None:
    secretariat = [row["code"] for row in institutions() if row["kind"] == "secretariat"]
    assert secretariat == ["SG"]


def test_institution_kinds_and_languages_are_known() -> None:
    bad = [
        (row["code"], row["kind"], row["language"])
        for row in institutions()
        if row["kind"] not in KINDS or row["language"] not in LANGUAGES
    ]
    assert bad == []


@pytest.mark.parametrize("column", ["acronym_en", "acronym_fr", "name_en", "name_fr", "name_ar"])
def test_institution_fields_are_filled_and_trimmed(column: str) -> None:
    bad = [
        row["code"]
        for row in institutions()
        if not row[column] or row[column] != row[column].strip()
    ]
    assert bad == []


def test_institution_arabic_names_are_in_arabic_script() -> None:
    bad = [
        row["code"]
        for row in institutions()
        if not ARABIC.search(row["name_ar"]) or LATIN_LETTER.search(row["name_ar"])
    ]
    assert bad == []


def test_aliases_are_well_formed() -> None:
    bad = [
        (row["code"], alias)
        for row in institutions()
        if row["aliases"]
        for alias in row["aliases"].split("|")
        if not alias or alias != alias.strip()
    ]
    assert bad == []


def test_every_institution_spelling_names_one_entity_only() -> None:
    owners: dict[str, set[str]] = {}
    for row in institutions():
        for key in institution_keys(row):
            owners.setdefault(key, set()).add(row["code"])
    for row in states():
        for column in ("code", "name_en", "name_fr", "name_ar"):
            owners.setdefault(norm(row[column]), set()).add(row["code"])
    clashes = {key: codes for key, codes in owners.items() if len(codes) > 1}
    assert clashes == {}


def test_norm_ignores_case_accents_apostrophes_and_hyphens() -> None:
    assert norm("Agence Bayt Mal Al-Qods") == norm("agence bayt mal al qods")
    assert norm("Secrétariat général de l’OCI") == norm("SECRETARIAT GENERAL DE L'OCI")
    assert norm("Éducation") == norm("education")


# --- the seeds' institutions -----------------------------------------------------------------


@pytest.mark.parametrize(("mention", "code"), SEED_MENTIONS, ids=[m for m, _ in SEED_MENTIONS])
def test_seed_mention_resolves(mention: str, code: str) -> None:
    assert resolve(mention) == code


@pytest.mark.parametrize(
    ("phrase", "parts"), SEED_COMBINED_MENTIONS, ids=[p for p, _ in SEED_COMBINED_MENTIONS]
)
def test_seed_combined_mention_parts_resolve(phrase: str, parts: list[tuple[str, str]]) -> None:
    assert {part: resolve(part) for part, _ in parts} == dict(parts)


@pytest.mark.parametrize("mention", SEED_NAMED_NOT_REGISTERED)
def test_seed_bodies_outside_the_registry_do_not_resolve(mention: str) -> None:
    assert resolve(mention) is None


def test_listed_mentions_are_printed_in_the_seeds(shared_dir: Path) -> None:
    """Keeps the lists above honest: each spelling occurs in a seed resolution."""
    seeds = " ".join(
        norm(p.read_text(encoding="utf-8")) for p in sorted(shared_dir.glob("seeds/*.txt"))
    )
    listed = [m for m, _ in SEED_MENTIONS] + [p for p, _ in SEED_COMBINED_MENTIONS]
    listed += SEED_NAMED_NOT_REGISTERED
    missing = [m for m in listed if norm(m) not in seeds]
    assert missing == []


def test_seed_acronyms_in_parentheses_all_resolve(shared_dir: Path) -> None:
    """Every "(ACRONYM)" the seeds print after an OIC body's name is a known institution."""
    outside = {"OCI", "CMAE", "UNRWA", "PNUD", "OPAAW", "GIE", "SD-CaB", "ODD", "ONG"}
    found: set[str] = set()
    for path in shared_dir.glob("seeds/*.txt"):
        found |= set(re.findall(r"\(([A-Z][A-Za-z-]{1,9})\)", path.read_text(encoding="utf-8")))
    assert found - outside, "the seeds' acronyms were not found"
    unresolved = sorted(a for a in found - outside if resolve(a) is None)
    assert unresolved == []
