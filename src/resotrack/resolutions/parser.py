"""Turn the text of a resolution into a ``ParsedResolution``: pure functions, no I/O but the read.

The input is what PDF-to-Markdown conversion gives: bold markers around the wrong words,
list dashes before paragraph numbers, superscripts as ``^{ème}``, paragraphs cut by page
breaks. The parser works in four passes, each simple enough to check by eye:

1. *normalise* the text (line ends, Unicode) and *clean* each line of markup;
2. *split* it into header (symbol, title, place, dates), preamble and operative part,
   re-joining lines that a page break separated;
3. find each paragraph's *verbs*: words printed in capitals that the lexicon knows;
4. for each verb, read its *addressees* from the words right after it (the verb's object),
   ignoring partners ("en coordination avec ...") and what comes after the infinitive.

Regular expressions are anchored or bounded so that no input makes them backtrack for long.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Final, Literal

from resotrack.catalog import N_
from resotrack.resolutions import lexicon
from resotrack.resolutions.clean import clean_characters
from resotrack.resolutions.errors import Phrase, Phrases, ResolutionParseError
from resotrack.resolutions.model import (
    CONCRETE_ADDRESSEES,
    Language,
    ParsedAction,
    ParsedParagraph,
    ParsedResolution,
    ParsedSection,
)

DEFAULT_MAX_BYTES: Final = 5 * 1024 * 1024

# ============================================================================================
# Entry points
# ============================================================================================


def decode_text(data: bytes, *, source: str = "the file") -> str:
    """Strict UTF-8 (a BOM is allowed); anything else gets a message saying how to fix it."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ResolutionParseError(
            "the file is UTF-16 text, not UTF-8. Save it again as UTF-8 "
            "(Save as... > Encoding: UTF-8) and import that copy.",
            source=source,
        )
    kind = _binary_kind(data)
    if kind:
        raise ResolutionParseError(
            "this is {kind}, not a text file. Export or convert the resolution to plain "
            "text (UTF-8) first.",
            source=source,
            kind=Phrase(kind),
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start]
        try:
            data.decode("cp1252")
        except UnicodeDecodeError:
            raise ResolutionParseError(
                "the file is not UTF-8 text: byte 0x{byte} on line {line} is not valid "
                "UTF-8; it looks like another encoding. Save the file again as UTF-8 (in most "
                "editors: Save as... > Encoding: UTF-8), then import the copy.",
                source=source,
                byte=f"{bad:02X}",
                line=line,
            ) from None
        raise ResolutionParseError(
            "the file is not UTF-8 text: byte 0x{byte} on line {line} is not valid "
            "UTF-8; it looks like Windows-1252 (Latin-1). Save the file again as UTF-8 (in most "
            "editors: Save as... > Encoding: UTF-8), or convert it with "
            "'iconv -f CP1252 -t UTF-8 {file} > converted.txt', then import the copy.",
            source=source,
            file=source,
            byte=f"{bad:02X}",
            line=line,
        ) from None


def parse_resolution(
    text: str,
    *,
    symbol: str | None = None,
    max_chars: int = DEFAULT_MAX_BYTES,
    language: Language | None = None,
    title: str | None = None,
    adopted_on: date | None = None,
    where: Callable[[int], str] | None = None,
    fallback_date: tuple[str | None, date | None, str | None] | None = None,
    require_symbol: bool = True,
    cleaned: bool = False,
) -> ParsedResolution:
    """Parse the text of one resolution (French, English or Arabic).

    ``symbol``, ``language``, ``title`` and ``adopted_on`` override what the text says (the
    symbol is required when the header names none). ``where`` turns a line number of ``text``
    into a place in the user's file ("page 3, line 112"); ``fallback_date`` is the session's
    date (printed, day, Hijri) for a resolution of a session document that prints none.
    Raises ``ResolutionParseError`` with a plain-language message when the text is empty,
    binary, has no operative paragraphs, or its numbering is broken.
    """
    if len(text) > max_chars:
        raise _too_big(len(text), max_chars, unit="characters")
    if "\x00" in text:
        raise ResolutionParseError(
            "the text contains NUL characters: it is a binary file, not text. Export the "
            "resolution as plain text (UTF-8) first."
        )
    text = normalise_text(text if cleaned else clean_characters(text))
    if not text.strip():
        raise ResolutionParseError("the file is empty (it has no text, only blank space).")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    locate = where or (lambda line: Phrase(N_("line {line}"), line=line))
    lines = [clean_line(line) for line in text.split("\n")]
    if not any(paragraph_start(line) for line in lines):
        lines = _break_inline_paragraphs(lines)
    language = language or detect_language(text)
    layout = _split(lines, language, locate)
    preamble = _preamble(lines[layout.preamble : layout.operative], layout.furniture)
    operative = _operative(lines, layout, language, locate)
    header = _read_header(lines[: layout.preamble], preamble)
    resolution_symbol = (symbol or header.symbol or _trailer_symbol(operative.stray) or "").strip()
    if not resolution_symbol and require_symbol:
        raise ResolutionParseError(
            "no resolution symbol was found in the header (lines 1-"
            "{last}, before the preamble): expected a line such as "
            "'RESOLUTION NO. 1/49-POL', 'القرار رقم 6/39' or 'A/RES/78/123'. Add it to the "
            "text, or give it with --symbol (for example: resotrack resolutions import "
            "FILE --symbol 1/49-POL).",
            last=max(layout.preamble, 1),
        )
    gregorian, day, hijri = header.gregorian, header.adopted_on, header.hijri
    if day is None:
        closing = _trailer_date(operative.stray)
        if closing:
            gregorian, day = closing
    if gregorian is None and day is None and hijri is None and fallback_date:
        gregorian, day, hijri = fallback_date
    if adopted_on is not None:
        gregorian, day = gregorian or adopted_on.isoformat(), adopted_on
    paragraphs = tuple(
        ParsedParagraph(
            number=unit.number,
            section=unit.section,
            text=text,
            actions=analyse_paragraph(text, language),
        )
        for unit in operative.paragraphs
        for text in (unit.text,)
    )
    return ParsedResolution(
        symbol=resolution_symbol,
        title=(title or header.title).strip(),
        language=language,
        body=header.body,
        session=header.session,
        place=header.place,
        adopted_gregorian=gregorian,
        adopted_on=day,
        adopted_hijri=hijri,
        preamble=tuple(preamble),
        sections=operative.sections,
        paragraphs=paragraphs,
        text_sha256=digest,
        document_symbol=header.document_symbol,
        stray_text=operative.stray,
    )


def _too_big(
    size: int, limit: int, unit: str = "bytes", source: str | None = None
) -> ResolutionParseError:
    if unit == "bytes":
        return ResolutionParseError(
            "the file is {size}, more than the {limit} accepted for a resolution text. Is it "
            "the right file (a resolution is usually well under 1 MB of text)?",
            source=source,
            size=_human_size(size),
            limit=_human_size(limit),
        )
    return ResolutionParseError(
        "the text has {size} characters, more than the {limit} accepted for a resolution.",
        source=source,
        size=f"{size:,}",
        limit=f"{limit:,}",
    )


