"""Clean extracted text before parsing: what a PDF or a word processor adds to a resolution.

- page furniture: lines repeated at the top or bottom of the pages (running headers, the
  document symbol, "Page 3 of 9") and page numbers (a number at the page edge that grows
  with the page) are dropped; the first page keeps its own header lines;
- hyphenation: a word cut at a line end ("indépen-" / "dante") or by a spaced hyphen
  ("ap - puyer") is joined when the document itself spells the whole word elsewhere, or
  when the left part is no known prefix; real compounds ("socio-économique", "follow-up")
  keep their hyphen;
- Unicode: bidi control marks and zero-width characters removed, Arabic presentation forms
  (lam-alef ligatures, isolated/final glyph forms) normalised with NFKC, Persian and Urdu
  letter forms folded to their Arabic letters (ی → ي, ک → ك, ۀ → ه);
- Arabic lines of a PDF: punctuation that the visual order put at the start of the line
  goes back to its end, and a paragraph number put at the end goes back to the start.

Pure functions on strings; one pass per page, so the cost grows with the text only.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Final

from resotrack.catalog import N_
from resotrack.resolutions import lexicon
from resotrack.resolutions.errors import Phrase

_INVISIBLE: Final = dict.fromkeys(
    map(
        ord,
        "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
        "\u2066\u2067\u2068\u2069\u061c\ufeff",
    )
)
_PERSIAN: Final = str.maketrans(
    {
        "\u06cc": "\u064a",  # ی farsi yeh
        "\u06d0": "\u064a",  # ې
        "\u06cd": "\u064a",  # ۍ
        "\u06a9": "\u0643",  # ک keheh
        "\u06aa": "\u0643",  # ڪ swash kaf
        "\u06c0": "\u0647",  # ۀ heh with yeh above
        "\u06c1": "\u0647",  # ہ heh goal
        "\u06d5": "\u0647",  # ە ae
        "\u06be": "\u0647",  # ھ heh doachashmee
        "\u06c2": "\u0647",  # ۂ
        "\u06c3": "\u0629",  # ۃ teh marbuta goal
    }
)
_INVISIBLE_RE: Final = re.compile("[" + "".join(map(chr, _INVISIBLE)) + "]")
_PERSIAN_RE: Final = re.compile("[" + "".join(map(chr, _PERSIAN)) + "]")
_PRESENTATION: Final = re.compile("[\ufb00-\ufb06\ufb50-\ufdff\ufe70-\ufefc]+")
_ARABIC: Final = re.compile("[\u0600-\u06ff]")
_LATIN: Final = re.compile("[A-Za-z\u00c0-\u024f]")


def clean_characters(text: str) -> str:
    """Unicode repairs that are safe on any text (no layout assumptions)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _INVISIBLE_RE.search(text):
        text = _INVISIBLE_RE.sub("", text)
    if _PRESENTATION.search(text):
        text = _PRESENTATION.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    if _PERSIAN_RE.search(text):
        text = text.translate(_PERSIAN)
    return text


@dataclass(frozen=True, slots=True)
class Cleaned:
    """The cleaned text, and the page each of its lines was printed on (1-based)."""

    text: str
    line_pages: tuple[int, ...]

    def where(self, line: int) -> str:
        """``page 3, line 112`` for a 1-based line of ``text`` (just the line for one page)."""
        if 0 < line <= len(self.line_pages) and self.line_pages[-1] > 1:
            return Phrase(N_("page {page}, line {line}"), page=self.line_pages[line - 1], line=line)
        return Phrase(N_("line {line}"), line=line)


