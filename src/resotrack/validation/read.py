"""Read a returned workbook safely: check the package first, then let python-calamine read it.

Everything here runs inside a sandboxed reader process (see :mod:`.sandbox`): a file that
exhausts memory or time kills a disposable process, never the ingest worker or the portal.
Even so, the package is inspected *before* any parser sees it, because the cheapest defence
is not to parse at all:

* what the bytes are (zip, OLE container: old ``.xls`` or a password-protected workbook,
  text/CSV, an OpenDocument file) from their magic, never the file name;
* the zip directory: number of parts, declared inflated sizes and ratios (zip bombs), parts
  encrypted with a zip password, macros and embedded objects;
* every XML part, inflated with a hard cap (a part that inflates past its declared size is
  lying): no ``<!DOCTYPE``/``<!ENTITY`` (entity expansion, external entities), UTF-8 only;
* the true extent of the sheets we will parse (``<dimension>`` and the cells actually
  present) against the questionnaire's bounds, since a reader may allocate by extent;
* active and outside-reaching content, by what it is rather than what it is called: every
  content type (character references decoded), every relationship, the element names of
  every XML part (DDE and external links, OLE objects, controls), formulas calling another
  program, and the OLE compound-file magic in the bytes of every part (:func:`check_content`);
* formulas in the Return sheet: calamine hands back cached values and never evaluates, so
  an answer that is a formula is only visible in the XML (``<f>``), found by a cheap scan.

Only then does calamine read the two sheets we need. The result goes back to the parent as
JSON (never pickle: a compromised reader must not be able to run code in its parent).
Standard library and python-calamine only, so a reader process starts in milliseconds.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, Final
from xml.etree import ElementTree

ZIP_MAGIC: Final = (b"PK\x03\x04", b"PK\x05\x06")
OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTED_STREAM: Final = "EncryptedPackage".encode("utf-16-le")
XML_SUFFIXES: Final = (".xml", ".rels", ".vml")
MACRO_MARKERS: Final = ("vbaproject.bin", "xl/activex/", "xl/embeddings/", "vbadata.xml")
MACRO_CONTENT_TYPES: Final = (b"macroEnabled", b"vbaProject", b"activeX", b"oleObject")
OPENDOCUMENT: Final = b"application/vnd.oasis.opendocument"
#: The OLE magic as it appears base64-encoded at the start of a block (an object inlined
#: in an XML part); the three alignments of the magic within base64's 3-byte groups.
OLE_BASE64: Final = (b"0M8R4KGxGuE", b"DQzxHgobEa4", b"0Pz+ChsRrh")
#: What each kind of content looks like: words in content types and relationship types
#: (compared lower-case, after XML decoding), and element names in any XML part.
ACTIVE: Final = {
    "read.macros": (
        "macroenabled",
        "vbaproject",
        "vbadata",
        "activex",
        "ms-office.vba",
        "controlproperties",
        "ctrlprop",
        "macrosheet",
        "dialogsheet",
        "/control",
    ),
    "read.embedded": (
        "oleobject",
        "customxml",
        "relationships/package",
        "wordprocessingml",
        "presentationml",
        "attachedtemplate",
    ),
    "read.external": ("externallink", "connections", "querytable", "/oleobjectlink"),
}
_ELEMENTS: Final = re.compile(
    rb"<(?:[\w.-]+:)?(ddeLink|oleLink|externalBook|webPr|dbPr|olapPr|oleObjects?|oleItems|"
    rb"controls?|ocx)\b"
)
_ELEMENT_RULES: Final = {
    b"ddeLink": "read.external",
    b"oleLink": "read.external",
    b"externalBook": "read.external",
    b"webPr": "read.external",
    b"dbPr": "read.external",
    b"olapPr": "read.external",
    b"oleObject": "read.embedded",
    b"oleObjects": "read.embedded",
    b"oleItems": "read.external",
    b"control": "read.macros",
    b"controls": "read.macros",
    b"ocx": "read.macros",
}
#: A formula that calls another program by DDE (``=cmd|'/c calc'!A0``): a bar in ``<f>``.
_DDE_FORMULA: Final = re.compile(
    rb"<(?:\w+:)?f\b[^>]*>[^<]*(?:\||&#0*124;|&#x0*7c;)", re.IGNORECASE
)


class Refusal(Exception):
    """The file is refused before or while reading; ``rule`` names the reason's wording."""

    def __init__(self, rule: str, **values: Any) -> None:
        super().__init__(rule, values)
        self.rule = rule
        self.values = values


