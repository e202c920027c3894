"""A Subject header that every mail client reads back with its spaces.

Python's ``email`` package folds a long non-ASCII subject into several RFC 2047 encoded words,
and where it cuts at a space it leaves that space *between* two encoded words. RFC 2047 (6.2)
says such whitespace is ignored when the header is decoded, so clients join the words:
«آخرموعد», «resotrackdemo». Here every character of the subject, spaces included, sits inside
an encoded word; the folds fall between encoded words, where whitespace means nothing; each
word holds whole UTF-8 characters, so no client has to join bytes across words.
"""

from __future__ import annotations

import base64
from email.policy import Policy
from typing import Final

#: UTF-8 bytes per encoded word: base64 of 39 bytes is 52 characters, so a folded line
#: ("Subject: " or one space, then ``=?utf-8?b?…?=``) stays under 78 characters.
CHUNK_BYTES: Final = 39


def encoded_words(text: str, chunk: int = CHUNK_BYTES) -> list[str]:
    """``text`` as base64 encoded words of at most ``chunk`` bytes, cut between characters."""
    words: list[str] = []
    current = b""
    for char in text:
        data = char.encode("utf-8")
        if current and len(current) + len(data) > chunk:
            words.append(_word(current))
            current = b""
        current += data
    if current:
        words.append(_word(current))
    return words


def _word(data: bytes) -> str:
    return f"=?utf-8?b?{base64.b64encode(data).decode('ascii')}?="


class EncodedSubject(str):
    """A subject header value that folds itself as :func:`encoded_words` (non-ASCII only).

    ``email.policy.EmailPolicy`` keeps a value that has a ``name`` as it is, and asks it to
    fold itself when the message is written; reading ``msg["Subject"]`` gives the plain text.
    """

    name = "Subject"

    def fold(self, *, policy: Policy) -> str:
        linesep = policy.linesep
        text = str(self)
        if text.isascii() and len(text) + len("Subject: ") <= 78:
            return f"Subject: {text}{linesep}"
        return f"Subject: {(linesep + ' ').join(encoded_words(text))}{linesep}"
