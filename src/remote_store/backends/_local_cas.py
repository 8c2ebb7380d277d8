"""Local disk compare-and-swap: etags, and the directory lock every name change holds."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator

from remote_store.errors import IsAFolder, PreconditionFailed

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks between processes
    fcntl = None  # type: ignore[assignment]


def etag(st: os.stat_result) -> str:
    """Inode, modification time in ns and size: a new file (new inode) and a fine mtime
    for every write, so two quick writes of one size still differ."""
    return f"{st.st_ino:x}-{st.st_mtime_ns:x}-{st.st_size:x}"


@contextlib.contextmanager
def locked(*directories: str) -> Iterator[None]:
    """Hold an exclusive ``flock`` on each directory (in a fixed order: no deadlock)."""
    fds: list[int] = []
    try:
        for directory in sorted(set(directories)):
            fd = os.open(directory, os.O_RDONLY)
            fds.append(fd)
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        for fd in reversed(fds):
            os.close(fd)  # closing releases the lock


def check_etag(key: str, full: str, if_match: str | None) -> None:
    """`PreconditionFailed` unless the file at *full* has the etag *if_match* (if given)."""
    if if_match is None:
        return
    st = os.stat(full)
    if stat.S_ISDIR(st.st_mode):
        raise IsAFolder(f"{key!r} is a folder, not a file", path=key)
    if etag(st) != if_match:
        raise PreconditionFailed(
            f"{key!r} changed: etag {etag(st)!r}, expected {if_match!r}", path=key
        )
