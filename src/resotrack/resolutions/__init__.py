"""Resolutions: parse a text into paragraphs, verbs and addressees; store and route them.

Each name is imported on first use (``lazy_loader``), not when the package loads: the command
line loads every stage's package at start, and most commands need few of these modules.
"""

from typing import TYPE_CHECKING

import lazy_loader

if TYPE_CHECKING:
    from resotrack.resolutions.document import parse_file
    from resotrack.resolutions.errors import ResolutionParseError
    from resotrack.resolutions.importer import ImportResult, import_file, import_inbox
    from resotrack.resolutions.model import (
        ParsedAction,
        ParsedParagraph,
        ParsedResolution,
        ParsedSection,
    )
    from resotrack.resolutions.parser import parse_resolution
    from resotrack.resolutions.queries import ResolutionNotFound, get_resolution, list_resolutions

__getattr__, __dir__, _ = lazy_loader.attach(
    __name__,
    submod_attrs={
        "document": ["parse_file"],
        "errors": ["ResolutionParseError"],
        "model": ["ParsedAction", "ParsedParagraph", "ParsedResolution", "ParsedSection"],
        "parser": ["parse_resolution"],
        "queries": ["ResolutionNotFound", "get_resolution", "list_resolutions"],
        "importer": ["ImportResult", "import_file", "import_inbox"],
    },
)

__all__ = [
    "ImportResult",
    "ParsedAction",
    "ParsedParagraph",
    "ParsedResolution",
    "ParsedSection",
    "ResolutionNotFound",
    "ResolutionParseError",
    "get_resolution",
    "import_file",
    "import_inbox",
    "list_resolutions",
    "parse_file",
    "parse_resolution",
]
