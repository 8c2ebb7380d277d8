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


class ChunkReader(io.RawIOBase):
    """The content of version *version* of *key* (*size* bytes in *chunk_size* pieces);
    *first* is chunk 0 when the caller already fetched it with the file's row."""

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
        self._seq = 0 if first is not None else -1
        self._chunk: bytes = first or b""

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
        seq, offset = divmod(self._pos, self._chunk_size)
        if seq != self._seq:
            self._chunk = self._fetch(seq)
            self._seq = seq
        piece = self._chunk[offset : offset + len(view)]
        if not piece:
            raise self._short()
        view[: len(piece)] = piece
        self._pos += len(piece)
        return len(piece)

    def readall(self) -> bytes:
        parts = []
        while self._pos < self._size:
            seq, offset = divmod(self._pos, self._chunk_size)
            if seq != self._seq:
                self._chunk, self._seq = self._fetch(seq), seq
            piece = self._chunk[offset:]
            if not piece:
                raise self._short()
            parts.append(piece)
            self._pos += len(piece)
        return b"".join(parts)

    def _fetch(self, seq: int) -> bytes:
        chunks = self._tables.chunks
        query = sa.select(chunks.c.data).where(
            chunks.c.version == self._version, chunks.c.seq == seq
        )
        data = self._attempts.run(
            "read", self._key, lambda c: c.execute(query).scalar_one_or_none(), write=False
        )
        if data is None:
            raise PreconditionFailed(f"{self._key!r} changed while it was read", path=self._key)
        return bytes(data)

    def _short(self) -> RemoteStoreError:
        # The row's size promises more bytes than its chunks hold: edited outside the library.
        return RemoteStoreError(
            f"read {self._key!r}: the stored chunks are shorter than the file's size",
            path=self._key,
        )

    def close(self) -> None:
        self._chunk = b""
        super().close()
