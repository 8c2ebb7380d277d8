"""The writable streams of the object-store core: what `_open_put` returns, the default that
spools and puts once, and the wrapper `open_atomic` yields."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any, BinaryIO, Protocol, cast

from remote_store.models import WriteResult
from remote_store.operations import SPOOL_LIMIT

Put = Callable[..., WriteResult]


class PutStream(Protocol):
    """What `_open_put` returns: a writable stream with `commit` (one visible step) and
    `discard` (nothing visible)."""

    def write(self, data: bytes | bytearray | memoryview, /) -> int: ...

    def commit(self) -> WriteResult: ...

    def discard(self) -> None: ...


class RefinedWrites(io.RawIOBase):
    """The stream `open_atomic` yields: *stream*'s writes, a refused one explained the way
    a refused commit is (a staged block may meet a directory at the key first)."""

    def __init__(
        self, stream: PutStream, refining: Callable[[], AbstractContextManager[None]]
    ) -> None:
        super().__init__()
        self._stream = stream
        self._refining = refining

    def writable(self) -> bool:
        return True

    def write(self, data: Any, /) -> int:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        with self._refining():
            return self._stream.write(data)

    def close(self) -> None:
        pass  # closing inside the ``with`` block is harmless: the commit happens on exit


class SpooledPut(io.RawIOBase):
    """Spools to memory (a temporary file beyond `SPOOL_LIMIT`), then puts in one request."""

    def __init__(
        self,
        put: Put,
        key: str,
        *,
        create_only: bool,
        if_match: str | None,
        metadata: Mapping[str, str] | None,
    ) -> None:
        super().__init__()
        self._put = put
        self._key = key
        self._create_only = create_only
        self._if_match = if_match
        self._metadata = metadata
        self._spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_LIMIT)  # noqa: SIM115

    def writable(self) -> bool:
        return True

    def write(self, data: Any, /) -> int:
        return self._spool.write(data)

    def close(self) -> None:
        pass  # closing inside the ``with`` block is harmless: the commit happens on exit

    def commit(self) -> WriteResult:
        try:
            self._spool.seek(0)
            return self._put(
                self._key,
                cast(BinaryIO, self._spool),
                create_only=self._create_only,
                if_match=self._if_match,
                metadata=self._metadata,
            )
        finally:
            self.discard()

    def discard(self) -> None:
        self._spool.close()
        super().close()
