"""Annotate a workbook by patching its package, leaving every other part byte-for-byte intact.

openpyxl reads a whole workbook into objects and writes a new package: values survive, but
every part is rewritten (and it takes ~0.1 s for a 137-row return). Here the zip is copied
part by part and only these change:

* ``xl/styles.xml``: fills, fonts and cell formats appended (existing indices unchanged);
* the Return sheet: the ``s`` (style) attribute of each problem cell, and one
  ``<legacyDrawing>`` element pointing at the comments;
* new parts: the comments, their VML drawing, and the summary sheet (inline strings, so
  ``sharedStrings.xml`` is untouched), with their relationships and content types;
* ``xl/workbook.xml``: the summary sheet listed first and active, ``localSheetId`` of defined
  names shifted by one (they count sheets by position), and ``tabSelected`` cleared on the
  sheet that had it (two selected tabs would group the sheets in Excel).

Anything this code does not expect (namespace prefixes, existing comments or VML, strict
OOXML) raises :class:`CannotPatch`, and the caller falls back to openpyxl. Standard library
only; runs in the sandboxed readers like the rest of the feedback.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from typing import Any, Final
from xml.sax.saxutils import escape, quoteattr

from resotrack.textsafety import neutralise

MAIN: Final = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS: Final = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_RELS: Final = "http://schemas.openxmlformats.org/package/2006/relationships"
T_WORKSHEET: Final = f"{RELS}/worksheet"
T_COMMENTS: Final = f"{RELS}/comments"
T_VML: Final = f"{RELS}/vmlDrawing"
CT_WORKSHEET: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_COMMENTS: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_VML: Final = "application/vnd.openxmlformats-officedocument.vmlDrawing"
FILLS: Final = {"blocker": "FFFFC7CE", "warning": "FFFFEB9C", "header": "FF1F4E79"}
_WIDTHS: Final = (9, 12, 26, 60, 60)
# Elements that follow <legacyDrawing> in a worksheet, in schema order.
_AFTER_LEGACY: Final = (
    b"<legacyDrawingHF",
    b"<drawingHF",
    b"<picture",
    b"<oleObjects",
    b"<controls",
    b"<webPublishItems",
    b"<tableParts",
    b"<extLst",
    b"</worksheet>",
)
_INVALID_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class CannotPatch(Exception):
    """The package is not shaped as this patcher expects: use openpyxl instead."""


def _text(value: str) -> str:
    return escape(_INVALID_XML.sub("", value))


def _attr(value: str) -> str:
    return quoteattr(_INVALID_XML.sub("", value))


def _attrs(tag: bytes) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in re.findall(rb'([\w:]+)="([^"]*)"', tag)}


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _col_letter(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _split(ref: str) -> tuple[str, int]:
    match = re.fullmatch(r"([A-Z]{1,3})(\d{1,7})", ref)
    if not match:
        raise CannotPatch(f"bad cell reference {ref!r}")
    return match[1], int(match[2])


# --- styles ------------------------------------------------------------------------------


class Styles:
    """``xl/styles.xml`` with appended fills, fonts and cell formats."""

    def __init__(self, xml: bytes) -> None:
        self.xml = xml
        self.fills = self._items(b"fills", rb"<fill>.*?</fill>|<fill/>")
        self.fonts = self._items(b"fonts", rb"<font>.*?</font>|<font/>|<font\b[^>]*>.*?</font>")
        self.xfs = self._items(b"cellXfs", rb"<xf\b[^>]*/>|<xf\b[^>]*>.*?</xf>")
        self.new_fills: list[bytes] = []
        self.new_fonts: list[bytes] = []
        self.new_xfs: list[bytes] = []
        self.fill_ids: dict[str, int] = {}
        self.cache: dict[tuple[int, str], int] = {}

    def _items(self, section: bytes, item: bytes) -> list[bytes]:
        match = re.search(rb"<" + section + rb"\b[^>]*>(.*?)</" + section + rb">", self.xml, re.S)
        if match is None:
            raise CannotPatch(f"styles.xml has no {section.decode()}")
        return re.findall(item, match[1], re.S)

    def fill(self, name: str) -> int:
        if name not in self.fill_ids:
            self.fill_ids[name] = len(self.fills) + len(self.new_fills)
            self.new_fills.append(
                f'<fill><patternFill patternType="solid"><fgColor rgb="{FILLS[name]}"/>'
                '<bgColor indexed="64"/></patternFill></fill>'.encode()
            )
        return self.fill_ids[name]

    def font(self, xml: str) -> int:
        self.new_fonts.append(xml.encode())
        return len(self.fonts) + len(self.new_fonts) - 1

    def xf(self, xml: str) -> int:
        self.new_xfs.append(xml.encode())
        return len(self.xfs) + len(self.new_xfs) - 1

    def highlighted(self, style: int, severity: str) -> int:
        """The index of style ``style`` with the severity's fill."""
        key = (style, severity)
        if key not in self.cache:
            base = self.xfs[style] if 0 <= style < len(self.xfs) else self.xfs[0]
            fill = self.fill(severity)
            tag_end = base.index(b">")
            head, rest = base[:tag_end], base[tag_end:]
            head = re.sub(rb'\sfillId="\d+"', b"", head)
            head = re.sub(rb'\sapplyFill="\w+"', b"", head)
            head += f' fillId="{fill}" applyFill="1"'.encode()
            self.new_xfs.append(head + rest)
            self.cache[key] = len(self.xfs) + len(self.new_xfs) - 1
        return self.cache[key]

    def patched(self) -> bytes:
        xml = self.xml
        for section, items, new in (
            (b"fills", self.fills, self.new_fills),
            (b"fonts", self.fonts, self.new_fonts),
            (b"cellXfs", self.xfs, self.new_xfs),
        ):
            if not new:
                continue
            close = b"</" + section + b">"
            at = xml.index(close)
            xml = xml[:at] + b"".join(new) + xml[at:]
            count = str(len(items) + len(new)).encode()
            xml = re.sub(
                rb"(<" + section + rb'\b[^>]*?\bcount=")\d+(")',
                rb"\g<1>" + count + rb"\g<2>",
                xml,
                count=1,
            )
        return xml


