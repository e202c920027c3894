"""File names from outside: shown to people, never used as a path.

Every channel stores bytes under their SHA-256; the name a focal point's computer gave the file
is kept only to be displayed (escaped by the templates) and offered back on download. These
helpers make that name harmless to show and to hand to another operating system.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final
from urllib.parse import quote

FALLBACK: Final = "workbook.xlsx"
MAX_CHARS: Final = 120
#: Bidirectional controls: "report\u202exslx.exe" would display as "reportexe.xlsx".
BIDI_CONTROLS: Final = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
#: Joiners shape Arabic-script text correctly, so they are the format characters we keep.
KEPT_FORMAT: Final = frozenset("\u200c\u200d")
WINDOWS_RESERVED: Final = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{port}{n}" for port in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")}
)
_SPACES = re.compile(r"\s+")


def _allowed(char: str) -> bool:
    if char in BIDI_CONTROLS:
        return False
    category = unicodedata.category(char)
    if category in ("Cc", "Cs"):  # controls (NUL, CR, LF...), lone surrogates
        return False
    return category != "Cf" or char in KEPT_FORMAT


def display_name(raw: str | bytes | None) -> str:
    """A name safe to show and store: last path component, no controls, at most MAX_CHARS."""
    if raw is None:
        return FALLBACK
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    text = unicodedata.normalize("NFC", text)
    text = re.split(r"[/\\]", text)[-1]  # "C:\\Users\\x\\a.xlsx" and "../../etc/passwd"
    text = "".join(char for char in text if _allowed(char))
    text = _SPACES.sub(" ", text).strip(" .")
    if not text:
        return FALLBACK
    if len(text) > MAX_CHARS:
        stem, dot, ext = text.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            text = stem[: MAX_CHARS - len(ext) - 2].rstrip(" .") + "…." + ext
        else:
            text = text[: MAX_CHARS - 1].rstrip(" .") + "…"
    return text


def is_windows_reserved(name: str) -> bool:
    """Whether Windows would treat ``name`` as a device (``CON``, ``nul.xlsx``, ``COM1.txt``)."""
    stem = name.split(".", 1)[0].rstrip(" ")
    return stem.upper() in WINDOWS_RESERVED


def download_name(name: str) -> str:
    """``name`` made safe to save on any system: reserved device names get a leading ``_``."""
    safe = display_name(name)
    safe = "".join("_" if char in '<>:"|?*' else char for char in safe)
    return f"_{safe}" if is_windows_reserved(safe) else safe


def workbook_download_name(name: str) -> str:
    """``name`` as a workbook's download: whatever it ended with (``.html``, ``.xlsm``,
    nothing), it ends ``.xlsx``, which is what the stored bytes were sniffed to be."""
    stem = download_name(name)
    base, dot, ext = stem.rpartition(".")
    if dot and base and 0 < len(ext) <= 10:
        stem = base
    return download_name(f"{stem.rstrip(' .') or 'workbook'}.xlsx")


def content_disposition(name: str) -> str:
    """An ``attachment`` header value: ASCII fallback plus the UTF-8 name (RFC 6266/5987)."""
    safe = download_name(name)
    ascii_name = "".join(
        char if 32 <= ord(char) < 127 and char not in "\\%;," else "_" for char in safe
    )
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(safe, safe='')}"
