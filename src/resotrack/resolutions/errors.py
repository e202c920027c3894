"""The one error the resolution parser raises, worded for the person who supplied the file."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from resotrack.catalog import N_

#: The catalog domain of the messages below (``locales/<lang>/LC_MESSAGES/resolutions.po``).
DOMAIN = "resolutions"


class _Words(Protocol):
    def __call__(self, message: str, **values: Any) -> str: ...

    def n(self, singular: str, plural: str, n: int, **values: Any) -> str: ...


class Phrase(str):
    """A value that is itself a message id (marked with ``N_``), with its own ``values``: it
    reads as its English text, and :meth:`said_in` says it in the reader's language."""

    msgid: str
    values: dict[str, Any]
    plural: str | None

    def __new__(cls, msgid: str, *, plural: str | None = None, **values: Any) -> Phrase:
        """``plural``: the English plural of a counted phrase, whose count is ``values["n"]``
        (the catalog holds both forms under ``msgid``)."""
        english = plural if plural is not None and values.get("n") != 1 else msgid
        phrase = super().__new__(cls, english.format(**values) if values else english)
        phrase.msgid = msgid
        phrase.values = values
        phrase.plural = plural
        return phrase

    def said_in(self, words: _Words) -> str:
        values = _said(self.values, words)
        if self.plural is not None:
            count = int(values.pop("n"))
            return words.n(self.msgid, self.plural, count, **values)
        return words(self.msgid, **values)


#: What separates findings listed in one message (French sets a space before it).
SEPARATOR = N_("; ")


class Phrases(Phrase):
    """Findings listed in one message: they read as their English texts joined by ``; ``,
    and :meth:`said_in` says each in the reader's language, with that language's separator."""

    parts: tuple[str, ...]

    def __new__(cls, parts: Sequence[str]) -> Phrases:
        phrase = str.__new__(cls, "; ".join(parts))
        phrase.msgid, phrase.values, phrase.plural = "", {}, None
        phrase.parts = tuple(parts)
        return phrase

    def said_in(self, words: _Words) -> str:
        said = [p.said_in(words) if isinstance(p, Phrase) else p for p in self.parts]
        return words(SEPARATOR).join(said)


def _said(values: dict[str, Any], words: _Words) -> dict[str, Any]:
    """``values`` with each :class:`Phrase` among them said in the language of ``words``."""
    return {k: v.said_in(words) if isinstance(v, Phrase) else v for k, v in values.items()}


class ResolutionParseError(ValueError):
    """A resolution text that cannot be read or does not have the shape of a resolution.

    It subclasses ``ValueError`` so generic callers can still catch it. ``msgid`` is a message
    id of the ``resolutions`` catalog domain (English with named placeholders) and ``values``
    its fields: ``str()`` is the English text (for logs), :meth:`said_in` the text in a reader's
    language (the CLI uses the terminal's). ``problems`` lists the individual findings (e.g.
    each duplicated or missing paragraph number) for callers that want them one by one;
    ``parts`` holds the errors this one gathers (one per resolution of a session document).
    """

    def __init__(
        self,
        msgid: str,
        *,
        problems: tuple[str, ...] = (),
        source: str | None = None,
        parts: tuple[ResolutionParseError, ...] = (),
        plural: str | None = None,
        **values: Any,
    ) -> None:
        self.msgid = msgid
        self.plural = plural  # a counted message: ``values["n"]`` picks the form
        self.values = values
        self.parts = parts
        self.source = source
        form = plural if plural is not None and values["n"] != 1 else msgid
        message = " | ".join(str(p) for p in parts) if parts else form.format(**values)
        self.message = message
        self.problems = problems or (message,)
        super().__init__(f"{source}: {message}" if source else message)

    @classmethod
    def gathered(cls, parts: tuple[ResolutionParseError, ...]) -> ResolutionParseError:
        """One error saying each of ``parts``, joined by `` | ``."""
        return cls("", problems=tuple(p for f in parts for p in f.problems), parts=parts)

    def said_in(self, words: _Words) -> str:
        """The message in the language of ``words`` (a ``Words`` of the ``resolutions`` domain)."""
        if self.parts:
            return " | ".join(part.said_in(words) for part in self.parts)
        values = _said(self.values, words)
        if self.plural is not None:
            count = int(values.pop("n"))
            text = words.n(self.msgid, self.plural, count, **values)
        else:
            text = words(self.msgid, **values)
        source = self.source.said_in(words) if isinstance(self.source, Phrase) else self.source
        return f"{source}: {text}" if source else text

    def placed(self, source: str) -> ResolutionParseError:
        """The same error, said of ``source`` (a file name, or a place in a file)."""
        return ResolutionParseError(
            self.msgid,
            problems=self.problems,
            source=source,
            parts=self.parts,
            plural=self.plural,
            **self.values,
        )
