"""The one error the resolution parser raises, worded for the person who supplied the file."""

from __future__ import annotations


class ResolutionParseError(ValueError):
    """A resolution text that cannot be read or does not have the shape of a resolution.

    It subclasses ``ValueError`` so generic callers can still catch it; its message is plain
    language that names the problem (and, where possible, how to fix it), because the CLI and
    the portal show it as is to Secretariat staff. ``problems`` lists the individual findings
    (e.g. each duplicated or missing paragraph number) for callers that want them one by one.
    """

    def __init__(
        self, message: str, *, problems: tuple[str, ...] = (), source: str | None = None
    ) -> None:
        self.problems = problems or (message,)
        self.source = source
        super().__init__(f"{source}: {message}" if source else message)
