"""MemoryBackend: an in-process object store for tests and caches."""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import BinaryIO, ClassVar

from remote_store import paths
from remote_store.backend import Backend
from remote_store.capabilities import Capability, CapabilitySet
from remote_store.errors import (
    AlreadyExists,
    DirectoryNotEmpty,
    IsAFolder,
    NotAFolder,
    NotFound,
    PreconditionFailed,
)
from remote_store.models import (
    ContentDigest,
    FileInfo,
    FolderEntry,
    WriteResult,
    WriteSource,
)
from remote_store.streams import Sink, WritableContent, iter_chunks, write_all

_SCHEME = "memory://"


@dataclass(frozen=True, slots=True)
class _File:
    data: bytes
    metadata: Mapping[str, str]
    md5: str
    modified: datetime
    etag: str

    def info(self, key: str) -> FileInfo:
        return FileInfo(
            path=key,
            size=len(self.data),
            modified=self.modified,
            etag=self.etag,
            digest=ContentDigest("md5", self.md5),
            metadata=self.metadata,
        )


class MemoryBackend(Backend):
    """Files held in a dict, guarded by one lock. Folders exist while a file lies below them.

    Every compound operation (create-only write, move, copy, recursive delete) runs in a
    single critical section, so it is atomic with respect to other threads.
    """

    name: ClassVar[str] = "memory"
    close_is_terminal: ClassVar[bool] = False  # nothing to release: usable after close()
    supported_capabilities: ClassVar[CapabilitySet] = CapabilitySet(
        c for c in Capability if c is not Capability.LAZY_READ
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[str, _File] = {}
        # Folder key -> names of its immediate children; only folders that exist have an entry.
        self._children: dict[str, set[str]] = {"": set()}
        self._generation = 0

    def __repr__(self) -> str:
        return f"MemoryBackend(files={len(self._files)})"

    # ------------------------------------------------------------------ reading

    def _read(self, path: str) -> BinaryIO:
        return io.BytesIO(self._read_bytes(path))

    def _read_seekable(self, path: str) -> BinaryIO:
        return self._read(path)

    def _read_bytes(self, path: str) -> bytes:
        key = path
        with self._lock:
            return self._get(key).data

    def _read_to(self, path: str, sink: Sink) -> int:
        data = self._read_bytes(path)  # immutable: written outside the lock
        write_all(sink, memoryview(data))
        return len(data)

    def _get_file_info(self, path: str) -> FileInfo:
        key = path
        with self._lock:
            return self._get(key).info(key)

    def _is_folder(self, path: str) -> bool:
        key = path
        with self._lock:
            return key in self._children

    def _iter_children(self, path: str) -> Iterator[FileInfo | FolderEntry]:
        key = path
        with self._lock:
            entries: list[FileInfo | FolderEntry] = []
            for name in sorted(self._children.get(key, ())):
                child = paths.join(key, name)
                file = self._files.get(child)
                entries.append(FolderEntry(child) if file is None else file.info(child))
        yield from entries

    def _list_files(self, path: str, *, recursive: bool) -> Iterator[FileInfo]:
        key = path
        with self._lock:
            if recursive:
                keys = sorted(self._walk(key))
            else:
                children = (paths.join(key, n) for n in self._children.get(key, ()))
                keys = sorted(k for k in children if k in self._files)
            infos = [self._files[k].info(k) for k in keys]
        yield from infos

    # ------------------------------------------------------------------ writing

    def _write(
        self,
        path: str,
        content: WritableContent,
        *,
        overwrite: bool,
        metadata: Mapping[str, str] | None,
        if_match: str | None,
    ) -> WriteResult:
        """Store *content*; the existence (or etag) check and the insert happen under one
        lock."""
        key = path
        # Drain the stream and hash it before taking the lock, so slow producers block no one.
        data = _consume(content)
        md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
        frozen = MappingProxyType(dict(metadata or {}))
        with self._lock:
            self._check_target(key, overwrite)
            self._check_etag(key, if_match)
            file = self._put(key, data, frozen, md5)
        return WriteResult(
            path=key,
            size=len(data),
            source=WriteSource.NATIVE,
            etag=file.etag,
            last_modified=file.modified,
            digest=ContentDigest("md5", md5),
            metadata=None if metadata is None else frozen,
        )

    def _copy(self, src: str, dst: str, *, overwrite: bool) -> None:
        src_key, dst_key = src, dst
        with self._lock:
            source = self._get(src_key)
            self._check_target(dst_key, overwrite)
            self._put(dst_key, source.data, source.metadata, source.md5)

    def _move(self, src: str, dst: str, *, overwrite: bool, if_match: str | None) -> None:
        """Rename *src* to *dst* atomically; the file keeps its etag and modification time."""
        src_key, dst_key = src, dst
        with self._lock:
            source = self._get(src_key)
            self._check_etag(src_key, if_match)
            self._check_target(dst_key, overwrite)
            self._unlink(src_key)
            self._link(dst_key, source)

    # ------------------------------------------------------------------ deleting

    def _delete(self, path: str, *, missing_ok: bool, if_match: str | None) -> None:
        key = path
        with self._lock:
            if key in self._files:
                self._check_etag(key, if_match)
                self._unlink(key)
                return
            error = self._missing(key)
        if missing_ok and not isinstance(error, IsAFolder):
            return
        raise error

    def _delete_folder(self, path: str, *, recursive: bool, missing_ok: bool) -> None:
        key = path
        with self._lock:
            if key in self._files:
                raise NotAFolder(f"{key!r} is a file, not a folder", path=key)
            if key not in self._children:
                if missing_ok:
                    return
                raise NotFound(f"folder {key!r} does not exist", path=key)
            # A folder exists only while something lies below it, so it is never empty.
            if not recursive:
                raise DirectoryNotEmpty(f"folder {key!r} is not empty", path=key)
            for file_key in list(self._walk(key)):
                self._unlink(file_key)

    # ------------------------------------------------------------------ native paths

    def _native_path(self, key: str) -> str:
        return _SCHEME + key

    def _to_key(self, native_path: str) -> str:
        """The key of ``memory://<key>``; a plain key is accepted as is."""
        return native_path.removeprefix(_SCHEME)

    # ------------------------------------------------------------------ internals (lock held)

    def _get(self, key: str) -> _File:
        file = self._files.get(key)
        if file is None:
            raise self._missing(key)
        return file

    def _missing(self, key: str) -> IsAFolder | NotAFolder | NotFound:
        """The error for a file operation on *key*, which holds no file."""
        if key in self._children:
            return IsAFolder(f"{key!r} is a folder, not a file", path=key)
        for ancestor in _ancestors(key):
            if ancestor in self._files:
                return NotAFolder(f"{key!r} runs through the file {ancestor!r}", path=key)
        return NotFound(f"file {key!r} does not exist", path=key)

    def _check_target(self, key: str, overwrite: bool) -> None:
        for ancestor in _ancestors(key):
            if ancestor in self._files:
                raise NotAFolder(f"cannot write {key!r}: {ancestor!r} is a file", path=key)
        if key in self._children:
            raise IsAFolder(f"cannot write {key!r}: it is a folder", path=key)
        if not overwrite and key in self._files:
            raise AlreadyExists(f"{key!r} already exists", path=key)

    def _check_etag(self, key: str, if_match: str | None) -> None:
        """`PreconditionFailed` unless the file at *key* has the etag *if_match* (if given)."""
        if if_match is None:
            return
        current = self._get(key).etag
        if current != if_match:
            raise PreconditionFailed(
                f"{key!r} changed: etag {current!r}, expected {if_match!r}", path=key
            )

    def _put(self, key: str, data: bytes, metadata: Mapping[str, str], md5: str) -> _File:
        self._generation += 1
        file = _File(data, metadata, md5, datetime.now(UTC), f"{self._generation:x}")
        self._link(key, file)
        return file

    def _link(self, key: str, file: _File) -> None:
        self._files[key] = file
        child = key
        while child:
            parent, _, name = child.rpartition("/")
            siblings = self._children.setdefault(parent, set())
            if name in siblings:
                return
            siblings.add(name)
            child = parent

    def _unlink(self, key: str) -> None:
        del self._files[key]
        child = key
        while child:
            parent, _, name = child.rpartition("/")
            siblings = self._children[parent]
            siblings.discard(name)
            if siblings or not parent:
                return
            # The parent folder held only this child: it no longer exists.
            del self._children[parent]
            child = parent

    def _walk(self, folder: str) -> Iterator[str]:
        """Keys of every file below *folder*, at any depth."""
        pending = [folder]
        while pending:
            current = pending.pop()
            for name in self._children.get(current, ()):
                child = paths.join(current, name)
                if child in self._files:
                    yield child
                else:
                    pending.append(child)


def _ancestors(key: str) -> Iterator[str]:
    """``a``, ``a/b`` for ``a/b/c``."""
    index = key.find("/")
    while index != -1:
        yield key[:index]
        index = key.find("/", index + 1)


def _consume(content: WritableContent) -> bytes:
    """Immutable bytes of *content*; a stream is read in chunks into one growing buffer."""
    if isinstance(content, bytes):
        return content
    if isinstance(content, bytearray | memoryview):
        return bytes(content)
    buffer = io.BytesIO()
    for chunk in iter_chunks(content):
        buffer.write(chunk)
    # getvalue() hands over the buffer without copying it once nothing else refers to it.
    return buffer.getvalue()