_EDGE: Final = 3  # lines at the top and bottom of a page where furniture is looked for
_PAGE_NUMBER: Final = re.compile(
    r"(?:(?:page|p\.|صفحة|الصفحة)\s*)?[-–—(]?\s*(\d{1,4})\s*[-–—)]?"
    r"(?:\s*(?:/|of|sur|de|من)\s*\d{1,4})?",
    re.IGNORECASE,
)
_DIGITS: Final = re.compile(r"\d+")
_ARABIC_DIGITS: Final = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def clean_pages(pages: Sequence[str], *, pdf: bool = True) -> Cleaned:
    """Join the pages into one text without their furniture, hyphenation or PDF artefacts."""
    page_lines = [
        [" ".join(line.split()) for line in clean_characters(page).split("\n")] for page in pages
    ]
    if pdf:
        page_lines = [[_rtl_line(line) for line in lines] for lines in page_lines]
    if len(page_lines) > 1 or pdf:
        _drop_furniture(page_lines)
    lines: list[str] = []
    line_pages: list[int] = []
    for number, page in enumerate(page_lines, start=1):
        lines.extend(page)
        line_pages.extend([number] * len(page))
    if pdf:
        _dehyphenate(lines)
    else:
        lines = [line.replace("\u00ad", "").replace("\ufffe", "") for line in lines]
    return Cleaned("\n".join(lines), tuple(line_pages))


# --------------------------------------------------------------------------------------------
# Arabic lines in visual order
# --------------------------------------------------------------------------------------------

_LEADING_PUNCT: Final = re.compile(r"^([.,:;،؛!?»«)(]+)\s*(?=[\u0600-\u06ff])")
_TRAILING_NUMBER: Final = re.compile(
    r"(?<=[\u0600-\u06ff.،؛:])\s+([0-9٠-٩]{1,3}\s*[-.)])([.،؛:]*)$"
)


_LOOSE_MARK: Final = re.compile(r"(?<![\u0621-\u064a\u0640\u064b-\u0652])[\u064b-\u0652\u0670]")
_KASHIDA_DIGIT: Final = re.compile(r"(?<=[\u0621-\u064a])\d(?=[\u0621-\u064a])")
_SLASH_FIRST: Final = re.compile(r"(?<![\d/])/(\d{1,5})(?=\s|$)")
_SLASH_SPACED: Final = re.compile(r"(?<![\d/])/(\d{1,3}) (\d{1,4})(?![\d/])")


def _rtl_line(line: str) -> str:
    if not line or not _ARABIC.search(line) or _LATIN.search(line[:40]):
        return line
    if _LOOSE_MARK.search(line):  # a shadda or tanween the PDF left beside a digit or space
        line = " ".join(_LOOSE_MARK.sub("", line).split())
    if _KASHIDA_DIGIT.search(line):  # a justification stretch read as a digit: "الس3ابعة"
        line = _KASHIDA_DIGIT.sub("", line)
    if "/" in line:  # "2/ 7" in visual order is "/2 7", "3067/" is "/3067"
        line = _SLASH_SPACED.sub(r"\1/\2", line)
        line = _SLASH_FIRST.sub(r"\1/", line)
    lead = _LEADING_PUNCT.match(line)
    if lead:
        line = line[lead.end() :] + lead.group(1).translate(_MIRROR)
    number = _TRAILING_NUMBER.search(line)
    if number:
        line = f"{number.group(1)} {line[: number.start()].rstrip()}{number.group(2)}"
    return line


_MIRROR: Final = str.maketrans("()«»", ")(»«")


# --------------------------------------------------------------------------------------------
# Page furniture
# --------------------------------------------------------------------------------------------


def _edges(lines: list[str]) -> list[int]:
    filled = [i for i, line in enumerate(lines) if line]
    return sorted(set(filled[:_EDGE] + filled[-_EDGE:]))


