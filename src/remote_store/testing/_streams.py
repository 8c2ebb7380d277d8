"""Streams with awkward but legal behaviour: sources to feed writes, sinks for `read_to`."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, BinaryIO, cast

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer, WriteableBuffer


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


class StallingStream(TrickleStream):
    """A non-blocking stream without a file descriptor: after *stall_after* bytes each read
    answers ``None`` ("no data yet"), as `io.RawIOBase` does on a non-blocking source."""

    def __init__(self, data: bytes, stall_after: int, step: int = 4096) -> None:
        super().__init__(data, step)
        self._stall_after = stall_after

    def readinto(self, buffer: WriteableBuffer) -> int | None:  # type: ignore[override]
        if self._position >= self._stall_after:
            return None
        return super().readinto(buffer)


class SinkFull(OSError):
    """Raised by `TrickleSink` when told to fail. An `OSError`, as a full disk raises: a
    backend wrongly translating every `OSError` in its path would catch it."""


class TrickleSink(io.RawIOBase):
    """A raw sink that takes at most *step* bytes per write and returns the count, as a
    pipe or socket may; after *fail_after* bytes it raises `SinkFull` instead."""

    def __init__(self, step: int = 65_537, fail_after: int | None = None) -> None:
        self.received = bytearray()
        self.writes = 0
        self.raised: SinkFull | None = None
        self._step = step
        self._fail_after = fail_after

    def writable(self) -> bool:
        return True

    def write(self, data: ReadableBuffer) -> int:
        if self._fail_after is not None and len(self.received) >= self._fail_after:
            self.raised = SinkFull(28, "No space left on device")
            raise self.raised
        taken = memoryview(data).cast("B")[: self._step]
        self.received += taken
        self.writes += 1
        return len(taken)
