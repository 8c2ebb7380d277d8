"""The writable file of `open(path, "wb")` (and, for fsspec, `"w"`) over a store's atomic
writer (fsspec, PyArrow)."""

from __future__ import annotations

import io
from contextlib import AbstractContextManager
from typing import Any, BinaryIO


class AtomicFile(io.RawIOBase):
    """The writer of `open(..., "wb")`: its content lands atomically on `close`, and is
    discarded when the ``with`` block raises or `discard` is called."""

    def __init__(self, manager: AbstractContextManager[BinaryIO]) -> None:
        self._manager = manager
        self._stream = manager.__enter__()
        self._written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self._stream.write(view)
        self._written += len(view)
        return len(view)

    def tell(self) -> int:
        return self._written

    def discard(self) -> None:
        """Drop what was written: the target keeps its previous content."""
        if not self.closed:
            error = _Discarded()
            try:
                self._manager.__exit__(type(error), error, None)
            finally:
                super().close()

    def close(self) -> None:
        if not self.closed:
            try:
                self._manager.__exit__(None, None, None)
            finally:
                super().close()

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        if error is not None:
            self.discard()
        else:
            self.close()


class AtomicText(io.TextIOWrapper):
    """Text over an `AtomicFile`: lands on close, discarded when the ``with`` block raises."""

    def discard(self) -> None:
        """Drop what was written: the target keeps its previous content."""
        atomic = self.buffer
        assert isinstance(atomic, AtomicFile)
        atomic.discard()  # closed now: closing the wrapper flushes nothing more

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        if error is not None:
            self.discard()
        else:
            self.close()


class _Discarded(Exception):
    """Handed to the atomic writer so that it drops its content."""
