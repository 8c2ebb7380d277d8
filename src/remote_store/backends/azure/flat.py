"""The flat (Blob) strategy: folders are name prefixes, move is copy + delete.

Correct on every account kind. On an HNS account seen through the Blob API, directories
show up as zero-length blobs with ``hdi_isfolder=true``; they are reported as folders,
never as files.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, BinaryIO, cast

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import BlobPrefix, BlobProperties

from remote_store import paths
from remote_store.backends.azure import errors as azerr
from remote_store.backends.azure.errors import translate
from remote_store.backends.azure.folders import BATCH_SIZE, delete_markers, delete_names
from remote_store.backends.azure.reader import BlobReader, Chunk, fetch
from remote_store.backends.azure.strategy import (
    AzureStrategy,
    check_metadata,
    file_info,
    folder_prefix,
    is_folder_marker,
)
from remote_store.backends.azure.upload import AtomicWriter, BlockUploader, upload
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
from remote_store.streams import WritableContent

_COPY_POLL_SECONDS = 0.2


class FlatStrategy(AzureStrategy):
    """Blob Storage without a hierarchical namespace (and the fallback on any account)."""

    kind = "flat"
    capabilities = CapabilitySet(
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
            Capability.LAZY_READ,
            Capability.WRITE_RESULT_NATIVE,
            Capability.USER_METADATA,
        }
    )

    # ------------------------------------------------------------------ probes

    def _properties(self, op: str, path: str) -> BlobProperties | None:
        """One HEAD; ``None`` when the blob is absent (a missing container still raises)."""
        try:
            with translate(op, path):
                try:
                    return self.ctx.blob(path).get_blob_properties()
                except HttpResponseError as exc:
                    if azerr.is_missing(exc):
                        return None
                    raise
        except NotFound:
            raise

    def _has_children(self, path: str) -> bool:
        """One listing of at most one name below *path*."""
        with translate("list", path):
            pages = self.ctx.container.list_blobs(
                name_starts_with=folder_prefix(path), results_per_page=1
            ).by_page()
            return any(True for _ in next(pages, []))

    def _missing(self, op: str, path: str, exc: BaseException | None = None) -> RemoteStoreError:
        """The error for a file operation that found no blob: a folder, or nothing."""
        if path and self._has_children(path):
            return IsAFolder(f"{op} {path!r}: is a folder, not a file", path=path, backend="azure")
        return NotFound(f"{op} {path!r}: no such file", path=path, backend="azure")

    def _check_ancestors(self, op: str, path: str) -> None:
        """Opt-in (``reject_write_under_file_ancestor``): one HEAD per ancestor, and one
        listing, so no file is written below a file or over a folder."""
        if not self.ctx.reject_write_under_file_ancestor:
            return
        parent = paths.parent(path)
        while parent:
            props = self._properties(op, parent)
            if props is not None and not is_folder_marker(props):
                raise NotAFolder(
                    f"{op} {path!r}: ancestor {parent!r} is a file", path=path, backend="azure"
                )
            parent = paths.parent(parent)
        if self._has_children(path):
            raise IsAFolder(f"{op} {path!r}: is a folder, not a file", path=path, backend="azure")

    # ------------------------------------------------------------------ reading

    def _first_chunk(self, op: str, path: str, length: int) -> Chunk | None:
        """The first ranged GET; ``None`` for an empty blob. Raises for folders."""
        blob = self.ctx.blob(path)
        try:
            with translate(op, path):
                try:
                    chunk = fetch(blob, 0, length)
                except HttpResponseError as exc:
                    if azerr.is_missing(exc):
                        raise self._missing(op, path, exc) from None
                    if azerr.status_of(exc) != 416:
                        raise
                    chunk = None  # 416: the blob is empty, or an HNS directory
        except NotFound:
            raise
        if chunk is None:
            props = self._properties(op, path)
            if props is None:
                raise self._missing(op, path)
            if is_folder_marker(props):
                raise IsAFolder(f"{op} {path!r}: is a folder", path=path, backend="azure")
            return None
        if is_folder_marker(chunk.properties):
            raise IsAFolder(f"{op} {path!r}: is a folder", path=path, backend="azure")
        return chunk

    def _reader(self, op: str, path: str, *, seekable: bool) -> BinaryIO:
        size = self.ctx.transfer.chunk_get_size
        chunk = self._first_chunk(op, path, size) or Chunk(0, b"", 0, "", None)
        reader = BlobReader(self.ctx.blob(path), path, chunk, chunk_size=size, seekable=seekable)
        return cast(BinaryIO, reader)

    def read(self, path: str) -> BinaryIO:
        return self._reader("read", path, seekable=False)

    def read_seekable(self, path: str) -> BinaryIO:
        return self._reader("read_seekable", path, seekable=True)

    def read_bytes(self, path: str) -> bytes:
        blob = self.ctx.blob(path)
        with translate("read_bytes", path):
            try:
                downloader = blob.download_blob(max_concurrency=self.ctx.transfer.max_concurrency)
            except HttpResponseError as exc:
                if azerr.is_missing(exc):
                    raise self._missing("read_bytes", path, exc) from None
                raise
            if is_folder_marker(downloader.properties):
                raise IsAFolder(f"read_bytes {path!r}: is a folder", path=path, backend="azure")
            return downloader.readall()

    # ------------------------------------------------------------------ writing

    def write(
        self,
        path: str,
        content: WritableContent,
        *,
        overwrite: bool,
        metadata: Mapping[str, str] | None,
        atomic: bool,
    ) -> WriteResult:
        # Both kinds of write land in one request, so write and write_atomic are the same.
        checked = check_metadata(metadata)
        self._check_ancestors("write", path)
        return upload(
            self.ctx.blob(path),
            path,
            content,
            self.ctx.transfer,
            overwrite=overwrite,
            metadata=checked,
        )

    @contextmanager
    def open_atomic(
        self, path: str, *, overwrite: bool, metadata: Mapping[str, str] | None
    ) -> Iterator[BinaryIO]:
        checked = check_metadata(metadata)
        self._check_ancestors("open_atomic", path)
        uploader = BlockUploader(
            self.ctx.blob(path), path, self.ctx.transfer, overwrite=overwrite, metadata=checked
        )
        writer = AtomicWriter(uploader)
        try:
            yield cast(BinaryIO, writer)
        except BaseException:
            writer.discard()
            raise
        writer.commit()

    # ------------------------------------------------------------------ file queries

    def get_file_info(self, path: str) -> FileInfo:
        props = self._properties("get_file_info", path)
        if props is None:
            raise self._missing("get_file_info", path)
        if is_folder_marker(props):
            raise IsAFolder(f"get_file_info {path!r}: is a folder", path=path, backend="azure")
        return file_info(path, props)

    def head(self, path: str) -> FileInfo | None:
        # One request when a file is there; a miss costs a listing to tell a folder apart.
        props = self._properties("head", path)
        if props is None:
            if path and self._has_children(path):
                raise IsAFolder(f"head {path!r}: is a folder", path=path, backend="azure")
            return None
        if is_folder_marker(props):
            raise IsAFolder(f"head {path!r}: is a folder", path=path, backend="azure")
        return file_info(path, props)

    def is_file(self, path: str) -> bool:
        if not path:
            return False
        props = self._properties("is_file", path)
        return props is not None and not is_folder_marker(props)

    def exists(self, path: str) -> bool:
        if not path:
            return True
        return self._properties("exists", path) is not None or self._has_children(path)

    def delete(self, path: str, *, missing_ok: bool) -> None:
        with translate("delete", path):
            try:
                self.ctx.blob(path).delete_blob()
                return
            except HttpResponseError as exc:
                if not azerr.is_missing(exc):
                    raise
        error = self._missing("delete", path)
        if isinstance(error, IsAFolder) or not missing_ok:
            raise error

    # ------------------------------------------------------------------ copy, move

    def _copy(self, op: str, src: str, dst: str, *, overwrite: bool) -> BlobProperties:
        """Server-side copy, polled to completion. Returns the source's properties."""
        source = self._properties(op, src)
        if source is None:
            raise self._missing(op, src)
        if is_folder_marker(source):
            raise IsAFolder(f"{op} {src!r}: is a folder", path=src, backend="azure")
        self._check_ancestors(op, dst)
        if not self.ctx.reject_write_under_file_ancestor and self._has_children(dst):
            # Unlike a write, a copy is not budgeted to one request: refuse a folder target.
            raise IsAFolder(f"{op} {dst!r}: is a folder, not a file", path=dst, backend="azure")
        target = self.ctx.blob(dst)
        conditions: dict[str, Any] = {
            "source_etag": source.etag,
            "source_match_condition": MatchConditions.IfNotModified,
        }
        if not overwrite:
            conditions["if_none_match"] = "*"
        with translate(op, dst, create_only=not overwrite):
            started = target.start_copy_from_url(self.ctx.blob(src).url, **conditions)
            status, copy_id = started.get("copy_status"), started.get("copy_id")
            while status == "pending":
                time.sleep(_COPY_POLL_SECONDS)
                props = target.get_blob_properties()
                if props.copy.id != copy_id:
                    raise PreconditionFailed(
                        f"{op} {dst!r}: another copy replaced this one", path=dst, backend="azure"
                    )
                status = props.copy.status
                if status == "success" and props.size != source.size:
                    raise PreconditionFailed(
                        f"{op} {dst!r}: copied size differs from the source", path=dst
                    )
        if status != "success":
            raise RemoteStoreError(f"{op} {src!r} -> {dst!r}: copy ended {status!r}", path=dst)
        return source

    def copy(self, src: str, dst: str, *, overwrite: bool) -> None:
        self._copy("copy", src, dst, overwrite=overwrite)

    def move(self, src: str, dst: str, *, overwrite: bool) -> None:
        # Not atomic: copy, confirm it succeeded, then delete the source only if it is still
        # the version that was copied. A failure in between leaves both, never neither.
        source = self._copy("move", src, dst, overwrite=overwrite)
        with translate("move", src):
            self.ctx.blob(src).delete_blob(
                etag=source.etag, match_condition=MatchConditions.IfNotModified
            )

    # ------------------------------------------------------------------ folders

    def is_folder(self, path: str) -> bool:
        return not path or self._has_children(path)

    def iter_children(self, path: str) -> Iterator[FileInfo | FolderEntry]:
        prefix = folder_prefix(path)
        seen: set[str] = set()
        with translate("iter_children", path):
            for item in self.ctx.container.walk_blobs(
                name_starts_with=prefix or None, delimiter="/", include=["metadata"]
            ):
                name = item.name
                if isinstance(item, BlobPrefix) or is_folder_marker(item):
                    folder = name.rstrip("/")
                    if folder not in seen and folder != path:
                        seen.add(folder)
                        yield FolderEntry(folder)
                elif name != prefix:  # "path/" itself: a folder marker some tools write
                    yield file_info(name, item)

    def list_files(self, path: str, *, recursive: bool) -> Iterator[FileInfo]:
        if not recursive:
            for entry in self.iter_children(path):
                if isinstance(entry, FileInfo):
                    yield entry
            return
        with translate("list_files", path):
            for props in self.ctx.container.list_blobs(
                name_starts_with=folder_prefix(path) or None, include=["metadata"]
            ):
                if not is_folder_marker(props) and not props.name.endswith("/"):
                    yield file_info(props.name, props)

    def get_folder_info(self, path: str) -> FolderInfo:
        count = total = 0
        newest = None
        for info in self.list_files(path, recursive=True):
            count += 1
            total += info.size
            if info.modified is not None and (newest is None or info.modified > newest):
                newest = info.modified
        if count == 0 and path and not self._has_children(path):
            if self.is_file(path):
                raise NotAFolder(f"{path!r} is a file, not a folder", path=path, backend="azure")
            raise NotFound(f"folder {path!r} does not exist", path=path, backend="azure")
        return FolderInfo(path=path, file_count=count, total_size=total, modified=newest)

    def delete_folder(self, path: str, *, recursive: bool, missing_ok: bool) -> None:
        prefix = folder_prefix(path)
        pending: list[str] = []
        markers: list[str] = []
        deleted = 0
        with translate("delete_folder", path):
            for props in self.ctx.container.list_blobs(
                name_starts_with=prefix, include=["metadata"]
            ):
                if props.name == prefix or is_folder_marker(props):
                    markers.append(props.name)
                    continue
                if not recursive:
                    raise DirectoryNotEmpty(
                        f"delete_folder {path!r}: folder is not empty", path=path, backend="azure"
                    )
                pending.append(props.name)
                if len(pending) == BATCH_SIZE:
                    deleted += delete_names(self.ctx, pending, path)
                    pending = []
        if pending:
            deleted += delete_names(self.ctx, pending, path)
        if not deleted and not markers:
            own = self._properties("delete_folder", path)
            if own is None:
                if missing_ok:
                    return
                raise NotFound(f"folder {path!r} does not exist", path=path, backend="azure")
            if not is_folder_marker(own):
                raise NotAFolder(f"delete_folder {path!r}: is a file", path=path, backend="azure")
            markers.append(path)
        elif any(marker != prefix for marker in markers):
            # HNS directories seen as blobs: then *path* is one too, and goes last.
            markers.append(path)
        if markers:
            delete_markers(self.ctx, markers, path)