# --- what are these bytes? ---------------------------------------------------------------


def _looks_like_text(head: bytes) -> bool:
    """Text (CSV, TSV, HTML saved as .xls): decodable and nearly all printable."""
    for encoding in ("utf-8", "utf-16", "cp1252"):
        try:
            sample = head.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not sample:
            return False
        printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in sample)
        return printable / len(sample) > 0.95
    return False


def classify(data: bytes) -> None:
    """Raise :class:`Refusal` unless ``data`` starts like a zip package."""
    if not data:
        raise Refusal("read.empty")
    if data.startswith(OLE_MAGIC):
        # An OLE compound file is either an old .xls or an encrypted OOXML package (Office
        # wraps those in OLE with an "EncryptedPackage" stream, names stored UTF-16LE).
        if ENCRYPTED_STREAM in data:
            raise Refusal("read.encrypted")
        raise Refusal("read.xls")
    if data.startswith(ZIP_MAGIC):
        return
    head = data[:4096]
    if _looks_like_text(head):
        lowered = head.lower()
        if b"<html" in lowered or b"<table" in lowered or b"<?xml" in lowered:
            raise Refusal("read.not_a_workbook")
        raise Refusal("read.csv")
    raise Refusal("read.not_a_workbook")


# --- the zip package ---------------------------------------------------------------------


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} TB"  # pragma: no cover


