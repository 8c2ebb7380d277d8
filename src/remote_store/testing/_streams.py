"""Source streams with awkward but legal behaviour, to feed writes."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, BinaryIO, cast

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer


class SourceFailed(Exception):
    """Raised by `FailingStream`; tests look for it to tell their failure from a backend's."""


class TrickleStream(io.RawIOBase):
    """A non-seekable stream that returns at most *step* bytes per read, as sockets do."""

    def __init__(self, data: bytes, step: int = 65_537) -> None:
        self._view = memoryview(data)
        self._position = 0
        self._step = step

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        target = memoryview(buffer).cast("B")
        count = min(len(target), self._step, len(self._view) - self._position)
        target[:count] = self._view[self._position : self._position + count]
        self._position += count
        return count

    def as_binary(self) -> BinaryIO:
        """This stream typed as what `Store.write` accepts."""
        return cast(BinaryIO, self)


class FailingStream(TrickleStream):
    """Yields *fail_after* bytes, then raises `SourceFailed`."""

    def __init__(self, data: bytes, fail_after: int, step: int = 4096) -> None:
        super().__init__(data, step)
        self._fail_after = fail_after

    def readinto(self, buffer: WriteableBuffer) -> int:
        if self._position >= self._fail_after:
            raise SourceFailed("the source stream failed mid-way")
        return super().readinto(buffer)
