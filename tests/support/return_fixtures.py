"""Returned workbooks for the validation tests, made by code (no binary file is committed).

``make_world`` sets up a cycle (seed 004, a few member states with a focal point and an upload
link each, questionnaires built as dispatch would). ``filled`` makes the return a diligent
focal point would send (every row answered), signed like the real thing. ``CASES`` lists the
hostile and broken inputs: each builds its bytes from a world and says what validation must
answer (the outcome and the rule of the message the sender gets).

A helper module, not a test module: ``tests/test_validation_*.py`` and ``bench/`` import it.
"""

from __future__ import annotations

import hashlib
import io
import random
import re
import struct
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from resotrack import clock, tokens
from resotrack.questionnaires.dispatch import load_cycle
from resotrack.questionnaires.models import Questionnaire
from resotrack.questionnaires.spec import QuestionnaireSpec, QuestionRow
from resotrack.questionnaires.workbook import build_workbook
from resotrack.registry.models import FocalPoint
from resotrack.store import session_scope
from resotrack.store.blobs import blob_store
from resotrack.validation.models import Answer, Submission
from support import world as base
from support.world import CREATED, SYMBOL
from support.world import REPO as REPO
from support.world import SEED_004 as SEED_004

ADOPTED = date(2023, 6, 6)
#: Entities of the test world: French, Arabic and English speakers, and a fourth for "not yours".
ENTITIES = ("SEN", "EGY", "PAK", "MLI")
KEY = "test-signing-key"


@dataclass
class World(base.World):
    """A cycle with questionnaires built, one focal point and one upload link per entity."""

    cycle_id: int
    questionnaires: dict[str, int]
    focal_points: dict[str, int]
    emails: dict[str, str]
    languages: dict[str, str]
    token_ids: dict[str, int]
    workbooks: dict[str, bytes] = field(default_factory=dict)


def make_world(
    tmp_path: Path,
    entities: Sequence[str] = ENTITIES,
    full: Sequence[str] = ("PAK",),
    dispatched_at: datetime | None = None,
) -> World:
    """Seed 004 × ``entities``, questionnaires built and stored as dispatch leaves them.

    Routing asks a member state about 105 of the 137 paragraphs; the entities in ``full``
    are asked about all 137 (the size the latency and throughput goals are stated for).
    With ``dispatched_at`` the cycle is committed ``open``, as dispatch leaves it, in the
    transaction that creates it (a running dispatch sweep never sees it waiting).
    """
    World.register_entities()
    World.import_resolution()
    states = World.member_states()
    languages = {code: states[code] for code in entities}
    World.register_focal_points(tmp_path, [World.focal_line(c, languages[c]) for c in entities])
    # The hostile-input cases are stated for a cycle that requires whole returns (a row
    # deleted or left blank is refused); partial returns have their own tests.
    deadline = clock.today() + timedelta(days=60)
    cycle_id = World.open_cycle(
        entities, deadline, require_complete=True, dispatched_at=dispatched_at
    )
    world = World(cycle_id, {}, {}, {}, languages, {})
    with session_scope() as session:
        cycle = load_cycle(session, cycle_id)
        every = [
            {"resolution": SYMBOL, "number": p.number}
            for link in cycle.resolutions
            for p in link.version.paragraphs
        ]
        for q in cycle.questionnaires:
            if q.entity_code in full:
                q.rows = every  # asked about every paragraph: a 137-row questionnaire
    for code, built in World.build_questionnaires(cycle_id).items():
        world.questionnaires[code] = built.questionnaire_id
        world.workbooks[code] = blob_store().get(built.sha256)
    with session_scope() as session:
        for person in session.scalars(
            select(FocalPoint).where(FocalPoint.entity_code.in_(entities))
        ):
            world.focal_points[person.entity_code] = person.id
            world.emails[person.entity_code] = person.email
            tokens.issue(session, person, cycle_id)
        session.flush()
        from resotrack.tokens.models import UploadToken

        for token in session.scalars(select(UploadToken).where(UploadToken.cycle_id == cycle_id)):
            world.token_ids[token.entity_code] = token.id
    return world


# --- returns -----------------------------------------------------------------------------