def _human_size(size: int) -> str:
    """``52428800`` → ``50 MB``, ``1500`` → ``1.5 KB``."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


_BINARY_MAGIC: Final = (
    (b"%PDF", N_("a PDF document")),
    (b"PK\x03\x04", N_("a zipped document (Word .docx, Excel .xlsx or a zip archive)")),
    (b"\xd0\xcf\x11\xe0", N_("an old-style Word or Excel document")),
    (b"{\\rtf", N_("an RTF document")),
)


def _binary_kind(data: bytes) -> str | None:
    for magic, kind in _BINARY_MAGIC:
        if data.startswith(magic):
            return kind
    if b"\x00" in data:
        return N_("a binary file (it contains NUL bytes)")
    return None


# ============================================================================================
# Pass 1: normalise the text, clean each line
# ============================================================================================

_LINE_BREAKS: Final = str.maketrans({c: "\n" for c in "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"})
_CONTROL: Final = re.compile(r"[\x01-\x08\x0e-\x1f\x7f]")
_ODD_BREAKS: Final = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def normalise_text(text: str) -> str:
    """The canonical form hashed into ``text_sha256``: NFC, ``\\n`` line ends, no BOM,
    no trailing spaces, no leading or trailing blank lines (cosmetic changes in a re-export
    must not look like a new version of the resolution)."""
    text = text.replace("\ufeff", "").replace("\r\n", "\n").replace("\r", "\n")
    if _ODD_BREAKS.search(text):
        text = text.translate(_LINE_BREAKS)
    if _CONTROL.search(text):
        text = _CONTROL.sub(" ", text)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


_SUPERSCRIPT_BRACED: Final = re.compile(r"\^\{([^{}\n]{0,16})\}")
_SUPERSCRIPT_BARE: Final = re.compile(r"\^([^\W\d_]{1,4})")
_HTML_SUP: Final = re.compile(r"</?su[pb]>", re.IGNORECASE)
_STAR_BETWEEN_WORDS: Final = re.compile(r"(?<=\w)\*+(?=\w)")


def clean_line(line: str) -> str:
    """One line without Markdown residue: ``47^{ème}`` → ``47ème``, ``XXI^e`` → ``XXIe``,
    ``**`` and ``*`` emphasis removed (asterisks carry no meaning in these texts, and the
    converter puts them around the wrong words), whitespace collapsed."""
    if "^" in line:
        line = _SUPERSCRIPT_BARE.sub(r"\1", _SUPERSCRIPT_BRACED.sub(r"\1", line))
    if "<" in line:
        line = _HTML_SUP.sub("", line)
    if "*" in line:
        line = _STAR_BETWEEN_WORDS.sub(" ", line).replace("*", "")
    return " ".join(line.split())


_FR_WORDS: Final = frozenset(("les", "des", "du", "et", "la", "le", "aux", "dans", "pour", "sur"))
_EN_WORDS: Final = frozenset(("the", "of", "and", "to", "in", "for", "on", "with", "its", "that"))
_WORD_SCAN: Final = re.compile(r"[^\W\d_]+")
_ARABIC_LETTER: Final = re.compile(r"[\u0621-\u064a]")


def detect_language(text: str) -> Language:
    """Arabic if most letters are Arabic, else French or English by their commonest words."""
    sample = text[:20_000]
    words = _WORD_SCAN.findall(sample)
    letters = sum(map(len, words))
    arabic = len(_ARABIC_LETTER.findall(sample))
    if letters and arabic * 2 > letters:
        return "ar"
    lowered = [word.lower() for word in words]
    french = sum(1 for word in lowered if word in _FR_WORDS)
    english = sum(1 for word in lowered if word in _EN_WORDS)
    return "en" if english > french else "fr"


# ============================================================================================
# Pass 2: header | preamble | operative part, and re-joining broken lines
# ============================================================================================

_ARABIC_DIGITS: Final = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_PARA_START: Final = re.compile(
    r"(?:[-–—•▪·]\s*)?(?:\((\d{1,3})\)|(\d{1,3})\s*([.)]|-(?=\s|$)))\s*"
)
_HEADING: Final = re.compile(r"(?:[-–—•]\s*)?([A-Z]|[IVX]{2,4}|هـ|[أبجدهوزحطي])\s*[.):\-]\s+")
_FURNITURE: Final = re.compile(
    r"(?:[-–—]\s*)?(?:page\s+)?\d{1,4}(?:\s*(?:/|sur|of|de|من)\s*\d{1,4})?(?:\s*[-–—])?",
    re.IGNORECASE,
)
_TERMINAL: Final = (".", ";", ":", "!", "?", "؛", "۔")
_CONTINUATION_START: Final = tuple("([,;)-–•▪·")


def paragraph_start(line: str) -> tuple[int, str] | None:
    """``(number, rest)`` if the line opens a numbered paragraph (``- 30. INVITE``, ``3. X``).

    The text after the number must start with a capital (or be empty, or non-Latin), so a
    date such as ``16-17 mars`` or a year is never taken for a paragraph.
    """
    found = _paragraph_marker(line)
    return (found[0], found[1]) if found else None


def _paragraph_marker(line: str) -> tuple[int, str, str] | None:
    """``(number, rest, style)``; ``style`` is how the number is printed: ``.``, ``)``,
    ``-`` or ``()``, so a list numbered inside a paragraph can be told from the paragraphs."""
    head = line[:16]
    if not head[:1].isdigit() and not (head[:1] in "(-–—•▪·" and any(c.isdigit() for c in head)):
        return None
    match = _PARA_START.match(head.translate(_ARABIC_DIGITS) + line[16:20])
    if not match:
        return None
    rest = line[match.end() :]
    if rest and not (rest[0].isalpha() and not rest[0].islower()) and rest[0] not in "«\"“'":
        return None
    number = int(match.group(1) or match.group(2))
    style = "()" if match.group(1) else match.group(3)
    return (number, rest, style) if number > 0 else None


def section_heading(line: str) -> tuple[str, str] | None:
    """``(letter, title)`` for a lettered heading such as ``A) Dans le domaine ... :``."""
    match = _HEADING.match(line)
    if not match:
        return None
    title = line[match.end() :].strip()
    if not title or not (title[0].isalpha() and not title[0].islower()):
        return None
    return match.group(1), title.rstrip(" :").strip()


def _continues(previous: str, line: str) -> bool:
    """Whether ``line`` carries on the text before it rather than starting a new block.

    A page break leaves a sentence cut mid-way: the next part starts in lower case ("...
    ainsi qu'à / éliminer ...") or the previous part has no closing punctuation ("... sur
    le / Développement social ...").
    """
    if not previous:
        return True
    first = line[0]
    if first.islower() or line.startswith(_CONTINUATION_START):
        return True
    return not previous.endswith(_TERMINAL)


def _join(parts: list[str]) -> str:
    """Join line fragments; a word hyphenated at a line end ("socio-" / "économique") is
    glued back without a space."""
    pieces: list[str] = []
    for part in parts:
        if pieces and not _hyphenated(pieces[-1], part):
            pieces.append(" ")
        pieces.append(part)
    return "".join(pieces)


def _hyphenated(previous: str, part: str) -> bool:
    return previous.endswith("-") and previous[-2:-1].isalpha() and part[:1].islower()


@dataclass(frozen=True, slots=True)
class _Layout:
    preamble: int  # first line of the preamble
    operative: int  # first line of the operative part
    furniture: frozenset[str]  # repeated page headers/footers to skip
    unnumbered: bool = False  # operative items after a "Decides:" line, without numbers


def _split(lines: list[str], language: Language, locate: Callable[[int], str]) -> _Layout:
    """Find where the preamble and the operative part begin."""
    first_paragraph = next((i for i, line in enumerate(lines) if paragraph_start(line)), None)
    unnumbered = False
    if first_paragraph is None:
        decides = next((i for i, line in enumerate(lines) if _opens_decision_list(line)), None)
        if decides is None:
            verb_first = _first_operative_clause(lines)
            if verb_first is not None:
                decides = verb_first - 1
        if decides is None or not any(lines[decides + 1 :]):
            last = len(lines)
            raise ResolutionParseError(
                "no numbered operative paragraphs were found (read from "
                "{start} to {end}): expected numbered lines such as "
                "'1. Requests ...', '1- يطلب ...', '(1) DEMANDE ...', or unnumbered items "
                "after a line 'Decides:' / 'Décide :' / 'يقرر ما يلي'. Is this the full text of "
                "a resolution? If the text was read in the wrong language, give --language; a "
                "text no parser can read can be imported as a paragraph table "
                "(resotrack resolutions import paragraphs.xlsx).",
                start=locate(1),
                end=locate(last),
            )
        first_paragraph = decides + 1
        unnumbered = True
    operative = first_paragraph
    filled = [i for i in range(operative - 1, max(operative - 5, -1), -1) if lines[i]]
    for k, i in enumerate(filled[:3]):
        # A heading just above the first paragraph, possibly wrapped over a few lines.
        if section_heading(lines[i]) and not any(
            lines[j].endswith(_TERMINAL) for j in [i, *filled[:k]][:-1] if k
        ):
            operative = i
            break
    preamble = next(
        (i for i in range(operative) if _opens_preamble(lines[i])),
        operative,
    )
    counts: dict[str, int] = {}
    for line in lines[preamble:]:
        if line and len(line) <= 80:
            counts[line] = counts.get(line, 0) + 1
    repeated = frozenset(
        line
        for line, count in counts.items()
        if count >= 3 and not paragraph_start(line) and not section_heading(line)
    )
    return _Layout(preamble, operative, repeated, unnumbered)


_BODY_OPENING: Final = re.compile(
    r"(?:ان|the|le|la|les|l')\s?(?:[^\W\d_][\w'-]*\s+){0,12}?"
    r"(?:council|assembly|conference|summit|ministers|committee|conseil|assemblee|conference"
    r"|sommet|ministres|comite|مجلس|مؤتمر|المؤتمر|الجمعيه|القمه|اللجنه|وزراء)(?!\w)"
)


def _opens_recital(line: str) -> bool:
    """A line that starts a recital of the preamble ("Recalling ...", "إذ يشير ...") or
    an operative clause, so the opening sentence before it is complete."""
    folded = lexicon.fold(line[:40])
    return (
        folded.startswith(lexicon.PREAMBLE_OPENERS)
        or paragraph_start(line) is not None
        or starts_with_verb(line)
    )


def _opens_preamble(line: str) -> bool:
    """The opening sentence of the preamble: a long line ending like a clause (; : ,), or
    the adopting body naming itself ("The General Assembly,", "إن مجلس الجامعة،", "The
    Council of Foreign Ministers ... meeting in ..." wrapped over several lines)."""
    if line.endswith((";", ":", ",", "؛", "،")) and len(line.split()) >= 8:
        return True
    folded = lexicon.fold(line[:200])
    if not _BODY_OPENING.match(folded):
        return False
    return line.endswith((",", "،")) or bool(_BODY_END.search(folded))


_NUMBER_ALONE: Final = re.compile(r"\(?\d{1,3}\s*[-.)]")


def _is_furniture(line: str, repeated: frozenset[str]) -> bool:
    """A running header or a page number; a paragraph number alone ("1 -") is neither."""
    if line in repeated:
        return True
    return bool(_FURNITURE.fullmatch(line)) and not _NUMBER_ALONE.fullmatch(line)


def _preamble(lines: list[str], repeated: frozenset[str]) -> list[str]:
    """Preamble lines into paragraphs, re-joining what page breaks cut.

    The opening sentence ("The Council ..., meeting in ...,") was found whole on one line, so
    it stands alone even though it may end with a comma.
    """
    if not lines:
        return []
    opening = [lines[0]]
    rest = 1
    while (
        rest < len(lines)
        and lines[rest]
        and (
            not opening[-1].endswith((";", ":", ".", "؛"))
            or lines[rest][0].islower()
            or lines[rest][0] in "(0123456789"
        )
        and not (opening[-1].endswith((",", "،")) and _opens_recital(lines[rest]))
        and len(opening) < 6
    ):
        opening.append(lines[rest])  # the opening sentence wrapped over several lines
        rest += 1
    blocks: list[list[str]] = [opening, []]
    for line in lines[rest:]:
        if not line or _is_furniture(line, repeated):
            continue
        if not blocks[-1] or _continues(blocks[-1][-1], line):
            blocks[-1].append(line)
        else:
            blocks.append([line])
    return [_join(block) for block in blocks if block]


@dataclass(slots=True)
class _Unit:
    kind: Literal["paragraph", "heading", "stray"]
    line: int  # 1-based, for messages
    parts: list[str] = field(default_factory=list)
    number: int = 0
    letter: str = ""
    section: str | None = None

    @property
    def text(self) -> str:
        return _join(self.parts)

    @property
    def last(self) -> str:
        return self.parts[-1] if self.parts else ""


@dataclass(frozen=True, slots=True)
class _Operative:
    paragraphs: tuple[_Unit, ...]
    sections: tuple[ParsedSection, ...]
    stray: tuple[str, ...]


def _operative(
    lines: list[str], layout: _Layout, language: Language, locate: Callable[[int], str]
) -> _Operative:
    """Group the operative lines into headings and numbered paragraphs, then check them.

    A list inside a paragraph ("... as follows:" then ``1.`` ``2.``, or ``(a)``, ``أ)``) stays
    in that paragraph: its numbering restarts at 1 after a colon, or is printed another way
    than the paragraphs' own numbers.
    """
    if layout.unnumbered:
        return _unnumbered(lines, layout)
    units: list[_Unit] = []
    section: str | None = None
    top = 0  # the last paragraph number
    top_style = ""
    inner = 0  # the last number of a list inside the current paragraph (0: none)
    inner_style = ""
    letters = False  # a lettered list is open inside the current paragraph
    for index in range(layout.operative, len(lines)):
        line = lines[index]
        if not line or _is_furniture(line, layout.furniture):
            continue
        current = units[-1] if units else None
        in_paragraph = current is not None and current.kind in ("paragraph", "stray")
        marker = _paragraph_marker(line)
        if marker:
            number, rest, style = marker
            nested = False
            if in_paragraph and current is not None:
                if inner and number == inner + 1:
                    nested = number != top + 1 or _prefers_list(
                        style, top_style, inner_style, rest, language
                    )
                elif (
                    number == 1
                    and top >= 1
                    and (current.last.endswith((":", "：")) or style != top_style)
                ):
                    nested = True
            if nested and current is not None:
                current.parts.append(line)
                inner, inner_style = number, style
                continue
            parts = [rest] if rest else []
            units.append(_Unit("paragraph", index + 1, parts, number=number, section=section))
            top, top_style, inner, letters = number, style, 0, False
            continue
        if current is not None and _is_trailer(line):
            units.append(_Unit("stray", index + 1, [line]))  # the adoption line, and after
            continue
        heading = section_heading(line)
        if (
            heading
            and in_paragraph
            and current is not None
            and (letters or current.last.endswith((":", "：")))
        ):
            current.parts.append(line)
            letters = True
            continue
        if heading:
            section = heading[0]
            units.append(_Unit("heading", index + 1, [heading[1]], letter=section))
            inner, letters = 0, False
            continue
        if current is None:
            continue
        if (current.kind == "stray" and not _is_trailer(current.parts[0])) or _continues(
            current.last, line
        ):
            current.parts.append(line)
        else:
            units.append(_Unit("stray", index + 1, [line]))
    # A stray block between two paragraphs is the rest of the one before it (a new sentence
    # after a page break); after the last paragraph it is a trailer (typist code, signature).
    last = max((i for i, unit in enumerate(units) if unit.kind != "stray"), default=-1)
    if not any(unit.kind == "paragraph" for unit in units):
        raise ResolutionParseError(
            "no numbered operative paragraphs were found after "
            "{place}: the lines there are headings only. Check the text, "
            "or import the paragraphs as a table (resotrack resolutions import paragraphs.xlsx).",
            place=locate(layout.operative + 1),
        )
    kept: list[_Unit] = []
    for unit in units[: last + 1]:
        if unit.kind == "stray":
            kept[-1].parts.extend(unit.parts)
        else:
            kept.append(unit)
    stray = tuple(unit.text for unit in units[last + 1 :])
    paragraphs = tuple(unit for unit in kept if unit.kind == "paragraph")
    headings = [unit for unit in kept if unit.kind == "heading"]
    _check_numbering(paragraphs, headings, locate)
    sections = tuple(
        ParsedSection(unit.letter, unit.text.rstrip(" :").strip()) for unit in headings
    )
    return _Operative(paragraphs, sections, stray)


def _prefers_list(
    style: str, top_style: str, inner_style: str, rest: str, language: Language
) -> bool:
    """A number that could go on the list inside a paragraph or open the next paragraph."""
    if style == inner_style != top_style:
        return True
    if style == top_style != inner_style:
        return False
    return not find_verbs(rest[:200], language)


_DECISION_LIST: Final = re.compile(
    r"(?:(?:the\s+\w+(?:\s+\w+){0,6}\s*,?\s*)?decides?|(?:.{0,80},\s*)?decide|arrete"
    r"|resolves|يقرر|تقرر|قرر|قررت|يوصي|توصي)(?:\s+(?:as\s+follows|ce\s+qui\s+suit|ما\s+يلي"
    r"|the\s+following|الاتي|التالي))?\s*[:：]?\s*"
)


def _first_operative_clause(lines: list[str]) -> int | None:
    """The first clause that opens with an operative verb ("Requests ...", "- يدعو ...",
    "Décide ..."), after a blank line, a bullet or a finished sentence."""
    previous = ""
    for index, line in enumerate(lines):
        if not line:
            previous = ""
            continue
        mark = _ITEM_MARK.match(line)
        body = line[mark.end() :] if mark else line
        at_start = not previous or mark is not None or previous.endswith((*_TERMINAL, ",", "،"))
        if at_start and body and not _is_trailer(body) and starts_with_verb(body):
            return index
        previous = line
    return None


def starts_with_verb(text: str) -> bool:
    """Whether a clause opens with an operative verb the lexicon knows (any case, after
    "Also", "كما", a conjunction "و")."""
    if text[:1].isalpha() and text[:1].islower() and not _ARABIC_LETTER.match(text):
        return False
    words = [lexicon.fold(w) for w in _WORD.findall(text[:120])[:8]]
    while words and (words[0] in lexicon.CONJUNCTIONS or lexicon.match_modifier(words)):
        words = words[lexicon.match_modifier(words) or 1 :]
    if not words:
        return False
    if lexicon.match_verb(words) or lexicon.match_verb([w.upper() for w in words]):
        return True
    return bool(words[0].startswith("و") and lexicon.match_verb([words[0][1:], *words[1:]]))


_INLINE_NUMBER: Final = re.compile(r"(?<=[,;:.،؛]\s)(\d{1,3})\.\s+(?=[A-Z\u0621-\u064a])")


def _break_inline_paragraphs(lines: list[str]) -> list[str]:
    """Paragraphs run together on one line by an extraction ("... to operate, 1. Endorses
    ...; 2. Urges ..."): each number of the sequence 1, 2, 3 … starts a line again."""
    cuts: dict[int, list[int]] = {}
    expected = 1
    for index, line in enumerate(lines):
        for match in _INLINE_NUMBER.finditer(line):
            if int(match.group(1)) == expected:
                cuts.setdefault(index, []).append(match.start())
                expected += 1
    if expected <= 2:
        return lines
    out: list[str] = []
    for index, line in enumerate(lines):
        starts = cuts.get(index)
        if not starts:
            out.append(line)
            continue
        bounds = [0, *starts, len(line)]
        out.extend(line[a:b].strip() for a, b in itertools.pairwise(bounds) if a < b)
    return out


def _opens_decision_list(line: str) -> bool:
    """``Decides:``, ``Décide ce qui suit :``, ``يقرر ما يلي:`` alone on their line."""
    return len(line) <= 160 and bool(_DECISION_LIST.fullmatch(lexicon.fold(line)))


_ITEM_MARK: Final = re.compile(r"(?:[-–—•▪·*]|\(?[a-z]\)|\(?[ivx]{1,4}\)|[أبجدهوزحطي][)\-])\s*")
#: Lines after the operative part: the adoption line, the League's closing reference
#: "(ق. رقم 5421 - د.ع (102) - ج 2 - 15/9/1994)", a source note, a page marker "<53>".
_TRAILER: Final = re.compile(
    r"(?:[()]*\s*ق\s*\.?\s*(?:رقم\s*)?/?\s*\d|[()]+\s*\d{3,5}\s*/\s*د|[()]\d{1,2}[()]$|adopted\s+(?:at|by|unanimously|without)|adoptee?s?\s+(?:a|par|sans)"
    r"|\d+(?:st|nd|rd|th)\s+(?:plenary\s+)?meeting|<\d+>$|source\s*:|posted\s+by"
    r"|\d+e\s+seance|الجلسة\s+العامة|اعتمد\w*\s+(?:في|دون|بالاجماع))",
    re.IGNORECASE,
)
_CLOSING_REFERENCE: Final = re.compile(
    r"[()]*\s*(?:ق\s*\.?\s*(?:رقم\s*)?/?\s*(\d{1,5})|(\d{3,5})\s*/\s*د)"
)
_NUMERIC_DATE: Final = re.compile(
    r"(\d{1,2})\s*/\s*(\d{1,2})\s*(?:/\s*|\s)(\d{4})\s*/?\s*[()]*\s*$"
)


def _trailer_symbol(stray: tuple[str, ...]) -> str | None:
    """The League of Arab States' decision number in its closing line."""
    for line in stray:
        match = _CLOSING_REFERENCE.match(lexicon.fold(line.translate(_ARABIC_DIGITS)))
        if match:
            return match.group(1) or match.group(2)
    return None


def _trailer_date(stray: tuple[str, ...]) -> tuple[str, date] | None:
    """The day in the closing line ``(ق. رقم 5521 - ... - 21/9/1995)``."""
    for line in stray:
        folded = line.translate(_ARABIC_DIGITS)
        if not _CLOSING_REFERENCE.match(lexicon.fold(folded)):
            continue
        match = _NUMERIC_DATE.search(folded)
        if match:
            day, month, year = map(int, match.groups())
            try:
                return match.group().strip(" )"), date(year, month, day)
            except ValueError:
                return None
    return None


_TRAILER_FIRST: Final = frozenset("()<>0123456789٠١٢٣٤٥٦٧٨٩aAsSpPقاإأ")


def _is_trailer(line: str) -> bool:
    if not line or line[0] not in _TRAILER_FIRST:
        return False
    return bool(_TRAILER.match(lexicon.fold(line.translate(_ARABIC_DIGITS))))


def _unnumbered(lines: list[str], layout: _Layout) -> _Operative:
    """Operative clauses printed without numbers, numbered 1, 2 … in the order printed.

    A clause starts at a bullet, after a blank line, or after a finished sentence; the
    part ends at the adoption line or the League's closing reference (kept as stray text).
    """
    units: list[_Unit] = []
    stray: list[str] = []
    blank = True
    for index in range(layout.operative, len(lines)):
        line = lines[index]
        if stray or (line and _is_trailer(line)):
            if line:
                stray.append(line)
            continue
        if not line or _is_furniture(line, layout.furniture):
            blank = blank or not line
            continue
        mark = _ITEM_MARK.match(line)
        body = line[mark.end() :] if mark else line
        if not body:
            blank = True
            continue
        opens = (
            not units
            or mark is not None
            or (units[-1].last.endswith((*_TERMINAL, *_OPEN_ENDS)) and starts_with_verb(body))
            or (blank and not units[-1].last.endswith(_OPEN_ENDS))
            or (
                units[-1].last.endswith(_TERMINAL)
                and not blank
                and (starts_with_verb(body) or body[:1].isupper())
            )
        )
        if (
            opens
            and units
            and not mark
            and (
                units[-1].last.endswith((":", "："))
                or (body[0] in '"«“' and any(q in units[-1].text for q in '"«“'))
            )
        ):
            opens = False  # "... الآتية:" then the quoted recommendation, all of it
        if opens:
            units.append(_Unit("paragraph", index + 1, [body], number=len(units) + 1))
        else:
            units[-1].parts.append(body)
        blank = False
    if not units:
        raise ResolutionParseError(
            "no operative paragraphs were found after the line 'Decides:' "
            "(line {line}). Check the text, or import the paragraphs as a table "
            "(resotrack resolutions import paragraphs.xlsx).",
            line=layout.operative,
        )
    return _Operative(tuple(units), (), tuple(stray))


_OPEN_ENDS: Final = (",", "،")


def _check_numbering(
    paragraphs: tuple[_Unit, ...], headings: list[_Unit], locate: Callable[[int], str]
) -> None:
    """Every number from 1 to the last exactly once, in order; every section letter once."""
    problems: list[str] = []
    seen: dict[int, list[int]] = {}
    for unit in paragraphs:
        seen.setdefault(unit.number, []).append(unit.line)
    for number, lines in seen.items():
        if len(lines) > 1:
            places: list[str] = [locate(line) for line in lines[:5]]
            if all(getattr(place, "msgid", "") == "line {line}" for place in places):
                shown_lines = ", ".join(str(line) for line in lines[:5])
                shown_lines += ", ..." if len(lines) > 5 else ""
                places = [Phrase(N_("lines {lines}"), lines=shown_lines)]
            elif len(lines) > 5:
                places.append("...")
            where = Phrases(places)
            if len(lines) == 2:
                problems.append(
                    Phrase(
                        N_("paragraph {number} appears twice ({where})"), number=number, where=where
                    )
                )
            else:
                problems.append(
                    Phrase(
                        N_("paragraph {number} appears {n} time ({where})"),
                        plural="paragraph {number} appears {n} times ({where})",
                        n=len(lines),
                        number=number,
                        where=where,
                    )
                )
    missing = sorted(set(range(1, max(seen) + 1)) - set(seen))
    if missing:
        listed = _ranges(missing)
        problems.append(
            Phrase(N_("paragraph {listed} is missing"), listed=listed)
            if len(missing) == 1
            else Phrase(N_("paragraphs {listed} are missing"), listed=listed)
        )
    highest = 0
    for unit in paragraphs:
        if unit.number < highest and len(seen[unit.number]) == 1:
            problems.append(
                Phrase(
                    N_("paragraph {number} ({place}) comes after paragraph {highest}"),
                    number=unit.number,
                    place=locate(unit.line),
                    highest=highest,
                )
            )
        highest = max(highest, unit.number)
    letters: dict[str, int] = {}
    for unit in headings:
        letters[unit.letter] = letters.get(unit.letter, 0) + 1
    problems += [
        Phrase(N_("section {letter} appears twice"), letter=letter)
        for letter, n in letters.items()
        if n > 1
    ]
    if problems:
        shown = problems[:_MAX_PROBLEMS_SHOWN]
        if len(problems) > len(shown):
            shown.append(
                Phrase(
                    N_("and {n} more problem"),
                    plural="and {n} more problems",
                    n=len(problems) - len(shown),
                )
            )
        raise ResolutionParseError(
            "the paragraph numbering is broken: {findings}. Check the numbers in the text (a "
            "number may be mistyped, or a page missing "
            "from the conversion), correct them and import again; or import the paragraphs as "
            "a table (resotrack resolutions import paragraphs.xlsx).",
            problems=tuple(problems),
            findings=Phrases(shown),
        )


_MAX_PROBLEMS_SHOWN: Final = 10


def _ranges(numbers: list[int]) -> str:
    """``[3, 4, 5, 6, 40, 41]`` → ``"3-6, 40, 41"``: short for long gaps, explicit otherwise."""
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ", ".join(
        f"{run[0]}-{run[-1]}" if len(run) > 3 else ", ".join(map(str, run)) for run in runs
    )


# --------------------------------------------------------------------------------------------
# The header: symbols, title, place, dates, adopting body and session
# --------------------------------------------------------------------------------------------

_DOCUMENT_SYMBOL: Final = re.compile(
    r"[A-Z][A-Z0-9.-]*(?:\s?/\s?[A-Z0-9][A-Za-z0-9.-]*){2,}(?:\s?\([IVXLC]{1,6}\))?"
    r"|[A-Z]{2,6}/Res\.?\s?\d{1,4}\s?\([IVXLC]{1,6}\)"
)
_SECURITY_COUNCIL: Final = re.compile(r"security\s+council|conseil\s+de\s+securite|مجلس\s+الامن")
_GENERAL_ASSEMBLY: Final = re.compile(r"general\s+assembly|assemblee\s+generale|الجمعيه\s+العامه")
_SC_NUMBER: Final = re.compile(
    r"(?:resolution|قرار)[^\d\n]{0,40}?(?<![\d/])(\d{1,4})(?![\d/])(?:\s*\((\d{4})\))?"
)
_YEAR: Final = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_SC_SHORT: Final = re.compile(r"(\d{1,4})\s*\((\d{4})\)\s*\.")
_GA_NUMBER: Final = re.compile(r"(\d{2,3})/(\d{1,4})\s*\.(?:\s|$)")
#: An OIC resolution number: ``1/49-POL``, ``4/ 15- أف``, ``2/5-EX(IS)``, ``6/39``.
_NUMBER: Final = (
    r"([\d٠-٩]{1,3}\s*/\s*[\d٠-٩]{1,4}(?:\s*[-–]\s*(?:[A-Za-z]{1,8}(?:\s*\([A-Za-z]{1,6}\))?"
    r"|[\u0621-\u064a]{1,6}(?![\u0621-\u064a]))|\s*[-–](?!\s*[\w\u0600-\u06ff]))?)"
)
_RESOLUTION_NUMBER: Final = re.compile(
    r"(?:draft\s+)?resolutions?\s*(?:n\s*[°ºo]\.?|no\.?|number|numero|nr\.?|:)?\s*"
    + _NUMBER
    + r"[\s.,;:|*-]*(.*)",
    re.IGNORECASE,
)
_ARABIC_NUMBER: Final = re.compile(
    r"(?:مشروع\s+)?(?:ال)?قرار\s*(?:رقم|الرقم)?\s*[:]?\s*" + _NUMBER + r"[\s.,;:|*-]*(.*)"
)
_LOOSE_NUMBER: Final = re.compile(
    r"(?:ال)?قرار\s*(?:رقم|الرقم)\s*(\d[^\n]{0,40}?)\s*$|resolutions?\s+(?:n\s*[°º]|no\.?|number)"
    r"\s*(\d[^\n]{0,30}?)\s*$"
)
_UN_TITLE: Final = re.compile(r"(\d{1,3}/\d{1,4})\s*\.\s+(\S.*)")
_ADOPTED_ON: Final = re.compile(
    r"(?:adopted|adoptee?s?|approuvee?s?|اعتمد\w*|الصادر\w*)[^.;]{0,300}?(?:on|le|the|في|بتاريخ)\s"
)
_LINKING_WORDS: Final = frozenset({"sur", "on", "on the", "relative a", "concernant", "بشان"})
_MONTHS: Final = {
    **dict.fromkeys(("janvier", "january", "jan"), 1),
    **dict.fromkeys(("fevrier", "february", "feb"), 2),
    **dict.fromkeys(("mars", "march", "mar"), 3),
    **dict.fromkeys(("avril", "april", "apr"), 4),
    **dict.fromkeys(("mai", "may"), 5),
    **dict.fromkeys(("juin", "june", "jun"), 6),
    **dict.fromkeys(("juillet", "july", "jul"), 7),
    **dict.fromkeys(("aout", "august", "aug"), 8),
    **dict.fromkeys(("septembre", "september", "sept", "sep"), 9),
    **dict.fromkeys(("octobre", "october", "oct"), 10),
    **dict.fromkeys(("novembre", "november", "nov"), 11),
    **dict.fromkeys(("decembre", "december", "dec"), 12),
    **lexicon.ARABIC_MONTHS,
}
_MONTH: Final = (
    "(?:"
    + "|".join(re.escape(m).replace(r"\ ", r"\s+") for m in sorted(_MONTHS, key=len, reverse=True))
    + r")\.?"
)
_ORD: Final = r"(?:er|st|nd|rd|th)?"
_DAY_FIRST: Final = (
    rf"\d{{1,2}}{_ORD}(?:\s+{_MONTH})?(?:\s*(?:-|–|et|au|and|to|&|الى|و)\s*\d{{1,2}}{_ORD})?"
    rf"\s+{_MONTH}(?:\s*\({_MONTH}\))?,?\s+\d{{4}}(?:\s*م)?"
)
_MONTH_FIRST: Final = rf"{_MONTH}\s+\d{{1,2}}(?:\s*[-–]\s*\d{{1,2}})?,?\s+\d{{4}}(?:\s*م)?"
_GREGORIAN_LINE: Final = re.compile(
    rf"(?:(?:le|les|du|on|the)\s+)?(?:{_DAY_FIRST}|{_MONTH_FIRST})\s*[.,]?"
)
_GREGORIAN_ANY: Final = re.compile(rf"(?<!\w)(?:{_DAY_FIRST}|{_MONTH_FIRST})(?!\w)")
_LAST_DAY: Final = re.compile(
    rf"(\d{{1,2}}){_ORD}\s+({_MONTH})(?:\s*\((?:{_MONTH})\))?,?\s+(\d{{4}})"
)
_SPACES: Final = re.compile(r"\s+")
_LAST_DAY_MONTH_FIRST: Final = re.compile(
    rf"({_MONTH})\s+(?:\d{{1,2}}\s*[-–]\s*)?(\d{{1,2}}),?\s+(\d{{4}})"
)
_HIJRI_LINE: Final = re.compile(
    r"\d{1,2}(?:\s*[-–]\s*\d{1,2})?\s+[^\W\d_][^\d]{1,30}?\s+1[345]\d\d\s*(?:h|ah|هـ|ه)?\.?"
)
_HIJRI_ANY: Final = re.compile(
    r"\d{1,2}(?:\s*(?:[-–]|إلى|الى|to|au|et|and|و)\s*\d{1,2})?\s+[^\W\d_][^\d()\[\];,]{1,30}?\s+1[345]\d\d"
    r"\s*(?:H|AH|هـ)?(?!\w)",
    re.IGNORECASE,
)
_BODY_END: Final = re.compile(
    r",?\s+(?:reunie?s?|meeting|assembled|held|tenue?s?|lors\s+de|at\s+its|en\s+sa"
    r"|المنعقد\w*)(?!\w)"
)
_SESSION_IN_BODY: Final = re.compile(
    r"(?:en\s+sa|a\s+sa|lors\s+de\s+sa|at\s+its|in\s+its)\s+((?:[\w-]+\s+){0,2}?session"
    r"(?:\s+(?:ordinaire|extraordinaire|ordinary|extraordinary))?)(?!\w)"
)
_SESSION_IN_HEADER: Final = re.compile(r"(\d{1,3}\s*(?:eme|e|er|th|st|nd|rd)?\s+session)(?!\w)")
_ORDINAL_BODY: Final = re.compile(
    r"(?:le|la|l'|the)\s*((?:[\w-]+(?:ieme|eme|th)|premiere?|first|second|third)"
    r"\s+[\w-]+(?:\s+[\w-]+)?)"
)


@dataclass(frozen=True, slots=True)
class _Header:
    symbol: str | None
    document_symbol: str | None
    title: str
    body: str | None
    session: str | None
    place: str | None
    gregorian: str | None
    adopted_on: date | None
    hijri: str | None


def _read_header(lines: list[str], preamble: list[str]) -> _Header:
    """What the title page says; the opening sentence of the preamble fills the gaps."""
    blocks: list[list[str]] = [[]]
    filled = [line for line in lines if line]
    for index, line in enumerate(lines):
        if line and len(filled) > 3 and "" not in lines and _starts_block(line, lines, index):
            blocks.append([])  # a PDF has no blank lines: break where a new item starts
        if line:
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    blocks = [block for block in blocks if block]
    flat = [line for block in blocks for line in block]
    opening = preamble[0] if preamble else ""
    if preamble and not (_is_opening(opening) and _GREGORIAN_ANY.search(lexicon.fold(opening))):
        # a line of another kind came first (a note, a headline): the body's own opening
        # sentence, with its date, may still be among the first paragraphs, before any recital
        for candidate in preamble[1:3]:
            if lexicon.fold(candidate[:40]).startswith(lexicon.PREAMBLE_OPENERS):
                break
            if _is_opening(candidate) and _GREGORIAN_ANY.search(lexicon.fold(candidate)):
                opening = candidate
                break

    document_symbol = next((symbol for symbol in map(_document_symbol, flat) if symbol), None)
    number, title = _numbered_title(blocks)
    if not title:
        title = next((m.group(2).strip() for m in map(_UN_TITLE.fullmatch, flat) if m), "")
    if not title:
        title = next(
            (
                " ".join(block)
                for block in blocks
                if lexicon.fold(block[0]).startswith(("resolution", "قرار", "القرار"))
            ),
            "",
        )
    gregorian, adopted_on, place, hijri = _dates_and_place(flat)
    if gregorian is None:
        gregorian, adopted_on = _adopted_in_header(flat)
    if gregorian is None:
        gregorian, adopted_on = _first_header_date(flat)
    if gregorian is None and preamble and _names_the_resolution(preamble[0]):
        # "قرار مجلس الأمن الدولي رقم 338 في 22 تشرين الأول 1973. تبنى ...": a line that
        # presents the resolution itself, run on to the preamble, dates it
        gregorian, adopted_on = _first_header_date(preamble[:1])
    recital = opening
    if not _is_opening(opening):
        opening = ""  # a preamble line ("Recalling resolution 77/5 of ...") is no date
    if gregorian is None and opening:
        found = _search_original(_GREGORIAN_ANY, opening)
        if found:
            gregorian, adopted_on = found, _last_day(found)
    if hijri is None and opening:
        match = _HIJRI_ANY.search(opening)
        hijri = match.group().strip() if match else None
    body = _body(opening)
    return _Header(
        symbol=number or _un_symbol(flat, recital, adopted_on, document_symbol),
        document_symbol=document_symbol,
        title=_strip_quotes(title),
        body=body,
        session=_session(opening, flat, body),
        place=place,
        gregorian=gregorian,
        adopted_on=adopted_on,
        hijri=hijri,
    )


_BLOCK_OPENERS: Final = (
    "sur le theme",
    "on the theme",
    "under the theme",
    "original",
    "distr",
    "resolution",
    "resolutions",
    "قرار",
    "القرار",
    "الاصل",
)


def _starts_block(line: str, lines: list[str], index: int) -> bool:
    """Whether a header line of a text without blank lines opens a new block."""
    if index == 0:
        return False
    folded = lexicon.fold(line)
    if folded.startswith(_BLOCK_OPENERS) or _document_symbol(line) or _is_date(line):
        return True
    after = lines[index + 1] if index + 1 < len(lines) else ""
    if after and _is_date(after) and len(line.split()) <= 12:
        return True  # the place printed above the date
    before = lines[index - 1]
    return line.isupper() != before.isupper() and len(line) > 12


def _document_symbol(line: str) -> str | None:
    """``A/RES/78/123`` (stray characters after it ignored) on a short header line."""
    match = _DOCUMENT_SYMBOL.search(line)
    if not match or len(line) > 80:
        return None
    before, after = line[: match.start()], line[match.end() :]
    if re.search(r"[a-z]{3}", after) or len(before.split()) > 4:
        return None
    return fix_symbol(match.group().rstrip(".-"))


def _names_the_resolution(line: str) -> bool:
    """A line that starts by naming a resolution ("Resolution 338 (1973) of ...", "قرار مجلس
    الأمن رقم 338 في ..."), not a recital about one."""
    return lexicon.fold(line[:20]).startswith(("resolution", "قرار", "القرار"))


def _first_header_date(lines: list[str]) -> tuple[str | None, date | None]:
    """A date printed in the header ("Résolution du 1er avril 1948", "of 22 October 1973"),
    the issuing date of a UN document ("Distr.: General ...") aside."""
    for line in lines:
        folded = lexicon.fold(line.translate(_ARABIC_DIGITS))
        if "distr" in folded:
            continue
        found = _GREGORIAN_ANY.search(folded)
        if found:
            return line[found.start() : found.end()], _last_day(found.group())
    return None, None


def _un_symbol(
    lines: list[str], opening: str, adopted_on: date | None, document_symbol: str | None
) -> str | None:
    """A UN symbol the text prints only in short: ``80/10.`` in a General Assembly title
    → ``A/RES/80/10``; "Security Council resolution 338 (1973)" → ``S/RES/338 (1973)``."""
    if document_symbol and "/RES" in document_symbol.upper():
        return document_symbol
    folded = [lexicon.fold(line.translate(_ARABIC_DIGITS)) for line in lines]
    body = " ".join([*folded, lexicon.fold(opening[:200])])
    if _GENERAL_ASSEMBLY.search(body):
        for line in folded:
            match = _GA_NUMBER.match(line)
            if match:
                return f"A/RES/{match.group(1)}/{match.group(2)}"
    if _SECURITY_COUNCIL.search(body):
        for line in folded:
            short = _SC_SHORT.match(line)
            if short:
                return f"S/RES/{short.group(1)} ({short.group(2)})"
        for line in folded:
            match = _SC_NUMBER.search(line)
            if not match:
                continue
            year = match.group(2) or (str(adopted_on.year) if adopted_on else None)
            if year is None:  # "قرار الأمم المتحدة 338 / أكتوبر 1973": the year in the header
                printed = next((y.group() for y in map(_YEAR.search, folded) if y), None)
                year = printed
            return f"S/RES/{match.group(1)}" + (f" ({year})" if year else "")
    return document_symbol


def _is_opening(opening: str) -> bool:
    """The body's own opening sentence ("The Council ..., meeting in ..."), not a recital."""
    if not opening:
        return False
    folded = lexicon.fold(opening[:300])
    return bool(_BODY_END.search(folded)) and not folded.startswith(lexicon.PREAMBLE_OPENERS)


def _adopted_in_header(lines: list[str]) -> tuple[str | None, date | None]:
    """``Resolution adopted by the General Assembly on 18 December 2023``."""
    for line in lines:
        folded = lexicon.fold(line.translate(_ARABIC_DIGITS))
        marker = _ADOPTED_ON.search(folded)
        if not marker:
            continue
        found = _GREGORIAN_ANY.search(folded, marker.end() - 1)
        if found:
            printed = line[found.start() : found.end()]
            return printed, _last_day(folded[found.start() : found.end()])
    return None, None


def header_dates(lines: list[str]) -> tuple[str | None, date | None, str | None] | None:
    """The date of a session document's cover: (printed, last day, Hijri), if any."""
    cleaned = [clean_line(line) for line in lines]
    gregorian, day, _, hijri = _dates_and_place([line for line in cleaned if line])
    if gregorian is None:
        for line in cleaned:
            folded = lexicon.fold(line.translate(_ARABIC_DIGITS))
            found = _GREGORIAN_ANY.search(folded)
            if found:
                gregorian = line[found.start() : found.end()]
                day = _last_day(found.group())
                break
    if hijri is None:
        for line in cleaned:
            match = _HIJRI_ANY.search(line.translate(_ARABIC_DIGITS))
            if match:
                hijri = match.group().strip()
                break
    if gregorian is None and hijri is None:
        return None
    return gregorian, day, hijri


_SYMBOL_FIXES: Final = {"FIANL": "FINAL", "FINLA": "FINAL", "FNIAL": "FINAL", "FIANAL": "FINAL"}


def fix_symbol(symbol: str) -> str:
    """A document symbol without spaces and with known misprints corrected (``RES/FIANL``)."""
    parts = [part.strip() for part in symbol.split("/")]
    return "/".join(_SYMBOL_FIXES.get(part.upper(), part) for part in parts)


def _numbered_title(blocks: list[list[str]]) -> tuple[str | None, str]:
    """``RESOLUTION N°1/49-IT`` / ``SUR`` / ``« TITLE »`` → ("1/49-IT", "TITLE")."""
    for position, block in enumerate(blocks):
        for offset, line in enumerate(block):
            folded = lexicon.Folded.of(line)
            match = _RESOLUTION_NUMBER.match(folded.text) or _ARABIC_NUMBER.match(folded.text)
            loose = None if match else _LOOSE_NUMBER.match(folded.text)
            if loose:  # "قرار رقم 8 - أف/ ق. أ - 5 (و.خ)": the number as printed
                group = 1 if loose.group(1) is not None else 2
                symbol = folded.original_slice(loose.start(group), loose.end(group)).strip()
                rest = [" ".join(block[offset + 1 :])] + [
                    " ".join(b) for b in blocks[position + 1 :]
                ]
                return symbol, next((t for t in map(_drop_leading_link, rest) if t), "")
            if not match:
                continue
            symbol = _clean_number(folded.original_slice(match.start(1), match.end(1)))
            inline = folded.original_slice(match.start(2), match.end(2)).strip()
            candidates = [inline] if inline else []
            if block[offset + 1 :]:
                candidates.append(" ".join(block[offset + 1 :]))
            candidates += [" ".join(b) for b in blocks[position + 1 :]]
            for candidate in candidates:
                title = _drop_leading_link(candidate)
                if title:
                    return symbol, title
            return symbol, ""
    return None, ""


def _clean_number(printed: str) -> str:
    """``4/ 15- أف`` → ``4/15-أف``; Arabic-Indic digits as ASCII."""
    text = re.sub(r"\s+", "", printed.translate(_ARABIC_DIGITS)).strip(".,;:|-–")
    return text.replace("–", "-")


def _drop_leading_link(text: str) -> str:
    """``SUR « LE PROJET »`` → ``« LE PROJET »``; a block that is only ``SUR`` → ``""``."""
    words = text.split()
    while words:
        if lexicon.fold(" ".join(words[:2])) in _LINKING_WORDS:
            words = words[2:]
        elif lexicon.fold(words[0]) in _LINKING_WORDS:
            words = words[1:]
        else:
            break
    return " ".join(words)


def _strip_quotes(text: str) -> str:
    return text.strip().strip('«»"“”').strip()


def _dates_and_place(
    lines: list[str],
) -> tuple[str | None, date | None, str | None, str | None]:
    """The title page's ``Place`` / ``16-17 mars 2023`` / ``24-25 cha'ban 1444`` lines."""
    for index, line in enumerate(lines):
        if not _GREGORIAN_LINE.fullmatch(lexicon.fold(line)):
            continue
        place = None
        if index > 0 and len(lines[index - 1].split()) <= 12:
            candidate = lines[index - 1].strip(" ,")
            if not _DOCUMENT_SYMBOL.fullmatch(candidate) and not _is_date(candidate):
                place = candidate
        hijri = None
        for near in lines[index + 1 : index + 2] + lines[max(index - 1, 0) : index]:
            if _HIJRI_LINE.fullmatch(lexicon.fold(near)):
                hijri = near.strip(" ,")
                break
        printed = line.strip(" ,.")
        return printed, _last_day(printed), place, hijri
    return None, None, None, None


def _is_date(line: str) -> bool:
    folded = lexicon.fold(line)
    return bool(_GREGORIAN_LINE.fullmatch(folded) or _HIJRI_LINE.fullmatch(folded))


def _last_day(printed: str) -> date | None:
    """The last adoption day of ``5-6 Juin 2023`` (6 June) or ``June 5-6, 2023``."""
    folded = lexicon.fold(printed)
    found = list(_LAST_DAY.finditer(folded))
    try:
        if found:
            day, month, year = found[-1].groups()
            return date(int(year), _MONTHS[_SPACES.sub(" ", month.rstrip("."))], int(day))
        match = _LAST_DAY_MONTH_FIRST.search(folded)
        if match:
            month, day, year = match.groups()
            return date(int(year), _MONTHS[_SPACES.sub(" ", month.rstrip("."))], int(day))
    except ValueError:  # 31 February and the like: keep the text, no date
        return None
    return None


def _search_original(pattern: re.Pattern[str], text: str) -> str | None:
    """Search the folded text, return the original wording of the match."""
    folded = lexicon.Folded.of(text)
    match = pattern.search(folded.text)
    return folded.original_slice(match.start(), match.end()) if match else None


def _body(opening: str) -> str | None:
    """The adopting body as the opening sentence names it, up to ", réuni(e)"/", meeting"."""
    if not opening:
        return None
    folded = lexicon.Folded.of(opening[:600])
    match = _BODY_END.search(folded.text)
    if not match or match.start() < 3:
        return None
    return folded.original_slice(0, match.start()).strip(" ,،")


def _session(opening: str, header_lines: list[str], body: str | None) -> str | None:
    """``quarante-neuvième session``, else ``49ÈME SESSION``, else ``Deuxième Conférence ...``."""
    if opening:
        folded = lexicon.Folded.of(opening[:600])
        match = _SESSION_IN_BODY.search(folded.text)
        if match:
            return folded.original_slice(match.start(1), match.end(1))
    for line in header_lines:
        folded = lexicon.Folded.of(line)
        match = _SESSION_IN_HEADER.search(folded.text)
        if match:
            return folded.original_slice(match.start(1), match.end(1))
    if body:
        folded = lexicon.Folded.of(body)
        match = _ORDINAL_BODY.match(folded.text)
        if match:
            return folded.original_slice(match.start(1), match.end(1))
    return None


# ============================================================================================
# Pass 3: the verbs of a paragraph
# ============================================================================================

# A word: letters (with Arabic diacritics, which are not "letters"), apostrophes inside.
_WORD: Final = re.compile(
    r"[^\W\d_](?:[^\W\d_]|[\u0610-\u061a\u064b-\u065f\u0670])*"
    r"(?:['’][^\W\d_](?:[^\W\d_]|[\u064b-\u065f])*)*"
)
#: A word that starts with a letter that is not lower case (capitalised words only; a
#: prefilter for ``_is_capital``, skipping the lower-case words of a paragraph quickly).
_CAPITAL_START: Final = re.compile(r"(?<![^\W\d_'’])(?=[^\W\d_a-zß-öø-ÿ])" + _WORD.pattern)
_OBJECT_PRONOUNS: Final = frozenset({"leur", "les", "lui"})
_CLAUSE_MARKS: Final = (";", "؛", ".", ":", "،", ",")
_BOUNDARY_WORDS: Final = lexicon.CONJUNCTIONS | _OBJECT_PRONOUNS | {"ou", "or", "them"}


@dataclass(frozen=True, slots=True)
class _Verb:
    start: int
    end: int  # after the verb and any capitalised modifier printed with it
    surface: str
    action: str
    modifiers: tuple[str, ...]


def find_verbs(text: str, language: Language) -> list[_Verb]:
    """The operative verbs of a paragraph, in order.

    French and English print them in capitals; a capitalised run counts when the lexicon
    knows it and it opens the paragraph or a clause (after ";", "," or "et"), so acronyms
    (OCI, SESRIC) and capitalised titles are never verbs. Arabic has no capitals: a verb is
    the first word of the paragraph or of a clause.
    """
    if language == "ar":
        return _arabic_verbs(text, [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)])
    opening = _opening_offset(text)
    # Only capitalised words matter; two of them are in one run when only spaces separate them.
    capitals = [
        (m.start(), m.end(), m.group())
        for m in _CAPITAL_START.finditer(text)
        if _is_capital(m.group())
    ]
    verbs: list[_Verb] = []
    i = 0
    while i < len(capitals):
        j = i + 1
        while j < len(capitals) and text[capitals[j - 1][1] : capitals[j][0]].isspace():
            j += 1
        verb = _verb_in_run(text, capitals[i:j], opening)
        if verb:
            verbs.append(verb)
        i = j
    if not verbs or verbs[0].start > opening:
        head = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text, 0, opening + 120)]
        lead = _lower_case_lead_verb(text, head, opening)
        if lead:
            verbs.insert(0, lead)
    if language in ("en", "fr") and (
        ";" in text or " and " in text or " et " in text or ". " in text
    ):
        more = _clause_verbs(text, language, verbs)
        if more:
            verbs = sorted([*verbs, *more], key=lambda verb: verb.start)
    if language in ("en", "fr") and ". " in text:
        more = _body_sentence_verbs(text, verbs)
        if more:
            verbs = sorted([*verbs, *more], key=lambda verb: verb.start)
    return verbs


