"""`resotrack resolutions parse|import|show` with the files users have, and every refusal.

Each refusal is checked for its message: what was not found, where, and the way on; and for
what it leaves in the database (nothing of the refused resolution).
"""

from __future__ import annotations

import json
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from conftest import SEED_000
from resotrack import cli
from resotrack.cli import app
from resotrack.resolutions.models import Resolution, ResolutionVersion
from resotrack.store import session_scope
from support.office_documents import make_docx

runner = CliRunner()

SESSION = """FORTY-NINTH SESSION OF THE COUNCIL OF FOREIGN MINISTERS
Nouakchott, Islamic Republic of Mauritania
16-17 March 2023

RESOLUTION NO. 1/49-POL

ON THE SITUATION IN THE SAHEL

The Council of Foreign Ministers, meeting in its forty-ninth session in Nouakchott,

1. Requests the Secretary-General to follow up this resolution.

2. Urges the Member States to support the countries of the Sahel.

RESOLUTION NO. 2/49-POL

ON THE CULTURAL HERITAGE

The Council of Foreign Ministers, meeting in its forty-ninth session in Nouakchott,

1. Decides to commission IRCICA to prepare a study.

2. Invites the international community to protect the heritage.
"""


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def _versions() -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(ResolutionVersion)) or 0


def test_parse_a_folder_of_text_and_word_files(tmp_path: Path, shared_dir: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "session.txt").write_text(SESSION, "utf-8")
    make_docx(SEED_000.read_text("utf-8"), folder / "seed000.docx", header="OIC/CFM-49")
    (folder / "notes.log").write_text("not a resolution", "utf-8")
    code, output = run("resolutions", "parse", str(folder), "--json")
    assert code == 0, output
    parsed = json.loads(output)
    assert [r["symbol"] for r in parsed] == ["1/49-IT", "1/49-POL", "2/49-POL"]
    assert parsed[1]["adopted_on"] == "2023-03-17"  # the session's date, from the cover
    assert [p["addressees"] for p in parsed[2]["paragraphs"]] == [["ORG"], ["INTL"]]


def test_parse_shows_confidence_and_a_missing_symbol(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli.out, "width", 250)  # one table row per line
    path = tmp_path / "r.txt"
    path.write_text(
        SESSION.split("RESOLUTION NO. 2/49-POL")[0]
        .replace("RESOLUTION NO. 1/49-POL\n", "")
        .replace("2. Urges", "2. Calls for solidarity;\n\n3. Considers"),
        "utf-8",
    )
    code, output = run("resolutions", "parse", str(path))
    assert code == 0, output
    assert "(no symbol found: import it with --symbol)" in output
    assert "to check: nobody named: everyone assumed" in output  # "Calls for solidarity"
    assert "sure" in output


def test_import_options_and_their_refusals(db_url: str, tmp_path: Path) -> None:
    run("init")
    path = tmp_path / "r.txt"
    path.write_text(SESSION.split("RESOLUTION NO. 2/49-POL")[0].split("\n\n", 3)[3], "utf-8")
    code, output = run("resolutions", "import", str(path))
    assert code == 1
    assert "no resolution symbol was found in the header" in output and "--symbol" in output
    assert _versions() == 0
    code, output = run("resolutions", "import", str(path), "--date", "17/03/2023")
    assert code == 1 and "--date '17/03/2023' is not a date: write it as YYYY-MM-DD" in output
    code, output = run("resolutions", "import", str(path), "--language", "de")
    assert code == 1 and "--language 'de': use ar, en or fr" in output
    code, output = run(
        "resolutions",
        "import",
        str(path),
        "--symbol",
        "9/49-POL",
        "--title",
        "The Sahel",
        "--date",
        "2023-03-17",
        "--language",
        "en",
    )
    assert code == 0 and "imported 9/49-POL version 1 (2 operative paragraphs)" in output
    with session_scope() as s:
        version = s.scalar(select(ResolutionVersion))
        assert version is not None
        assert (version.title, str(version.adopted_on), version.language) == (
            "The Sahel",
            "2023-03-17",
            "en",
        )


def test_import_a_session_document_one_bad_resolution(db_url: str, tmp_path: Path) -> None:
    run("init")
    path = tmp_path / "session.txt"
    path.write_text(SESSION.replace("2. Urges the Member States", "3. Urges the Member States"))
    code, output = run("resolutions", "import", str(path))
    assert code == 1
    assert "imported 2/49-POL version 1 (2 operative paragraphs)" in output
    assert "the resolution starting at line 5: the paragraph numbering is broken" in output
    assert "paragraph 2 is missing" in output
    with session_scope() as s:
        assert list(s.scalars(select(Resolution.symbol))) == ["2/49-POL"]


def test_import_refuses_a_scan_and_a_folder_without_resolutions(
    db_url: str, tmp_path: Path
) -> None:
    run("init")
    document = pdfium.PdfDocument.new()
    document.new_page(595, 842)
    scan = tmp_path / "scan.pdf"
    document.save(str(scan))
    document.close()
    code, output = run("resolutions", "import", str(scan))
    assert code == 1 and "has no text layer: it is a scanned image" in output
    empty = tmp_path / "empty"
    empty.mkdir()
    code, output = run("resolutions", "import", str(empty))
    assert code == 1 and "the folder holds no resolution file" in output
    assert _versions() == 0


