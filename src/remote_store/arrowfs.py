"""A `pyarrow.fs` filesystem over any store, for ``pyarrow.dataset`` and ``pyarrow.parquet``.

``arrow_filesystem(store)`` is a ``pyarrow.fs.PyFileSystem`` whose paths are the store's
keys: reads are ranged (`Store.read_seekable`), writes atomic (`Store.open_atomic`), a
recursive selector is one flat listing. It pickles as its store does (by configuration).
Spec: sdd/specs/021-data-science.md (DS-020..).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs

from remote_store._atomic_file import AtomicFile
from remote_store._listing import known_size
from remote_store.capabilities import Capability
from remote_store.errors import CapabilityNotSupported, InvalidArgument, IsAFolder, NotFound
from remote_store.models import FileInfo, FolderEntry
from remote_store.store import Store

__all__ = ["StoreHandler", "arrow_filesystem"]


def arrow_filesystem(store: Store) -> pafs.PyFileSystem:
    """A ``pyarrow.fs.FileSystem`` over *store*: pass it as ``filesystem=``."""
    return pafs.PyFileSystem(StoreHandler(store))


class StoreHandler(pafs.FileSystemHandler):  # type: ignore[misc]
    """The ``pyarrow.fs.FileSystemHandler`` behind `arrow_filesystem`."""

    def __init__(self, store: Store) -> None:
        if not isinstance(store, Store):
            raise InvalidArgument(f"store must be a Store, got {type(store).__name__}")
        self.store = store

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StoreHandler) and other.store is self.store

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return id(self.store)

    def __reduce__(self) -> tuple[type[StoreHandler], tuple[Store]]:
        return (StoreHandler, (self.store,))

    def get_type_name(self) -> str:
        return "rstore"

    def normalize_path(self, path: str) -> str:
        return path.strip("/")

    # ------------------------------------------------------------------ metadata

    def _info(self, path: str) -> pafs.FileInfo:
        key = path.strip("/")
        if not key:
            return pafs.FileInfo(path, pafs.FileType.Directory)
        try:
            found = self.store.head(key) if self.store.supports(Capability.METADATA) else None
        except IsAFolder:
            return pafs.FileInfo(key, pafs.FileType.Directory)
        if found is not None:
            return _file(self.store, found)
        if self.store.is_folder(key):
            return pafs.FileInfo(key, pafs.FileType.Directory)
        return pafs.FileInfo(key, pafs.FileType.NotFound)

    def get_file_info(self, paths: list[str]) -> list[pafs.FileInfo]:
        return [self._info(path) for path in paths]

    def get_file_info_selector(self, selector: pafs.FileSelector) -> list[pafs.FileInfo]:
        base = selector.base_dir.strip("/")
        if base and self._info(base).type != pafs.FileType.Directory:
            if selector.allow_not_found:
                return []
            raise NotFound(f"{base!r} is not a folder", path=base)
        if not selector.recursive:
            return [_entry(self.store, child) for child in self.store.iter_children(base)]
        infos: dict[str, pafs.FileInfo] = {}
        # One flat listing; the folders come from the files' paths.
        for found in self.store.list_files(base, recursive=True):
            for folder in _folders(found.path, base):
                infos.setdefault(folder, pafs.FileInfo(folder, pafs.FileType.Directory))
            infos[found.path] = _file(self.store, found)
        return list(infos.values())

    # ------------------------------------------------------------------ changes

    def create_dir(self, path: str, recursive: bool) -> None:
        """Folders exist by holding files: nothing to create."""

    def delete_dir(self, path: str) -> None:
        self.store.delete_folder(path.strip("/"), recursive=True)

    def delete_dir_contents(self, path: str, missing_dir_ok: bool = False) -> None:
        key = path.strip("/")
        if key and not self.store.is_folder(key):
            if missing_dir_ok:
                return
            raise NotFound(f"{key!r} is not a folder", path=key)
        for child in list(self.store.iter_children(key)):
            if isinstance(child, FolderEntry):
                self.store.delete_folder(child.path, recursive=True)
            else:
                self.store.delete(child.path, missing_ok=True)

    def delete_root_dir_contents(self) -> None:
        self.delete_dir_contents("")

    def delete_file(self, path: str) -> None:
        self.store.delete(path.strip("/"))

    def move(self, src: str, dest: str) -> None:
        src, dest = src.strip("/"), dest.strip("/")
        if self.store.is_file(src):
            self.store.move(src, dest, overwrite=True)
            return
        for found in list(self.store.list_files(src, recursive=True)):
            self.store.move(found.path, dest + found.path[len(src) :], overwrite=True)

    def copy_file(self, src: str, dest: str) -> None:
        self.store.copy(src.strip("/"), dest.strip("/"), overwrite=True)

    # ------------------------------------------------------------------ streams

    def open_input_stream(self, path: str) -> pa.PythonFile:
        return pa.PythonFile(self.store.read_seekable(path.strip("/")), mode="r")

    def open_input_file(self, path: str) -> pa.PythonFile:
        return pa.PythonFile(self.store.read_seekable(path.strip("/")), mode="r")

    def open_output_stream(self, path: str, metadata: Any = None) -> pa.PythonFile:
        writer = AtomicFile(self.store.open_atomic(path.strip("/"), overwrite=True))
        return pa.PythonFile(writer, mode="w")

    def open_append_stream(self, path: str, metadata: Any = None) -> pa.PythonFile:
        raise CapabilityNotSupported("append: stores do not append; write the whole file")


def _file(store: Store, info: FileInfo) -> pafs.FileInfo:
    size = known_size(store.backend, info)
    return pafs.FileInfo(info.path, pafs.FileType.File, size=size, mtime=info.modified)


def _entry(store: Store, child: FileInfo | FolderEntry) -> pafs.FileInfo:
    if isinstance(child, FileInfo):
        return _file(store, child)
    return pafs.FileInfo(child.path, pafs.FileType.Directory)


def _folders(path: str, base: str) -> Iterator[str]:
    parts = path.split("/")[:-1]
    depth = len(base.split("/")) if base else 0
    for end in range(depth + 1, len(parts) + 1):
        yield "/".join(parts[:end])
