"""Local disk compare-and-swap: etags, and the directory lock every name change holds."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import time
from collections.abc import Iterator

from remote_store.backends._local_fs import ident
from remote_store.errors import IsAFolder, PreconditionFailed

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks between processes
    fcntl = None  # type: ignore[assignment]

#: Outside the user-metadata prefix, so it is never shown as metadata.
NONCE_XATTR = "user.remote_store_etag"


def at(dir_fd: int, name: str) -> str:
    """A path naming *name* in the folder *dir_fd* (for the xattr calls, which take no
    ``dir_fd``): the kernel resolves the descriptor, not a path someone could swap."""
    return f"/proc/self/fd/{dir_fd}/{name}"


class Etags:
    """How this filesystem tells versions apart. With nanosecond mtimes: inode, mtime and
    size, each new version's mtime strictly above the one it replaces. With coarse
    mtimes (one second; inodes are reused at once): a random nonce per write, kept in an
    xattr, joins them. Neither: no etags to condition on."""

    def __init__(self, *, fine_mtime: bool, xattrs: bool) -> None:
        self.fine_mtime = fine_mtime
        self.nonce = not fine_mtime and xattrs
        self.conditional = fine_mtime or xattrs

    def of(self, st: os.stat_result, dir_fd: int, name: str, *, follow: bool = False) -> str:
        nonce = None
        if self.nonce:
            with contextlib.suppress(OSError):  # none: written by another tool
                nonce = os.getxattr(at(dir_fd, name), NONCE_XATTR, follow_symlinks=follow)
        return self.format(st, nonce)

    @staticmethod
    def format(st: os.stat_result, nonce: bytes | None) -> str:
        base = f"{st.st_ino:x}-{st.st_mtime_ns:x}-{st.st_size:x}"
        return base if nonce is None else f"{base}-{nonce.hex()}"

    def stamp(self, fd: int) -> bytes | None:
        """Mark the new version open at *fd* (before it is fsynced); its nonce, if any."""
        now = time.time_ns()
        os.utime(fd, ns=(now, now))
        if not self.nonce:
            return None
        nonce = secrets.token_bytes(8)
        os.setxattr(fd, NONCE_XATTR, nonce)
        return nonce

    def succeed(self, fd: int, dir_fd: int, name: str) -> None:
        """Make the version at *fd* differ from the one at *name* it is about to replace:
        an mtime strictly above it (a clock step back, or two writes in one tick)."""
        if not self.fine_mtime:
            return
        with contextlib.suppress(FileNotFoundError):
            old = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mtime_ns
            if os.fstat(fd).st_mtime_ns <= old:
                os.utime(fd, ns=(old + 1, old + 1))


def probe_folder(dir_fd: int) -> tuple[bool, bool]:
    """(user xattrs work, nanosecond mtimes kept), asked of the folder open at *dir_fd* and
    put back as it was: its times restored, the probe attribute removed. `PermissionError`
    where we may not set the folder's times (it belongs to another user)."""
    before = os.fstat(dir_fd)
    try:
        fine = fine_mtimes(dir_fd)
    finally:
        os.utime(dir_fd, ns=(before.st_atime_ns, before.st_mtime_ns))
    if not hasattr(os, "setxattr"):
        return False, fine
    name = "user.remote_store.probe"
    try:
        os.setxattr(dir_fd, name, b"1")
    except OSError:
        return False, fine
    try:
        return os.getxattr(dir_fd, name) == b"1", fine
    finally:
        with contextlib.suppress(OSError):
            os.removexattr(dir_fd, name)


def fine_mtimes(fd: int) -> bool:
    """Whether the file open at *fd* keeps a nanosecond modification time."""
    wanted = 1_600_000_000_123_456_789
    os.utime(fd, ns=(wanted, wanted))
    return os.fstat(fd).st_mtime_ns == wanted


@contextlib.contextmanager
def locked(*dir_fds: int) -> Iterator[None]:
    """Hold an exclusive ``flock`` on each folder (once each, in a fixed order: no
    deadlock), through descriptors of our own."""
    unique = {ident(fd): fd for fd in dir_fds}
    fds: list[int] = []
    try:
        for key in sorted(unique):
            # A new open file description: a flock belongs to it, and must end with it.
            fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=unique[key])
            fds.append(fd)
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        for fd in reversed(fds):
            os.close(fd)


def check_etag(etags: Etags, dir_fd: int, name: str, key: str, if_match: str | None) -> None:
    """`PreconditionFailed` unless the file *name* has the etag *if_match* (if given)."""
    if if_match is None:
        return
    st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    follow = stat.S_ISLNK(st.st_mode)  # a link inside the root: its file's etag
    if follow:
        st = os.stat(name, dir_fd=dir_fd)
    if stat.S_ISDIR(st.st_mode):
        raise IsAFolder(f"{key!r} is a folder, not a file", path=key)
    current = etags.of(st, dir_fd, name, follow=follow)
    if current != if_match:
        raise PreconditionFailed(
            f"{key!r} changed: etag {current!r}, expected {if_match!r}", path=key
        )
