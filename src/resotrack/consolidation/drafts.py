"""The blocks of a Word draft staff may rewrite, as the builder writes them and reads them back.

Each block (the introduction, the synthesis of one operative paragraph, the conclusions, the
recommendations) is a Word content control (``w:sdt``) whose tag is ``resotrack:<key>``,
locked against deletion but not against editing, so the key survives whatever staff do to the
words inside; it is also a hidden bookmark (``_rt_<key>``), which editors that drop content
controls keep. The draft names its build in its core properties (``identifier``), so a file
uploaded back is matched to the build it came from.

A block's text is read as paragraphs of runs (plain text, bold, italic, and the paragraph's
style when it is one the report uses): enough to keep what staff wrote and how it reads,
nothing that could carry a reference to a part the next document would not have. Deleted
tracked changes are left out; inserted ones are read as text.

Reading an uploaded file is defensive: a size limit, a zip whose members are counted and
whose document part is read no further than a limit, and an XML parser (python-docx's) that
resolves no entity and fetches nothing.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from docx.oxml.parser import parse_xml

TAG_PREFIX: Final = "resotrack:"
#: The same block as a bookmark (a hidden one, as Word's ``_Toc``): what survives an editor
#: that drops content controls (LibreOffice 7 does, on saving a .docx).
BOOKMARK_PREFIX: Final = "_rt_"
#: What the core properties' identifier starts with.
DRAFT_MARK: Final = "resotrack-draft"
#: Styles a block keeps (style id in the file → style name); any other paragraph is Normal.
STYLES: Final[dict[str, str]] = {"Quote": "Quote", "ListBullet": "List Bullet"}
#: Limits on an uploaded file: its size, its members, its document part once inflated.
MAX_FILE: Final = 40 * 1024 * 1024
MAX_MEMBERS: Final = 2000
MAX_PART: Final = 80 * 1024 * 1024
W_NS: Final = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W = "{" + W_NS + "}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_SPACES = re.compile(r"\s+")


class DraftUnreadable(ValueError):
    """The file is not a Word document resotrack can read; ``reason`` is a message id of the
    ``cli`` domain."""

    def __init__(self, reason: str, **values: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.values = values


@dataclass(frozen=True)
class Run:
    text: str
    bold: bool = False
    italic: bool = False


@dataclass(frozen=True)
class Para:
    """One paragraph of a block: its style (None: the body's) and its runs."""

    style: str | None
    runs: tuple[Run, ...]

    @property
    def text(self) -> str:
        return " ".join("".join(r.text for r in self.runs).split())

    def as_json(self) -> dict[str, Any]:
        return {
            "style": self.style,
            "runs": [
                [r.text, ("b" if r.bold else "") + ("i" if r.italic else "")] for r in self.runs
            ],
        }

    @classmethod
    def of_json(cls, value: Mapping[str, Any]) -> Para:
        style = value.get("style")
        runs = tuple(
            Run(str(text), "b" in str(how), "i" in str(how)) for text, how in value.get("runs", [])
        )
        return cls(style if style in STYLES.values() else None, runs)


def plain(paragraphs: Iterable[Para]) -> str:
    """A block's text for comparison: one line per non-empty paragraph, spaces collapsed."""
    return "\n".join(t for t in (p.text for p in paragraphs) if t)


def same(a: str, b: str) -> bool:
    return _SPACES.sub(" ", a).strip() == _SPACES.sub(" ", b).strip()


def _on(props: Any, tag: str) -> bool:
    found = props.find(_W + tag) if props is not None else None
    if found is None:
        return False
    return found.get(_W + "val", "true") not in ("0", "false", "off")


def read_paragraph(p: Any) -> Para:
    """A ``w:p`` as a :class:`Para` (runs inside deleted changes left out)."""
    ppr = p.find(_W + "pPr")
    style_el = ppr.find(_W + "pStyle") if ppr is not None else None
    style = STYLES.get(style_el.get(_W + "val", "")) if style_el is not None else None
    runs: list[Run] = []
    for r in p.iter(_W + "r"):
        if any(a.tag == _W + "del" for a in r.iterancestors()):
            continue
        rpr = r.find(_W + "rPr")
        parts = []
        for child in r:
            if child.tag == _W + "t":
                parts.append(child.text or "")
            elif child.tag in (_W + "tab", _W + "br", _W + "cr"):
                parts.append(" ")
        text = "".join(parts)
        if text:
            runs.append(Run(text, _on(rpr, "b"), _on(rpr, "i")))
    return Para(style, tuple(runs))


def block_paragraphs(content: Any) -> list[Para]:
    """The paragraphs of a block's ``w:sdtContent``, in order (a table's cells' too)."""
    return [read_paragraph(p) for p in content.iter(_W + "p")]


def blocks_in(body: Any) -> dict[str, Any]:
    """Key → ``w:sdtContent`` of every resotrack block under ``body`` (first of a key wins)."""
    found: dict[str, Any] = {}
    for sdt in body.iter(_W + "sdt"):
        tag = sdt.find(f"{_W}sdtPr/{_W}tag")
        value = tag.get(_W + "val", "") if tag is not None else ""
        content = sdt.find(_W + "sdtContent")
        if value.startswith(TAG_PREFIX) and content is not None:
            found.setdefault(value[len(TAG_PREFIX) :], content)
    return found


def bookmark_name(key: str) -> str:
    return BOOKMARK_PREFIX + key.replace("-", "_")


def bookmarked(body: Any, keys: Iterable[str]) -> dict[str, list[Para]]:
    """The paragraphs each ``keys`` bookmark spans (from the paragraph holding its start to
    the one holding its end), for the blocks whose content control is gone."""
    wanted = {bookmark_name(k): k for k in keys}
    open_: dict[str, str] = {}  # bookmark id -> key
    found: dict[str, list[Any]] = {}
    for p in body.iter(_W + "p"):
        for mark in p.iter(_W + "bookmarkStart"):
            key = wanted.get(mark.get(_W + "name", ""))
            if key is not None and key not in found:
                open_[mark.get(_W + "id", "")] = key
                found[key] = []
        for key in open_.values():
            found[key].append(p)
        for mark in p.iter(_W + "bookmarkEnd"):
            open_.pop(mark.get(_W + "id", ""), None)
    return {k: [read_paragraph(p) for p in ps] for k, ps in found.items()}


@dataclass(frozen=True)
class Draft:
    """What an uploaded draft holds: the identifier it carries and its blocks."""

    identifier: str
    blocks: dict[str, list[Para]]


def _part(archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        info = archive.getinfo(name)
    except KeyError as exc:
        raise DraftUnreadable("The file is not a Word document (.docx).") from exc
    if info.file_size > MAX_PART:
        raise DraftUnreadable("The file is too large to be a report draft.")
    with archive.open(info) as handle:
        data = handle.read(MAX_PART + 1)
    if len(data) > MAX_PART:
        raise DraftUnreadable("The file is too large to be a report draft.")
    return data


def read_draft(data: bytes) -> Draft:
    """The identifier and blocks of an uploaded ``.docx``; :class:`DraftUnreadable` otherwise."""
    if len(data) > MAX_FILE:
        raise DraftUnreadable("The file is too large to be a report draft.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if len(archive.infolist()) > MAX_MEMBERS:
                raise DraftUnreadable("The file is too large to be a report draft.")
            document = _part(archive, "word/document.xml")
            try:
                core = _part(archive, "docProps/core.xml")
            except DraftUnreadable:
                core = b""
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
        raise DraftUnreadable("The file is not a Word document (.docx).") from exc
    except (RuntimeError, OSError, ValueError) as exc:  # encrypted, truncated, bad member
        if isinstance(exc, DraftUnreadable):
            raise
        raise DraftUnreadable("The file is not a Word document (.docx).") from exc
    try:
        # python-docx's parser: no entity resolved, nothing fetched, no huge tree.
        root = parse_xml(document)
        identifier = ""
        if core:
            found = parse_xml(core).find(_DC + "identifier")
            identifier = (found.text or "").strip() if found is not None else ""
    except SyntaxError as exc:  # lxml's XMLSyntaxError
        raise DraftUnreadable("The file is not a Word document (.docx).") from exc
    body = root.find(_W + "body")
    if body is None:
        raise DraftUnreadable("The file is not a Word document (.docx).")
    blocks = {k: block_paragraphs(c) for k, c in blocks_in(body).items()}
    keys = {
        m.get(_W + "name", "")[len(BOOKMARK_PREFIX) :].replace("_", "-")
        for m in body.iter(_W + "bookmarkStart")
        if m.get(_W + "name", "").startswith(BOOKMARK_PREFIX)
    }
    lost = keys - blocks.keys()
    return Draft(identifier, blocks | bookmarked(body, lost))


def identifier(cycle_id: int, symbol: str, language: str, digest: str) -> str:
    """What a draft says about itself (the core properties' identifier)."""
    return f"{DRAFT_MARK} cycle={cycle_id} language={language} draft={digest} resolution={symbol}"


def parse_identifier(value: str) -> dict[str, str] | None:
    """The fields of :func:`identifier`, or None if ``value`` is not one."""
    if not value.startswith(DRAFT_MARK + " "):
        return None
    head, _, symbol = value.partition(" resolution=")
    fields = dict(part.split("=", 1) for part in head.split()[1:] if "=" in part)
    if not symbol or not {"cycle", "language", "draft"} <= fields.keys():
        return None
    return fields | {"resolution": symbol}


def as_json(paragraphs: Sequence[Para]) -> list[dict[str, Any]]:
    return [p.as_json() for p in paragraphs]


@dataclass(frozen=True)
class StaffText:
    """Staff's text for a block, as the build receives it (``ReportEdit`` without the ORM)."""

    paragraphs: tuple[Para, ...]
    replaced: str
    edited_by: str
    edited_on: date
    #: When the build whose generated text staff replaced was made: its date, which the
    #: generated text may name ("as of 1 July"), is not a fact that changed.
    replaced_on: date | None = None


@dataclass(frozen=True)
class Block:
    """One block of a built draft: what the builder generated, what the draft shows (staff's
    text when they edited it), and whether staff's text stands on facts that have changed."""

    key: str
    generated: str
    shown: str
    edited: bool = False
    stale: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "generated": self.generated,
            "shown": self.shown,
            "edited": self.edited,
            "stale": self.stale,
        }
