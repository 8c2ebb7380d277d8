"""The Store's error boundary: capability gates, translation of whatever a backend raises
into `remote_store.errors` with store-relative paths, and the caller's own objects (an
`open_atomic` block, a `read_to` sink) whose exceptions pass through untouched."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import BinaryIO, Concatenate, ParamSpec, Protocol, TypeVar

from remote_store import paths
from remote_store.backend import Backend, if_match_kwargs
from remote_store.capabilities import Capability
from remote_store.errors import RemoteStoreError
from remote_store.streams import Sink, write_all

P = ParamSpec("P")
R = TypeVar("R")


class Guarded(Protocol):
    def _require(self, capability: Capability) -> None: ...

    def _translated(self) -> AbstractContextManager[None]: ...


G = TypeVar("G", bound=Guarded)


def gated(
    capability: Capability | None,
) -> Callable[[Callable[Concatenate[G, P], R]], Callable[Concatenate[G, P], R]]:
    """Refuse the call unless the backend declares *capability*; translate stray errors."""

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
def translated(root: str, backend: Backend) -> Iterator[None]:
    """Re-raise library errors with paths relative to *root*, anything else as a bare
    `RemoteStoreError` so no backend-specific exception type leaks to the caller."""
    try:
        yield
    except SinkFailed:
        raise  # the caller's own failure, unwrapped by the caller's Store method
    except RemoteStoreError as error:
        if error.path is not None and paths.is_within(root, error.path):
            error.path = paths.relative_to(root, error.path)
        raise
    except Exception as error:
        raise RemoteStoreError(
            f"{backend.name} backend failed unexpectedly: {type(error).__name__}",
            backend=backend.name,
        ) from error


@contextmanager
def atomic_writer(
    root: str,
    backend: Backend,
    key: str,
    overwrite: bool,
    metadata: Mapping[str, str] | None,
    if_match: str | None,
) -> Iterator[BinaryIO]:
    """The backend's `open_atomic`, with only the backend's own failures translated."""
    with translated(root, backend):
        manager = backend.open_atomic(
            key, overwrite=overwrite, metadata=metadata, **if_match_kwargs(if_match)
        )
        stream = manager.__enter__()
    try:
        yield stream
    except BaseException as error:
        # The caller's own exception propagates untouched; only a failure of the
        # backend's clean-up is translated.
        try:
            manager.__exit__(type(error), error, error.__traceback__)
        except BaseException as cleanup_error:
            if cleanup_error is not error:
                with translated(root, backend):
                    raise cleanup_error from error
        raise
    else:
        with translated(root, backend):
            manager.__exit__(None, None, None)


class SinkFailed(Exception):
    """The caller's sink raised *error*: carried through the backend, which must not
    translate it, and re-raised to the caller as it was."""

    def __init__(self, error: Exception) -> None:
        super().__init__(error)
        self.error = error


class CallerSink:
    """The caller's sink, written whole (short writes completed), its failures marked."""

    def __init__(self, sink: Sink) -> None:
        self._sink = sink

    def write(self, data: memoryview, /) -> int:
        try:
            write_all(self._sink, data)
        except Exception as error:
            raise SinkFailed(error) from error
        return len(data)
