"""MemoryBackend: an in-process object store for tests and caches."""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO, ClassVar

from remote_store import paths
from remote_store.capabilities import Capability, CapabilitySet
from remote_store.errors import (
    InvalidArgument,
    IsAFolder,
    NotAFolder,
    NotFound,
    PreconditionFailed,
    RemoteStoreError,
)
from remote_store.frozen import FrozenMap
from remote_store.models import ContentDigest, WriteResult, WriteSource
from remote_store.objectstore import (
    OBJECT_STORE_CAPABILITIES,
    ListPage,
    ObjectMeta,
    ObjectStoreBackend,
    check_precondition,
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

    def meta(self, key: str) -> ObjectMeta:
        return ObjectMeta(
            key=key,
            size=len(self.data),
            etag=self.etag,
            modified=self.modified,
            digest=ContentDigest("md5", self.md5),
            metadata=self.metadata,
        )


class MemoryBackend(ObjectStoreBackend):
    """Files held in a dict, guarded by one lock, on the object-store core: folders exist
    while a file lies below them.

    Each primitive runs in one critical section, so a create-only or compare-and-swap put
    is atomic with respect to other threads, as is `move` (one rename under the lock:
    ``ATOMIC_MOVE``). Unlike a remote object store it also refuses, in the same step, a
    write below a file (`NotAFolder`) or over a folder (`IsAFolder`).
    """

    name: ClassVar[str] = "memory"
    supported_capabilities: ClassVar[CapabilitySet] = CapabilitySet(
        OBJECT_STORE_CAPABILITIES | {Capability.ATOMIC_MOVE}
    )
    close_is_terminal: ClassVar[bool] = False  # nothing to release: usable after close()

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[str, _File] = {}
        # Folder key -> names of its immediate children; only folders that exist have an entry.
        self._children: dict[str, set[str]] = {"": set()}
        self._generation = 0

    def __repr__(self) -> str:
        return f"MemoryBackend(files={len(self._files)})"

    def _rebuild_options(self) -> Mapping[str, Any] | None:
        # A rebuilt MemoryBackend would be empty: refusing beats silently losing the data.
        raise InvalidArgument(
            "a memory store cannot be pickled: its files live in this process only, and "
            "another process would get an empty store; use a local or remote backend",
            backend=self.name,
        )

    # ------------------------------------------------------------------ primitives

    def _head_object(self, key: str) -> ObjectMeta | None:
        with self._lock:
            file = self._files.get(key)
        return None if file is None else file.meta(key)

    def _list_page(
        self, prefix: str, *, delimiter: bool, token: str | None, limit: int | None
    ) -> ListPage:
        folder = prefix.rstrip("/")
        with self._lock:
            if delimiter:
                names = sorted(self._children.get(folder, ()))
                keys = [paths.join(folder, name) for name in names]
                found = [self._files[k].meta(k) if k in self._files else k for k in keys]
            else:
                found = [self._files[k].meta(k) for k in sorted(self._walk(folder))]
        objects = [entry for entry in found if isinstance(entry, ObjectMeta)]
        folders = [f"{entry}/" for entry in found if isinstance(entry, str)]
        if limit is not None:
            objects, folders = objects[:limit], folders[: max(limit - len(objects), 0)]
        return ListPage(objects, folders)

    def _put_object(
        self,
        key: str,
        content: WritableContent,
        *,
        create_only: bool,
        if_match: str | None,
        metadata: Mapping[str, str] | None,
    ) -> WriteResult:
        # Drain the stream and hash it before taking the lock, so slow producers block no one.
        data = _consume(content)
        md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
        frozen = FrozenMap(metadata or {})
        with self._lock:
            self._check_namespace(key)
            current = self._files.get(key)
            check_precondition(key, _etag(current), create_only=create_only, if_match=if_match)
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

    def _delete_object(self, key: str, *, if_match: str | None) -> bool:
        with self._lock:
            file = self._files.get(key)
            if file is None:
                return False
            check_precondition(key, file.etag, create_only=False, if_match=if_match)
            self._unlink(key)
        return True

    def _get_object(self, key: str, *, seekable: bool) -> BinaryIO:
        return io.BytesIO(self._get_bytes(key))

    # ------------------------------------------------------------------ optional primitives

    def _get_bytes(self, key: str) -> bytes:
        with self._lock:
            file = self._files.get(key)
        if file is None:
            raise NotFound(f"file {key!r} does not exist", path=key)
        return file.data

    def _delete_objects(self, keys: Sequence[str]) -> None:
        with self._lock:
            for key in keys:
                if key in self._files:
                    self._unlink(key)

    def _copy_object(self, source: ObjectMeta, dst: str, *, create_only: bool) -> None:
        with self._lock:
            file = self._pinned(source)
            self._check_namespace(dst)
            current = self._files.get(dst)
            check_precondition(dst, _etag(current), create_only=create_only, if_match=None)
            self._put(dst, file.data, file.metadata, file.md5)

    # ------------------------------------------------------------------ faster hooks

    def _has_children(self, key: str) -> bool:
        with self._lock:
            return key in self._children

    def _missing(self, key: str) -> RemoteStoreError:
        with self._lock:
            return self._missing_locked(key)

    def _read_to(self, key: str, sink: Sink) -> int:
        data = self._read_bytes(key)  # immutable: written outside the lock
        write_all(sink, memoryview(data))
        return len(data)

    def _move(self, src: str, dst: str, *, overwrite: bool, if_match: str | None) -> None:
        """One rename under the lock; the file keeps its etag and modification time."""
        with self._lock:
            source = self._files.get(src)
            if source is None:
                raise self._missing_locked(src)
            check_precondition(src, source.etag, create_only=False, if_match=if_match)
            self._check_namespace(dst)
            current = self._files.get(dst)
            check_precondition(dst, _etag(current), create_only=not overwrite, if_match=None)
            self._unlink(src)
            self._link(dst, source)

    # ------------------------------------------------------------------ names

    def _native_path(self, key: str) -> str:
        return _SCHEME + key

    def _to_key(self, native_path: str) -> str:
        """The key of ``memory://<key>``; a plain key is accepted as is."""
        return native_path.removeprefix(_SCHEME)

    # ------------------------------------------------------------------ internals (lock held)

    def _pinned(self, source: ObjectMeta) -> _File:
        file = self._files.get(source.key)
        if file is None:
            raise self._missing_locked(source.key)
        if file.etag != source.etag:
            raise PreconditionFailed(f"{source.key!r} changed while copied", path=source.key)
        return file

    def _missing_locked(self, key: str) -> IsAFolder | NotAFolder | NotFound:
        if key in self._children:
            return IsAFolder(f"{key!r} is a folder, not a file", path=key)
        for ancestor in _ancestors(key):
            if ancestor in self._files:
                return NotAFolder(f"{key!r} runs through the file {ancestor!r}", path=key)
        return NotFound(f"file {key!r} does not exist", path=key)

    def _check_namespace(self, key: str) -> None:
        for ancestor in _ancestors(key):
            if ancestor in self._files:
                raise NotAFolder(f"cannot write {key!r}: {ancestor!r} is a file", path=key)
        if key in self._children:
            raise IsAFolder(f"cannot write {key!r}: it is a folder", path=key)

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


def _etag(file: _File | None) -> str | None:
    return None if file is None else file.etag


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
