"""Local disk placement: temporary files, renames that never replace, stale-file cleanup."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import secrets
import stat
from typing import IO

from remote_store.backends._local_cas import locked

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

#: Names of in-flight temporary files start with this; listings never show them.
TEMP_PREFIX = ".~rs-tmp-"
_RENAME_NOREPLACE = 1


def _renameat2() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):  # no such libc function (musl before 1.2.5, macOS)
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


_RENAMEAT2 = _renameat2()


def rename_noreplace(src_dir: int, src: str, dst_dir: int, dst: str) -> bool:
    """``renameat2(RENAME_NOREPLACE)``: one atomic step that fails if *dst* exists. False
    where the kernel or filesystem lacks it."""
    if _RENAMEAT2 is None:
        return False
    if _RENAMEAT2(src_dir, os.fsencode(src), dst_dir, os.fsencode(dst), _RENAME_NOREPLACE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), dst)


def place(src_dir: int, src: str, dst_dir: int, dst: str, overwrite: bool) -> None:
    """Rename *src* to *dst*; without *overwrite* fail (FileExistsError) if *dst* exists.
    The caller holds the lock of both folders."""
    if overwrite:
        os.replace(src, dst, src_dir_fd=src_dir, dst_dir_fd=dst_dir)
        return
    if rename_noreplace(src_dir, src, dst_dir, dst):
        return
    try:
        os.link(src, dst, src_dir_fd=src_dir, dst_dir_fd=dst_dir, follow_symlinks=False)
    except PermissionError:
        # protected_hardlinks refuses to link another user's file. Every writer of this
        # library holds the folder lock we hold, so check-then-rename is one step for them.
        with contextlib.suppress(FileNotFoundError):
            os.stat(dst, dir_fd=dst_dir, follow_symlinks=False)
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), dst) from None
        os.rename(src, dst, src_dir_fd=src_dir, dst_dir_fd=dst_dir)
        return
    os.unlink(src, dir_fd=src_dir)


class Staging:
    """A hidden temporary file in the folder *dir_fd*, created exclusively and locked for
    as long as its writer lives: an unlocked one was left by a killed process."""

    def __init__(self, dir_fd: int) -> None:
        self.dir_fd = dir_fd
        self.name = TEMP_PREFIX + secrets.token_hex(8)
        self.stat: os.stat_result | None = None
        self.nonce: bytes | None = None
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        # Created and locked under the folder lock, which `sweep` holds: it never sees
        # a temporary file that is new but not yet locked. The process umask applies.
        with locked(dir_fd):
            fd = os.open(self.name, flags, 0o666, dir_fd=dir_fd)
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
        self.file: IO[bytes] = os.fdopen(fd, "wb")

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self.name, dir_fd=self.dir_fd)
        with contextlib.suppress(OSError):
            self.file.close()


def sweep(dir_fd: int) -> None:
    """Remove the temporary files in *dir_fd* whose writer is gone (nobody holds their
    lock). Best effort: a folder we may not change keeps them."""
    if fcntl is None:
        return
    with contextlib.suppress(OSError), locked(dir_fd), os.scandir(dir_fd) as scan:
        names = [e.name for e in scan if e.name.startswith(TEMP_PREFIX)]
        for name in names:
            with contextlib.suppress(OSError):
                _remove_if_stale(dir_fd, name)


def _remove_if_stale(dir_fd: int, name: str) -> None:
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # its writer is alive
        st = os.fstat(fd)
        now = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        if stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) == (now.st_dev, now.st_ino):
            os.unlink(name, dir_fd=dir_fd)
    finally:
        os.close(fd)