def _is_capital(word: str) -> bool:
    return len(word) >= 2 and word.isupper()


def _opening_offset(text: str) -> int:
    """Where the paragraph's first word starts (after a stray dash or quote)."""
    head = text[:40]
    return len(head) - len(head.lstrip(" -–•«\"'"))


def _at_clause_start(text: str, position: int, opening: int) -> bool:
    """Whether a word at ``position`` opens the paragraph or a clause (bounded look-back)."""
    if position <= opening:
        return True
    before = text[max(0, position - 40) : position].rstrip()
    if before.endswith((";", ",", ":", ".", "؛", "،")):
        return True
    last = _WORD.findall(before[-20:])
    return bool(last) and lexicon.fold(last[-1]) in _BOUNDARY_WORDS


def _modifiers(folded: list[str]) -> tuple[int, list[str]]:
    """How many leading words are adverbs and conjunctions ("Also", "and further"), and the
    adverbs among them, in order."""
    modifiers: list[str] = []
    k = 0
    while k < len(folded):
        if folded[k] in lexicon.CONJUNCTIONS:
            k += 1
            continue
        size = lexicon.match_modifier(folded[k:])
        if not size:
            break
        modifiers.append(" ".join(folded[k : k + size]))
        k += size
    return k, modifiers


def _verb_in_run(text: str, run: list[tuple[int, int, str]], opening: int) -> _Verb | None:
    """The verb in a run of capitalised words, with its capitalised modifiers."""
    folded = [lexicon.fold(word) for _, _, word in run]
    k, modifiers = _modifiers(folded)
    found = lexicon.match_verb(folded[k:])
    at_start = run[0][0] <= opening
    if found is None:
        if at_start and k < len(run):  # an unknown verb opening the paragraph: keep it
            start, end, word = run[k]
            return _Verb(start, end, word, "other", tuple(modifiers))
        return None
    if not _at_clause_start(text, run[0][0], opening):
        return None
    size, _ = found
    start, end = run[k][0], run[k + size - 1][1]
    surface = " ".join(word for _, _, word in run[k : k + size])
    k += size
    while k < len(run):
        extra = lexicon.match_modifier(folded[k:])
        if not extra:
            break
        modifiers.append(" ".join(folded[k : k + extra]))
        end = run[k + extra - 1][1]
        k += extra
    action = lexicon.canonical_action(surface, text[end : end + 120])
    return _Verb(start, end, surface, action, tuple(modifiers))