# --- the Return sheet --------------------------------------------------------------------


def _set_style(sheet: bytes, ref: str, styles: Styles, severity: str) -> bytes:
    letters, row = _split(ref)
    cell = re.search(rb'<c\b[^>]*?\sr="' + ref.encode() + rb'"[^>]*?(/?)>', sheet)
    if cell is not None:
        tag = cell[0]
        style = re.search(rb'\ss="(\d+)"', tag)
        new = styles.highlighted(int(style[1]) if style else 0, severity)
        if style:
            tag = tag[: style.start(1)] + str(new).encode() + tag[style.end(1) :]
        else:
            tag = tag[:2] + f' s="{new}"'.encode() + tag[2:]
        return sheet[: cell.start()] + tag + sheet[cell.end() :]
    empty = f'<c r="{ref}" s="{styles.highlighted(0, severity)}"/>'.encode()
    row_match = re.search(rb'<row\b[^>]*?\sr="' + str(row).encode() + rb'"[^>]*?(/?)>', sheet)
    if row_match is None:  # no such row yet: a new one, in row order
        sheet_data = re.search(rb"<sheetData\s*/>", sheet)
        new_row = f'<row r="{row}">'.encode() + empty + b"</row>"
        if sheet_data is not None:
            return (
                sheet[: sheet_data.start()]
                + b"<sheetData>"
                + new_row
                + b"</sheetData>"
                + sheet[sheet_data.end() :]
            )
        for later in re.finditer(rb'<row\b[^>]*?\sr="(\d+)"', sheet):
            if int(later[1]) > row:
                return sheet[: later.start()] + new_row + sheet[later.start() :]
        at = sheet.index(b"</sheetData>")
        return sheet[:at] + new_row + sheet[at:]
    if row_match[1] == b"/":  # <row .../>: give it content
        tag = row_match[0][:-2] + b">"
        return sheet[: row_match.start()] + tag + empty + b"</row>" + sheet[row_match.end() :]
    end = sheet.index(b"</row>", row_match.end())
    column = _col_number(letters)
    for other in re.finditer(rb'<c\b[^>]*?\sr="([A-Z]+)\d+"', sheet[row_match.end() : end]):
        if _col_number(other[1].decode()) > column:
            at = row_match.end() + other.start()
            return sheet[:at] + empty + sheet[at:]
    return sheet[:end] + empty + sheet[end:]


