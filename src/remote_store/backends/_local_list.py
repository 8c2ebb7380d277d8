"""Local disk listings: what a folder shows, walked by descriptor, loops cut."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime

from remote_store import paths
from remote_store.backends._local_cas import Etags
from remote_store.backends._local_errors import os_errors
from remote_store.backends._local_fs import SymlinkLoop, Tree, Walk, ident
from remote_store.backends._local_meta import read_metadata
from remote_store.backends._local_place import TEMP_PREFIX, sweep
from remote_store.errors import InvalidPath
from remote_store.models import FileInfo, FolderEntry

Identity = tuple[int, int]


class Listing:
    """The listing hooks of `LocalBackend`. A folder reached through a symlink is listed
    under the link's name, except one the listed folder is inside of; a recursive listing
    enters each real folder once, by its own name where it has one, so a symlink loop
    never lists a file twice."""

    _tree: Tree
    _etags: Etags
    _xattrs: bool

    def _walk(self, key: str, *, follow: bool, make: bool = False, record: bool = False) -> Walk:
        if any(segment.startswith(TEMP_PREFIX) for segment in key.split("/")):
            raise InvalidPath(f"names starting with {TEMP_PREFIX!r} are reserved", path=key)
        return self._tree.walk(key, follow=follow, make=make, record=record)

    def _is_folder(self, path: str) -> bool:
        try:
            with self._walk(path, follow=True) as walk:
                return walk.name is None
        except (OSError, SymlinkLoop):
            return False

    def _iter_children(self, path: str) -> Iterator[FileInfo | FolderEntry]:
        yield from (child for child, _ in self._listing(path, None))

    def _list_files(self, key: str, *, recursive: bool) -> Iterator[FileInfo]:
        visited: set[Identity] | None = set() if recursive else None
        pending, linked = [key], list[str]()
        while pending or linked:
            # Folders with a name of their own first: a file is listed under its own name.
            folder = pending.pop() if pending else linked.pop()
            for child, through_link in self._listing(folder, visited):
                if isinstance(child, FileInfo):
                    yield child
                elif recursive:
                    (linked if through_link else pending).append(child.path)

    def _listing(
        self, path: str, visited: set[Identity] | None
    ) -> list[tuple[FileInfo | FolderEntry, bool]]:
        """The children of *path*, each with whether it was reached through a symlink;
        nothing for a folder already in *visited*. Collected at once: no descriptor stays
        open while a caller holds an iterator."""
        with os_errors(path):
            try:
                walk = self._walk(path, follow=True, record=True)
            except (FileNotFoundError, NotADirectoryError):
                return []
        children: list[tuple[FileInfo | FolderEntry, bool]] = []
        with walk:
            if walk.name is not None:
                return []  # a file, or nothing: no children
            if visited is not None:
                here = ident(walk.dir)
                if here in visited:
                    return []
                visited.add(here)
            with os_errors(path), os.scandir(walk.dir) as scan:
                entries = sorted(scan, key=lambda e: e.name)
            dev = os.fstat(walk.dir).st_dev
            temps = False
            for entry in entries:
                if entry.name.startswith(TEMP_PREFIX):
                    temps = True
                    continue
                child = self._child(path, walk, dev, entry)
                if child is not None:
                    children.append((child, entry.is_symlink()))
            if temps:
                sweep(walk.dir)  # temporary files of a killed writer, if any
        return children

    def _child(
        self, folder: str, walk: Walk, dev: int, entry: os.DirEntry[str]
    ) -> FileInfo | FolderEntry | None:
        """The listing entry for *entry*, or None for what a listing must not show:
        special files, links leading outside or nowhere, and folders the listed one is
        inside of."""
        key = paths.join(folder, entry.name)
        try:
            if entry.is_symlink():
                return self._linked(key, walk.seen)
            if entry.is_dir(follow_symlinks=False):
                return None if (dev, entry.inode()) in walk.seen else FolderEntry(key)
            if not entry.is_file(follow_symlinks=False):  # sockets, FIFOs, devices
                return None
            return self._info(key, walk.dir, entry.name, entry.stat(follow_symlinks=False))
        except FileNotFoundError:  # removed while we listed
            return None

    def _linked(self, key: str, seen: set[Identity]) -> FileInfo | FolderEntry | None:
        try:
            with self._tree.walk(key, follow=True) as walk:
                if walk.name is None:
                    return None if ident(walk.dir) in seen else FolderEntry(key)
                st = os.stat(walk.name, dir_fd=walk.dir, follow_symlinks=False)
                if not stat.S_ISREG(st.st_mode):
                    return None
                return self._info(key, walk.dir, walk.name, st)
        except (OSError, InvalidPath):
            return None

    def _info(self, key: str, dir_fd: int, name: str, st: os.stat_result) -> FileInfo:
        return FileInfo(
            path=key,
            size=st.st_size,
            modified=mtime(st),
            etag=self._etags.of(st, dir_fd, name),
            metadata=read_metadata(dir_fd, name) if self._xattrs else None,
        )


def mtime(st: os.stat_result) -> datetime:
    return datetime.fromtimestamp(st.st_mtime, tz=UTC)