_INFINITIVE_MARKERS: Final = frozenset({"to", "de", "d", "d'"})


def _lower_case_lead_verb(
    text: str, tokens: list[tuple[int, int, str]], opening: int
) -> _Verb | None:
    """A paragraph that prints its verb in ordinary case ("1. Requests the ...", "Also
    urges ...", "To urge the Member States ...", "Demander au Secrétaire général ...")."""
    lead = [t for t in tokens[:8] if t[0] <= opening + 60]
    if not lead or lead[0][0] > opening:
        return None
    folded = [lexicon.fold(word) for _, _, word in lead]
    k, modifiers = _modifiers(folded)
    found = lexicon.match_verb(folded[k:])
    if found is None:
        if k < len(folded) and folded[k] in _INFINITIVE_MARKERS:
            k += 1
        elif k < len(folded) and folded[k].startswith("d'"):
            folded[k] = folded[k][2:]
        found = lexicon.match_infinitive(folded[k:])
        if found is not None and lead[k][2].lower().startswith("d'"):
            start = lead[k][0] + 2
            end = lead[k + found[0] - 1][1]
            surface = text[start:end]
            return _Verb(start, end, surface, found[1], tuple(modifiers))
    if found is None:
        return None
    size, _ = found
    start, end = lead[k][0], lead[k + size - 1][1]
    surface = text[start:end]
    action = lexicon.canonical_action(surface, text[end : end + 120])
    return _Verb(start, end, surface, action, tuple(modifiers))


