"""Inputs that are not a usable resolution: each gets a plain message naming the problem.

Hostile inputs (binary, NUL bytes, huge files, megabyte-long lines built to make regular
expressions backtrack) must end in a clear error or a correct parse, quickly.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from resotrack.resolutions import ResolutionParseError, parse_file, parse_resolution

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SEED_000 = SHARED / "seeds" / "000_538a0b500d10359b.txt"
SEED_004 = SHARED / "seeds" / "004_7627369674135aea.txt"


def _seed(path: Path) -> str:
    if not path.is_file():
        pytest.fail(f"missing shared file {path}: shared/ must be checked out beside the repo")
    return path.read_text(encoding="utf-8")


def _error(path: Path) -> str:
    with pytest.raises(ResolutionParseError) as caught:
        parse_file(path)
    return str(caught.value)


def _write(tmp_path: Path, data: bytes | str, name: str = "resolution.txt") -> Path:
    path = tmp_path / name
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def _renumber(text: str, old: str, new: str) -> str:
    """Change the number printed at the start of one paragraph line."""
    lines = text.split("\n")
    index = next(i for i, line in enumerate(lines) if line.startswith(old))
    lines[index] = new + lines[index][len(old) :]
    return "\n".join(lines)


# --- empty, wrong encoding, not text --------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    message = _error(_write(tmp_path, b""))
    assert message.startswith("resolution.txt: ")
    assert "empty" in message


def test_whitespace_only_file(tmp_path: Path) -> None:
    assert "empty" in _error(_write(tmp_path, " \n\t\n\r\n   \n"))


def test_cp1252_file_is_refused_with_how_to_convert(tmp_path: Path) -> None:
    path = _write(tmp_path, _seed(SEED_000).encode("cp1252"), "cfm49.txt")
    message = _error(path)
    assert "not UTF-8" in message
    assert "Windows-1252" in message
    assert "iconv -f CP1252 -t UTF-8 cfm49.txt" in message
    assert "line 7" in message  # the first accented letter: "RÉSOLUTION"


def test_utf16_file(tmp_path: Path) -> None:
    assert "UTF-16" in _error(_write(tmp_path, _seed(SEED_000).encode("utf-16")))


def test_utf8_with_bom_is_fine(tmp_path: Path) -> None:
    path = _write(tmp_path, b"\xef\xbb\xbf" + _seed(SEED_000).encode("utf-8"))
    assert parse_file(path).symbol == "1/49-IT"


def test_nul_bytes(tmp_path: Path) -> None:
    data = _seed(SEED_000).encode("utf-8")
    assert "binary" in _error(_write(tmp_path, data[:500] + b"\x00\x00" + data[500:]))
    with pytest.raises(ResolutionParseError, match="NUL"):
        parse_resolution(_seed(SEED_000) + "\x00")


def test_pdf_and_word_files(tmp_path: Path) -> None:
    assert "a PDF document" in _error(_write(tmp_path, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"))
    assert "Word" in _error(_write(tmp_path, b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 30))


def test_random_binary(tmp_path: Path) -> None:
    generator = random.Random(4)
    for _ in range(20):
        data = bytes(generator.randrange(256) for _ in range(4096))
        with pytest.raises(ResolutionParseError):
            parse_file(_write(tmp_path, data))


def test_missing_file(tmp_path: Path) -> None:
    assert "cannot read the file" in _error(tmp_path / "nowhere.txt")


# --- size ----------------------------------------------------------------------------------


def test_50_mb_file_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: takes no disk space

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was opened although it is too big")

    monkeypatch.setattr(Path, "open", no_reading)
    message = _error(path)
    assert "the file is 50 MB, more than the 5 MB accepted" in message


def test_size_cap_is_a_keyword(tmp_path: Path) -> None:
    path = _write(tmp_path, _seed(SEED_000))
    with pytest.raises(ResolutionParseError, match=r"is 3.9 KB, more than the 1000 bytes"):
        parse_file(path, max_bytes=1000)
    assert parse_file(path, max_bytes=10_000).symbol == "1/49-IT"


# --- shape and numbering -------------------------------------------------------------------


def test_no_operative_paragraphs(tmp_path: Path) -> None:
    preamble_only = _seed(SEED_000).split("- 1. APPROUVE")[0]
    message = _error(_write(tmp_path, preamble_only))
    assert "no numbered operative paragraphs were found (read from line 1 to line 35)" in message
    assert "--language" in message and "paragraphs.xlsx" in message


def test_duplicated_paragraph_number(tmp_path: Path) -> None:
    text = _renumber(_seed(SEED_004), "13. ", "12. ")
    with pytest.raises(ResolutionParseError) as caught:
        parse_file(_write(tmp_path, text))
    message = str(caught.value)
    assert "paragraph 12 appears twice" in message
    assert "paragraph 13 is missing" in message
    assert caught.value.problems[0].startswith("paragraph 12 appears twice (lines ")


def test_missing_paragraph_numbers(tmp_path: Path) -> None:
    lines = _seed(SEED_004).split("\n")
    kept = [line for line in lines if not line.startswith(("40. ", "41. "))]
    message = _error(_write(tmp_path, "\n".join(kept)))
    assert "paragraphs 40, 41 are missing" in message


def test_numbering_not_starting_at_one(tmp_path: Path) -> None:
    text = _seed(SEED_000)
    for old, new in (("- 1. ", "- 3. "), ("- 2. ", "- 4. "), ("- 3. D", "- 5. D")):
        text = _renumber(text, old, new)
    text = _renumber(_renumber(text, "- 4. R", "- 6. R"), "- 5. DEMANDE** au", "- 7. DEMANDE** au")
    message = _error(_write(tmp_path, text))
    assert "paragraphs 1, 2 are missing" in message


def test_paragraph_out_of_order(tmp_path: Path) -> None:
    text = _renumber(_renumber(_seed(SEED_000), "- 2. ", "- 3. "), "- 3. D", "- 2. D")
    assert "paragraph 2 (line" in _error(_write(tmp_path, text))


def test_duplicated_section_letter(tmp_path: Path) -> None:
    text = _seed(SEED_004).replace("B) Dans les domaines", "A) Dans les domaines")
    assert "section A appears twice" in _error(_write(tmp_path, text))


def test_missing_symbol_can_be_given() -> None:
    text = "Le Conseil, réuni en sa session ordinaire à Djeddah les 1-2 mai 2024 ;\n\n"
    text += "1. DEMANDE aux États membres de répondre.\n"
    with pytest.raises(ResolutionParseError, match="no resolution symbol"):
        parse_resolution(text)
    parsed = parse_resolution(text, symbol="X/1")
    assert parsed.symbol == "X/1"
    assert parsed.paragraph(1).addressees == ("MS",)


# --- hostile lines: a clear result, quickly ------------------------------------------------

HOSTILE_LINES = [
    pytest.param("a" * 3_000_000, id="3 MB of one word"),
    pytest.param("*" * 1_000_000 + "^{" * 500_000, id="markup residue"),
    pytest.param("1. " + "^e" * 500_000, id="superscripts"),
    pytest.param("1. APPELLE " + "à les " * 300_000, id="pronoun chain"),
    pytest.param("1. DEMANDE " + "aux États membres et " * 100_000, id="long addressee list"),
    pytest.param("1. INVITE " + "les ministères des " * 100_000 + ".", id="bounded gap"),
    pytest.param("- " * 1_000_000 + "1. DEMANDE x", id="list markers"),
    pytest.param("A) " * 500_000 + "\n1. NOTE", id="headings"),
    pytest.param("1. SALUE " + "et les " * 300_000 + "appelle à", id="embedded request"),
    pytest.param("1. DEMANDE " + "; et EXHORTE les États membres " * 50_000, id="many verbs"),
    pytest.param("1. يطلب " + "؛ ويحث الدول الأعضاء " * 30_000, id="many Arabic verbs"),
    pytest.param("1. DEMANDE aux\n" + "États membres et\n" * 200_000, id="many lines"),
    pytest.param("1. DEMANDE x.\n" + "\nUne phrase.\n" * 100_000 + "\n2. NOTE y.", id="strays"),
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("line", HOSTILE_LINES)
def test_hostile_lines_end_quickly(line: str) -> None:
    text = "OIC/X/2024/RES/FINAL\n\n" + line + "\n"
    started = time.process_time()  # CPU: under load the wall clock measures the wait
    try:
        parsed = parse_resolution(text)
    except ResolutionParseError as error:
        assert str(error)
    else:
        assert parsed.paragraphs
        assert all("*" not in p.text for p in parsed.paragraphs)
    assert time.process_time() - started < 20


def test_error_message_stays_short_for_a_garbled_file() -> None:
    text = "OIC/X/2024/RES/FINAL\n\n" + "\n".join(
        f"{i % 999 + 1}. DEMANDE x" for i in range(50_000)
    )
    with pytest.raises(ResolutionParseError) as caught:
        parse_resolution(text)
    message = str(caught.value)
    assert "paragraph 1 appears 51 times (lines 3, 1002, 2001, 3000, 3999, ...)" in message
    assert "more problems" in message
    assert len(message) < 2000
    assert len(caught.value.problems) == 999