def open_package(data: bytes, limits: Mapping[str, Any]) -> zipfile.ZipFile:
    """The zip directory, checked: parts, sizes, ratios, zip encryption, macros, ODS."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise Refusal("read.damaged", detail=str(exc)[:200]) from exc
    if len(infos) > limits["max_entries"]:
        raise Refusal("read.too_large", detail=f"{len(infos):,} parts")
    names = {info.filename for info in infos}
    if "mimetype" in names or "content.xml" in names:
        with archive.open("mimetype") if "mimetype" in names else io.BytesIO(b"") as f:
            kind = f.read(200)
        if OPENDOCUMENT in kind or "content.xml" in names:
            raise Refusal("read.ods")
    lowered = [name.lower() for name in names]
    if any(marker in name for name in lowered for marker in MACRO_MARKERS):
        raise Refusal("read.macros")
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise Refusal("read.not_a_workbook")
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise Refusal("read.encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise Refusal("read.unsafe_xml", detail=f"unusual compression in {info.filename}")
        total += info.file_size
        ratio = info.file_size / max(1, info.compress_size)
        if info.file_size > limits["max_entry_uncompressed"]:
            raise Refusal("read.too_large", detail=f"{_size(info.file_size)} in one part")
        if info.file_size > limits["ratio_floor"] and ratio > limits["max_ratio"]:
            raise Refusal(
                "read.too_large", detail=f"{_size(info.file_size)}, compressed {ratio:,.0f}:1"
            )
    if total > limits["max_total_uncompressed"]:
        raise Refusal("read.too_large", detail=f"{_size(total)} in all")
    return archive


def read_part(data: bytes, info: zipfile.ZipInfo, cap: int) -> bytes:
    """A part inflated with a hard cap, whatever its headers declare.

    Inflated here with ``zlib`` and ``max_length`` rather than through ``zipfile``, which
    trusts the declared size and would only report a CRC error: a part that inflates past
    its declared size is a lie (a classic zip-bomb trick), refused as too large.
    """
    limit = min(cap, info.file_size)
    start = info.header_offset
    if data[start : start + 4] != b"PK\x03\x04":
        raise Refusal("read.damaged", detail=f"{info.filename}: no local header")
    name_length, extra_length = struct.unpack_from("<HH", data, start + 26)
    begin = start + 30 + name_length + extra_length
    raw = data[begin : begin + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        blob = raw[: limit + 1]
    else:
        try:
            blob = zlib.decompressobj(-15).decompress(raw, limit + 1)
        except zlib.error as exc:
            raise Refusal("read.damaged", detail=f"{info.filename}: {exc}") from exc
    if len(blob) > limit:
        raise Refusal("read.too_large", detail=f"{info.filename} is larger than it declares")
    if len(blob) < info.file_size or zlib.crc32(blob) != info.CRC:
        raise Refusal("read.damaged", detail=f"{info.filename} is incomplete or corrupt")
    return blob


_DECLARED_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def check_xml(name: str, blob: bytes) -> None:
    """No DTD (entity expansion, external entities), and UTF-8 (so the scan sees everything)."""
    if blob.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00<\x00" in blob[:64]:
        raise Refusal("read.unsafe_xml", detail=f"{name} is not UTF-8")
    declared = _DECLARED_ENCODING.match(blob[:200])
    if declared and declared.group(1).lower().replace(b"-", b"") not in (b"utf8",):
        raise Refusal("read.unsafe_xml", detail=f"{name} is not UTF-8")
    if b"<!DOCTYPE" in blob or b"<!ENTITY" in blob:
        raise Refusal("read.unsafe_xml", detail=f"an entity declaration in {name}")


def xml_parts(data: bytes, archive: zipfile.ZipFile, limits: Mapping[str, Any]) -> dict[str, bytes]:
    """Every XML part, inflated (capped) and checked; the total is capped too."""
    parts: dict[str, bytes] = {}
    total = 0
    for info in archive.infolist():
        if not info.filename.lower().endswith(XML_SUFFIXES) or info.is_dir():
            continue
        blob = read_part(data, info, limits["max_entry_uncompressed"])
        total += len(blob)
        if total > limits["max_total_uncompressed"]:
            raise Refusal("read.too_large", detail=f"more than {_size(total)} of XML")
        check_xml(info.filename, blob)
        parts[info.filename] = blob
    content_types = parts.get("[Content_Types].xml", b"")
    if any(marker in content_types for marker in MACRO_CONTENT_TYPES):
        raise Refusal("read.macros")
    return parts


def _kind(text: str) -> str | None:
    """Which refusal a content type or relationship type calls for, if any."""
    lowered = text.lower()
    for rule, words in ACTIVE.items():
        if any(word in lowered for word in words):
            return rule
    return None


def check_content(data: bytes, archive: zipfile.ZipFile, parts: Mapping[str, bytes]) -> None:
    """Refuse macros, ActiveX and form controls (``read.macros``), OLE objects and custom XML
    data (``read.embedded``), external links, DDE and data connections (``read.external``),
    found by content: names of parts prove nothing, and an XML attribute may spell
    ``macroEnabled`` as ``macro&#69;nabled``, so content types and relationships are parsed
    (which decodes character references) before they are compared."""
    for name, blob in parts.items():
        if name == "[Content_Types].xml":
            for element in _parse(name, blob).iter():
                rule = _kind(element.get("ContentType") or "")
                if rule:
                    raise Refusal(rule)
        elif name.lower().endswith(".rels"):
            for element in _parse(name, blob).iter():
                kind = element.get("Type") or ""
                rule = _kind(kind)
                if rule:
                    raise Refusal(rule)
                external = (element.get("TargetMode") or "").lower() == "external"
                if external and not kind.lower().endswith("/hyperlink"):
                    raise Refusal("read.external")
        found = _ELEMENTS.search(blob)
        if found and found.group(1) in _ELEMENT_RULES:
            raise Refusal(_ELEMENT_RULES[found.group(1)])
        if _DDE_FORMULA.search(blob):
            raise Refusal("read.external")
        if OLE_MAGIC in blob or any(marker in blob for marker in OLE_BASE64):
            raise Refusal("read.embedded")
    for info in archive.infolist():
        if info.is_dir() or info.filename in parts:
            continue
        # Pictures, printer settings: no binary part of a questionnaire holds an OLE file.
        if OLE_MAGIC in read_part(data, info, info.file_size):
            raise Refusal("read.embedded")


# --- the workbook's sheets ---------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attr(element: ElementTree.Element, local: str) -> str | None:
    for key, value in element.attrib.items():
        if _local(key) == local:
            return value
    return None


def _parse(name: str, blob: bytes) -> ElementTree.Element:
    try:
        return ElementTree.fromstring(blob)
    except ElementTree.ParseError as exc:
        raise Refusal("read.damaged", detail=f"{name}: {exc}") from exc


def sheets(parts: Mapping[str, bytes]) -> tuple[list[dict[str, str]], bool]:
    """Sheets in workbook order (name, state, part path) and the 1904 date system flag."""
    book = _parse("xl/workbook.xml", parts["xl/workbook.xml"])
    rels_blob = parts.get("xl/_rels/workbook.xml.rels")
    targets: dict[str, str] = {}
    if rels_blob is not None:
        for rel in _parse("xl/_rels/workbook.xml.rels", rels_blob):
            rel_id, target = rel.get("Id"), rel.get("Target")
            if rel_id and target:
                path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                targets[rel_id] = path.replace("\\", "/")
    found: list[dict[str, str]] = []
    date1904 = False
    for element in book.iter():
        tag = _local(element.tag)
        if tag == "workbookPr":
            date1904 = (element.get("date1904") or "").lower() in ("1", "true")
        elif tag == "sheet":
            found.append(
                {
                    "name": element.get("name") or "",
                    "state": element.get("state") or "visible",
                    "part": targets.get(_attr(element, "id") or "", ""),
                }
            )
    return found, date1904


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*?\bref="([^"]*)"')
_R_ATTR = re.compile(rb"""\sr=(["'])([A-Za-z]{0,4})(\d{1,9})\1""")
_CELL_TAG = re.compile(rb"<(?:\w+:)?c[\s/>]")
_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s/>]")
_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.DOTALL)
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s/>]")
_FORMULA_PLAIN = re.compile(rb"<f[\s/>]")
_FORMULA_COLON = re.compile(rb":f[\s/>]")
_PREFIXED = re.compile(rb":(?:row|c )")  # b":row" in blob or b":c " in blob, in one search
_REF = re.compile(r"\$?([A-Za-z]{1,4})\$?(\d{1,9})")