_AND: Final = frozenset({"and", "et"})
#: A clause opening in lower case: "; calls upon", ", and requests", "; et invite".
_LOWER_CLAUSE: Final = re.compile(
    r"(?:[;؛]\s*|,\s+(?=(?:and|et)\s)|\s(?=and\s+[a-z]+s\s|et\s+[a-zà-öø-ÿ]+\s)"
    r"|(?<=[a-z]\.)\s+(?=[A-Z]))"
    r"(?=(?:and|et)\s+[a-zà-öø-ÿ]|(?!(?:and|et)\s)[a-zà-öø-ÿA-Z])"
)
#: Where no punctuation opens the clause (" and invites ...", ". Also invites them ..."),
#: only a verb that asks or acknowledges, not one that decides, starts a new action.
_BARE_CLAUSE_KINDS: Final = frozenset({"ask", "acknowledge"})


_BODY_SENTENCE: Final = re.compile(r"(?<=[.;])\s+(?:le|la|l'|the)\s*")
_BODY_WORDS: Final = frozenset(
    {"conseil", "council", "assemblee", "assembly", "conference", "comite", "committee"}
)


def _body_sentence_verbs(text: str, found: list[_Verb]) -> list[_Verb]:
    """A later sentence where the body speaks again: "... Le Conseil de sécurité invite ses
    membres permanents ...", "... The Council requests ..."."""
    folded = lexicon.fold(text)
    if len(folded) != len(text):
        return []
    taken = {verb.start for verb in found}
    extra: list[_Verb] = []
    for match in _BODY_SENTENCE.finditer(folded):
        tokens = list(_WORD.finditer(folded, match.end(), match.end() + 60))[:6]
        named = False
        for token in tokens:
            word = token.group()
            if word in _BODY_WORDS:
                named = True
                continue
            if named and text[token.start()].islower() and lexicon.match_verb([word]):
                start, end = token.start(), token.end()
                if start not in taken:
                    surface = text[start:end]
                    extra.append(_Verb(start, end, surface, lexicon.canonical_action(surface), ()))
                break
    return extra