def _table(path: Path, rows: list[list[object]]) -> Path:
    if path.suffix == ".csv":
        path.write_text("\n".join(",".join(map(str, row)) for row in rows) + "\n", "utf-8")
        return path
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Paragraphs")
    for r, row in enumerate(rows):
        sheet.write_row(r, 0, row)
    workbook.close()
    return path


def test_import_a_paragraph_table(db_url: str, tmp_path: Path) -> None:
    run("init")
    rows: list[list[object]] = [
        ["number", "section", "text", "verbs", "addressees"],
        [1, "A", "Requests the Secretary-General to report.", "", ""],
        [2, "A", "Urges the Member States to act.", "Urges", ""],
        [3, "B", "Texte illisible du scan.", "", "MS,ORG"],
    ]
    sheet = _table(tmp_path / "paragraphs.xlsx", rows)
    code, output = run("resolutions", "import", str(sheet))
    assert code == 1 and "a paragraph table has no header page" in output and "--symbol" in output
    code, output = run("resolutions", "import", str(sheet), "--symbol", "3/49-C")
    assert code == 0 and "imported 3/49-C version 1 (3 operative paragraphs)" in output
    code, output = run("resolutions", "import", str(sheet), "--symbol", "3/49-C")
    assert code == 0 and "unchanged" in output
    code, output = run("resolutions", "show", "3/49-C")
    assert code == 0
    assert "to check" in output and "sure" in output  # paragraph 3: no verb found
    routing = tmp_path / "routing.xlsx"
    code, output = run("routing", "export", "--resolution", "3/49-C", str(routing))
    assert code == 0
    sheet_rows = CalamineWorkbook.from_path(str(routing)).get_sheet_by_name("Routing").to_python()
    assert sheet_rows[0][-1] == "confidence"
    assert sheet_rows[1][-1] == "sure"
    assert sheet_rows[3][-1] == "to check: no operative verb found"
    csv = _table(tmp_path / "p.csv", [["number", "text"], [1, "Urges the Member States."]])
    code, output = run("resolutions", "import", str(csv), "--symbol", "4/49-C")
    assert code == 0 and "imported 4/49-C" in output


def test_paragraph_table_refusals_name_the_rows(db_url: str, tmp_path: Path) -> None:
    run("init")
    bad = _table(
        tmp_path / "bad.csv",
        [
            ["number", "text", "addressees"],
            ["one", "Urges.", ""],
            [1, "Urges.", "XX"],
            [2, "", ""],
            [3, "Requests.", ""],
            [3, "Requests again.", ""],
        ],
    )
    code, output = run("resolutions", "import", str(bad), "--symbol", "5/49-C")
    assert code == 1
    for part in (
        "row 2: the number 'one' is not a number",
        "row 3: unknown addressee XX",
        "row 4: paragraph 2 has no text",
        "paragraph 3 is on rows 5, 6",
        "paragraphs missing: 1, 2",
    ):
        assert part in output, part
    columns = _table(tmp_path / "cols.csv", [["paragraphe", "texte"], [1, "Urges."]])
    code, output = run("resolutions", "import", str(columns), "--symbol", "5/49-C")
    assert code == 1 and "missing: number" in output
    empty = _table(tmp_path / "empty.csv", [["number", "text"]])
    code, output = run("resolutions", "import", str(empty), "--symbol", "5/49-C")
    assert code == 1 and "the table has a header row but no paragraph rows" in output
    assert _versions() == 0


@pytest.mark.parametrize(
    ("locale", "said"),
    [
        ("fr_FR.UTF-8", "erreur : --language 'de' : utilisez ar, en ou fr"),
        ("ar_SA.UTF-8", "خطأ: --language 'de': استخدموا ar أو en أو fr"),
        ("C.UTF-8", "error: --language 'de': use ar, en or fr"),
    ],
)
def test_a_refusal_reads_in_the_terminal_s_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, locale: str, said: str
) -> None:
    monkeypatch.setenv("LC_ALL", locale)
    path = tmp_path / "r.txt"
    path.write_text(SESSION, "utf-8")
    code, output = run("resolutions", "parse", str(path), "--language", "de")
    assert code == 1 and said in " ".join(output.split())
    folder = tmp_path / "empty"
    folder.mkdir()
    code, output = run("resolutions", "parse", str(folder))
    assert code == 1 and str(folder) in output


def test_a_parse_error_is_said_in_the_terminal_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refusal comes from the ``resolutions`` catalog: French for ``LANG=fr_FR.UTF-8``."""
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    path = tmp_path / "broken.txt"
    path.write_text(SESSION.split("RESOLUTION NO. 2/49-POL")[0].replace("2. Urges", "4. Urges"))
    code, output = run("resolutions", "parse", str(path))
    assert code == 1
    assert "broken.txt: la numérotation des paragraphes est rompue" in output
    assert "the paragraph numbering is broken" not in output
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n")
    code, output = run("resolutions", "parse", str(empty))
    assert code == 1 and "empty.txt: le fichier est vide" in output
    session = tmp_path / "session.txt"
    session.write_text(SESSION.replace("2. Urges the Member States", "3. Urges the Member States"))
    code, output = run("resolutions", "parse", str(session))
    assert code == 1
    assert "session.txt, la résolution commençant à la ligne 5: la numérotation" in output