def answers_for(number: int, language: str, **overrides: Any) -> dict[str, Any]:
    """What a diligent focal point writes for one paragraph."""
    values: dict[str, Any] = {
        "status": "in_progress" if number % 3 else "fully_implemented",
        "measures": f"Programme national no. {number}: textes adoptés et budget alloué.",
        "start_date": date(2023, 9, 1) + timedelta(days=number),
        "national_body": "Ministère de la Famille",
        "challenges": None,
        "support_requested": None,
        "evidence": f"https://gov.example.org/oic/{number}",
    }
    values.update(overrides)
    return values


def filled(
    world: World,
    entity: str = "SEN",
    *,
    per_row: Callable[[QuestionRow], Mapping[str, Any]] | None = None,
    spec: QuestionnaireSpec | None = None,
    key: str = KEY,
    **spec_changes: Any,
) -> bytes:
    """The entity's questionnaire with every row answered (``per_row`` may override)."""
    spec = spec or world.spec(entity)
    rows = []
    for row in spec.rows:
        values = answers_for(row.number, spec.language)
        if per_row is not None:
            values.update(per_row(row))
        rows.append(replace(row, prefill=values))
    spec = replace(spec, rows=tuple(rows), **spec_changes)
    return build_workbook(spec, signing_key=key.encode(), created=CREATED)


def submit(
    world: World,
    data: bytes,
    entity: str = "SEN",
    *,
    channel: str = "portal",
    name: str = "return.xlsx",
    sender: str | None = None,
    received_at: datetime | None = None,
) -> int:
    """Record a submission as intake does (blob first, then the row), without its sniffing:
    validation must defend itself whatever reaches it."""
    sha = blob_store().put(data)
    with session_scope() as session:
        row = Submission(
            cycle_id=world.cycle_id,
            entity_code=entity,
            sha256=sha,
            size=len(data),
            original_name=name,
            channel=channel,
            sender=sender if channel == "email" else None,
            token_id=world.token_ids[entity] if channel == "portal" else None,
            state="received",
            report={},
            received_at=received_at or clock.now(),
        )
        session.add(row)
        session.flush()
        return row.id


def answer_count() -> int:
    with session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(Answer)) or 0)


def current_answers(world: World, entity: str = "SEN") -> dict[int, Answer]:
    with session_scope() as session:
        rows = session.scalars(
            select(Answer).where(
                Answer.cycle_id == world.cycle_id,
                Answer.entity_code == entity,
                Answer.current.is_(True),
            )
        ).all()
        return {a.paragraph_number: a for a in rows}


def submission(submission_id: int) -> Submission:
    with session_scope() as session:
        row = session.get(Submission, submission_id)
        assert row is not None
        return row


# --- byte-level surgery ------------------------------------------------------------------


def parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def repack(files: Mapping[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, blob in files.items():
            archive.writestr(name, blob)
    return out.getvalue()


def sheet_part(data: bytes, sheet: str = "Return") -> str:
    """The zip path of a sheet (xlsxwriter numbers them in workbook order)."""
    files = parts(data)
    book = files["xl/workbook.xml"].decode()
    rels = files["xl/_rels/workbook.xml.rels"].decode()
    rid = re.search(rf'<sheet name="{sheet}" sheetId="\d+"(?: state="\w+")? r:id="(rId\d+)"', book)
    assert rid, f"no sheet {sheet}"
    target = re.search(rf'Id="{rid.group(1)}" [^>]*Target="([^"]+)"', rels) or re.search(
        rf'Target="([^"]+)" [^>]*Id="{rid.group(1)}"', rels
    )
    assert target
    return "xl/" + target.group(1).lstrip("/").removeprefix("xl/")


def patch_part(data: bytes, name: str, change: Callable[[bytes], bytes]) -> bytes:
    files = parts(data)
    files[name] = change(files[name])
    return repack(files)


def with_openpyxl(data: bytes, change: Callable[[Any], None]) -> bytes:
    """Edit like a person in Excel would (openpyxl rewrites the whole package)."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data))
    change(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def set_text(cell: Any, value: str) -> None:
    """A string cell even if it starts with ``=`` (openpyxl would make it a formula)."""
    cell.value = value
    cell.data_type = "s"


def zip_bomb(inflated: int) -> bytes:
    """A workbook-looking zip with one part of ``inflated`` zero bytes (about 1000:1)."""
    files = {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types/>',
        "xl/workbook.xml": b'<?xml version="1.0"?><workbook/>',
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, blob in files.items():
            archive.writestr(name, blob)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as stream:
            chunk = b"\0" * (1 << 20)
            for _ in range(inflated >> 20):
                stream.write(chunk)
    return out.getvalue()


def lying_sizes(data: bytes, part: str, declared: int = 100) -> bytes:
    """Make the zip say ``part`` inflates to ``declared`` bytes (it inflates to much more)."""
    out = bytearray(data)
    name = part.encode()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(part)
    # local header: uncompressed size at offset 22
    struct.pack_into("<I", out, info.header_offset + 22, declared)
    # central directory entry: find it by name, uncompressed size at offset 24
    start = 0
    while True:
        at = out.find(b"PK\x01\x02", start)
        assert at >= 0
        length = struct.unpack_from("<H", out, at + 28)[0]
        if bytes(out[at + 46 : at + 46 + length]) == name:
            struct.pack_into("<I", out, at + 24, declared)
            return bytes(out)
        start = at + 4


def ole_container(streams: Mapping[str, bytes]) -> bytes:
    """A minimal, well-formed OLE compound file (CFB v3) holding ``streams``.

    Each stream is padded to at least 4096 bytes so it lives in regular sectors (no mini
    stream); enough for any reader to list its directory, as Office's encrypted packages
    (``EncryptionInfo`` + ``EncryptedPackage``) and old ``.xls`` files (``Workbook``) do.
    """
    sector = 512
    free, end, fat_sect = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
    names = list(streams)
    bodies = [streams[n] + b"\0" * max(0, 4096 - len(streams[n])) for n in names]
    bodies = [b + b"\0" * (-len(b) % sector) for b in bodies]
    # layout: sector 0 = FAT, sector 1 = directory, then the streams
    fat = [fat_sect, end]
    starts = []
    for body in bodies:
        count = len(body) // sector
        first = len(fat)
        starts.append(first)
        fat += [first + i + 1 for i in range(count - 1)] + [end]
    assert len(fat) <= sector // 4, "streams too large for one FAT sector"
    fat += [free] * (sector // 4 - len(fat))

    def entry(
        name: str, kind: int, start: int, size: int, child: int = free, right: int = free
    ) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return (
            encoded.ljust(64, b"\0")
            + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", free, right, child)
            + b"\0" * 16
            + b"\0" * 4
            + b"\0" * 16
            + struct.pack("<IQ", start, size)
        )

    directory = entry("Root Entry", 5, end, 0, child=1 if names else free)
    for i, (name, start) in enumerate(zip(names, starts, strict=True)):
        right = i + 2 if i + 1 < len(names) else free
        directory += entry(name, 2, start, len(streams[name]), right=right)
    directory = directory.ljust(sector, b"\0")
    header = (
        bytes.fromhex("D0CF11E0A1B11AE1")
        + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + b"\0" * 6
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, end, 0, end, 0)
    )
    header += struct.pack("<I", 0) + struct.pack("<I", free) * 108
    assert len(header) == sector
    return header + b"".join(struct.pack("<I", v) for v in fat) + directory + b"".join(bodies)


# --- the cases -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A return and what validation must say about it.

    ``rule``: a rule the report must contain (and the email carry); ``check``: more
    assertions on the world after ingest (stored answers, report), given the submission id.
    """

    name: str
    build: Callable[[World], bytes]
    outcome: str
    rule: str | None = None
    entity: str = "SEN"
    check: Callable[[World, int], None] | None = None


def _blank(world: World) -> bytes:
    return world.workbooks["SEN"]


def _prefilled_unchanged(world: World) -> bytes:
    # The questionnaire as sent with last cycle's answers pre-filled, returned untouched.
    spec = world.spec("SEN")
    rows = tuple(
        replace(
            r,
            prefill=answers_for(
                r.number, spec.language, measures=f"Cycle précédent, paragraphe {r.number}."
            ),
        )
        for r in spec.rows
    )
    data = build_workbook(replace(spec, rows=rows), signing_key=KEY.encode(), created=CREATED)
    with session_scope() as session:
        q = session.get(Questionnaire, world.questionnaires["SEN"])
        assert q is not None
        q.workbook_sha256 = blob_store().put(data)  # that is what we sent
    return data


def _return_cell(data: bytes, column: str) -> str:
    """A1 letter of a Return column key in a built workbook."""
    from resotrack.questionnaires.workbook import COLUMN_INDEX
    from resotrack.validation.read import column_letter

    return column_letter(COLUMN_INDEX[column] + 1)


def _edit(world: World, change: Callable[[Any], None], entity: str = "SEN") -> bytes:
    return with_openpyxl(filled(world, entity), change)


def _set(column: str, row: int, value: Any, *, text: bool = False) -> Callable[[Any], None]:
    def change(book: Any) -> None:
        from resotrack.questionnaires.workbook import COLUMN_INDEX

        cell = book["Return"].cell(row=row, column=COLUMN_INDEX[column] + 1)
        if text:
            set_text(cell, value)
        else:
            cell.value = value

    return change


def _dates(world: World) -> bytes:
    odd = {
        2: "15/03/2024",
        3: "15 mars 2024",
        4: "2024.03.15",
        5: 45366,  # an Excel date number typed in a General cell
        6: "١٥/٠٣/٢٠٢٤",
        7: "March 15, 2024",
        8: "2024-03-15 00:00:00",
        9: "45366",
    }

    def change(book: Any) -> None:
        sheet = book["Return"]
        for row, value in odd.items():
            cell = sheet.cell(row=row, column=8)
            cell.value = value
            cell.number_format = "General"

    return _edit(world, change)


def number_at(world: World, row: int, entity: str = "SEN") -> int:
    """The paragraph number on Excel row ``row`` of the Return sheet as sent."""
    return world.spec(entity).rows[row - 2].number


def _check_dates(world: World, sid: int) -> None:
    answers = current_answers(world)
    for row in range(2, 10):
        got = answers[number_at(world, row)].start_date
        assert got == date(2024, 3, 15), (row, got)


def _date_1904(world: World) -> bytes:
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    def change(book: Any) -> None:
        book.epoch = CALENDAR_MAC_1904
        sheet = book["Return"]
        sheet.cell(row=2, column=8).value = date(2024, 3, 15)  # stored as a 1904 serial
        cell = sheet.cell(row=3, column=8)
        cell.value = 43904  # a 1904-system serial typed as a number: 2024-03-15
        cell.number_format = "General"

    data = _edit(world, change)
    assert b'date1904="1"' in parts(data)["xl/workbook.xml"]
    return data


def _check_1904(world: World, sid: int) -> None:
    answers = current_answers(world)
    assert answers[number_at(world, 2)].start_date == date(2024, 3, 15)
    assert answers[number_at(world, 3)].start_date == date(2024, 3, 15)


def _statuses(world: World) -> bytes:
    labels = {
        2: "  PLEINEMENT   mis en oeuvre ",
        3: "منفذ جزئيا",
        4: "In Progress",
        5: "not_started",
        6: "sans\u00a0objet",
    }

    def change(book: Any) -> None:
        sheet = book["Return"]
        for row, value in labels.items():
            sheet.cell(row=row, column=6).value = value
        sheet.cell(row=6, column=10).value = "Aucune instance concernée."

    return _edit(world, change)


def _check_statuses(world: World, sid: int) -> None:
    answers = current_answers(world)
    got = [answers[number_at(world, row)].status for row in range(2, 7)]
    assert got == [
        "fully_implemented",
        "partially_implemented",
        "in_progress",
        "not_started",
        "not_applicable",
    ], got


def _digits(world: World) -> bytes:
    def change(book: Any) -> None:
        sheet = book["Return"]
        twelve = str(sheet.cell(row=13, column=2).value).translate(
            str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
        )
        sheet.cell(row=13, column=2).value = twelve  # in Arabic-Indic digits
        sheet.cell(row=14, column=2).value = f"{sheet.cell(row=14, column=2).value},0"  # comma

    return _edit(world, change)


def _check_digits(world: World, sid: int) -> None:
    answers = current_answers(world)
    assert {number_at(world, 13), number_at(world, 14)} <= set(answers)
    assert len(answers) == rows_of(world)


MEGA = "Lorem ipsum dolor sit amet. " * 37_450  # just over 1 MB


def _control(world: World) -> bytes:
    # xlsxwriter stores control characters as Excel does, escaped as _x0001_ in the XML.
    n = number_at(world, 2)
    return filled(
        world,
        per_row=lambda r: {"measures": "Loi\x01 adoptée\x07 en\x1b 2024"} if r.number == n else {},
    )


def _check_control(world: World, sid: int) -> None:
    assert current_answers(world)[number_at(world, 2)].measures == "Loi adoptée en 2024"


RTL_TEXT = "\u200fالبرنامج الوطني 🇸🇳 ✅ \u200eOIC-2024\u200f"


def _rtl(world: World) -> bytes:
    return _edit(world, _set("measures", 2, RTL_TEXT))


def _check_rtl(world: World, sid: int) -> None:
    assert current_answers(world)[number_at(world, 2)].measures == RTL_TEXT


FORMULA_LIKE = {2: "=1+1", 3: "+33 1 23 45", 4: "-- voir annexe", 5: "@SUM(A1)"}


def _formula_like(world: World) -> bytes:
    def change(book: Any) -> None:
        for row, value in FORMULA_LIKE.items():
            set_text(book["Return"].cell(row=row, column=7), value)

    return _edit(world, change)


def _check_formula_like(world: World, sid: int) -> None:
    from resotrack.textsafety import neutralise

    answers = current_answers(world)
    for row, value in FORMULA_LIKE.items():
        stored = answers[number_at(world, row)].measures
        assert stored == value  # kept verbatim, as text
        assert neutralise(stored or "") == "'" + value  # and inert in any export


def _reordered(world: World) -> bytes:
    def change(book: Any) -> None:
        sheet = book["Return"]
        top = [[c.value for c in sheet[2]], [c.value for c in sheet[3]]]
        for col, value in enumerate(top[1], start=1):
            sheet.cell(row=2, column=col).value = value
        for col, value in enumerate(top[0], start=1):
            sheet.cell(row=3, column=col).value = value

    return _edit(world, change)


def _check_reordered(world: World, sid: int) -> None:
    answers = current_answers(world)
    for row in (2, 3):
        number = number_at(world, row)
        assert f"no. {number}:" in (answers[number].measures or "")


def _meta_tampered(world: World) -> bytes:
    def change(book: Any) -> None:
        sheet = book["_meta"]
        for row in sheet.iter_rows():
            if row[0].value == "entity_code":
                row[1].value = "MLI"

    return _edit(world, change)


def _old_template(world: World) -> bytes:
    return filled(world, template_version="2025.1")


def _another_cycle(world: World) -> bytes:
    return filled(world, cycle_id=world.cycle_id + 100)


def _entity_expansion(world: World) -> bytes:
    data = filled(world)
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    )
    return patch_part(data, sheet_part(data), lambda xml: bomb + xml.split(b"?>", 1)[1])


def _external_entity(world: World) -> bytes:
    data = filled(world)
    xxe = b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    return patch_part(
        data,
        "xl/sharedStrings.xml",
        lambda xml: (
            xxe
            + xml.split(b"?>", 1)[1].replace(
                "<t>Ministère".encode(), "<t>&xxe;Ministère".encode(), 1
            )
        ),
    )


def _utf16(world: World) -> bytes:
    data = filled(world)
    return patch_part(
        data,
        "xl/sharedStrings.xml",
        lambda xml: xml.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16"),
    )


def _macros(world: World) -> bytes:
    files = parts(filled(world))
    files["xl/vbaProject.bin"] = ole_container({"VBA": b'Attribute VB_Name = "Module1"'})
    files["[Content_Types].xml"] = files["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>',
    )
    return repack(files)


def _dimension(world: World) -> bytes:
    data = filled(world)
    return patch_part(
        data,
        sheet_part(data),
        lambda xml: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', xml),
    )


def _far_cell(world: World) -> bytes:
    def change(book: Any) -> None:
        book["Return"].cell(row=200_000, column=3).value = "x"

    return _edit(world, change)


def _docx(world: World) -> bytes:
    return repack(
        {
            "[Content_Types].xml": b'<?xml version="1.0"?><Types/>',
            "word/document.xml": b'<?xml version="1.0"?><document/>',
        }
    )


def _ods(world: World) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", '<?xml version="1.0"?><office:document-content/>')
        archive.writestr("META-INF/manifest.xml", '<?xml version="1.0"?><manifest/>')
    return out.getvalue()


def _blank_with_status_only(world: World) -> bytes:
    return filled(world, per_row=lambda r: {"measures": None, "evidence": None})


def _all_same(world: World) -> bytes:
    return filled(world, per_row=lambda r: {"measures": "Voir le rapport national 2024."})


def _status_missing(world: World) -> bytes:
    n = number_at(world, 8)
    return filled(world, per_row=lambda r: {"status": None} if r.number == n else {})


def _na_without_reason(world: World) -> bytes:
    return filled(
        world,
        per_row=lambda r: (
            {"status": "not_applicable", "measures": None, "start_date": None}
            if r.number == number_at(world, 10)
            else {}
        ),
    )


def _future(world: World) -> bytes:
    soon = clock.today() + timedelta(days=400)
    n = number_at(world, 5)
    return filled(world, per_row=lambda r: {"start_date": soon} if r.number == n else {})


def _before_adoption(world: World) -> bytes:
    n = number_at(world, 5)
    return filled(
        world, per_row=lambda r: {"start_date": date(2019, 1, 10)} if r.number == n else {}
    )


def _evidence(world: World) -> bytes:
    n = number_at(world, 6)
    return filled(world, per_row=lambda r: {"evidence": "voir annexe 3"} if r.number == n else {})


def rows_of(world: World, entity: str = "SEN") -> int:
    with session_scope() as session:
        q = session.get(Questionnaire, world.questionnaires[entity])
        assert q is not None
        return len(q.rows)


def _check_unchanged_answers(world: World, sid: int) -> None:
    assert len(current_answers(world)) == rows_of(world)


CASES: tuple[Case, ...] = (
    # -- not a workbook we can safely open: "unreadable", nothing parsed ------------------
    Case("empty_file", lambda w: b"", "unreadable", "read.empty"),
    Case(
        "not_a_zip", lambda w: random.Random(7).randbytes(5000), "unreadable", "read.not_a_workbook"
    ),
    Case("truncated_zip", lambda w: filled(w)[:9000], "unreadable", "read.damaged"),
    Case("zip_bomb_ratio", lambda w: zip_bomb(8 << 20), "unreadable", "read.too_large"),
    Case("zip_bomb_total", lambda w: zip_bomb(160 << 20), "unreadable", "read.too_large"),
    Case(
        "zip_lying_sizes",
        lambda w: lying_sizes(filled(w), sheet_part(filled(w))),
        "unreadable",
        "read.too_large",
    ),
    Case("xml_entity_expansion", _entity_expansion, "unreadable", "read.unsafe_xml"),
    Case("xml_external_entity", _external_entity, "unreadable", "read.unsafe_xml"),
    Case("xml_utf16_part", _utf16, "unreadable", "read.unsafe_xml"),
    Case("xlsm_with_vba", _macros, "unreadable", "read.macros"),
    Case(
        "xls_ole",
        lambda w: ole_container({"Workbook": b"\x09\x08\x10\x00\x00\x06\x05\x00" * 64}),
        "unreadable",
        "read.xls",
    ),
    Case(
        "password_protected",
        lambda w: ole_container(
            {
                "EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00",
                "EncryptedPackage": random.Random(3).randbytes(6000),
            }
        ),
        "unreadable",
        "read.encrypted",
    ),
    Case("ods", _ods, "unreadable", "read.ods"),
    Case(
        "csv_renamed",
        lambda w: "Résolution;Paragraphe;État\nOIC/MCSD-2/2023/RES/FINAL;1;En cours\n".encode(),
        "unreadable",
        "read.csv",
    ),
    Case("docx_renamed", _docx, "unreadable", "read.not_a_workbook"),
    Case("dimension_huge", _dimension, "unreadable", "read.extent"),
    Case("cell_far_away", _far_cell, "unreadable", "read.extent"),
    # -- readable, but not identified: "refused" -----------------------------------------
    Case(
        "meta_missing",
        lambda w: _edit(w, lambda b: b.remove(b["_meta"])),
        "refused",
        "identify.meta_missing",
    ),
    Case("signature_tampered", _meta_tampered, "refused", "identify.meta_altered"),
    Case(
        "signed_with_other_key",
        lambda w: filled(w, key="not-our-key"),
        "refused",
        "identify.meta_altered",
    ),
    Case("another_entity", lambda w: filled(w, "MLI"), "refused", "identify.wrong_entity"),
    Case("another_cycle", _another_cycle, "refused", "identify.wrong_cycle"),
    Case("old_template", _old_template, "refused", "identify.template_version"),
    # -- the shape of the Return sheet: "refused" -----------------------------------------
    Case(
        "sheet_renamed",
        lambda w: _edit(w, lambda b: setattr(b["Return"], "title", "Réponses")),
        "refused",
        "contract.sheet_missing",
    ),
    Case(
        "column_added",
        lambda w: _edit(w, lambda b: b["Return"].cell(row=1, column=13, value="Commentaires")),
        "refused",
        "contract.column_unexpected",
    ),
    Case(
        "column_removed",
        lambda w: _edit(w, lambda b: b["Return"].delete_cols(10)),
        "refused",
        "contract.column_missing",
    ),
    Case(
        "column_renamed",
        lambda w: _edit(
            w, lambda b: setattr(b["Return"].cell(row=1, column=7), "value", "Mesures")
        ),
        "refused",
        "contract.column_renamed",
    ),
    Case(
        "row_added",
        lambda w: _edit(
            w,
            lambda b: b["Return"].append([SYMBOL, 999, "Z", "DEMANDE", "?", "En cours", "x"]),
        ),
        "refused",
        "contract.paragraph_unexpected",
    ),
    Case(
        "row_deleted",
        lambda w: _edit(w, lambda b: b["Return"].delete_rows(20)),
        "refused",
        "contract.paragraph_missing",
    ),
    Case(
        "row_duplicated",
        lambda w: _edit(w, lambda b: b["Return"].append([c.value for c in b["Return"][5]])),
        "refused",
        "contract.paragraph_duplicated",
    ),
    Case(
        "rows_reordered",
        _reordered,
        "accepted_with_warnings",
        "contract.rows_reordered",
        check=_check_reordered,
    ),
    Case(
        "merged_cells",
        lambda w: _edit(w, lambda b: b["Return"].merge_cells("G4:G6")),
        "refused",
        "contract.merged_cells",
    ),
    Case(
        "formula_in_answer",
        lambda w: _edit(w, _set("measures", 3, '=CONCATENATE("a","b")')),
        "refused",
        "contract.formula",
    ),
    Case(
        "status_unknown",
        lambda w: _edit(w, _set("status", 4, "Presque fini")),
        "refused",
        "contract.status_unknown",
    ),
    Case(
        "date_unreadable",
        lambda w: _edit(w, _set("start_date", 4, "début 2024")),
        "refused",
        "contract.date_invalid",
    ),
    Case(
        "date_out_of_range",
        lambda w: _edit(w, _set("start_date", 4, date(1950, 1, 1))),
        "refused",
        "contract.date_out_of_range",
    ),
    Case(
        "cell_of_1mb",
        lambda w: _edit(w, _set("measures", 6, MEGA)),
        "refused",
        "contract.text_too_long",
    ),
    # -- odd but acceptable: parsed right, stored right ------------------------------------
    Case("dates_in_odd_forms", _dates, "accepted", None, check=_check_dates),
    Case("date_system_1904", _date_1904, "accepted", None, check=_check_1904),
    Case("status_other_language_case_spacing", _statuses, "accepted", None, check=_check_statuses),
    Case("arabic_indic_digits_decimal_comma", _digits, "accepted", None, check=_check_digits),
    Case(
        "control_characters",
        _control,
        "accepted_with_warnings",
        "contract.control_characters",
        check=_check_control,
    ),
    Case("rtl_marks_and_emoji", _rtl, "accepted", None, check=_check_rtl),
    Case(
        "text_starting_with_formula_chars",
        _formula_like,
        "accepted",
        None,
        check=_check_formula_like,
    ),
    # -- the quality rules -----------------------------------------------------------------
    Case("blank_questionnaire", _blank, "refused", "quality.not_a_reply"),
    Case("prefilled_unchanged", _prefilled_unchanged, "refused", "quality.not_a_reply"),
    Case("measures_missing", _blank_with_status_only, "refused", "quality.measures_required"),
    Case("status_missing", _status_missing, "refused", "quality.status_required"),
    Case("not_applicable_without_reason", _na_without_reason, "refused", "quality.reason_required"),
    Case("start_date_in_future", _future, "refused", "quality.start_date_future"),
    Case(
        "start_date_before_adoption",
        _before_adoption,
        "accepted_with_warnings",
        "quality.start_date_before_adoption",
        check=_check_unchanged_answers,
    ),
    Case("evidence_not_a_link", _evidence, "accepted_with_warnings", "quality.evidence_not_url"),
    Case(
        "same_text_everywhere", _all_same, "accepted_with_warnings", "quality.same_text_everywhere"
    ),
)


def case(name: str) -> Case:
    return next(c for c in CASES if c.name == name)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def iter_cases() -> Iterator[Case]:
    yield from CASES


__all__ = [
    "CASES",
    "KEY",
    "SYMBOL",
    "Case",
    "World",
    "answer_count",
    "case",
    "current_answers",
    "filled",
    "make_world",
    "number_at",
    "rows_of",
    "submission",
    "submit",
]