def _comments(notes: Sequence[Mapping[str, str]]) -> bytes:
    items = "".join(
        f'<comment ref="{n["cell"]}" authorId="0"><text><r><rPr><sz val="9"/></rPr>'
        f'<t xml:space="preserve">{_text(n["text"])}</t></r></text></comment>'
        for n in sorted(
            notes, key=lambda n: (_split(n["cell"])[1], _col_number(_split(n["cell"])[0]))
        )
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<comments xmlns="{MAIN}"><authors><author>resotrack</author></authors>'
        f"<commentList>{items}</commentList></comments>"
    ).encode()


def _vml(notes: Sequence[Mapping[str, str]]) -> bytes:
    shapes = []
    for index, note in enumerate(notes):
        letters, row = _split(note["cell"])
        col = _col_number(letters) - 1
        shapes.append(
            f'<v:shape id="_x0000_s{1025 + index}" type="#_x0000_t202" '
            'style="position:absolute;margin-left:60pt;margin-top:2pt;width:270pt;'
            'height:110pt;z-index:1;visibility:hidden" fillcolor="#ffffe1" '
            'o:insetmode="auto"><v:fill color2="#ffffe1"/>'
            '<v:shadow on="t" color="black" obscured="t"/><v:path o:connecttype="none"/>'
            '<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div>'
            '</v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/>'
            f"<x:SizeWithCells/><x:Anchor>{col + 1}, 15, {max(row - 2, 0)}, 2, {col + 4}, 15, "
            f"{row + 5}, 4</x:Anchor><x:AutoFill>False</x:AutoFill>"
            f"<x:Row>{row - 1}</x:Row><x:Column>{col}</x:Column></x:ClientData></v:shape>"
        )
    return (
        '<xml xmlns:v="urn:schemas-microsoft-com:vml" '
        'xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel">'
        '<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="1"/></o:shapelayout>'
        '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" '
        'path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/>'
        '<v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
        + "".join(shapes)
        + "</xml>"
    ).encode()


# --- relationships and content types ----------------------------------------------------


def _add_relationship(rels: bytes | None, kind: str, target: str) -> tuple[bytes, str]:
    if rels is None:
        rels = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{PKG_RELS}"></Relationships>'
        ).encode()
    taken = {int(n) for n in re.findall(rb'Id="rId(\d+)"', rels)}
    rid = f"rId{max(taken, default=0) + 1}"
    entry = f'<Relationship Id="{rid}" Type="{kind}" Target="{target}"/>'.encode()
    at = rels.rindex(b"</Relationships>")
    return rels[:at] + entry + rels[at:], rid


def _add_content_type(types: bytes, entry: str, needle: bytes) -> bytes:
    if needle in types:
        return types
    at = types.rindex(b"</Types>")
    return types[:at] + entry.encode() + types[at:]


def _rels_path(part: str) -> str:
    folder, _, name = part.rpartition("/")
    return f"{folder}/_rels/{name}.rels"


def _free_name(files: Mapping[str, bytes], pattern: str) -> tuple[str, int]:
    n = 1
    while pattern.format(n) in files:
        n += 1
    return pattern.format(n), n


# --- the summary sheet -------------------------------------------------------------------


