"""A synthetic session: many resolutions made from one real one, for tests, benchmarks and the
demo at the size of a Council of Foreign Ministers session (well over a hundred resolutions).

Each generated text is the real resolution ``1/49-IT`` (seed 000, CFM-49, French) with its own
number and subject area in the symbol (``7/49-POL``: the OIC's own convention), a title that
says it is synthetic, and ``paragraphs`` operative paragraphs made from the real ones: most
ask the member states to act (so routing gives each state about nine in ten of them), the
last ones address the Secretary-General. Nothing here claims to be an adopted text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from resotrack.resolutions.areas import AREAS as AREA_NAMES

AREAS: Final = tuple(AREA_NAMES)
SYMBOL_LINE: Final = "RESOLUTION N°1/49-IT"
TITLE: Final = "« LE PROJET DE TRANSFORMATION NUMERIQUE DU SECRETARIAT"


class SyntheticError(ValueError):
    """The seed is not the text this generator knows how to vary."""


def _operative(seed: str) -> tuple[str, list[str]]:
    """The text before the operative part, and the seed's operative paragraphs' bodies."""
    lines = seed.splitlines()
    start = next((i for i, line in enumerate(lines) if re.match(r"^- 1\. ", line)), None)
    if start is None:
        raise SyntheticError("the seed has no operative paragraph '- 1. …'")
    bodies = [
        re.sub(r"^- \d+\. ", "", line) for line in lines[start:] if re.match(r"^- \d+\. ", line)
    ]
    return "\n".join(lines[:start]), bodies


def synthetic_text(seed: str, number: int, area: str, paragraphs: int = 20) -> str:
    """Resolution ``{number}/49-{area}``, synthetic, with ``paragraphs`` operative paragraphs."""
    if SYMBOL_LINE not in seed or TITLE not in seed:
        raise SyntheticError("the seed is not resolution 1/49-IT (seed 000)")
    head, bodies = _operative(seed)
    to_states = next(b for b in bodies if "États membres" in b)
    to_sg = bodies[-1]
    head = head.replace(SYMBOL_LINE, f"RESOLUTION N°{number}/49-{area}").replace(
        TITLE,
        f"« [SYNTHÉTIQUE {number}/49-{area}] LE PROJET DE TRANSFORMATION NUMERIQUE DU SECRETARIAT",
    )
    states = max(1, paragraphs - max(1, paragraphs // 10))
    lines = []
    for n in range(1, paragraphs + 1):
        body = to_states if n <= states else to_sg
        # each paragraph its own words, so no two paragraphs of the session read the same
        lines.append(f"- {n}. {body.rstrip('.')} (volet {number}.{n}).")
    return head + "\n" + "\n\n".join(lines) + "\n"


def write_session(seed_path: Path, folder: Path, count: int, paragraphs: int = 20) -> list[Path]:
    """``count`` synthetic resolution files in ``folder``, areas taken in turn."""
    seed = seed_path.read_text("utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for number in range(1, count + 1):
        area = AREAS[(number - 1) % len(AREAS)]
        path = folder / f"synthetic-{number:03d}-{area}.txt"
        path.write_text(synthetic_text(seed, number, area, paragraphs), "utf-8")
        written.append(path)
    return written


__all__ = ["AREAS", "SyntheticError", "synthetic_text", "write_session"]
