"""The kernel's error boundary: what every public call of a backend runs inside."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO, Literal, TypeVar, cast

from remote_store._guard import SinkFailed
from remote_store.errors import RemoteStoreError, from_os_error

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

Item = TypeVar("Item")


def unexpected(backend: str, error: Exception) -> RemoteStoreError:
    """The library error standing for *error*, which a backend let escape (ERR-007)."""
    failure = RemoteStoreError(
        f"{backend} backend failed unexpectedly: {type(error).__name__}", backend=backend
    )
    failure.__cause__ = error
    return failure


class Boundary:
    """One public call: a closed backend refuses it, it runs within the backend's call
    scope (a deadline), and any exception that is not a library error becomes one (the
    original kept as ``__cause__``). A caller's sink failing passes through untouched."""

    __slots__ = ("_backend", "_check_open", "_make_scope", "_scope")

    def __init__(
        self,
        backend: str,
        check_open: Callable[[], None],
        make_scope: Callable[[], AbstractContextManager[object] | None],
    ) -> None:
        self._backend = backend
        self._check_open = check_open
        self._make_scope = make_scope
        self._scope: AbstractContextManager[object] | None = None

    @property
    def backend(self) -> str:
        return self._backend

    def __enter__(self) -> None:
        self._check_open()
        self._scope = self._make_scope()
        if self._scope is not None:
            self._scope.__enter__()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> Literal[False]:
        if self._scope is not None:
            self._scope.__exit__(kind, error, traceback)
        if error is None or not isinstance(error, Exception):
            return False
        if isinstance(error, RemoteStoreError | SinkFailed):
            return False
        raise unexpected(self._backend, error)


def translated_lazily(backend: str, produce: Callable[[], Iterator[Item]]) -> Iterator[Item]:
    """*produce*'s items, its stray exceptions translated; nothing runs before the first."""
    try:
        yield from produce()
    except (RemoteStoreError, SinkFailed):
        raise
    except Exception as error:
        raise unexpected(backend, error) from error


@contextmanager
def atomic_writer(
    boundary: Callable[[], Boundary],
    opened: Callable[[], AbstractContextManager[BinaryIO]],
    key: str,
) -> Iterator[BinaryIO]:
    """The hook's `open_atomic` manager, its set-up and its commit each one call (one
    deadline); the writes between are the caller's. Only the backend's own failures are
    translated: the caller's exception inside the block passes untouched."""
    setup = boundary()
    with setup:
        manager = opened()
        stream = manager.__enter__()
    try:
        yield cast(BinaryIO, _CallerStream(stream, key, setup.backend))
    except BaseException as error:
        try:
            with boundary():
                manager.__exit__(type(error), error, error.__traceback__)
        except BaseException as cleanup_error:
            if cleanup_error is not error:
                raise cleanup_error from error
        raise
    else:
        with boundary():
            manager.__exit__(None, None, None)


class _CallerStream(io.BufferedIOBase):
    """What `open_atomic` yields: the backend's stream, except that the caller closing it
    inside the block (``with io.TextIOWrapper(out) as text:`` does) only flushes it and
    ends the caller's writes. The commit, after the block, closes the real stream, so every
    backend commits what was written."""

    def __init__(self, inner: BinaryIO, key: str, backend: str) -> None:
        super().__init__()
        self._inner = inner
        self._key = key
        self._backend = backend

    @contextmanager
    def _translated(self) -> Iterator[None]:
        # The caller's writes run outside any call, but what the backend's stream raises
        # (a full disk: ENOSPC) is still reported in the library's errors.
        try:
            yield
        except RemoteStoreError:
            raise
        except OSError as error:
            raise from_os_error(error, self._key, backend=self._backend) from error

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._inner.seekable()

    def write(self, data: ReadableBuffer) -> int:
        if self.closed:
            raise ValueError("write to a closed open_atomic stream")
        with self._translated():
            return self._inner.write(data)

    def tell(self) -> int:
        return self._inner.tell()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._inner.seek(offset, whence)

    def flush(self) -> None:
        if not self.closed:
            with self._translated():
                self._inner.flush()

    def close(self) -> None:
        if not self.closed:
            self.flush()
        super().close()