def _summary_sheet(summary: Mapping[str, Any], rtl: bool, styles: Styles) -> bytes:
    title_font = styles.font(
        '<font><b/><sz val="14"/><color rgb="FF1F4E79"/><name val="Calibri"/></font>'
    )
    title_xf = styles.xf(
        f'<xf numFmtId="0" fontId="{title_font}" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    )
    head_font = styles.font(
        '<font><b/><sz val="11"/><color rgb="FFFFFFFF"/><name val="Calibri"/></font>'
    )
    head_xf = styles.xf(
        f'<xf numFmtId="0" fontId="{head_font}" fillId="{styles.fill("header")}" borderId="0" '
        'xfId="0" applyFont="1" applyFill="1"/>'
    )
    row_xfs = {
        severity: styles.xf(
            f'<xf numFmtId="0" fontId="0" fillId="{styles.fill(severity)}" borderId="0" '
            'xfId="0" applyFill="1" applyAlignment="1">'
            '<alignment vertical="top" wrapText="1"/></xf>'
        )
        for severity in ("blocker", "warning")
    }
    Cells = list[tuple[str, int | None]]
    rows: list[Cells] = [[(summary["heading"], title_xf)], [(summary["outcome"], None)]]
    rows += [[(label, None), (value, None)] for label, value in summary["details"]]
    rows += [[], [(text, head_xf) for text in summary["columns"]]]
    for severity, row in zip(summary["severities"], summary["rows"], strict=True):
        xf = row_xfs.get(severity, row_xfs["warning"])
        rows.append([(text, xf) for text in row])
    xml_rows = []
    for number, cells in enumerate(rows, start=1):
        xml_cells = "".join(
            f'<c r="{_col_letter(col)}{number}" t="inlineStr"'
            + (f' s="{xf}"' if xf is not None else "")
            + f'><is><t xml:space="preserve">{_text(neutralise(str(value)))}</t></is></c>'
            for col, (value, xf) in enumerate(cells, start=1)
            if value != ""
        )
        xml_rows.append(f'<row r="{number}">{xml_cells}</row>')
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(_WIDTHS, 1)
    )
    direction = ' rightToLeft="1"' if rtl else ""
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{MAIN}" xmlns:r="{RELS}"><sheetViews>'
        f'<sheetView tabSelected="1"{direction} workbookViewId="0"/></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols>'
        f"<sheetData>{''.join(xml_rows)}</sheetData>"
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
        'footer="0.3"/></worksheet>'
    ).encode()


# --- the whole package -------------------------------------------------------------------


