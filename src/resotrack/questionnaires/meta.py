"""The signed identity card hidden in every questionnaire (the ``_meta`` sheet).

When a workbook comes back, by upload, email or drop folder, this is how we know which
questionnaire it answers. Sheet protection only prevents accidents; the HMAC signature is
what makes a hand-edited or forged ``_meta`` detectable. Reading uses python-calamine,
which is fast and never evaluates anything.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
from collections.abc import Mapping, Sequence
from typing import Final

from python_calamine import CalamineWorkbook

META_SHEET: Final = "_meta"
SIGNATURE: Final = "signature"
#: The fields written into ``_meta`` (plus ``signature``), in the order they are written.
META_KEYS: Final[tuple[str, ...]] = (
    "questionnaire_id",
    "cycle_id",
    "entity_code",
    "language",
    "template_version",
    "row_count",
)

# Domain separation: the same secret key also signs upload links.
_CONTEXT: Final = b"resotrack.questionnaire-meta.v1\n"


class MetaError(ValueError):
    """The workbook has no readable ``_meta`` sheet: it is not one of our questionnaires."""


def _canonical(fields: Mapping[str, str]) -> bytes:
    """Order-independent bytes for ``fields`` (``signature`` itself excluded)."""
    signed = {key: value for key, value in fields.items() if key != SIGNATURE}
    for key, value in signed.items():
        if not isinstance(value, str):
            raise TypeError(f"meta field {key!r} must be a string, not {type(value).__name__}")
    return json.dumps(signed, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def sign_meta(fields: Mapping[str, str], key: bytes) -> str:
    """Hex HMAC-SHA256 of the fields; a ``signature`` entry among them is ignored."""
    if not key:
        raise ValueError("an empty signing key would let anyone forge questionnaire metadata")
    return hmac.new(key, _CONTEXT + _canonical(fields), hashlib.sha256).hexdigest()


def verify_meta(fields: Mapping[str, str], signature: str, key: bytes | Sequence[bytes]) -> bool:
    """Whether ``signature`` was made with ``key`` (or one of several: the current key and
    those retired by a rotation) over exactly these fields (constant time per key)."""
    keys = [key] if isinstance(key, bytes) else list(key)
    given = signature.strip().encode("utf-8", "replace")
    return any(hmac.compare_digest(sign_meta(fields, k).encode("ascii"), given) for k in keys)


def _as_text(value: object) -> str:
    """A cell value back as the string we wrote (spreadsheets may turn ``"12"`` into 12.0)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_meta(workbook: bytes) -> dict[str, str]:
    """The key/value pairs of the ``_meta`` sheet, ``signature`` included, all as strings.

    Raises ``MetaError`` when the sheet is missing or a key appears twice (a tampered sheet
    could otherwise choose which of two values the reader believes).
    """
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(workbook))
    except Exception as exc:  # calamine raises several unrelated types for a bad file
        raise MetaError(f"not a readable workbook: {exc}") from exc
    if META_SHEET not in book.sheet_names:
        raise MetaError(f"the workbook has no {META_SHEET} sheet")
    fields: dict[str, str] = {}
    for row in book.get_sheet_by_name(META_SHEET).to_python(skip_empty_area=False):
        if len(row) < 2 or row[0] in ("", None):
            continue
        key = _as_text(row[0]).strip()
        if key in fields:
            raise MetaError(f"{META_SHEET} lists {key!r} twice")
        fields[key] = _as_text(row[1]).strip()
    return fields