def _drop_furniture(page_lines: list[list[str]]) -> None:
    """Blank the running headers/footers and page numbers of every page (in place)."""
    total = len(page_lines)
    edges = [_edges(lines) for lines in page_lines]
    # Page numbers: a bare number at a page edge whose offset from the page index is the
    # same on most pages (so a paragraph number alone on a line is never taken for one).
    offsets: Counter[int] = Counter()
    numbered: list[dict[int, int]] = []
    for page, (lines, where) in enumerate(zip(page_lines, edges, strict=True)):
        found: dict[int, int] = {}
        for i in where:
            match = _PAGE_NUMBER.fullmatch(lines[i].translate(_ARABIC_DIGITS))
            if match:
                found[i] = int(match.group(1)) - page
        numbered.append(found)
        offsets.update(set(found.values()))
    threshold = 2 if total <= 3 else max(3, total // 3)
    common = {offset for offset, count in offsets.items() if count >= threshold}
    if total == 1:
        common = {1}  # a one-page document numbered "1" (or "- 1 -")
    for lines, found in zip(page_lines, numbered, strict=True):
        for i, offset in found.items():
            if offset in common:
                lines[i] = ""
    # Running headers and footers: the same words (numbers aside) at the edge of many pages.
    keys: Counter[str] = Counter()
    keyed = [
        {i: _key(lines[i]) for i in where if lines[i]}
        for lines, where in zip(page_lines, edges, strict=True)
    ]
    for found_keys in keyed:
        keys.update(set(found_keys.values()))
    repeated = {
        key
        for key, count in keys.items()
        if count >= threshold and sum(c.isalpha() for c in key) >= 2 and total > 1
    }
    if not repeated:
        return
    first_seen: set[str] = set()
    for page, (lines, where) in enumerate(zip(page_lines, edges, strict=True)):
        for i in where:
            key = keyed[page].get(i, "")
            if key not in repeated:
                continue
            if page == 0 and not _DIGITS.search(key.replace("#", "")) and key not in first_seen:
                first_seen.add(key)  # the title page keeps its own header (the symbol)
                continue
            lines[i] = ""


def _key(line: str) -> str:
    return _DIGITS.sub("#", lexicon.fold(line.translate(_ARABIC_DIGITS)))


# --------------------------------------------------------------------------------------------
# Hyphenation
# --------------------------------------------------------------------------------------------

_WORDS: Final = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
#: PDFium's mark for a hyphen at a line end (the line break itself is dropped).
_PDFIUM_HYPHEN: Final = re.compile(r"([^\W\d_]*)\ufffe(\S*)")
_HYPHENS: Final = "-\u00ad\u2010\x02"
_LINE_END_HYPHEN: Final = re.compile(r"(?<![^\W\d_])([^\W\d_]+)[-\u00ad\u2010\x02]$")
_NEXT_WORD: Final = re.compile(r"([^\W\d_]+)([.,;:)»”]*)(\s*)")
_SPACED_HYPHEN: Final = re.compile(r"(?<![\w-])([^\W\d_]{1,20}) ?- ([a-zà-öø-ÿ][^\W\d_]{0,30})")
#: Left parts that are words of their own before a hyphen ("socio-économique", "follow-up").
_HYPHEN_PREFIXES: Final = frozenset(
    {
        "socio",
        "anti",
        "non",
        "co",
        "auto",
        "multi",
        "inter",
        "intra",
        "extra",
        "vice",
        "ex",
        "self",
        "well",
        "long",
        "short",
        "medium",
        "follow",
        "high",
        "low",
        "mid",
        "post",
        "pre",
        "semi",
        "sous",
        "sub",
        "quasi",
        "pan",
        "afro",
        "arabo",
        "euro",
        "macro",
        "micro",
        "tele",
        "cyber",
        "eco",
        "bio",
        "agro",
        "para",
        "demi",
        "mi",
        "contre",
        "avant",
        "apres",
        "au",
        "c'est",
        "peut",
        "lui",
        "elle",
        "eux",
        "elles",
        "soi",
        "ci",
        "la",
        "cross",
        "decision",
        "policy",
        "capacity",
        "state",
        "nation",
        "peace",
        "cost",
        "evidence",
        "community",
        "rights",
        "age",
        "gender",
        "science",
        "technology",
        "country",
        "vingt",
        "trente",
        "quarante",
        "cinquante",
        "soixante",
        "quatre",
        "dix",
        "twenty",
        "thirty",
        "forty",
        "fifty",
        "sixty",
        "seventy",
        "eighty",
        "ninety",
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "deux",
        "trois",
        "cinq",
        "sept",
        "huit",
        "neuf",
        "secretaire",
        "secretary",
        "etats",
        "member",
        "sud",
        "nord",
        "south",
        "north",
        "est",
        "ouest",
        "east",
        "west",
        "moyen",
        "middle",
        "hors",
    }
)


def _vocabulary(lines: list[str]) -> set[str]:
    """The document's own words, lower case, with the parts of compounds and elisions."""
    words = {word.strip(_PUNCTUATION) for word in "\n".join(lines).lower().split()}
    for word in [word for word in words if "-" in word or "'" in word or "’" in word]:
        words.update(re.split(r"['’-]", word))
    return words


_PUNCTUATION: Final = ".,;:!?()[]«»\"“”'’*-–—/\ufffe\u00ad"


def _dehyphenate(lines: list[str]) -> None:
    """Join words cut by hyphenation (in place; the line count does not change)."""
    vocabulary: set[str] | None = None
    following = [0] * len(lines)
    nxt = len(lines)
    for i in range(len(lines) - 1, -1, -1):
        following[i] = nxt
        if lines[i]:
            nxt = i
    for i, line in enumerate(lines):
        pdfium = "\ufffe" in line
        spaced = " - " in line or ("- " in line[2:])
        if not (pdfium or spaced or (line and line[-1] in _HYPHENS)):
            continue
        if vocabulary is None:
            vocabulary = _vocabulary(lines)
        words = vocabulary
        if pdfium:
            line = lines[i] = _split_at_marks(line, "\ufffe", words)
        if spaced:
            line = lines[i] = _SPACED_HYPHEN.sub(partial(_spaced, vocabulary=words), line)
        if not line or line[-1] not in _HYPHENS:
            continue
        j = following[i]
        match = _LINE_END_HYPHEN.search(line, line.rfind(" ", 0, len(line) - 1) + 1)
        if not match or j >= len(lines):
            continue
        after = _NEXT_WORD.match(lines[j])
        if not after or not after.group(1)[0].islower():
            continue
        left, right = match.group(1), after.group(1)
        soft = line[-1] != "-"
        keep = not soft and _keeps_hyphen(left, right, words, pdfium=False)
        lines[i] = line[: match.end(1)] + ("-" if keep else "") + right + after.group(2)
        lines[j] = lines[j][after.end() :]


def _split_at_marks(line: str, mark: str, vocabulary: set[str]) -> str:
    """Resolve each PDFium line-end hyphen mark: join the word, or keep a real hyphen."""
    pieces = line.split(mark)
    out = [pieces[0]]
    for piece in pieces[1:]:
        before = out[-1]
        k = len(before)
        while k > 0 and before[k - 1].isalpha():
            k -= 1
        left = before[k:]
        right = piece.split(" ", 1)[0]
        hyphen = "-" if _keeps_hyphen(left, right, vocabulary, pdfium=True) else ""
        out.append(hyphen + piece)
    return "".join(out)


_ELISION: Final = re.compile(r"[^\W\d_]['’]")


def _keeps_hyphen(left: str, right: str, vocabulary: set[str], *, pdfium: bool) -> bool:
    """Whether ``left-`` + ``right`` cut at a line end is a real compound.

    The document's own words decide first; then the shape of the cut; last, a hyphen that
    PDFium marked as a line-end hyphen is taken as hyphenation, an explicit one as a
    compound only after a known prefix ("socio-", "follow-").
    """
    if not left or not right[:1].isalpha():
        return True  # "COVID-" / "19"
    first = _FIRST_PART.match(right)
    head = (first.group() if first else right).lower()
    low = left.lower()
    if low + head in vocabulary:
        return False
    if f"{low}-{head}" in vocabulary:
        return True
    if right[0].isupper() and not left[-1].isupper():
        return True  # "Nord-" / "Sud"
    if _ELISION.match(right):
        return True  # "main-" / "d'œuvre"
    return not pdfium and lexicon.fold(left) in _HYPHEN_PREFIXES


_FIRST_PART: Final = re.compile(r"[^\W\d_]+")


def _spaced(match: re.Match[str], vocabulary: set[str]) -> str:
    left, right = match.groups()
    if (left + right).lower() in vocabulary and lexicon.fold(left) not in _HYPHEN_PREFIXES:
        return left + right
    return match.group()