def annotate_zip(data: bytes, header: Mapping[str, Any]) -> bytes:
    """The workbook with its problem cells filled and commented and a summary sheet first."""
    source = zipfile.ZipFile(io.BytesIO(data))
    infos = source.infolist()
    files = {info.filename: source.read(info) for info in infos}
    book = files.get("xl/workbook.xml")
    book_rels_path = "xl/_rels/workbook.xml.rels"
    book_rels = files.get(book_rels_path)
    types = files.get("[Content_Types].xml")
    styles_xml = files.get("xl/styles.xml")
    if book is None or book_rels is None or types is None or styles_xml is None:
        raise CannotPatch("a part this patcher needs is missing")
    if MAIN.encode() not in book or re.search(rb"<\w+:sheet\b", book):
        raise CannotPatch("not a transitional workbook without prefixes")
    if any(name.lower().endswith(".vml") for name in files):
        raise CannotPatch("the workbook already has VML drawings")

    sheets = [_attrs(tag) for tag in re.findall(rb"<sheet\b[^>]*>", book)]
    targets = {
        a["Id"]: a["Target"]
        for a in (_attrs(t) for t in re.findall(rb"<Relationship\b[^>]*>", book_rels))
    }

    def part_of(sheet: Mapping[str, str]) -> str:
        target = targets.get(sheet.get("r:id", ""), "")
        return target.lstrip("/") if target.startswith("/") else f"xl/{target}"

    styles = Styles(styles_xml)
    notes = list(header["notes"])
    answer_sheet = next((s for s in sheets if s.get("name") == header["return_sheet"]), None)
    if answer_sheet is not None and notes:
        part = part_of(answer_sheet)
        sheet = files.get(part)
        if sheet is None or b"<legacyDrawing" in sheet or re.search(rb"<\w+:sheetData", sheet):
            raise CannotPatch("the Return sheet is not as expected")
        for note in notes:
            sheet = _set_style(sheet, note["cell"], styles, note["severity"])
        comments_part, n = _free_name(files, "xl/comments{}.xml")
        vml_part = f"xl/drawings/vmlDrawing{n}.vml"
        sheet_rels, _ = _add_relationship(
            files.get(_rels_path(part)), T_COMMENTS, f"../comments{n}.xml"
        )
        sheet_rels, vml_rid = _add_relationship(sheet_rels, T_VML, f"../drawings/vmlDrawing{n}.vml")
        at = min(sheet.find(tag) for tag in _AFTER_LEGACY if sheet.find(tag) >= 0)
        # The r prefix declared on the element itself: not every writer declares it at the root.
        drawing = f'<legacyDrawing xmlns:r="{RELS}" r:id="{vml_rid}"/>'
        sheet = sheet[:at] + drawing.encode() + sheet[at:]
        files[part] = sheet
        files[_rels_path(part)] = sheet_rels
        files[comments_part] = _comments(notes)
        files[vml_part] = _vml(notes)
        types = _add_content_type(
            types,
            f'<Override PartName="/{comments_part}" ContentType="{CT_COMMENTS}"/>',
            comments_part.encode(),
        )
        types = _add_content_type(
            types, f'<Default Extension="vml" ContentType="{CT_VML}"/>', b'Extension="vml"'
        )

    # The summary sheet, first and selected.
    summary = header["summary"]
    names = {s.get("name") for s in sheets}
    title = summary["title"][:31]
    suffix = 2
    while title in names:
        title = f"{summary['title'][:28]} {suffix}"
        suffix += 1
    summary_part, _ = _free_name(files, "xl/worksheets/sheet{}.xml")
    files[summary_part] = _summary_sheet(summary, bool(header.get("rtl")), styles)
    book_rels, rid = _add_relationship(book_rels, T_WORKSHEET, summary_part.removeprefix("xl/"))
    sheet_id = max((int(s.get("sheetId", 0)) for s in sheets), default=0) + 1
    entry = (
        f'<sheet xmlns:r="{RELS}" name={_attr(title)} sheetId="{sheet_id}" r:id="{rid}"/>'
    ).encode()
    at = book.index(b">", book.index(b"<sheets")) + 1
    book = book[:at] + entry + book[at:]
    book = re.sub(rb'localSheetId="(\d+)"', lambda m: b'localSheetId="%d"' % (int(m[1]) + 1), book)
    view = re.search(rb"<workbookView\b[^>]*?/?>", book)
    if view is not None:
        tag = re.sub(rb'\s(activeTab|firstSheet)="\d+"', b"", view[0])
        tag = tag[: len(b"<workbookView")] + b' activeTab="0"' + tag[len(b"<workbookView") :]
        book = book[: view.start()] + tag + book[view.end() :]
    for sheet_info in sheets:  # one selected tab: the summary
        part = part_of(sheet_info)
        if part in files and b'tabSelected="1"' in files[part]:
            files[part] = files[part].replace(b' tabSelected="1"', b"")
    files["xl/workbook.xml"] = book
    files[book_rels_path] = book_rels
    files["xl/styles.xml"] = styles.patched()
    files["[Content_Types].xml"] = _add_content_type(
        types,
        f'<Override PartName="/{summary_part}" ContentType="{CT_WORKSHEET}"/>',
        summary_part.encode(),
    )

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        written = set()
        for info in infos:  # the original parts, in their order
            target.writestr(info, files[info.filename], compress_type=zipfile.ZIP_DEFLATED)
            written.add(info.filename)
        for name, blob in files.items():
            if name not in written:
                target.writestr(name, blob)
    return out.getvalue()


__all__ = ["CannotPatch", "annotate_zip"]
