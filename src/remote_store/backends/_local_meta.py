"""User metadata of local files, kept in extended attributes."""

from __future__ import annotations

import errno
import os
from collections.abc import Mapping

from remote_store.backends._local_cas import at, fine_mtimes, probe_folder
from remote_store.backends._local_fs import DIR_FLAGS
from remote_store.backends._local_place import Staging
from remote_store.errors import InvalidArgument

_XATTR_PREFIX = "user.remote_store."


def read_metadata(dir_fd: int, name: str) -> dict[str, str]:
    where = at(dir_fd, name)
    names = [n for n in os.listxattr(where, follow_symlinks=False) if n.startswith(_XATTR_PREFIX)]
    return {
        n[len(_XATTR_PREFIX) :]: os.getxattr(where, n, follow_symlinks=False).decode(
            "utf-8", "replace"
        )
        for n in names
    }


def write_metadata(fd: int, key: str, metadata: Mapping[str, str]) -> None:
    for name, value in metadata.items():
        try:
            os.setxattr(fd, _XATTR_PREFIX + name, value.encode("utf-8"))
        except ValueError as exc:  # an embedded NUL
            raise InvalidArgument(f"metadata key {name!r} contains NUL", path=key) from exc
        except OSError as exc:
            if exc.errno not in (errno.E2BIG, errno.ENOSPC, errno.ERANGE):
                raise
            raise InvalidArgument(
                f"metadata {name!r} is too large for this filesystem's extended attributes",
                path=key,
            ) from exc


def xattrs_work(fd: int, dir_fd: int, name: str) -> bool:
    """Whether the file *name* (open at *fd*) keeps user extended attributes, read back
    the way listings read them."""
    if not hasattr(os, "setxattr"):
        return False
    try:
        os.setxattr(fd, _XATTR_PREFIX + "probe", b"1")
        return os.getxattr(at(dir_fd, name), _XATTR_PREFIX + "probe", follow_symlinks=False) == b"1"
    except OSError:
        return False


def probe(root: str) -> tuple[bool, bool]:
    """Whether files in *root* keep user extended attributes, and nanosecond mtimes. Asked
    of the folder itself and undone, so that opening a folder (``remote-store ls``) changes
    nothing in it; a file is staged only where the folder's times may not be set."""
    try:
        dir_fd = os.open(root, DIR_FLAGS)
    except OSError:
        return False, True
    try:
        return probe_folder(dir_fd)
    except PermissionError:
        return probe_with_a_file(dir_fd)
    except OSError:
        return False, True
    finally:
        os.close(dir_fd)


def probe_with_a_file(dir_fd: int) -> tuple[bool, bool]:
    try:
        staging = Staging(dir_fd)
    except OSError:  # a folder we may not write to: nothing to condition
        return False, True
    try:
        fd = staging.file.fileno()
        return xattrs_work(fd, dir_fd, staging.name), fine_mtimes(fd)
    finally:
        staging.discard()
