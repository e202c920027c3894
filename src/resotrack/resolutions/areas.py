"""Subject areas of a session of the Council of Foreign Ministers, read from the symbols.

OIC resolutions carry their area in the symbol's suffix (``7/49-POL``: the 7th political
resolution of the 49th session). A session's cycle lists its resolutions area by area, and a
questionnaire's contents group them so, so that a focal point can hand each ministry its part.
"""

from __future__ import annotations

import re
from typing import Final

#: Suffix → English name (the msgid of its ``session`` catalog entry), in the CFM's order.
AREAS: Final[dict[str, str]] = {
    "POL": "Political affairs",
    "LEG": "Legal affairs",
    "E": "Economic affairs",
    "C": "Cultural affairs",
    "ICHAD": "Humanitarian affairs",
    "ST": "Science and technology",
    "INF": "Information",
    "AF": "Administrative and financial affairs",
}
_SYMBOL: Final = re.compile(r"(\d+)/(\d+)-([A-Z]+)")


def area_of(symbol: str) -> str:
    """The subject-area suffix of an OIC symbol (``7/49-POL`` → ``POL``), else ``""``."""
    match = _SYMBOL.fullmatch(symbol.strip())
    return match[3] if match else ""


def session_order(symbol: str) -> tuple[int, str, int, str]:
    """Sort key: known areas in the CFM's order, then other suffixes, then other symbols;
    within an area by resolution number (``2/49-POL`` before ``10/49-POL``)."""
    match = _SYMBOL.fullmatch(symbol.strip())
    if match is None:
        return (len(AREAS) + 1, "", 0, symbol)
    order = list(AREAS).index(match[3]) if match[3] in AREAS else len(AREAS)
    return (order, match[3], int(match[1]), symbol)


__all__ = ["AREAS", "area_of", "session_order"]
