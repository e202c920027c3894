"""A user's file → the resolutions it holds: read (text, PDF, Word), clean, split, parse.

An OIC session publishes the resolutions on one subject as one document
(``RESOLUTION NO. 1/49-POL``, ``RESOLUTION NO. 2/49-POL`` …); the UN publishes one per file.
``read_document`` finds each resolution's heading, cuts the text there and parses each part
on its own: the part before the first heading (the cover: session, place, dates) gives the
date to the resolutions that print none. A part that cannot be parsed is reported with the
place it starts in the file; the others are still returned, so one bad page never holds
back forty good resolutions, and nothing partial is ever returned for the bad one.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Final

from resotrack.catalog import N_
from resotrack.resolutions import lexicon
from resotrack.resolutions.clean import Cleaned, clean_pages
from resotrack.resolutions.errors import Phrase, ResolutionParseError
from resotrack.resolutions.extract import Kind, extract, sniff
from resotrack.resolutions.model import Language, ParsedResolution
from resotrack.resolutions.parser import (
    DEFAULT_MAX_BYTES,
    _too_big,
    decode_text,
    detect_language,
    header_dates,
    parse_resolution,
)


@dataclass(frozen=True, slots=True)
class Overrides:
    """What the user says on the command line wins over what the text says."""

    symbol: str | None = None
    language: Language | None = None
    title: str | None = None
    adopted_on: date | None = None
    #: ``parse`` shows a resolution without a symbol (and says so); ``import`` needs one.
    require_symbol: bool = True


@dataclass(frozen=True, slots=True)
class Part:
    """One resolution's text inside a document, and the place where it starts."""

    text: str
    first_line: int  # 0-based line of the document's cleaned text


@dataclass(frozen=True)
class Document:
    source: str
    kind: Kind
    resolutions: tuple[ParsedResolution, ...]
    texts: tuple[str, ...]  # the cleaned text of each resolution, stored with it
    failures: tuple[ResolutionParseError, ...] = field(default=())

    def raise_failures(self) -> None:
        """Raise the failure (or all failures, in one message) if any part failed."""
        if not self.failures:
            return
        if len(self.failures) == 1 and not self.resolutions:
            raise self.failures[0]
        raise ResolutionParseError.gathered(self.failures)


def read_document(
    path: Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    overrides: Overrides | None = None,
) -> Document:
    """Read ``path`` (text, PDF or Word, decided by its content) into its resolutions."""
    name = path.name
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise _too_big(size, max_bytes, source=name)
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except IsADirectoryError:
        raise ResolutionParseError(
            "this is a folder; give the files in it (resotrack resolutions import FOLDER "
            "imports every .pdf, .docx and .txt file it holds).",
            source=name,
        ) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ResolutionParseError(
            "cannot read the file ({reason}).", source=name, reason=reason
        ) from exc
    if len(data) > max_bytes:
        raise _too_big(len(data), max_bytes, source=name)
    return parse_bytes(data, source=name, max_chars=max_bytes, overrides=overrides)


def parse_bytes(
    data: bytes,
    *,
    source: str,
    max_chars: int = DEFAULT_MAX_BYTES,
    overrides: Overrides | None = None,
) -> Document:
    """The resolutions in a file's bytes (see ``read_document``)."""
    kind = sniff(data)
    if kind == "text":
        text = decode_text(data, source=source)
        cleaned = Cleaned(text, ())
    else:
        extracted = extract(data, source=source)
        cleaned = clean_pages(extracted.pages, pdf=kind == "pdf")
    return parse_text(cleaned, source=source, kind=kind, max_chars=max_chars, overrides=overrides)


def parse_text(
    cleaned: Cleaned,
    *,
    source: str,
    kind: Kind = "text",
    max_chars: int = DEFAULT_MAX_BYTES,
    overrides: Overrides | None = None,
) -> Document:
    options = overrides or Overrides()
    if len(cleaned.text) > max_chars:
        raise _too_big(len(cleaned.text), max_chars, unit="characters", source=source)
    parts = split_resolutions(cleaned.text)
    if options.symbol and len(parts) > 1:
        raise ResolutionParseError(
            "--symbol names one resolution, but this document holds {count} resolutions "
            "(each printed with its own number). Import it without --symbol.",
            source=source,
            count=len(parts),
        )
    language = options.language
    if language is None and len(parts) > 1:
        language = detect_language(cleaned.text)  # once for the document, not per part
    fallback = None
    if len(parts) > 1 and parts[0].first_line > 0:
        cover = cleaned.text.split("\n")[: parts[0].first_line]
        fallback = header_dates(cover)
    resolutions: list[ParsedResolution] = []
    texts: list[str] = []
    failures: list[ResolutionParseError] = []
    for part in parts:
        offset = part.first_line

        def where(line: int, offset: int = offset) -> str:
            return cleaned.where(line + offset)

        try:
            parsed = parse_resolution(
                part.text,
                symbol=options.symbol,
                max_chars=max_chars,
                language=language,
                title=options.title,
                adopted_on=options.adopted_on,
                where=where,
                fallback_date=fallback,
                require_symbol=options.require_symbol,
                cleaned=bool(cleaned.line_pages),  # clean_pages has done the characters
            )
        except ResolutionParseError as exc:
            label = source
            if len(parts) > 1:
                label = Phrase(
                    N_("{file}, the resolution starting at {place}"), file=source, place=where(1)
                )
            failures.append(exc.placed(label))
            continue
        resolutions.append(parsed)
        texts.append(part.text)
    seen: dict[str, int] = {}
    for index, parsed in enumerate(resolutions):
        if parsed.symbol in seen:
            failures.append(
                ResolutionParseError(
                    "the symbol {symbol} is printed on two resolutions of this document; "
                    "check the numbers in the text.",
                    source=source,
                    symbol=parsed.symbol,
                )
            )
        seen[parsed.symbol] = index
    return Document(source, kind, tuple(resolutions), tuple(texts), tuple(failures))