def column_number(letters: str) -> int:
    """``"A"`` → 1, ``"AB"`` → 28."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n


def column_letter(number: int) -> str:
    """1 → ``"A"``, 28 → ``"AB"``."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _ref_extent(ref: str) -> tuple[int, int]:
    """The bottom-right (row, column) of ``"A1:L138"`` (or of a single cell)."""
    corner = ref.split(":")[-1]
    match = _REF.fullmatch(corner.strip())
    if not match:
        return (0, 0)
    return int(match.group(2)), column_number(match.group(1))


def check_extent(name: str, blob: bytes, limits: Mapping[str, Any]) -> str | None:
    """Refuse a sheet larger than the questionnaire could be; returns its ``<dimension>``.

    A quick pass first (:func:`_within_bounds`) proves that a sheet is within the bounds;
    anything it cannot prove, and every sheet refused, goes through the careful count
    (:func:`_check_extent_carefully`), which alone decides and words the refusal.
    """
    max_rows, max_cols = limits["max_rows"], limits["max_cols"]
    dimension = _DIMENSION.search(blob)
    declared = dimension.group(1).decode("ascii", "replace") if dimension else None
    if declared:
        rows, cols = _ref_extent(declared)
        if rows > max_rows or cols > max_cols:
            raise Refusal(
                "read.extent", sheet=name, extent=declared, max_rows=max_rows, max_cols=max_cols
            )
    if not _within_bounds(blob, max_rows, max_cols):
        _check_extent_carefully(name, blob, max_rows, max_cols)
    return declared


#: ASCII whitespace (all that a bytes pattern calls a space) made a plain space, so that the
#: quick pass can look for the literal `` r="``, which the regex engine finds much faster.
_SPACES: Final = bytes.maketrans(b"\t\n\r\x0b\x0c", b"     ")


