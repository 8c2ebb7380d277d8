"""One small error tree.

Every error also subclasses the matching builtin, so ``except FileNotFoundError`` catches
`NotFound`. Each carries the store-relative path it concerns (when there is one) and says
whether retrying the same call can help.
"""

from __future__ import annotations

import errno as _errno
from typing import Any


class RemoteStoreError(Exception):
    """Base of every error this library raises."""

    retryable: bool = False
    #: The service's own error code (Azure ``x-ms-error-code``, an S3 ``Code``), when it
    #: gave one: structured data to branch on, never the message.
    service_code: str | None = None

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

    def __reduce__(self) -> tuple[Any, ...]:
        # OSError's own reduce passes (errno, strerror, filename) positionally once a
        # filename is set (the kernel sets it to the store path), which __init__ refuses.
        return (_restore, (type(self), self.message, self.path), dict(vars(self)))


def _restore(cls: type[_OSErrorMixin], message: str, path: str | None) -> _OSErrorMixin:
    return cls(message, path=path)


class NotFound(_OSErrorMixin, FileNotFoundError):
    """The file or folder does not exist."""

    errno_code = _errno.ENOENT


class ContainerNotFound(NotFound):
    """The container itself (an Azure container or file system, an S3 bucket) does not
    exist, so no path in it can be reached: a typo in the configuration, or a container
    not created yet."""


class AlreadyExists(_OSErrorMixin, FileExistsError):
    """The target exists and the call asked not to overwrite it."""

    errno_code = _errno.EEXIST


class PermissionDenied(_OSErrorMixin, PermissionError):
    """The credentials in use may not perform this operation."""

    errno_code = _errno.EACCES


class DirectoryNotEmpty(_OSErrorMixin):
    """A non-recursive folder delete found the folder not empty."""

    errno_code = _errno.ENOTEMPTY


class StorageFull(_OSErrorMixin):
    """No space left where the file was being written: a full disk, an exhausted quota, a
    file larger than the filesystem allows. Nothing was committed."""

    errno_code = _errno.ENOSPC


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


_BY_ERRNO: dict[int, tuple[type[RemoteStoreError], str]] = {
    _errno.ENOENT: (NotFound, "{key!r} does not exist"),
    _errno.EEXIST: (AlreadyExists, "{key!r} already exists"),
    _errno.EACCES: (PermissionDenied, "permission denied on {key!r}"),
    _errno.EPERM: (PermissionDenied, "operation not permitted on {key!r}"),
    _errno.EROFS: (PermissionDenied, "{key!r} is on a read-only filesystem"),
    _errno.EISDIR: (IsAFolder, "{key!r} is a folder, not a file"),
    _errno.ENOTDIR: (NotAFolder, "{key!r} is not a folder or runs through a file"),
    _errno.ENOTEMPTY: (DirectoryNotEmpty, "folder {key!r} is not empty"),
    _errno.ENAMETOOLONG: (InvalidPath, "{key!r} is too long for the filesystem"),
    _errno.ELOOP: (InvalidPath, "{key!r} runs through a symlink loop"),
    _errno.ENOSPC: (StorageFull, "no space left to write {key!r}"),
    _errno.EDQUOT: (StorageFull, "the quota is exhausted writing {key!r}"),
    _errno.EFBIG: (StorageFull, "{key!r} is larger than the filesystem allows"),
}


def from_os_error(error: OSError, key: str, *, backend: str | None = None) -> RemoteStoreError:
    """The library error standing for the `OSError` *error*, met while working on *key*:
    chosen by its errno, never by its message."""
    kind, template = _BY_ERRNO.get(
        error.errno or 0, (RemoteStoreError, "filesystem error on {key!r}")
    )
    detail = error.strerror or type(error).__name__
    return kind(f"{template.format(key=key)} ({detail})", path=key, backend=backend)