# --------------------------------------------------------------------------------------------
# Splitting a session document
# --------------------------------------------------------------------------------------------

_HEADING: Final = re.compile(
    r"(?:resolution|القرار|قرار)\s*(?:n\s*[°ºo]\.?|no\.?|number|numero|رقم|الرقم|:)?\s*"
    r"[\d٠-٩]{1,3}\s*/\s*[\d٠-٩]{1,3}"
)
_LOWER: Final = re.compile(r"[a-zà-ÿ]")
_HEADING_FIRST: Final = frozenset("RrÉéقاأإ")


_CLOSING: Final = re.compile(
    r"[()]*\s*(?:ق\s*\.?\s*(?:رقم\s*)?/?\s*[\d٠-٩]{1,5}|[\d٠-٩]{3,5}\s*/\s*د)"
)


def _split_after_closing_references(lines: list[str]) -> list[Part] | None:
    """The League of Arab States closes each decision with its reference, "(ق 1365/ دع 27/
    ج 5 - 30 /3 /1957)": a document with several of them holds several decisions."""
    ends = [i for i, line in enumerate(lines) if _CLOSING.match(line.strip())]
    if len(ends) < 2:
        return None
    parts: list[Part] = []
    start = 0
    for end in ends:
        if any(lines[start:end]):
            parts.append(Part("\n".join(lines[start : end + 1]), start))
        start = end + 1
    return parts if len(parts) >= 2 else None


def split_resolutions(text: str) -> list[Part]:
    """Cut a document at each resolution heading; one part when there is one resolution.

    A heading is a line that starts with "Resolution No. N/SS" (or the Arabic/French form),
    carries no lower-case running text after the number (that would be a preamble line
    recalling another resolution) and follows a finished sentence or a blank line.
    """
    lines = text.split("\n")
    starts: list[tuple[int, str]] = []
    previous = ""
    for index, line in enumerate(lines):
        stripped = line.strip().lstrip("*#").strip()
        if not stripped:
            previous = ""  # a blank line ends what came before
            continue
        if stripped[0] in _HEADING_FIRST:
            folded = lexicon.fold(stripped)
            match = _HEADING.match(folded)
            if (
                match
                and len(stripped) <= 90
                and not _LOWER.search(stripped[match.end() :])
                and (
                    not previous
                    or previous.endswith((".", ";", ":", "؛", ")", "*"))
                    or previous.isupper()
                )
            ):
                numbers = re.findall(r"[\d٠-٩]+", folded[match.start() : match.end()])
                starts.append((index, "/".join(numbers[-2:])))
        previous = stripped
    if len(starts) < 2:
        return _split_after_closing_references(lines) or [Part(text, 0)]
    # A table of contents lists the headings too: keep, for each symbol, its last heading.
    last: dict[str, int] = {}
    for index, symbol in starts:
        last[symbol] = index
    cuts = sorted(set(last.values()))
    if len(cuts) < 2:
        return [Part(text, 0)]
    parts: list[Part] = []
    for k, start in enumerate(cuts):
        end = cuts[k + 1] if k + 1 < len(cuts) else len(lines)
        parts.append(Part("\n".join(lines[start:end]), start))
    return parts


def parse_file(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    symbol: str | None = None,
    language: Language | None = None,
    title: str | None = None,
    adopted_on: date | None = None,
) -> ParsedResolution:
    """Read a text, PDF or Word file holding one resolution and parse it; errors name the file.

    A document holding several resolutions is refused here with their symbols listed (use
    ``read_document`` to get them all).
    """
    document = read_document(
        Path(path),
        max_bytes=max_bytes,
        overrides=Overrides(symbol=symbol, language=language, title=title, adopted_on=adopted_on),
    )
    document.raise_failures()
    if len(document.resolutions) > 1:
        symbols = ", ".join(r.symbol for r in document.resolutions)
        raise ResolutionParseError(
            "this document holds {count} resolutions ({symbols}); "
            "'resotrack resolutions import' stores each of them.",
            source=document.source,
            count=len(document.resolutions),
            symbols=symbols,
        )
    return document.resolutions[0]
