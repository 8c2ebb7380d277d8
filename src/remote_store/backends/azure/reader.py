"""Lazy readers over a blob: ranged GETs of a bounded size, pinned to one ETag."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from azure.core import MatchConditions
from azure.storage.blob import BlobClient

from remote_store.backends.azure.errors import translate
from remote_store.backends.azure.retry import call_scope, policy_of
from remote_store.errors import InvalidArgument


@dataclass(frozen=True)
class Chunk:
    """Bytes of a blob from *offset*, the blob's total *size* and its raw *etag*."""

    offset: int
    data: bytes
    size: int
    etag: str
    properties: Any


def fetch(blob: BlobClient, offset: int, length: int, etag: str | None = None) -> Chunk:
    """One ranged GET. With *etag* the service answers 412 if the blob has changed.

    Raises the SDK's errors (the caller decides what a 404 or 416 means)."""
    kwargs: dict[str, Any] = {}
    if etag is not None:
        kwargs = {"etag": etag, "match_condition": MatchConditions.IfNotModified}
    downloader = blob.download_blob(offset=offset, length=length, max_concurrency=1, **kwargs)
    data = downloader.readall()
    props = downloader.properties
    total = _total_size(props.content_range, offset + len(data))
    return Chunk(offset, data, total, props.etag, props)


def _total_size(content_range: str | None, fallback: int) -> int:
    # "bytes 0-1023/4096" -> 4096
    if content_range and "/" in content_range:
        tail = content_range.rsplit("/", 1)[1]
        if tail.isdigit():
            return int(tail)
    return fallback


class BlobReader(io.RawIOBase):
    """A read-only stream over one blob version.

    Keeps one chunk (the read-ahead buffer) in memory; every further chunk is a ranged GET
    with ``If-Match`` on the ETag seen first, so a blob replaced mid-read raises
    `PreconditionFailed` instead of mixing two versions."""

    def __init__(
        self, blob: BlobClient, key: str, first: Chunk, *, chunk_size: int, seekable: bool
    ) -> None:
        super().__init__()
        self._blob = blob
        self._policy = policy_of(blob)
        self._key = key
        self._etag = first.etag
        self._size = first.size
        self._chunk_size = chunk_size
        self._seekable = seekable
        self._buffer = first.data
        self._buffer_start = first.offset
        self._pos = 0

    @property
    def size(self) -> int:
        return self._size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._seekable

    def tell(self) -> int:
        self._check_open()
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._check_open()
        if not self._seekable:
            raise io.UnsupportedOperation("this stream is forward-only; use read_seekable()")
        if whence == io.SEEK_SET:
            target = offset
        elif whence == io.SEEK_CUR:
            target = self._pos + offset
        elif whence == io.SEEK_END:
            target = self._size + offset
        else:
            raise InvalidArgument(f"invalid whence {whence!r}")
        if target < 0:
            raise InvalidArgument(f"negative seek position {target}")
        self._pos = target
        return target

    def _available(self) -> memoryview:
        """Buffered bytes from the current position, fetching the next chunk if needed."""
        if self._pos >= self._size:
            return memoryview(b"")
        start = self._pos - self._buffer_start
        if not 0 <= start < len(self._buffer):
            length = min(self._chunk_size, self._size - self._pos)
            # One call per chunk: its deadline covers the SDK's own re-requests of a cut
            # body, which resume at this offset and stay pinned to the ETag.
            with call_scope(self._policy), translate("read", self._key):
                chunk = fetch(self._blob, self._pos, length, self._etag)
            self._buffer, self._buffer_start = chunk.data, chunk.offset
            start = 0
            if not chunk.data:  # the blob shrank under a matching ETag: cannot happen
                return memoryview(b"")
        return memoryview(self._buffer)[start:]

    def readinto(self, buffer: Any) -> int:
        self._check_open()
        target = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(target):
            view = self._available()
            if not view:
                break
            n = min(len(view), len(target) - filled)
            target[filled : filled + n] = view[:n]
            filled += n
            self._pos += n
        return filled

    def read(self, size: int | None = -1) -> bytes:
        self._check_open()
        if size is None or size < 0:
            return self.readall()
        parts: list[bytes] = []
        wanted = size
        while wanted > 0:
            view = self._available()
            if not view:
                break
            piece = bytes(view[:wanted])
            parts.append(piece)
            wanted -= len(piece)
            self._pos += len(piece)
        return b"".join(parts)

    def readall(self) -> bytes:
        self._check_open()
        return self.read(max(self._size - self._pos, 0))

    def readline(self, size: int | None = -1) -> bytes:
        self._check_open()
        limit = -1 if size is None else size
        parts: list[bytes] = []
        taken = 0
        while limit < 0 or taken < limit:
            view = self._available()
            if not view:
                break
            if limit >= 0:
                view = view[: limit - taken]
            rel = self._pos - self._buffer_start
            end = self._buffer.find(b"\n", rel, rel + len(view))
            piece = bytes(view[: end - rel + 1]) if end >= 0 else bytes(view)
            parts.append(piece)
            taken += len(piece)
            self._pos += len(piece)
            if end >= 0:
                break
        return b"".join(parts)

    def close(self) -> None:
        self._buffer = b""
        super().close()

    def _check_open(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file")
