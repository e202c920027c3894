"""Content-addressed blob store: files kept byte-for-byte under their SHA-256.

A blob is written to a temporary file, fsynced, renamed into place and its folder fsynced,
so once ``put`` returns the bytes survive a crash. The interface is small on purpose so an
object-storage backend can stand in for the local folder.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from resotrack.settings import get_settings

CHUNK = 1024 * 1024


class BlobNotFound(LookupError):
    """No blob with that hash: the store lost it or it was never written."""


class BlobStore:
    """A folder of ``ab/cdef...`` files named by their SHA-256."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:]

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def put(self, data: bytes) -> str:
        """Store ``data``; returns its SHA-256. Storing the same bytes twice is a no-op."""
        sha = hashlib.sha256(data).hexdigest()
        if not self.exists(sha):
            self.put_stream(io.BytesIO(data))
        return sha

    def put_stream(self, stream: BinaryIO, *, max_bytes: int | None = None) -> tuple[str, int]:
        """Store a stream without holding it in memory; raise ValueError past ``max_bytes``."""
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise ValueError(f"the file is larger than {max_bytes:,} bytes")
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = digest.hexdigest()
            self._place(Path(tmp), sha)
            return sha, size
        finally:
            Path(tmp).unlink(missing_ok=True)

    def get(self, sha256: str) -> bytes:
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError as exc:
            raise BlobNotFound(f"blob {sha256} is missing from {self.root}") from exc

    def _place(self, tmp: Path, sha: str) -> None:
        target = self.path(sha)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            return
        os.replace(tmp, target)
        _fsync_dir(target.parent)
        _fsync_dir(target.parent.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def blob_store() -> BlobStore:
    """The configured store: ``<home>/blobs``."""
    return BlobStore(get_settings().home / "blobs")
