"""The whole backend contract built from the few primitives a flat key-value service offers.

A folder is a key prefix: it exists while an object lies below it. A miss on a file
operation costs one listing of at most one object to tell a folder (`IsAFolder`) from
nothing (`NotFound`), and only on the failure path. Conditions ride on the request that
changes the object (create-only and if-match puts, if-match deletes), never on a check
before it. See sdd/specs/005-object-store-core.md for the primitives on each service.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import BinaryIO, cast

from remote_store import paths
from remote_store.capabilities import Capability, CapabilitySet
from remote_store.errors import (
    DirectoryNotEmpty,
    IsAFolder,
    NotAFolder,
    NotFound,
    PreconditionFailed,
    RemoteStoreError,
)
from remote_store.models import FileInfo, FolderEntry, FolderInfo, WriteResult
from remote_store.objectstore.model import ListPage, ObjectMeta, addressable, folder_prefix
from remote_store.objectstore.primitives import Primitives
from remote_store.objectstore.putstream import RefinedWrites
from remote_store.operations import Operations, folder_info
from remote_store.streams import Sink, WritableContent, copy_stream

#: What a store on this core honours once it implements the five required primitives.
OBJECT_STORE_CAPABILITIES = CapabilitySet(
    {
        Capability.READ,
        Capability.WRITE,
        Capability.DELETE,
        Capability.LIST,
        Capability.MOVE,
        Capability.COPY,
        Capability.ATOMIC_WRITE,
        Capability.GLOB,
        Capability.RECURSIVE_LIST,
        Capability.METADATA,
        Capability.SEEKABLE_READ,
        Capability.WRITE_RESULT_NATIVE,
        Capability.USER_METADATA,
        Capability.CONDITIONAL_WRITE,
    }
)


log = logging.getLogger("remote_store.objectstore")


class ObjectStore(Operations, Primitives):
    """`Operations` over a flat keyspace, built from the `Primitives`."""

    #: Check before each write that no ancestor is a file and no folder is at the key:
    #: one HEAD per ancestor and one listing, so off unless the store asks for it.
    check_namespace_on_write: bool = False

    # ================================================================== misses, refusals

    def _has_children(self, key: str) -> bool:
        page = self._list_page(folder_prefix(key), delimiter=False, token=None, limit=1)
        return bool(page.objects or page.prefixes)

    def _missing(self, key: str) -> RemoteStoreError:
        """The error for a file operation that found no object at *key*."""
        if self._has_children(key):
            return IsAFolder(f"{key!r} is a folder, not a file", path=key, backend=self.name)
        return NotFound(f"file {key!r} does not exist", path=key, backend=self.name)

    @contextmanager
    def _or_missing(self, key: str) -> Iterator[None]:
        try:
            yield
        except NotFound:
            raise self._missing(key) from None

    def _file(self, key: str) -> ObjectMeta:
        meta = self._head_object(key)
        if meta is None:
            raise self._missing(key)
        if meta.marker:
            raise IsAFolder(f"{key!r} is a folder, not a file", path=key, backend=self.name)
        return meta

    def _before_write(self, key: str) -> None:
        if not self.check_namespace_on_write:
            return
        parent = paths.parent(key)
        while parent:
            meta = self._head_object(parent)
            if meta is not None and not meta.marker:
                raise NotAFolder(f"cannot write {key!r}: {parent!r} is a file", path=key)
            parent = paths.parent(parent)
        if self._has_children(key):
            raise IsAFolder(f"cannot write {key!r}: it is a folder", path=key)

    def _write_refused(self, key: str, error: RemoteStoreError) -> RemoteStoreError:
        """The precise error for an unconditional write the service refused with *error*."""
        return error

    def _refused(self, key: str, error: RemoteStoreError, if_match: str | None) -> RemoteStoreError:
        """After a write failed: a compare-and-swap that found no file is `NotFound` (or
        `IsAFolder`); one HEAD, on the failure path only."""
        if if_match is None:
            return self._write_refused(key, error)
        if isinstance(error, PreconditionFailed | NotFound):
            meta = self._head_object(key)
            if meta is None:
                return self._missing(key)
            if meta.marker:
                return IsAFolder(f"{key!r} is a folder, not a file", path=key, backend=self.name)
        return error

    @contextmanager
    def _refining(self, key: str, if_match: str | None) -> Iterator[None]:
        try:
            yield
        except RemoteStoreError as error:
            better = self._refused(key, error, if_match)
            if better is error:
                raise
            raise better from error

    # ================================================================== file hooks

    def _get_file_info(self, key: str) -> FileInfo:
        return self._file(key).file_info()

    def _head(self, key: str) -> FileInfo | None:
        meta = self._head_object(key)
        if meta is None:
            if self._has_children(key):
                raise IsAFolder(f"{key!r} is a folder, not a file", path=key, backend=self.name)
            return None
        if meta.marker:
            raise IsAFolder(f"{key!r} is a folder, not a file", path=key, backend=self.name)
        return meta.file_info()

    def _is_file(self, key: str) -> bool:
        meta = self._head_object(key)
        return meta is not None and not meta.marker

    def _exists(self, key: str) -> bool:
        # A marker alone is no folder: folders exist while something is below them.
        return self._is_file(key) or self._has_children(key)

    def _read(self, key: str) -> BinaryIO:
        with self._or_missing(key):
            return self._get_object(key, seekable=False)

    def _read_seekable(self, key: str) -> BinaryIO:
        with self._or_missing(key):
            return self._get_object(key, seekable=True)

    def _read_bytes(self, key: str) -> bytes:
        with self._or_missing(key):
            return self._get_bytes(key)

    def _read_to(self, key: str, sink: Sink) -> int:
        with self._read(key) as stream:
            write_to = getattr(stream, "write_to", None)  # a ranged reader's own buffers
            return int(write_to(sink)) if write_to is not None else copy_stream(stream, sink)

    def _write(
        self,
        key: str,
        content: WritableContent,
        *,
        overwrite: bool,
        metadata: Mapping[str, str] | None,
        if_match: str | None,
    ) -> WriteResult:
        # One put is atomic on an object store: write and write_atomic are the same.
        self._before_write(key)
        with self._refining(key, if_match):
            return self._put_object(
                key, content, create_only=not overwrite, if_match=if_match, metadata=metadata
            )

    @contextmanager
    def _open_atomic(
        self,
        key: str,
        *,
        overwrite: bool,
        metadata: Mapping[str, str] | None,
        if_match: str | None,
    ) -> Iterator[BinaryIO]:
        self._before_write(key)
        with self._refining(key, if_match):
            stream = self._open_put(
                key, create_only=not overwrite, if_match=if_match, metadata=metadata
            )
        refined = RefinedWrites(stream, lambda: self._refining(key, if_match))
        try:
            yield cast(BinaryIO, refined)
        except BaseException:
            stream.discard()
            raise
        with self._refining(key, if_match):
            stream.commit()

    def _delete(self, key: str, *, missing_ok: bool, if_match: str | None) -> None:
        try:
            if self._delete_object(key, if_match=if_match):
                return
        except NotFound:
            pass  # an if-match delete may say so for a missing object: the same miss
        except PreconditionFailed as error:
            refined = self._refused(key, error, if_match)
            if refined is error:
                raise
            if missing_ok and isinstance(refined, NotFound):
                return
            raise refined from error
        missing = self._missing(key)
        if isinstance(missing, IsAFolder) or not missing_ok:
            raise missing

    def _copy_checked(
        self, src: str, dst: str, *, overwrite: bool, if_match: str | None
    ) -> ObjectMeta:
        source = self._file(src)
        if if_match is not None and source.etag != if_match:
            raise PreconditionFailed(
                f"{src!r} changed: etag {source.etag!r}, expected {if_match!r}", path=src
            )
        self._before_write(dst)
        self._copy_object(source, dst, create_only=not overwrite)
        return source

    def _copies_natively(self) -> bool:
        return type(self)._copy_object is not Primitives._copy_object

    def _moves_natively(self) -> bool:
        return self._copies_natively()  # a copy pinned to the etag, then a delete

    def _copy(self, src: str, dst: str, *, overwrite: bool) -> None:
        self._copy_checked(src, dst, overwrite=overwrite, if_match=None)

    def _move(self, src: str, dst: str, *, overwrite: bool, if_match: str | None) -> None:
        # Not atomic: a copy pinned to the source's version (so *if_match* is decided before
        # the destination changes), then a delete of that version only. A failure in between
        # leaves both, never neither.
        source = self._copy_checked(src, dst, overwrite=overwrite, if_match=if_match)
        try:
            self._delete_version(src, source.etag)
        except PreconditionFailed:
            # Another writer replaced the source after the copy: the version moved is at
            # the destination and the newer one stays at the source, as if that write had
            # come after the move. Nothing is lost, and the move did what was asked.
            log.info("move %r -> %r: the source was rewritten meanwhile; kept", src, dst)

    # ================================================================== folder hooks

    def _pages(self, prefix: str, *, delimiter: bool) -> Iterator[ListPage]:
        """Every page below *prefix*, without the names this library cannot address."""
        token: str | None = None
        while True:
            page = self._list_page(prefix, delimiter=delimiter, token=token, limit=None)
            yield addressable(page, self.name)
            token = page.token
            if token is None:
                return

    def _is_folder(self, key: str) -> bool:
        return self._has_children(key)

    def _iter_children(self, key: str) -> Iterator[FileInfo | FolderEntry]:
        prefix = folder_prefix(key)
        seen: set[str] = set()
        for page in self._pages(prefix, delimiter=True):
            entries: list[FileInfo | FolderEntry] = []
            for common in page.prefixes:
                folder = common.rstrip("/")
                if folder not in seen and folder != key:
                    seen.add(folder)
                    entries.append(FolderEntry(folder))
            entries.extend(
                meta.file_info() for meta in page.objects if not meta.marker and meta.key != prefix
            )
            yield from sorted(entries, key=lambda entry: entry.path)  # one order everywhere

    def _list_files(self, key: str, *, recursive: bool) -> Iterator[FileInfo]:
        if not recursive:
            for entry in self._iter_children(key):
                if isinstance(entry, FileInfo):
                    yield entry
            return
        for page in self._pages(folder_prefix(key), delimiter=False):
            for meta in page.objects:
                if not meta.marker and not meta.key.endswith("/"):
                    yield meta.file_info()

    def _get_folder_info(self, key: str, *, max_depth: int | None = None) -> FolderInfo:
        listed = self._list_files(key, recursive=max_depth != 1)
        info = folder_info(key, listed, max_depth)
        if info.file_count == 0 and key and not self._has_children(key):
            if self._is_file(key):
                raise NotAFolder(f"{key!r} is a file, not a folder", path=key, backend=self.name)
            raise NotFound(f"folder {key!r} does not exist", path=key, backend=self.name)
        return info

    def _delete_folder(self, key: str, *, recursive: bool, missing_ok: bool) -> None:
        prefix = folder_prefix(key)
        markers: list[str] = []
        pending: list[str] = []
        deleted = 0
        for name in self._below(prefix, markers):
            if not recursive:
                raise DirectoryNotEmpty(f"folder {key!r} is not empty", path=key)
            pending.append(name)
            if len(pending) == self.delete_batch_size:
                self._delete_objects(pending)
                deleted, pending = deleted + len(pending), []
        if pending:
            self._delete_objects(pending)
            deleted += len(pending)
        if not deleted and not markers:
            own = self._head_object(key)
            if own is not None and not own.marker:
                raise NotAFolder(f"{key!r} is a file, not a folder", path=key, backend=self.name)
            # Nothing below, and a lone marker is no folder on this core: missing.
            if missing_ok:
                return
            raise NotFound(f"folder {key!r} does not exist", path=key, backend=self.name)
        if any(marker != prefix for marker in markers):
            markers.append(key)  # markers below mean the folder has one of its own
        # Deepest first: a service with real directories refuses to drop a parent first.
        for marker in sorted(set(markers), key=lambda m: m.rstrip("/").count("/"), reverse=True):
            self._delete_object(marker, if_match=None)

    def _below(self, prefix: str, markers: list[str]) -> Iterator[str]:
        """Keys of the files below *prefix*, lazily; markers are collected in *markers*."""
        for page in self._pages(prefix, delimiter=False):
            for meta in page.objects:
                if meta.marker or meta.key == prefix:
                    markers.append(meta.key)
                else:
                    yield meta.key
