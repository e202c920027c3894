"""The parser's refusals: English in ``str()`` (logs), the reader's language in ``said_in``."""

from __future__ import annotations

import pytest

from resotrack.catalog import Words
from resotrack.resolutions.errors import DOMAIN, ResolutionParseError
from resotrack.resolutions.parser import decode_text


def test_a_refusal_keeps_its_english_text_and_is_said_in_french_and_arabic() -> None:
    with pytest.raises(ResolutionParseError) as caught:
        decode_text(b"%PDF-1.7 ...", source="cfm.txt")
    error = caught.value
    assert str(error) == (
        "cfm.txt: this is a PDF document, not a text file. Export or convert the resolution "
        "to plain text (UTF-8) first."
    )
    assert error.said_in(Words("fr", DOMAIN)).startswith(
        "cfm.txt: ce fichier est un document PDF, pas un fichier texte."
    )
    assert error.said_in(Words("ar", DOMAIN)).startswith("cfm.txt: هذا الملف وثيقة PDF")
    assert error.said_in(Words("en", DOMAIN)) == str(error)


def test_gathered_refusals_are_each_said_and_moved_to_their_place() -> None:
    first = ResolutionParseError("the table is empty.", source="a.csv")
    second = ResolutionParseError("cannot read the file ({reason}).", reason="EIO").placed("b.csv")
    both = ResolutionParseError.gathered((first, second))
    assert str(both) == "a.csv: the table is empty. | b.csv: cannot read the file (EIO)."
    assert both.said_in(Words("fr", DOMAIN)) == (
        "a.csv: le tableau est vide. | b.csv: impossible de lire le fichier (EIO)."
    )
    assert both.problems == ("the table is empty.", "cannot read the file (EIO).")
