"""The demo's screen speaks the terminal's language (``LANG=fr_FR.UTF-8``), like the CLI.

Its words are the ``demo`` catalog domain. What a stage reports is made as
:class:`~resotrack.catalog.Said` (English in ``summary.json`` and the log) and said on screen
with :func:`words`.
"""

from __future__ import annotations

from resotrack.catalog import Words, terminal_words

DOMAIN = "demo"


def words() -> Words:
    """The demo's words in the language of the terminal's locale."""
    return terminal_words(DOMAIN)
