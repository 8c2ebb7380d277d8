"""One small error tree.

Every error also subclasses the matching builtin, so ``except FileNotFoundError`` catches
`NotFound`. Each carries the store-relative path it concerns (when there is one) and says
whether retrying the same call can help.
"""

from __future__ import annotations

import errno as _errno


class RemoteStoreError(Exception):
    """Base of every error this library raises."""

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        backend: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.backend = backend
        if retryable is not None:
            self.retryable = retryable

    def __str__(self) -> str:
        return self.message


class _OSErrorMixin(RemoteStoreError, OSError):
    """Base for errors that are also `OSError` subclasses, with a proper errno."""

    errno_code: int = 0

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        backend: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        OSError.__init__(self, self.errno_code, message)
        RemoteStoreError.__init__(self, message, path=path, backend=backend, retryable=retryable)
        self.errno = self.errno_code
        self.strerror = message
        self.filename = path

    def __str__(self) -> str:
        return self.message


class NotFound(_OSErrorMixin, FileNotFoundError):
    """The file or folder does not exist."""

    errno_code = _errno.ENOENT


class AlreadyExists(_OSErrorMixin, FileExistsError):
    """The target exists and the call asked not to overwrite it."""

    errno_code = _errno.EEXIST


class PermissionDenied(_OSErrorMixin, PermissionError):
    """The credentials in use may not perform this operation."""

    errno_code = _errno.EACCES


class DirectoryNotEmpty(_OSErrorMixin):
    """A non-recursive folder delete found the folder not empty."""

    errno_code = _errno.ENOTEMPTY


class InvalidPath(RemoteStoreError, ValueError):
    """The path is malformed, escapes the store root, or names the wrong kind of entry."""


class IsAFolder(InvalidPath, _OSErrorMixin, IsADirectoryError):
    """A file operation was given a path that is a folder."""

    errno_code = _errno.EISDIR


class NotAFolder(InvalidPath, _OSErrorMixin, NotADirectoryError):
    """A folder operation was given a path that is a file, or a path runs through a file."""

    errno_code = _errno.ENOTDIR


class PreconditionFailed(RemoteStoreError):
    """A conditional request (etag match, create-only) did not hold on the service."""


class ResourceLocked(PreconditionFailed):
    """Another client holds a lease or lock on the file (an Azure blob lease, say); the call
    changed nothing. A `PreconditionFailed`, so code that catches that still catches it."""


class CapabilityNotSupported(RemoteStoreError, NotImplementedError):
    """The backend does not declare the capability this call needs."""

    def __init__(self, capability: str, *, backend: str | None = None, path: str | None = None):
        where = f"backend {backend!r}" if backend else "this backend"
        super().__init__(f"{where} does not support {capability}", path=path, backend=backend)
        self.capability = capability


class BackendUnavailable(_OSErrorMixin, ConnectionError):
    """The service could not be reached or asked us to back off; retrying may help."""

    errno_code = _errno.EAGAIN
    retryable = True


class ConfigError(RemoteStoreError, ValueError):
    """The configuration is invalid: unknown backend type or store, bad option, missing variable."""


class InvalidArgument(RemoteStoreError, TypeError, ValueError):
    """An argument other than a path has the wrong type or value."""
