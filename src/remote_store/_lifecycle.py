"""The kernel's names and lifecycle: the closed state, the call boundary, native names,
the native client, health, close and pickling. `Backend` builds the file operations on it."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar, final

from remote_store import paths
from remote_store._boundary import Boundary, unexpected
from remote_store.errors import BackendUnavailable, InvalidPath, RemoteStoreError
from remote_store.models import ResolutionPlan
from remote_store.operations import BackendHooks

T = TypeVar("T")

__all__ = ["BackendLifecycle"]


class BackendLifecycle(BackendHooks):
    """The part of the kernel every call shares (see `Backend`)."""

    #: Whether a closed instance refuses further calls (`BackendUnavailable`).
    close_is_terminal: ClassVar[bool] = True
    __closed: bool = False

    @final
    def _own_call(self) -> Boundary:
        """What every public method runs inside, a backend's own ones too (beyond the
        contract): the closed check, the call's scope, only library errors out."""
        return Boundary(self.name, self._check_open, self._call_scope)

    @final
    def _check_open(self) -> None:
        if self.__closed and self.close_is_terminal:
            raise BackendUnavailable(
                f"the {self.name} backend is closed", backend=self.name, retryable=False
            )

    @final
    def native_path(self, path: str) -> str:
        """The backend's own name for *path* (a filesystem path, a URL, ...)."""
        key = paths.normalize(path)
        with self._own_call():
            return self._native_path(key)

    @final
    def to_key(self, native_path: str) -> str:
        """The key of a native path of this backend (inverse of `native_path`)."""
        if not isinstance(native_path, str):
            raise InvalidPath(f"path must be a str, got {type(native_path).__name__}")
        with self._own_call():
            return paths.normalize(self._to_key(native_path))

    @final
    def resolve(self, path: str) -> ResolutionPlan:
        """How *path* maps onto this backend. Never contains credentials."""
        key = paths.normalize(path)
        with self._own_call():
            return self._resolve(key)

    @final
    def unwrap(self, type_hint: type[T]) -> T:
        """The underlying native client of type *type_hint*, for features we do not wrap."""
        with self._own_call():
            return self._unwrap(type_hint)

    @final
    def check_health(self) -> None:
        """Check the backend answers; raise `BackendUnavailable` or `PermissionDenied` if not.
        `Store.ping` calls it."""
        with self._own_call():
            self._ping()

    @final
    def ping(self) -> None:
        """`check_health`."""
        self.check_health()

    @final
    def close(self) -> None:
        """Release what the backend created (clients, connections). Idempotent."""
        if self.__closed:
            return
        self.__closed = True
        try:
            self._close()
        except RemoteStoreError:
            raise
        except Exception as error:
            raise unexpected(self.name, error) from error

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """A backend pickles as the options it was built with (`_rebuild_options`), never
        its clients or connections; one that cannot say how refuses (`InvalidArgument`)."""
        from remote_store import _pickling  # it imports this module

        return (_pickling.rebuild_backend, (type(self), _pickling.direct_options(self)))

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
