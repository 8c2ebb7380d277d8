"""Local disk errors onto the error model, by errno (never by message text)."""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator

from remote_store.backends._local_fs import Again, SpecialFile, Vanished
from remote_store.errors import (
    AlreadyExists,
    DirectoryNotEmpty,
    InvalidPath,
    IsAFolder,
    NotAFolder,
    NotFound,
    PermissionDenied,
    RemoteStoreError,
)

_ERRNO_ERRORS: dict[int, tuple[type[RemoteStoreError], str]] = {
    errno.ENOENT: (NotFound, "{key!r} does not exist"),
    errno.EEXIST: (AlreadyExists, "{key!r} already exists"),
    errno.EACCES: (PermissionDenied, "permission denied on {key!r}"),
    errno.EPERM: (PermissionDenied, "operation not permitted on {key!r}"),
    errno.EROFS: (PermissionDenied, "{key!r} is on a read-only filesystem"),
    errno.EISDIR: (IsAFolder, "{key!r} is a folder, not a file"),
    errno.ENOTDIR: (NotAFolder, "{key!r} is not a folder or runs through a file"),
    errno.ENOTEMPTY: (DirectoryNotEmpty, "folder {key!r} is not empty"),
    errno.ENAMETOOLONG: (InvalidPath, "{key!r} is too long for the local filesystem"),
    errno.ELOOP: (InvalidPath, "{key!r} runs through a symlink loop"),
}


def map_os_error(exc: OSError, key: str) -> RemoteStoreError:
    """The error-model equivalent of *exc*, raised while working on *key*."""
    kind, template = _ERRNO_ERRORS.get(
        exc.errno or 0, (RemoteStoreError, "local filesystem error on {key!r}")
    )
    return kind(f"{template.format(key=key)} ({exc.strerror or exc})", path=key)


@contextlib.contextmanager
def os_errors(key: str) -> Iterator[None]:
    try:
        yield
    except RemoteStoreError:
        raise
    except OSError as exc:
        raise map_os_error(exc, key) from exc
    except SpecialFile as exc:
        raise NotFound(
            f"{key!r} is a FIFO, socket or device, not a regular file: never read", path=key
        ) from exc
    except Again as exc:
        raise InvalidPath(
            f"{key!r} kept being replaced by a symlink while opened", path=key
        ) from exc
    except Vanished as exc:
        raise NotFound(
            f"cannot write {key!r}: a folder on its way kept being deleted meanwhile", path=key
        ) from exc
