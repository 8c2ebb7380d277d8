"""The Blob-endpoint data path both strategies share: HEAD, ranged reads, server-side copy.

On either account kind a file's bytes are cheapest over the Blob endpoint (one GET per
range, one HEAD for its properties, one Copy Blob), so the two strategies differ only in
what a miss means: on a flat namespace a missing blob may still be a folder (a prefix),
on a hierarchical one it is simply missing. Subclasses say so in `_missing`.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, BinaryIO, cast

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import BlobProperties

from remote_store.backends.azure import errors as azerr
from remote_store.backends.azure.errors import translate
from remote_store.backends.azure.reader import BlobReader, Chunk, fetch
from remote_store.backends.azure.strategy import (
    AzureStrategy,
    check_metadata,
    is_folder_marker,
    normalize_etag,
)
from remote_store.backends.azure.upload import (
    REFINABLE,
    AtomicWriter,
    BlockUploader,
    raise_refined,
    upload,
)
from remote_store.capabilities import Capability, CapabilitySet
from remote_store.errors import IsAFolder, NotFound, PreconditionFailed, RemoteStoreError
from remote_store.models import WriteResult
from remote_store.streams import WritableContent

_COPY_POLL_SECONDS = 0.2

#: What every Azure strategy honours; a strategy may add to it (HNS: ATOMIC_MOVE).
DATA_CAPABILITIES = CapabilitySet(
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
        Capability.CONDITIONAL_WRITE,
    }
)


class BlobDataStrategy(AzureStrategy):
    """Reads, HEADs and copies over the Blob endpoint; the namespace is the subclass's."""

    @abstractmethod
    def _missing(self, op: str, path: str) -> RemoteStoreError:
        """The error for a file operation that found no blob at *path*."""

    def _properties(self, op: str, path: str) -> BlobProperties | None:
        """One HEAD; ``None`` when the blob is absent (a missing container still raises)."""
        with translate(op, path):
            try:
                return self.ctx.blob(path).get_blob_properties()
            except HttpResponseError as exc:
                if azerr.is_missing(exc):
                    return None
                raise

    def _check_if_match(
        self, op: str, path: str, props: BlobProperties, if_match: str | None
    ) -> None:
        """`PreconditionFailed` unless *props* (a HEAD of *path*) has the etag *if_match*."""
        if if_match is not None and normalize_etag(props.etag) != if_match:
            raise PreconditionFailed(
                f"{op} {path!r}: the file changed (etag no longer {if_match!r})",
                path=path,
                backend="azure",
            )

    def _swap_refused(self, op: str, path: str, error: RemoteStoreError) -> RemoteStoreError:
        """After a conditional write failed with *error*: `NotFound` when no file is there
        (one HEAD, on the failure path only), else *error*."""
        if isinstance(error, PreconditionFailed | NotFound):
            props = self._properties(op, path)
            if props is None:
                return self._missing(op, path)
            if is_folder_marker(props):
                return IsAFolder(f"{op} {path!r}: is a folder", path=path, backend="azure")
        return error

    # ------------------------------------------------------------------ writing

    def _before_write(self, op: str, path: str) -> None:
        """Checks to make before a write is sent (none: the service refuses what is wrong)."""

    def _write_refused(self, op: str, path: str, error: RemoteStoreError) -> RemoteStoreError:
        """The precise error for a write the service refused with *error*."""
        return error

    def _refiner(
        self, op: str, path: str, if_match: str | None
    ) -> Callable[[RemoteStoreError], RemoteStoreError]:
        if if_match:
            return lambda error: self._swap_refused(op, path, error)
        return lambda error: self._write_refused(op, path, error)

    def _write(
        self,
        path: str,
        content: WritableContent,
        *,
        overwrite: bool,
        metadata: Mapping[str, str] | None,
        if_match: str | None = None,
    ) -> WriteResult:
        # A committed Put Blob or Put Block List is atomic on either namespace (uncommitted
        # blocks are invisible), so write and write_atomic are the same: one request for a
        # small payload, never a partial file, no temporary name.
        checked = check_metadata(metadata)
        self._before_write("write", path)
        try:
            return upload(
                self.ctx.blob(path),
                path,
                content,
                self.ctx.transfer,
                overwrite=overwrite,
                metadata=checked,
                if_match=if_match,
            )
        except REFINABLE as error:
            raise_refined(error, self._refiner("write", path, if_match))
            raise

    @contextmanager
    def _open_atomic(
        self,
        path: str,
        *,
        overwrite: bool,
        metadata: Mapping[str, str] | None,
        if_match: str | None = None,
    ) -> Iterator[BinaryIO]:
        checked = check_metadata(metadata)
        self._before_write("open_atomic", path)
        uploader = BlockUploader(
            self.ctx.blob(path),
            path,
            self.ctx.transfer,
            overwrite=overwrite,
            metadata=checked,
            if_match=if_match,
        )
        writer = AtomicWriter(uploader, self._refiner("open_atomic", path, if_match))
        try:
            yield cast(BinaryIO, writer)
        except BaseException:
            writer.discard()
            raise
        writer.commit()

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
                        raise self._missing(op, path) from None
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

    def open_reader(self, op: str, path: str, *, seekable: bool) -> BlobReader:
        size = self.ctx.transfer.chunk_get_size
        chunk = self._first_chunk(op, path, size) or Chunk(0, b"", 0, "", None)
        return BlobReader(
            self.ctx.blob(path),
            path,
            chunk,
            chunk_size=size,
            seekable=seekable,
            max_concurrency=self.ctx.transfer.max_concurrency,
        )

    def _read_bytes(self, path: str) -> bytes:
        blob = self.ctx.blob(path)
        with translate("read_bytes", path):
            try:
                downloader = blob.download_blob(max_concurrency=self.ctx.transfer.max_concurrency)
            except HttpResponseError as exc:
                if azerr.is_missing(exc):
                    raise self._missing("read_bytes", path) from None
                raise
            if is_folder_marker(downloader.properties):
                raise IsAFolder(f"read_bytes {path!r}: is a folder", path=path, backend="azure")
            return downloader.readall()

    # ------------------------------------------------------------------ copy

    def _server_copy(
        self, op: str, source: BlobProperties, src: str, dst: str, *, overwrite: bool
    ) -> None:
        """Copy Blob pinned to the source's ETag, ``If-None-Match: *`` unless *overwrite*,
        polled until it is no longer pending."""
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
