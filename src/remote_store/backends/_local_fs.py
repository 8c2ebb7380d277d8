"""Descriptor-relative access below the local root: the check and the use are one step.

A key is walked one component at a time from a descriptor of the root, each folder opened
with ``O_NOFOLLOW`` relative to its parent's descriptor. A symlink met on the way is read
and resolved by the walk itself, on the descriptors it holds, so it may lead anywhere
inside the root and nowhere else, whatever another process swaps in meanwhile. The caller
then acts on the last name relative to the last descriptor (``dir_fd=``).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

from remote_store.errors import InvalidPath

# getattr: Windows has none of these, nor dir_fd (`SUPPORTED` says so; the backend refuses).
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW | _CLOEXEC
FILE_FLAGS = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | _CLOEXEC
SUPPORTED = bool(_NOFOLLOW) and {os.open, os.stat, os.mkdir, os.rename} <= os.supports_dir_fd
MAX_LINKS = 40  # the kernel's own limit (ELOOP)
_MAX_MKDIR = 8


class SymlinkLoop(InvalidPath):
    """More symlinks on the way than the kernel would follow."""


class Again(Exception):
    """The last name changed kind between the walk and its use (a racing swap): walk again."""


class Vanished(Exception):
    """A folder on the way was removed while the walk created the next one below it."""


def ident(fd: int, name: str | None = None) -> tuple[int, int]:
    st = os.fstat(fd) if name is None else os.stat(name, dir_fd=fd, follow_symlinks=False)
    return st.st_dev, st.st_ino


class Walk:
    """Descriptors from the root to a folder; *name* is the last component inside that
    folder, or None when the key names the folder itself."""

    def __init__(self, fds: list[int], name: str | None, seen: set[tuple[int, int]]) -> None:
        self.fds = fds
        self.name = name
        #: Identities of the folders each leading part of the key reached (loop detection).
        self.seen = seen

    @property
    def dir(self) -> int:
        return self.fds[-1]

    def close(self) -> None:
        while self.fds:
            os.close(self.fds.pop())

    def __enter__(self) -> Walk:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class Tree:
    """The folder tree below *root* (a real path), walked by descriptor."""

    def __init__(self, root: str, *aliases: str) -> None:
        self.root = root
        self._prefixes = tuple(dict.fromkeys(a.rstrip(os.sep) for a in (root, *aliases)))

    def walk(self, key: str, *, follow: bool, make: bool = False, record: bool = False) -> Walk:
        """Walk *key*. With *follow* a symlink as the last component is resolved too (and
        a folder there is entered); without, it is left for the caller to act on, once
        known to lead inside the root. *make* creates missing folders on the way."""
        fds = [os.open(self.root, DIR_FLAGS)]
        try:
            seen: set[tuple[int, int]] = {ident(fds[0])} if record else set()
            parts = key.split("/") if key else []
            links = [0]
            for index, part in enumerate(parts):
                last = index == len(parts) - 1
                name = self._resolve(fds, [part], links, last, follow, make, key)
                if name is not None:
                    return Walk(fds, name, seen)
                if record:
                    seen.add(ident(fds[-1]))
            return Walk(fds, None, seen)
        except BaseException:
            for fd in fds:
                os.close(fd)
            raise

    def _resolve(
        self,
        fds: list[int],
        pending: list[str],
        links: list[int],
        last: bool,
        follow: bool,
        make: bool,
        key: str,
    ) -> str | None:
        """Enter the folders *pending* (a stack) names; the name left at the end when it
        is not a folder that was entered."""
        made = 0
        while pending:
            name = pending.pop()
            if name in ("", "."):
                continue
            if name == "..":
                if len(fds) == 1:
                    raise InvalidPath(f"{key!r} leads outside the root through a symlink", path=key)
                os.close(fds.pop())
                continue
            final = last and not pending
            if final and not follow:
                try:
                    link = os.readlink(name, dir_fd=fds[-1])
                except OSError:
                    return name  # not a symlink, or nothing there
                self._check_inside(fds, link, links, key)
                return name
            try:
                fds.append(os.open(name, DIR_FLAGS, dir_fd=fds[-1]))
                continue
            except OSError as exc:
                target = _link_target(name, fds[-1], exc)
                if target is None and _now_a_folder(name, fds[-1], exc) and made < _MAX_MKDIR:
                    made += 1  # a symlink when opened, a folder again when read: retry
                    pending.append(name)
                    continue
                if target is None:
                    if final and exc.errno in (errno.ENOENT, errno.ENOTDIR):
                        return name  # a file, or nothing yet, at the end
                    if make and exc.errno == errno.ENOENT:
                        if made == _MAX_MKDIR:  # created, and deleted again, each time
                            raise Vanished(name) from exc
                        made += 1
                        _mkdir(name, fds[-1])
                        pending.append(name)
                        continue
                    raise
            links[0] += 1
            if links[0] > MAX_LINKS:
                raise SymlinkLoop(f"{key!r} runs through a symlink loop", path=key)
            pending.extend(reversed(self._relative(fds, target, key).split("/")))
        return None

    def _relative(self, fds: list[int], target: str, key: str) -> str:
        """A symlink's *target* relative to the folder *fds* ends in; an absolute one must
        name a place below the root, and restarts the walk there."""
        if not target.startswith("/"):
            return target
        for prefix in self._prefixes:
            if target == prefix or target.startswith(prefix + os.sep):
                while len(fds) > 1:
                    os.close(fds.pop())
                return target[len(prefix) :]
        raise InvalidPath(f"{key!r} leads outside the root through a symlink", path=key)

    def _check_inside(self, fds: list[int], target: str, links: list[int], key: str) -> None:
        """Raise `InvalidPath` if the symlink *target* leads outside the root (a dangling
        link or a loop inside it is fine: the caller acts on the link itself)."""
        copy = [os.dup(fd) for fd in fds]
        try:
            rest = self._relative(copy, target, key)
            self._resolve(copy, list(reversed(rest.split("/"))), links, True, True, False, key)
        except (OSError, SymlinkLoop):
            pass
        finally:
            for fd in copy:
                os.close(fd)


def _link_target(name: str, dir_fd: int, exc: OSError) -> str | None:
    """The target of the symlink *name*, or None when it is not one."""
    if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
        return None
    try:
        return os.readlink(name, dir_fd=dir_fd)
    except OSError:
        return None  # not a symlink (a file), or gone meanwhile


def _now_a_folder(name: str, dir_fd: int, exc: OSError) -> bool:
    if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
        return False
    try:
        return stat.S_ISDIR(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _mkdir(name: str, dir_fd: int) -> None:
    try:
        os.mkdir(name, 0o777, dir_fd=dir_fd)
    except FileExistsError:
        pass
    except FileNotFoundError as exc:  # the folder we create in was removed meanwhile
        raise Vanished(name) from exc


def open_regular(dir_fd: int, name: str) -> int:
    """A read descriptor of the regular file *name*; never blocks on a FIFO or opens a
    device: the kind is checked before, and again on the opened descriptor."""
    st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    check_regular(st, name)
    try:
        fd = os.open(name, FILE_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Again(name) from exc
        raise
    try:
        check_regular(os.fstat(fd), name)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def check_regular(st: os.stat_result, name: str) -> None:
    """Raise unless *st* is a regular file: `Again` for a symlink (swapped in), else the
    OSError a folder or a special file gets."""
    if stat.S_ISREG(st.st_mode):
        return
    if stat.S_ISLNK(st.st_mode):
        raise Again(name)
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), name)
    raise SpecialFile(name)


class SpecialFile(Exception):
    """A FIFO, socket or device: never read, never listed."""


TRIES = 5
T = TypeVar("T")


def retry_stale(action: Callable[[], T]) -> T:
    """*action*, again while a racing swap or delete made it walk a stale path."""
    for _ in range(TRIES - 1):
        try:
            return action()
        except (Again, Vanished):
            continue
    return action()


def distinct(a: Walk, b: Walk) -> bool:
    return a.name != b.name or ident(a.dir) != ident(b.dir)


def same_file(a: Walk, b: Walk) -> bool:
    assert a.name is not None and b.name is not None
    try:
        return ident(a.dir, a.name) == ident(b.dir, b.name)
    except FileNotFoundError:
        return False


def is_dir(dir_fd: int, name: str) -> bool:
    """Whether *name* is a folder (or a link to one: the walk checked it stays inside)."""
    try:
        return stat.S_ISDIR(os.stat(name, dir_fd=dir_fd).st_mode)
    except OSError:
        return False