@lru_cache(maxsize=8)
def _bound_patterns(max_rows: int, max_cols: int) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """``r`` attributes that might pass the bounds: rows written with as many digits as
    ``max_rows`` or more, columns with as many letters as ``max_cols`` or more (a shorter
    number is always smaller). Same shape as ``_R_ATTR``, after a literal space."""
    digits, letters = len(str(max_rows)), len(column_letter(max_cols))
    return (
        re.compile(rb' r="(\d{%d,9})"' % digits),
        re.compile(rb' r="([A-Za-z]{%d,4})\d{1,9}"' % letters),
    )


def _within_bounds(blob: bytes, max_rows: int, max_cols: int) -> bool:
    """True only if the careful count would find the sheet within the bounds.

    It bounds from above what the careful count measures: the same ``r`` attributes (on the
    whitespace-normalised copy, where `` r="`` is exactly what ``_R_ATTR`` matched), ``<row``
    tags however they go on (at least as many as ``<row `` and ``<row>`` together), and the
    cells by the blob's length (a cell tag takes three bytes at least). A prefixed sheet, or
    one with a single-quoted ``r``, is left to the careful count.
    """
    if _PREFIXED.search(blob) or b"r='" in blob:
        return False
    if blob.count(b"<row") > max_rows or len(blob) > 3 * max_rows * max_cols:
        return False
    rows_pattern, cols_pattern = _bound_patterns(max_rows, max_cols)
    spaced = blob.translate(_SPACES)
    if any(int(number) > max_rows for number in rows_pattern.findall(spaced)):
        return False
    letters = set(cols_pattern.findall(spaced))
    return all(column_number(m.decode()) <= max_cols for m in letters)


def _check_extent_carefully(name: str, blob: bytes, max_rows: int, max_cols: int) -> None:
    """Every ``r`` reference, rows and cells counted by their tags: refuse the sheet if too
    large. Tags with or without a prefix, empty (``<c/>``) or not, ``r`` in either quotes."""
    # One pass over every r="..." reference: digits alone are rows, letters+digits cells.
    refs = _R_ATTR.findall(blob)
    rows = max((int(number) for _, letters, number in refs if not letters), default=0)
    letters = {letters.upper() for _, letters, _ in refs if letters}
    cols = max((column_number(m.decode()) for m in letters), default=0)
    rows = max(rows, len(_ROW_TAG.findall(blob)))
    cells = len(_CELL_TAG.findall(blob))
    if rows > max_rows or cols > max_cols or cells > max_rows * max_cols:
        extent = f"{column_letter(max(cols, 1))}{max(rows, 1)}"
        raise Refusal(
            "read.extent", sheet=name, extent=extent, max_rows=max_rows, max_cols=max_cols
        )


def formula_cells(blob: bytes) -> list[str]:
    """A1 references of the cells holding a formula (``<f>``); ``"?"`` when one has no ref."""
    # A formula tag is "<f" or, prefixed, "<x:f" then a space, "/" or ">": two searches for a
    # literal start, far cheaper than the full pattern (tried at every "<"), find none in
    # most sheets; what they find is confirmed by the full pattern.
    if not (_FORMULA_PLAIN.search(blob) or _FORMULA_COLON.search(blob)):
        return []
    if not _FORMULA.search(blob):  # ":f " was in a text, say, not in a tag
        return []
    found: list[str] = []
    for attrs, inner in _CELL.findall(blob):
        if inner and _FORMULA.search(inner):
            ref = re.search(rb'\br="([A-Za-z]{1,4}\d{1,9})"', attrs)
            found.append(ref.group(1).decode("ascii") if ref else "?")
    return found


# --- values across the process boundary --------------------------------------------------


_PLAIN: Final = frozenset({str, int, float, bool})


def encode_value(value: Any) -> Any:
    """A cell value as JSON: dates and times tagged, so they come back as themselves."""
    if value is None or type(value) in _PLAIN:
        return value
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"time": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"seconds": value.total_seconds()}
    return value


