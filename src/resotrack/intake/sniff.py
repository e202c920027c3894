"""Is it a workbook? Decided from the bytes alone, never from the file name or content type.

A returned questionnaire must be an OOXML spreadsheet: a zip archive (local-header magic at
offset 0) whose central directory lists ``[Content_Types].xml`` and ``xl/workbook.xml``. Only
the directory is read; nothing is decompressed here (zip bombs are the validation stage's
concern, and it has the limits for them). Refusals carry a ``code`` the portal translates.
"""

from __future__ import annotations

import zipfile
from typing import BinaryIO, Final

ZIP_MAGIC: Final = b"PK\x03\x04"
OLE_MAGIC: Final = (
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, or any password-protected Office file
)
REQUIRED: Final = ("[Content_Types].xml", "xl/workbook.xml")
MACROS: Final = "xl/vbaProject.bin"
MAX_ENTRIES: Final = 10_000  # a real questionnaire has a few dozen


class NotAWorkbook(ValueError):
    """The bytes are not an ``.xlsx`` we accept; ``code`` names the reason for translation."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


def sniff_workbook(file: BinaryIO) -> None:
    """Raise :class:`NotAWorkbook` unless ``file`` (seekable) holds an OOXML workbook."""
    file.seek(0)
    head = file.read(8)
    file.seek(0)
    if not head:
        raise NotAWorkbook("empty", "the file is empty")
    if head.startswith(OLE_MAGIC):
        raise NotAWorkbook(
            "ole",
            "this is an Excel 97-2003 (.xls) file or a password-protected workbook; "
            "save it as an Excel workbook (.xlsx) without a password",
        )
    if not head.startswith(ZIP_MAGIC):
        raise NotAWorkbook("not_xlsx", "this is not an Excel workbook (.xlsx)")
    try:
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise NotAWorkbook("corrupt", f"the workbook is damaged or incomplete ({exc})") from exc
    finally:
        file.seek(0)
    if len(names) > MAX_ENTRIES:
        raise NotAWorkbook("not_xlsx", f"the archive lists {len(names):,} files; not a workbook")
    present = set(names)
    if "mimetype" in present and "content.xml" in present:
        raise NotAWorkbook(
            "ods", "this is an OpenDocument spreadsheet (.ods); save it as Excel workbook (.xlsx)"
        )
    if not all(name in present for name in REQUIRED):
        raise NotAWorkbook("not_xlsx", "this is not an Excel workbook (.xlsx)")
    if MACROS in present:
        raise NotAWorkbook(
            "macros", "the workbook contains macros; save it as an Excel workbook (.xlsx)"
        )