def _clause_verbs(text: str, language: Language, found: list[_Verb]) -> list[_Verb]:
    """Later verbs in ordinary case that open a clause: "...; and calls upon all States",
    "..., and requests the Secretary-General", "...; invite ..."."""
    taken = {v.start for v in found}
    extra: list[_Verb] = []
    for mark in _LOWER_CLAUSE.finditer(text):
        position = mark.end()
        tokens = [
            (m.start(), m.end(), m.group()) for m in _WORD.finditer(text, position, position + 80)
        ]
        if not tokens:
            continue
        k = 0
        folded = [lexicon.fold(word) for _, _, word in tokens]
        if folded and folded[0] in _AND:
            k = 1
        while k < len(folded) and lexicon.match_modifier(folded[k:]):
            k += lexicon.match_modifier(folded[k:])
        before = text[max(0, mark.start() - 1) : mark.end()].rstrip()
        bare = not before.endswith((";", "؛", ","))
        sentence = before.endswith(".")
        if k >= len(tokens):
            continue
        if not tokens[k][2][:1].islower() and not (
            sentence and tokens[k][2][:1].isupper() and tokens[k][2][1:].islower()
        ):
            continue
        hit = lexicon.match_verb(folded[k:])
        if hit is None or (language == "en" and not folded[k].endswith("s")):
            continue
        if bare and lexicon.ACTION_KIND.get(hit[1], "decide") not in _BARE_CLAUSE_KINDS:
            continue
        start, end = tokens[k][0], tokens[k + hit[0] - 1][1]
        if start in taken:  # already read as a capitalised verb
            continue
        surface = text[start:end]
        extra.append(
            _Verb(start, end, surface, lexicon.canonical_action(surface, text[end : end + 120]), ())
        )
    return extra


