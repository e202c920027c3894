"""Workbooks with active or outside-reaching content, disguised as an attacker would: parts
renamed, content types written with XML character references, OLE objects hidden in parts
named like images. Each is a real questionnaire otherwise (signed ``_meta``), so only the
content checks stand between it and staff. No tests here."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

from support.return_fixtures import ole_container

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _repack(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, blob in files.items():
            archive.writestr(name, blob)
    return out.getvalue()


def _add(
    data: bytes,
    part: str,
    blob: bytes,
    *,
    content_type: str | None = None,
    rel_type: str | None = None,
    target: str | None = None,
    external: bool = False,
) -> bytes:
    files = _parts(data)
    files[part] = blob
    if content_type is not None:
        override = f'<Override PartName="/{part}" ContentType="{content_type}"/>'
        files["[Content_Types].xml"] = files["[Content_Types].xml"].replace(
            b"</Types>", override.encode() + b"</Types>"
        )
    if rel_type is not None:
        mode = ' TargetMode="External"' if external else ""
        rel = (
            f'<Relationship Id="rId99" Type="{rel_type}" '
            f'Target="{target or part.removeprefix("xl/")}"{mode}/>'
        )
        rels = "xl/_rels/workbook.xml.rels"
        files[rels] = files[rels].replace(b"</Relationships>", rel.encode() + b"</Relationships>")
    return _repack(files)


def vba_disguised(data: bytes) -> bytes:
    """A VBA project renamed, its content types written with character references."""
    files = _parts(data)
    files["xl/styles2.bin"] = ole_container({"VBA": b'Attribute VB_Name = "Module1"'})
    files["[Content_Types].xml"] = (
        files["[Content_Types].xml"]
        .replace(b"sheet.main+xml", b"sheet.macro&#69;nabled.main+xml")
        .replace(
            b"</Types>",
            b'<Override PartName="/xl/styles2.bin" '
            b'ContentType="application/vnd.ms-office.vba&#x50;roject"/></Types>',
        )
    )
    rels = "xl/_rels/workbook.xml.rels"
    files[rels] = files[rels].replace(
        b"</Relationships>",
        b'<Relationship Id="rId98" Type="http://schemas.microsoft.com/office/2006/relationships/'
        b'vba&#80;roject" Target="styles2.bin"/></Relationships>',
    )
    return _repack(files)


def external_link(data: bytes) -> bytes:
    """A link to another workbook, in a part named like a theme."""
    xml = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<externalBook xmlns:r="' + REL.encode() + b'" r:id="rId1"/></externalLink>'
    )
    return _add(
        data,
        "xl/theme/theme2.xml",
        xml,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml",
        rel_type=f"{REL}/externalLink",
    )


def dde_link(data: bytes) -> bytes:
    """A DDE link (it starts a program when the workbook is opened), content type hidden."""
    xml = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<ddeLink ddeService="cmd" ddeTopic="/c calc"><ddeItems><ddeItem name="A0"/>'
        b"</ddeItems></ddeLink></externalLink>"
    )
    return _add(data, "xl/printerSettings.xml", xml)


def ole_in_an_image(data: bytes) -> bytes:
    """An OLE compound file (an embedded object) inside a part named like a picture."""
    blob = b"\x89PNG\r\n\x1a\n" + b"\0" * 64 + OLE + b"\0" * 512
    return _add(data, "xl/media/image1.png", blob)


def activex_control(data: bytes) -> bytes:
    xml = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<ax:ocx xmlns:ax="http://schemas.microsoft.com/office/2006/activeX" '
        b'ax:classid="{8BD21D40-EC42-11CE-9E0D-00AA006002F3}" ax:persistence="persistStorage"/>'
    )
    return _add(
        data,
        "xl/drawings/extra.xml",
        xml,
        content_type="application/vnd.ms-office.active&#88;+xml",
    )


def custom_xml(data: bytes) -> bytes:
    """A custom XML data part, renamed, reached by its relationship."""
    return _add(
        data,
        "docProps/extra.xml",
        b'<?xml version="1.0" encoding="UTF-8"?><data><secret>1</secret></data>',
        rel_type=f"{REL}/customXml",
        target="../docProps/extra.xml",
    )


def external_target(data: bytes) -> bytes:
    """Any relationship that reaches outside the package (here: a query table's source)."""
    return _add(
        data,
        "xl/connections.xml",
        b'<?xml version="1.0" encoding="UTF-8"?><connections '
        b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><connection id="1" '
        b'name="q" type="4"><webPr url="http://attacker.example/x"/></connection></connections>',
        rel_type=f"{REL}/connections",
        target="connections.xml",
    )


#: name → (variant, the rule that must refuse it)
HOSTILE: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "vba_disguised": (vba_disguised, "read.macros"),
    "activex": (activex_control, "read.macros"),
    "ole_in_an_image": (ole_in_an_image, "read.embedded"),
    "custom_xml": (custom_xml, "read.embedded"),
    "external_link": (external_link, "read.external"),
    "dde_link": (dde_link, "read.external"),
    "data_connection": (external_target, "read.external"),
}
