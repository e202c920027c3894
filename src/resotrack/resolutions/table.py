"""A resolution typed as a table: for texts that no parser can read (a scan, an odd layout).

One row per operative paragraph, with a header row naming the columns (in any order, any
case): ``number``, ``text`` (required), ``section``, ``verbs`` (``|``-separated) and
``addressees`` (comma-separated codes: MS, SG, ORG, GRP, INTL, ALL, NONE). What the table
leaves empty the parser finds in the paragraph's text. The symbol comes from ``--symbol``
(a table has no header page); the language is read from the texts unless given.
All rows are checked before anything is returned, and every problem names its row.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final

from resotrack.catalog import N_
from resotrack.resolutions import lexicon
from resotrack.resolutions.errors import Phrase, Phrases, ResolutionParseError
from resotrack.resolutions.model import (
    ADDRESSEE_CODES,
    Language,
    ParsedAction,
    ParsedParagraph,
    ParsedResolution,
    ParsedSection,
)
from resotrack.resolutions.parser import analyse_paragraph, detect_language

COLUMNS: Final = ("number", "section", "text", "verbs", "addressees")
REQUIRED: Final = ("number", "text")
TABLE_SUFFIXES: Final = (".csv", ".xlsx")
_ALIASES: Final = {
    "paragraph": "number",
    "no": "number",
    "n°": "number",
    "numero": "number",
    "رقم": "number",
    "texte": "text",
    "النص": "text",
    "verbes": "verbs",
    "destinataires": "addressees",
}


@dataclass(frozen=True)
class TableImport:
    parsed: ParsedResolution
    source_text: str


def is_table(path: Path, head: bytes) -> bool:
    """A paragraph table: a .csv file, or any Excel workbook (decided by its content)."""
    if head.startswith(b"PK\x03\x04"):
        return path.suffix.lower() == ".xlsx" or b"xl/" in head[:2000]
    return path.suffix.lower() == ".csv"


def read_table(
    path: Path,
    *,
    symbol: str | None,
    language: Language | None = None,
    title: str | None = None,
    adopted_on: date | None = None,
) -> TableImport:
    """Read and check a paragraph table; raises ``ResolutionParseError`` naming every bad row."""
    name = path.name
    if not symbol:
        raise ResolutionParseError(
            "a paragraph table has no header page to read the symbol from: give it with "
            "--symbol (for example: resotrack resolutions import {name} --symbol 1/49-POL).",
            source=name,
            name=name,
        )
    rows = _rows(path)
    if not rows:
        raise ResolutionParseError("the table is empty.", source=name)
    header = [_column(cell) for cell in rows[0]]
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise ResolutionParseError(
            "the first row must name the columns; missing: {missing} (found: {found}). "
            "Expected: {expected} (number and text required).",
            source=name,
            missing=", ".join(missing),
            found=", ".join(str(c) for c in rows[0]) or "-",
            expected=", ".join(COLUMNS),
        )
    at = {column: header.index(column) for column in COLUMNS if column in header}
    records: list[tuple[int, int, str | None, str, str, str]] = []
    problems: list[str] = []
    for line, row in enumerate(rows[1:], start=2):
        cells = [str(cell).strip() if cell is not None else "" for cell in row]
        cells += [""] * (len(header) - len(cells))
        if not any(cells):
            continue
        raw_number = cells[at["number"]]
        try:
            number = int(float(raw_number.translate(_ARABIC_DIGITS)))
        except ValueError:
            problems.append(
                Phrase(
                    N_("row {row}: the number {value} is not a number"),
                    row=line,
                    value=repr(raw_number),
                )
            )
            continue
        text = " ".join(cells[at["text"]].split())
        if not text:
            problems.append(
                Phrase(N_("row {row}: paragraph {number} has no text"), row=line, number=number)
            )
            continue
        section = cells[at["section"]] if "section" in at else ""
        verbs = cells[at["verbs"]] if "verbs" in at else ""
        addressees = cells[at["addressees"]] if "addressees" in at else ""
        unknown = [c for c in _codes(addressees) if c not in ADDRESSEE_CODES]
        if unknown:
            problems.append(
                Phrase(
                    N_("row {row}: unknown addressee {codes} (use {known})"),
                    row=line,
                    codes=", ".join(unknown),
                    known=", ".join(ADDRESSEE_CODES),
                )
            )
            continue
        records.append((line, number, section or None, text, verbs, addressees))
    numbers = [record[1] for record in records]
    for number in sorted({n for n in numbers if numbers.count(n) > 1}):
        rows_of = [str(r[0]) for r in records if r[1] == number]
        problems.append(
            Phrase(
                N_("paragraph {number} is on rows {rows}"), number=number, rows=", ".join(rows_of)
            )
        )
    if numbers:
        gaps = sorted(set(range(1, max(numbers) + 1)) - set(numbers))
        if gaps:
            listed = ", ".join(map(str, gaps[:20]))
            problems.append(Phrase(N_("paragraphs missing: {numbers}"), numbers=listed))
    if not records and not problems:
        problems.append(Phrase(N_("the table has a header row but no paragraph rows")))
    if problems:
        raise ResolutionParseError(
            "the paragraph table was not imported: {findings}.",
            problems=tuple(problems),
            source=name,
            findings=Phrases(problems[:20]),
        )
    records.sort(key=lambda record: record[1])
    lang = language or detect_language(" ".join(record[3] for record in records))
    paragraphs = tuple(
        ParsedParagraph(number, section, text, _actions(text, verbs, addressees, lang))
        for _, number, section, text, verbs, addressees in records
    )
    sections = tuple(
        ParsedSection(letter, "")
        for letter in dict.fromkeys(p.section for p in paragraphs if p.section)
    )
    source_text = "\n".join(
        "\t".join((str(number), section or "", text, verbs, addressees))
        for _, number, section, text, verbs, addressees in records
    )
    parsed = ParsedResolution(
        symbol=symbol.strip(),
        title=(title or "").strip(),
        language=lang,
        body=None,
        session=None,
        place=None,
        adopted_gregorian=adopted_on.isoformat() if adopted_on else None,
        adopted_on=adopted_on,
        adopted_hijri=None,
        preamble=(),
        sections=sections,
        paragraphs=paragraphs,
        text_sha256=hashlib.sha256(source_text.encode("utf-8")).hexdigest(),
    )
    return TableImport(parsed, source_text)


_ARABIC_DIGITS: Final = str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789")


def _column(cell: object) -> str:
    name = lexicon.fold(str(cell or "").strip())
    return _ALIASES.get(name, name)


def _codes(value: str) -> list[str]:
    return [c.strip().upper() for c in value.replace(";", ",").split(",") if c.strip()]


def _actions(
    text: str, verbs: str, addressees: str, language: Language
) -> tuple[ParsedAction, ...]:
    """The table's verbs and addressees win; what it leaves empty comes from the text."""
    if verbs.strip():
        found = tuple(
            ParsedAction(
                verb=verb.strip(),
                modifier=None,
                action=lexicon.canonical_action(verb.strip()),
                addressees=(),
            )
            for verb in verbs.split("|")
            if verb.strip()
        )
        analysed = analyse_paragraph(text, language)
        if len(analysed) == len(found):  # same verbs: keep what the parser read about them
            found = tuple(
                ParsedAction(f.verb, a.modifier, f.action, a.addressees, a.institutions)
                for f, a in zip(found, analysed, strict=True)
            )
    else:
        found = analyse_paragraph(text, language)
    codes = tuple(_codes(addressees))
    if codes:
        if not found:
            return (ParsedAction("", None, "other", codes),)
        return tuple(
            ParsedAction(a.verb, a.modifier, a.action, codes, a.institutions) for a in found
        )
    return found


def _rows(path: Path) -> list[list[object]]:
    try:
        head = path.read_bytes()[:8]
    except OSError as exc:
        raise ResolutionParseError(
            "cannot read the file ({reason}).", source=path.name, reason=exc.strerror or str(exc)
        ) from exc
    if head.startswith(b"PK\x03\x04"):
        from python_calamine import CalamineWorkbook

        try:
            book = CalamineWorkbook.from_path(str(path))
            return [list(row) for row in book.get_sheet_by_index(0).to_python()]
        except Exception as exc:
            raise ResolutionParseError(
                "this workbook cannot be read ({reason}). Save it again as .xlsx or .csv.",
                source=path.name,
                reason=str(exc),
            ) from None
    try:
        text = path.read_text("utf-8-sig")
    except UnicodeDecodeError:
        raise ResolutionParseError(
            "the table is not UTF-8 text. Save it as 'CSV UTF-8' (Excel: Save as > CSV "
            "UTF-8) and import that copy.",
            source=path.name,
        ) from None
    dialect: type[csv.Dialect] | csv.Dialect = csv.excel
    with contextlib.suppress(csv.Error):
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    return [list(row) for row in csv.reader(io.StringIO(text), dialect)]