def _arabic_verbs(text: str, tokens: list[tuple[int, int, str]]) -> list[_Verb]:
    """Arabic verbs: the word opening the paragraph or a clause (its و conjunction aside)."""
    verbs: list[_Verb] = []
    for i, (start, _, word) in enumerate(tokens):
        if i and not text[max(0, start - 20) : start].rstrip().endswith(_CLAUSE_MARKS):
            continue
        words = [lexicon.fold(w) for _, _, w in tokens[i : i + 5]]
        j = i
        skip = lexicon.match_modifier(words[:2]) if lexicon.match_verb(words) is None else 0
        if skip and i + skip < len(tokens):  # "كما يطلب", "ثم يدعو"
            j = i + skip
            start, word = tokens[j][0], tokens[j][2]
            words = [lexicon.fold(w) for _, _, w in tokens[j : j + 5]]
        if lexicon.match_verb(words) is None and word.startswith("و"):
            start, words[0] = start + 1, words[0][1:]
        found = lexicon.match_verb(words)
        if found is None:
            continue
        end = tokens[j + found[0] - 1][1]
        surface = text[start:end]
        action = lexicon.canonical_action(surface, text[end : end + 120])
        verbs.append(_Verb(start, end, surface, action, ()))
    return verbs


# ============================================================================================
# Pass 4: whom each verb addresses
# ============================================================================================


def analyse_paragraph(text: str, language: Language) -> tuple[ParsedAction, ...]:
    """The actions of one paragraph: each verb, its modifier, its addressees."""
    verbs = find_verbs(text, language)
    if not verbs:
        return _subject_clause(text)
    actions: list[ParsedAction] = []
    previous: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    for position, verb in enumerate(verbs):
        end = verbs[position + 1].start if position + 1 < len(verbs) else len(text)
        modifiers, rest = _leading_modifiers(text[verb.end : end])
        all_modifiers = verb.modifiers + modifiers
        codes, institutions = _addressees(
            lexicon.ACTION_KIND.get(verb.action, "decide"),
            rest,
            language,
            before=text[max(0, verb.start - 40) : verb.start],
            previous=previous,
            verb=verb.surface,
        )
        actions.append(
            ParsedAction(
                verb=verb.surface,
                modifier=" ".join(all_modifiers) or None,
                action=verb.action,
                addressees=codes,
                institutions=institutions,
            )
        )
        if set(codes) & CONCRETE_ADDRESSEES:
            previous = (codes, institutions)
    return tuple(actions)


def _subject_clause(text: str) -> tuple[ParsedAction, ...]:
    """A clause with no operative verb whose subject is named first: "The Secretary-General
    shall furnish ...", "Le Secrétaire général ... fournira ...": the subject is asked to
    act (an action with no verb, so the paragraph still shows as doubtful)."""
    folded, entities = lexicon.find_addressees(text[:160])
    if not entities or not _only_lead_words(folded.text[: entities[0].start]):
        return ()
    first = entities[0]
    codes = _codes((first,))
    if codes is None or first.code not in CONCRETE_ADDRESSEES:
        return ()
    return (ParsedAction("", None, "other", codes[0], codes[1]),)


def _leading_modifiers(text: str) -> tuple[tuple[str, ...], str]:
    """Adverbs right after the verb ("INVITE, par ailleurs, les ...") and the rest."""
    modifiers: list[str] = []
    while True:
        stripped = text.lstrip(" ,")
        words = list(_WORD.finditer(stripped[:80]))
        if not words or words[0].start() != 0:
            return tuple(modifiers), text
        size = lexicon.match_modifier([lexicon.fold(w.group()) for w in words[:4]])
        if not size:
            return tuple(modifiers), text
        end = words[size - 1].end()
        modifiers.append(stripped[:end].lower())
        text = stripped[end:]