def decode_value(value: Any) -> Any:
    """The inverse of :func:`encode_value`."""
    if type(value) is dict:
        if "datetime" in value:
            return dt.datetime.fromisoformat(value["datetime"])
        if "date" in value:
            return dt.date.fromisoformat(value["date"])
        if "time" in value:
            return dt.time.fromisoformat(value["time"])
        if "seconds" in value:
            return dt.timedelta(seconds=value["seconds"])
    return value


def _rows(sheet: Any) -> list[list[Any]]:
    return [list(row) for row in sheet.to_python(skip_empty_area=False)]


def read_package(data: bytes, request: Mapping[str, Any]) -> dict[str, Any]:
    """Inspect then read ``data``; the JSON-ready answer the sandbox sends back.

    ``request`` carries the limits and the names of the answer and identity sheets.
    """
    answer = inspect_and_read(data, request)
    if answer.get("ok"):
        for key in ("rows", "meta_rows"):
            if answer[key] is not None:
                answer[key] = [[encode_value(v) for v in row] for row in answer[key]]
    return answer


def inspect_and_read(data: bytes, request: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`read_package` with the cell values left as Python values (dates as dates)."""
    limits = request["limits"]
    answer_sheet, meta_sheet = request["return_sheet"], request["meta_sheet"]
    try:
        if len(data) > limits["max_file_bytes"]:
            raise Refusal("read.too_large", detail=_size(len(data)))
        classify(data)
        archive = open_package(data, limits)
        parts = xml_parts(data, archive, limits)
        check_content(data, archive, parts)
        found, date1904 = sheets(parts)
        if len(found) > limits["max_sheets"]:
            raise Refusal("read.too_large", detail=f"{len(found)} sheets")
        by_name = {sheet["name"]: sheet for sheet in found}
        dimension: str | None = None
        formulas: list[str] = []
        for name in (answer_sheet, meta_sheet):
            sheet = by_name.get(name)
            if sheet is None:
                continue
            blob = parts.get(sheet["part"])
            if blob is None:
                raise Refusal("read.damaged", detail=f"the sheet {name} has no content")
            extent = check_extent(name, blob, limits)
            if name == answer_sheet:
                dimension = extent
                formulas = formula_cells(blob)
        return {
            "ok": True,
            "sheets": [{"name": s["name"], "state": s["state"]} for s in found],
            "date1904": date1904,
            "dimension": dimension,
            "formulas": formulas,
            **_calamine(data, by_name, answer_sheet, meta_sheet),
        }
    except Refusal as refusal:
        return {"ok": False, "rule": refusal.rule, "values": _plain(refusal.values)}


def _calamine(
    data: bytes, by_name: Mapping[str, Any], answer_sheet: str, meta_sheet: str
) -> dict[str, Any]:
    from python_calamine import CalamineWorkbook, PasswordError

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        result: dict[str, Any] = {"rows": None, "merged": [], "meta_rows": None}
        if answer_sheet in by_name:
            sheet = book.get_sheet_by_name(answer_sheet)
            result["rows"] = _rows(sheet)
            merged = sheet.merged_cell_ranges or []
            result["merged"] = [[r0, c0, r1, c1] for (r0, c0), (r1, c1) in merged]
        if meta_sheet in by_name:
            result["meta_rows"] = _rows(book.get_sheet_by_name(meta_sheet))
        return result
    except PasswordError as exc:
        raise Refusal("read.encrypted") from exc
    except MemoryError:
        raise
    except Exception as exc:  # calamine raises several unrelated types for a bad file
        raise Refusal("read.damaged", detail=f"{type(exc).__name__}: {str(exc)[:160]}") from exc


def _plain(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, str | int | float) else str(v) for k, v in values.items()}


def decode_rows(rows: Iterable[Iterable[Any]] | None) -> list[list[Any]] | None:
    if rows is None:
        return None
    return [[decode_value(v) for v in row] for row in rows]


__all__ = [
    "Refusal",
    "check_extent",
    "classify",
    "column_letter",
    "column_number",
    "decode_rows",
    "formula_cells",
    "read_package",
]
