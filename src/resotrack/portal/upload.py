"""Read an upload form as it streams in, so an oversized file is cut off at the limit.

Starlette's ``request.form()`` spools the whole body to disk before the application sees a
byte; a 50 MB upload would be written in full just to be refused. Here the body is pushed
chunk by chunk through python-multipart's low-level parser: the file part is written to a
spool file while its bytes are counted, and the first byte over the limit stops the reading.
Other form fields are counted against a small allowance and discarded.
"""

from __future__ import annotations

from typing import BinaryIO, Final

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from resotrack.intake.receive import TooLarge

FILE_FIELD: Final = "file"
#: Room for the multipart envelope and small fields (a language choice, a button's name).
ENVELOPE_BYTES: Final = 64 * 1024


class BadForm(ValueError):
    """Not a multipart form we can read (no boundary, broken framing, two files...)."""


def boundary_of(content_type: str | None) -> bytes:
    """The multipart boundary, or :class:`BadForm`."""
    kind, params = parse_options_header(content_type or "")
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise BadForm("the upload must be a multipart/form-data form")
    return boundary


class FormStream:
    """Push body chunks in with :meth:`feed`; the ``file`` field's bytes land in ``sink``."""

    def __init__(self, boundary: bytes, sink: BinaryIO, *, max_file_bytes: int) -> None:
        self.sink = sink
        self.max_file_bytes = max_file_bytes
        self.max_body_bytes = max_file_bytes + ENVELOPE_BYTES
        self.body_bytes = 0
        self.file_bytes = 0
        self.filename: bytes | None = None
        self.files_seen = 0
        self.finished = False
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._to_file = False
        self._parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value_data,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_end": self._end,
            },
        )

    def feed(self, chunk: bytes) -> None:
        """Parse one chunk; raises ``TooLarge`` past the limit, ``BadForm`` on broken framing."""
        self.body_bytes += len(chunk)
        if self.body_bytes > self.max_body_bytes:
            raise TooLarge(self.max_file_bytes)
        try:
            self._parser.write(chunk)
        except MultipartParseError as exc:
            raise BadForm(f"the form is malformed: {exc}") from exc

    def close(self) -> None:
        """The body ended: it must have ended the form too, with exactly one file in it."""
        try:
            self._parser.finalize()
        except MultipartParseError as exc:
            raise BadForm(f"the form is malformed: {exc}") from exc
        if not self.finished:
            raise BadForm("the form ended early (the upload was interrupted)")

    # --- parser callbacks ----------------------------------------------------------------

    def _part_begin(self) -> None:
        self._headers = {}
        self._to_file = False

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_name.strip().lower()] = self._header_value.strip()
        self._header_name = self._header_value = b""

    def _headers_finished(self) -> None:
        _kind, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        if params.get(b"name") == FILE_FIELD.encode() and b"filename" in params:
            self.files_seen += 1
            if self.files_seen > 1:
                raise BadForm("send one workbook at a time")
            self.filename = params[b"filename"]
            self._to_file = True

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._to_file:
            return  # small fields: counted in body_bytes, otherwise ignored
        self.file_bytes += end - start
        if self.file_bytes > self.max_file_bytes:
            raise TooLarge(self.max_file_bytes)
        self.sink.write(data[start:end])

    def _end(self) -> None:
        self.finished = True
