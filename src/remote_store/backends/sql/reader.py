"""Reading a file's chunks: a forward-only or seekable stream pinned to one version.

The stream holds one chunk at a time (plus the caller's buffer): each chunk is one
``SELECT`` of one row, in a transaction of its own, so no transaction stays open while the
caller reads. Chunks of a version never change; once the file is replaced its old chunks
are deleted, and a read that needs one then fails with `PreconditionFailed`.
"""

from __future__ import annotations

import io
from typing import Any

import sqlalchemy as sa

from remote_store.backends.sql.retry import Attempts
from remote_store.backends.sql.schema import Tables
from remote_store.errors import PreconditionFailed, RemoteStoreError
from remote_store.streams import seek_target

#: A seekable read that does not continue the last fetch fetches at least this much (as
#: `remote_store.transfer.reader.FIRST_SPAN`); each one continuing it doubles, to a chunk.
FIRST_SPAN = 64 * 1024


class ChunkReader(io.RawIOBase):
    """The content of version *version* of *key* (*size* bytes in *chunk_size* pieces);
    *first* is chunk 0 when the caller already fetched it with the file's row. Seekable,
    a read fetches a slice of one chunk sized to the request (at least `FIRST_SPAN`,
    doubling while reads continue the last fetch), not the whole chunk."""

    def __init__(
        self,
        attempts: Attempts,
        tables: Tables,
        key: str,
        *,
        version: str,
        size: int,
        chunk_size: int,
        first: bytes | None,
        seekable: bool,
    ) -> None:
        super().__init__()
        self._attempts = attempts
        self._tables = tables
        self._key = key
        self._version = version
        self._size = size
        self._chunk_size = chunk_size
        self._seekable = seekable
        self._pos = 0
        self._chunk: bytes = first or b""  # the bytes from `_start` held
        self._start = 0 if first is not None else -1
        self._fetched_to = len(self._chunk) if first is not None else -1
        self._span = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._seekable

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if not self._seekable:
            raise io.UnsupportedOperation("seek")
        target = seek_target(offset, whence, self._pos, self._size)
        self._pos = target
        return target

    def readinto(self, buffer: Any) -> int:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        view = memoryview(buffer).cast("B")
        if self._pos >= self._size or not len(view):
            return 0
        if not self._start <= self._pos < self._start + len(self._chunk):
            self._load(len(view))
        offset = self._pos - self._start
        piece = self._chunk[offset : offset + len(view)]
        if not piece:
            raise self._short()
        view[: len(piece)] = piece
        self._pos += len(piece)
        return len(piece)

    def readall(self) -> bytes:
        parts = []
        while self._pos < self._size:
            if not self._start <= self._pos < self._start + len(self._chunk):
                self._load(self._size - self._pos)
            piece = self._chunk[self._pos - self._start :]
            if not piece:
                raise self._short()
            parts.append(piece)
            self._pos += len(piece)
        return b"".join(parts)

    def _load(self, want: int) -> None:
        """Fetch the bytes at the position: the rest of its chunk reading forward, a slice
        of it sized to *want* reading seekable."""
        seq, offset = divmod(self._pos, self._chunk_size)
        length = self._chunk_size - offset
        if self._seekable:
            sequential = self._pos == self._fetched_to
            span = min(self._span * 2, self._chunk_size) if sequential else FIRST_SPAN
            length = min(max(span, want), length)
            self._span = length
        self._chunk = b""  # not held while the next one is fetched
        if offset == 0 and length == self._chunk_size:
            self._chunk = self._fetch(seq)
        else:
            self._chunk = self._fetch(seq, offset, length)
        self._start = self._pos
        self._fetched_to = self._pos + len(self._chunk)

    def _fetch(self, seq: int, offset: int = 0, length: int | None = None) -> bytes:
        chunks = self._tables.chunks
        data: Any = chunks.c.data
        if length is not None:  # SQLite and PostgreSQL count a blob's bytes from 1
            data = sa.func.substr(data, offset + 1, length, type_=sa.LargeBinary)
        query = sa.select(data).where(chunks.c.version == self._version, chunks.c.seq == seq)
        row = self._attempts.run("read", self._key, lambda c: c.execute(query).first(), write=False)
        if row is None:
            raise PreconditionFailed(f"{self._key!r} changed while it was read", path=self._key)
        return bytes(row[0] or b"")

    def _short(self) -> RemoteStoreError:
        # The row's size promises more bytes than its chunks hold: edited outside the library.
        return RemoteStoreError(
            f"read {self._key!r}: the stored chunks are shorter than the file's size",
            path=self._key,
        )

    def close(self) -> None:
        self._chunk = b""
        super().close()
