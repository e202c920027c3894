"""Resolutions: parse a text into paragraphs, verbs and addressees; store and route them."""

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
