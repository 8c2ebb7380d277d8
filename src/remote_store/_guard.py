"""The Store's side of the error boundary, and the caller's sink.

The kernel (`remote_store.backend`) already guarantees that only library errors leave a
backend; a Store gates capabilities and rewrites an error's path relative to its root. A
`read_to` sink is the caller's own object: its exceptions are carried through the backend
marked (`SinkFailed`) and handed back unchanged."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from remote_store import paths
from remote_store.capabilities import Capability
from remote_store.errors import RemoteStoreError
from remote_store.streams import Sink, check_sink, write_all

P = ParamSpec("P")
R = TypeVar("R")


class Guarded(Protocol):
    def _require(self, capability: Capability) -> None: ...

    def _translated(self) -> AbstractContextManager[None]: ...


G = TypeVar("G", bound=Guarded)


def gated(
    capability: Capability | None,
) -> Callable[[Callable[Concatenate[G, P], R]], Callable[Concatenate[G, P], R]]:
    """Refuse the call unless the backend declares *capability*; relativise error paths."""

    def decorate(method: Callable[Concatenate[G, P], R]) -> Callable[Concatenate[G, P], R]:
        @functools.wraps(method)
        def wrapper(self: G, /, *args: P.args, **kwargs: P.kwargs) -> R:
            if capability is not None:
                self._require(capability)
            with self._translated():
                return method(self, *args, **kwargs)

        return wrapper

    return decorate


@contextmanager
def relative_errors(root: str) -> Iterator[None]:
    """Re-raise library errors with paths relative to *root*: ``.path`` and the keys the
    message quotes, so the two always agree."""
    try:
        yield
    except RemoteStoreError as error:
        if root:
            if error.path is not None and paths.is_within(root, error.path):
                error.path = paths.relative_to(root, error.path)
            _relative_message(error, root)
        raise


def _relative_message(error: RemoteStoreError, root: str) -> None:
    message = error.message
    for quote in ("'", '"'):
        message = message.replace(f"{quote}{root}/", quote)
        message = message.replace(f"{quote}{root}{quote}", f"{quote}{quote}")
    if message != error.message:
        error.message = message
        if isinstance(error, OSError):
            error.strerror = message
            error.filename = error.path
        error.args = (message,) if not isinstance(error, OSError) else (error.errno, message)


class SinkFailed(Exception):
    """The caller's sink raised *error*: carried through the backend, which must not
    translate it, and re-raised to the caller as it was."""

    def __init__(self, error: Exception) -> None:
        super().__init__(error)
        self.error = error


class CallerSink:
    """The caller's sink, checked, written whole (short writes completed), its failures
    marked."""

    def __init__(self, sink: Sink) -> None:
        check_sink(sink)
        self._sink = sink

    def write(self, data: memoryview, /) -> int:
        try:
            write_all(self._sink, data)
        except Exception as error:
            raise SinkFailed(error) from error
        return len(data)