def _addressees(
    kind: lexicon.ActionKind,
    rest: str,
    language: Language,
    *,
    before: str,
    previous: tuple[tuple[str, ...], tuple[str, ...]] | None,
    verb: str = "",
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Addressee codes and institution codes of one verb, from the words that follow it."""
    if language == "ar":
        rest = _skip_body_subject(rest)
    folded = lexicon.Folded.of(rest)
    embedded = lexicon.EMBEDDED_REQUEST_RE.search(folded.text)
    if embedded and not folded.text[: embedded.start()].strip():
        # "Reiterates its call upon all States to ...": whom the call is made upon
        return _addressees(
            "ask", rest[folded.to_original(embedded.end()) :], language, before="", previous=None
        )
    if kind == "acknowledge":
        if not embedded:
            return ("NONE",), ()
        _, entities = lexicon.find_addressees(rest[: folded.to_original(embedded.start())])
        return _codes(entities) or (("ALL",), ())
    if previous and _refers_back(before, rest):
        return previous
    recipients = _recipients(verb, rest)
    if recipients:
        return recipients
    if kind == "decide":
        subject = _that_clause_subject(rest) or _quoted_requests(rest, language)
        if subject:
            return subject
        entrusted = _entrusting_infinitive(rest)
        if entrusted is not None:
            return _addressees("ask", entrusted, language, before="", previous=None)
        if language == "ar":  # verb-subject order: "تعقد اللجنة الدائمة ... دورة"
            folded, entities = lexicon.find_addressees(rest[:120])
            if entities and not folded.text[: entities[0].start].strip():
                subject = _codes(entities[:1])
                if subject and entities[0].code in CONCRETE_ADDRESSEES:
                    return subject
    zone = verb_object(rest, language)
    folded, entities = lexicon.find_addressees(zone)
    chosen: tuple[lexicon.EntityMatch, ...] = ()
    if kind == "decide" and language != "ar" and _ARTICLE_OBJECT.match(folded.text):
        # "Establishes a Truce Commission ...": what the body creates is not asked to act
        return ("NONE",), ()
    if entities and _only_lead_words(folded.text[: entities[0].start]):
        chosen = entities
    else:
        chosen = _actors(folded.text, entities)
    if chosen:
        return _codes(chosen) or ((), ())
    return (("ALL",) if kind == "ask" else ("NONE",)), ()


def _skip_body_subject(rest: str) -> str:
    """ "المجلس من الأمين العام ..." after "يطلب": the object starts after the subject (not
    when the subject is itself a body asked to act: "تعقد اللجنة الدائمة ... دورة")."""
    match = _FIRST_WORD.match(rest)
    if not match or lexicon.fold(match.group(1)) not in lexicon.AR_BODY_SUBJECTS:
        return rest
    folded, entities = lexicon.find_addressees(rest[:80])
    if entities and not folded.text[: entities[0].start].strip():
        return rest
    return rest[match.end() :]


_FIRST_WORD: Final = re.compile(r"\s*([^\W\d_]+)")
_QUOTED: Final = re.compile(r"[\"«“]([^\"»”]+)[\"»”]")
_QUOTE_OPENS: Final = re.compile(r":\s*[\"«“]")


def _quoted_requests(
    rest: str, language: Language
) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """ "يقرر المجلس الموافقة على توصية اللجنة الآتية: "توصي اللجنة الدول الأعضاء ..."",
    "Approves the following recommendation: "…"": approving a quoted text asks what it asks."""
    opens = _QUOTE_OPENS.search(rest)
    if not opens:
        return None
    codes: set[str] = set()
    institutions: list[str] = []
    for quoted in _QUOTED.finditer(rest, opens.end() - 1):
        for action in analyse_paragraph(quoted.group(1).strip(), language):
            if lexicon.ACTION_KIND.get(action.action) == "ask":
                codes.update(action.addressees)
                institutions.extend(action.institutions)
    if not codes:
        return None
    if codes - {"ALL"}:
        codes.discard("ALL")
    return tuple(sorted(codes)), tuple(dict.fromkeys(institutions))


def _clause(rest: str) -> str:
    """The verb's clause, up to its end and before any partner phrase."""
    end = _CLAUSE_END.search(rest)
    zone = rest[: end.start()] if end else rest
    folded = lexicon.Folded.of(zone)
    partner = lexicon.PARTNER_RE.search(folded.text)
    return zone[: folded.to_original(partner.start())] if partner else zone


def _recipients(verb: str, rest: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """ "Recommends X to all Member States", "إحالة ... إلى المنظمة ...": who receives it."""
    words = verb.split()
    if not words or lexicon.fold(words[-1]) not in lexicon.RECIPIENT_VERBS:
        return None
    folded, entities = lexicon.find_addressees(_clause(rest))
    for entity in entities:
        if entity.code not in CONCRETE_ADDRESSEES:
            continue
        lead = _WORD_SCAN.findall(folded.text[: entity.start])
        for index in range(len(lead) - 1, -1, -1):
            if lead[index] in lexicon.RECIPIENT_PREPOSITIONS:
                if all(w in lexicon.LEAD_WORDS for w in lead[index + 1 :]):
                    return _codes(_same_list(folded.text, entity, entities))
                break
            if lead[index] not in lexicon.LEAD_WORDS:
                break
    return None


def _same_list(
    folded: str, first: lexicon.EntityMatch, entities: tuple[lexicon.EntityMatch, ...]
) -> tuple[lexicon.EntityMatch, ...]:
    """``first`` and the entities listed right after it ("X, Y and Z")."""
    chosen = [first]
    for entity in entities:
        if entity.start <= chosen[-1].start:
            continue
        gap = _WORD_SCAN.findall(folded[chosen[-1].end : entity.start])
        if not all(w in lexicon.LEAD_WORDS or w in lexicon.CONJUNCTIONS for w in gap):
            break
        chosen.append(entity)
    return tuple(chosen)


def _that_clause_subject(rest: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """ "Decides that the Secretary-General shall ...", "Decides that ... negotiations start
    between the parties concerned", "يقرر أن تبدأ ... مفاوضات بين الأطراف المعنية"."""
    folded_rest = lexicon.Folded.of(rest[:30])
    first = _WORD_SCAN.findall(folded_rest.text)[:1]
    if not first or first[0] not in lexicon.THAT_WORDS:
        return None
    folded, entities = lexicon.find_addressees(_clause(rest))
    concrete = tuple(e for e in entities if e.code in CONCRETE_ADDRESSEES)
    if not concrete:
        return None
    head = _WORD_SCAN.findall(folded.text[: concrete[0].start])[1:]
    if all(w in lexicon.LEAD_WORDS for w in head):
        return _codes(_same_list(folded.text, concrete[0], concrete))
    for anchor in lexicon.ACTOR_ANCHOR_RE.finditer(folded.text):
        after = tuple(e for e in concrete if e.start >= anchor.end())
        if after and _only_lead_words(folded.text[anchor.end() : after[0].start]):
            return _codes(_same_list(folded.text, after[0], after))
    return None


_TO_VERB: Final = re.compile(r"\s*,?\s*(?:to|de|d['’]|à)\s*([^\W\d_]+)", re.IGNORECASE)


def _entrusting_infinitive(rest: str) -> str | None:
    """ "Decides to commission IRCICA to ...", "Décide de charger l'ICESCO de ...": the text
    after the entrusting verb, whose object is who is asked to act."""
    match = _TO_VERB.match(rest[:60])
    if not match:
        return None
    found = lexicon.match_infinitive([lexicon.fold(match.group(1))])
    if found is None or lexicon.ACTION_KIND.get(found[1]) != "ask":
        return None
    return rest[match.end() :]


_ARTICLE_OBJECT: Final = re.compile(r"\s*(?:a|an|un|une)\s")


def _codes(
    entities: tuple[lexicon.EntityMatch, ...],
) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    if not entities:
        return None
    codes = tuple(sorted({entity.code for entity in entities}))
    institutions = tuple(dict.fromkeys(c for entity in entities for c in entity.institutions))
    return codes, institutions


def _refers_back(before: str, rest: str) -> bool:
    """ "... ; et leur DEMANDE de ..." / "... and REQUESTS them to ...": same addressees."""
    last = _WORD.findall(before[-20:])
    if last and lexicon.fold(last[-1]) in _OBJECT_PRONOUNS:
        return True
    first = _WORD.findall(rest[:12])
    return bool(first) and lexicon.fold(first[0]) in {"them", "it"}


def _only_lead_words(text: str) -> bool:
    return all(word in lexicon.LEAD_WORDS for word in _WORD_SCAN.findall(text))


def _actors(
    folded: str, entities: tuple[lexicon.EntityMatch, ...]
) -> tuple[lexicon.EntityMatch, ...]:
    """Parties named right after "pour"/"for" or "entre"/"between" (see ACTOR_ANCHORS)."""
    for anchor in lexicon.ACTOR_ANCHOR_RE.finditer(folded):
        after = tuple(e for e in entities if e.start >= anchor.end())
        if not after or not _only_lead_words(folded[anchor.end() : after[0].start]):
            continue
        between = lexicon.ACTOR_ANCHORS[anchor.group()] == "between"
        if between and len({entity.code for entity in after}) < 2:
            continue
        return after
    return ()


# --------------------------------------------------------------------------------------------
# The verb's object: up to the end of the clause, the infinitive, and partners
# --------------------------------------------------------------------------------------------

_CLAUSE_END: Final = re.compile(r"[;؛]|\.(?=\s|$)")
_FR_MARKER: Final = re.compile(
    r"(?<![\w'’])(?:afin\s+d(?:e\s+|['’])|en\s+vue\s+d(?:e\s+|['’])|aux\s+fins\s+d(?:e\s+|['’])"
    r"|pour\s+|à\s+|de\s+|d['’])",
    re.IGNORECASE,
)
_FR_INFINITIVE: Final = re.compile(
    r"(?:(?:les|le|la|leur|lui|se|y|en|ne|nous|vous)\s+|(?:l|s|m|t|n)['’]){0,3}([^\W\d_]+)"
)
#: "to submit", and "To continue ..." opening an item of a list after a colon.
_EN_MARKER: Final = re.compile(
    r"(?<![\w'])(?:in\s+order\s+to|so\s+as\s+to|to|(?<=:\s)To|(?<=:)To)\s+([a-z]+)\b"
)
_AR_MARKER: Final = re.compile(
    lexicon.fold_pattern(
        r"(?<!\S)(?:ان|بان|على|الى|لكي|من\s+اجل|" + "|".join(lexicon.AR_PURPOSE) + r")(?!\S)"
    )
)


def verb_object(rest: str, language: Language) -> str:
    """The words that can name the addressee: up to the clause end, the first infinitive
    ("à unifier", "de parachever", "to submit") and the first partner phrase ("en
    coordination avec ..."), whichever comes first."""
    end = _CLAUSE_END.search(rest)
    zone = rest[: end.start()] if end else rest
    zone = zone[: _infinitive_position(zone, language)]
    folded = lexicon.Folded.of(zone)
    partner = lexicon.PARTNER_RE.search(folded.text)
    zone = zone[: folded.to_original(partner.start())] if partner else zone
    return _blank_references(zone)


def _blank_references(zone: str) -> str:
    """The zone with references ("conformément à l'Article 20 de la Charte ...") blanked."""
    folded = lexicon.Folded.of(zone)
    for reference in reversed(list(lexicon.REFERENCE_RE.finditer(folded.text))):
        start = folded.to_original(reference.start())
        end = (
            folded.to_original(reference.end()) if reference.end() < len(folded.text) else len(zone)
        )
        zone = zone[:start] + " " * (end - start) + zone[end:]
    return zone


def _infinitive_position(zone: str, language: Language) -> int:
    if language == "en":
        for match in _EN_MARKER.finditer(zone):
            if _looks_like_english_verb(match.group(1)):
                return match.start()
        return len(zone)
    if language == "ar":
        folded = lexicon.Folded.of(zone)
        marker = _AR_MARKER.search(folded.text)
        return folded.to_original(marker.start()) if marker else len(zone)
    for match in _FR_MARKER.finditer(zone):
        tail = _FR_INFINITIVE.match(zone, match.end())
        if tail and _looks_like_french_infinitive(tail.group(1)):
            return match.start()
    return len(zone)


def _looks_like_french_infinitive(word: str) -> bool:
    if not word.islower():
        return False
    folded = lexicon.fold(word)
    if folded in lexicon.FR_NOT_INFINITIVE:
        return False
    return folded.endswith(lexicon.FR_INFINITIVE_ENDINGS)


def _looks_like_english_verb(word: str) -> bool:
    """Not a listed non-verb, nor a participle ("to existing", "to related"); "bring",
    "proceed" and "need" are verbs (no vowel before "-ing", "-eed" is not a past tense)."""
    if word in lexicon.EN_NOT_VERBS:
        return False
    if word.endswith("ing"):
        return not _VOWEL.search(word[:-3])
    return not word.endswith("ed") or word.endswith("eed")


_VOWEL: Final = re.compile(r"[aeiouy]")
