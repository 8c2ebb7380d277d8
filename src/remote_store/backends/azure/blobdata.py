"""The object-store primitives over the Blob endpoint, which both strategies share.

On either account kind a file's bytes are cheapest over the Blob endpoint: one HEAD for its
properties, one ranged GET per chunk, one Put Blob (or staged blocks and one Put Block
List), one Copy Blob. `BlobObjects` supplies them to the object-store core
(`remote_store.objectstore`), which builds the flat namespace from them; the hierarchical
strategy overrides the namespace hooks with what DFS does natively.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, BinaryIO, cast

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import BlobPrefix, BlobProperties

from remote_store.backends.azure import errors as azerr
from remote_store.backends.azure.errors import translate
from remote_store.backends.azure.folders import BATCH_SIZE, delete_names
from remote_store.backends.azure.reader import BlobReader, Chunk, fetch, metadata_only
from remote_store.backends.azure.reconcile import landed_copy
from remote_store.backends.azure.strategy import (
    AzureContext,
    AzureStrategy,
    check_metadata,
    is_folder_marker,
    md5_digest,
    normalize_etag,
    service_etag,
)
from remote_store.backends.azure.upload import AtomicWriter, BlockUploader, upload
from remote_store.capabilities import Capability, CapabilitySet
from remote_store.errors import (
    AlreadyExists,
    IsAFolder,
    NotFound,
    PreconditionFailed,
    RemoteStoreError,
)
from remote_store.models import WriteResult
from remote_store.objectstore import (
    OBJECT_STORE_CAPABILITIES,
    ListPage,
    ObjectMeta,
    ObjectStore,
    PutStream,
)
from remote_store.streams import WritableContent

_COPY_POLL_SECONDS = 0.2

#: What every Azure strategy honours; a strategy may add to it (HNS: ATOMIC_MOVE).
DATA_CAPABILITIES = CapabilitySet(OBJECT_STORE_CAPABILITIES | {Capability.LAZY_READ})

#: Delete Blob on an HNS account: a directory with children, and a path below a file.
_HNS_DIRECTORY_NOT_EMPTY = frozenset({"DirectoryIsNotEmpty", "DirectoryNotEmpty"})
_HNS_BELOW_A_FILE = "OperationNotAllowedInCurrentState"


def object_meta(key: str, props: BlobProperties) -> ObjectMeta:
    """`ObjectMeta` from blob properties, as HEAD or a listing returns them."""
    settings = props.content_settings
    return ObjectMeta(
        key=key,
        size=int(props.size or 0),
        etag=normalize_etag(props.etag),
        modified=props.last_modified,
        digest=md5_digest(settings.content_md5 if settings else None),
        content_type=settings.content_type if settings else None,
        metadata=dict(props.metadata or {}),
        marker=is_folder_marker(props),
        native=props,
    )


class BlobObjects(ObjectStore, AzureStrategy):
    """Blob Storage as an object store: the primitives of `remote_store.objectstore`."""

    delete_batch_size = BATCH_SIZE

    def __init__(self, ctx: AzureContext) -> None:
        AzureStrategy.__init__(self, ctx)

    def _properties(self, op: str, path: str) -> BlobProperties | None:
        """One HEAD; ``None`` when the blob is absent (a missing container still raises)."""
        with translate(op, path):
            try:
                return self.ctx.blob(path).get_blob_properties()
            except HttpResponseError as exc:
                if azerr.is_missing(exc):
                    return None
                raise

    # ------------------------------------------------------------------ primitives

    def _head_object(self, key: str) -> ObjectMeta | None:
        props = self._properties("head", key)
        return None if props is None else object_meta(key, props)

    def _list_page(
        self, prefix: str, *, delimiter: bool, token: str | None, limit: int | None
    ) -> ListPage:
        container = self.ctx.container
        paged: Any
        with translate("list", prefix.rstrip("/")):
            if delimiter:
                paged = container.walk_blobs(
                    name_starts_with=prefix or None,
                    delimiter="/",
                    include=["metadata"],
                    results_per_page=limit,
                )
            else:
                paged = container.list_blobs(
                    name_starts_with=prefix or None, include=["metadata"], results_per_page=limit
                )
            pages: Any = paged.by_page(continuation_token=token)
            items = list(next(pages, []))
            following = pages.continuation_token
        objects = [object_meta(i.name, i) for i in items if not isinstance(i, BlobPrefix)]
        prefixes = [i.name for i in items if isinstance(i, BlobPrefix)]
        return ListPage(objects, prefixes, following or None)

    def _put_object(
        self,
        key: str,
        content: WritableContent,
        *,
        create_only: bool,
        if_match: str | None,
        metadata: Mapping[str, str] | None,
    ) -> WriteResult:
        # A committed Put Blob or Put Block List is atomic on either namespace (uncommitted
        # blocks are invisible): one request for a small payload, never a partial file.
        checked = check_metadata(metadata)
        return upload(
            self.ctx.blob(key),
            key,
            content,
            self.ctx.transfer,
            overwrite=not create_only,
            metadata=checked,
            if_match=if_match,
        )

    def _open_put(
        self,
        key: str,
        *,
        create_only: bool,
        if_match: str | None,
        metadata: Mapping[str, str] | None,
    ) -> PutStream:
        uploader = BlockUploader(
            self.ctx.blob(key),
            key,
            self.ctx.transfer,
            overwrite=not create_only,
            metadata=check_metadata(metadata),
            if_match=if_match,
        )
        return AtomicWriter(uploader)

    def _delete_object(self, key: str, *, if_match: str | None) -> bool:
        swap: dict[str, Any] = {}
        if if_match is not None:
            swap = {
                "etag": service_etag(if_match),
                "match_condition": MatchConditions.IfNotModified,
            }
        with translate("delete", key):
            try:
                self.ctx.blob(key).delete_blob(**swap)
                return True
            except HttpResponseError as exc:
                code = azerr.error_code(exc)
                if code in _HNS_DIRECTORY_NOT_EMPTY:
                    # An HNS account seen through the Blob API refuses to delete a
                    # directory that has children: the path is a folder.
                    raise IsAFolder(
                        f"delete {key!r}: is a folder", path=key, backend="azure"
                    ) from None
                if not azerr.is_missing(exc) and code != _HNS_BELOW_A_FILE:
                    raise
        return False

    def _delete_objects(self, keys: Sequence[str]) -> None:
        delete_names(self.ctx, list(keys), keys[0].rpartition("/")[0] if keys else "")

    def _copy_object(self, source: ObjectMeta, dst: str, *, create_only: bool) -> None:
        """Copy Blob pinned to the source's ETag, ``If-None-Match: *`` when create-only,
        polled until it is no longer pending."""
        try:
            self._server_copy("copy", source, dst, overwrite=not create_only)
        except AlreadyExists:
            # A retried Copy Blob may have met its own first attempt: see reconcile.py.
            url = self.ctx.blob(source.key).url
            if not landed_copy(self.ctx.blob(dst), dst, source.native, url):
                raise

    def _server_copy(self, op: str, source: ObjectMeta, dst: str, *, overwrite: bool) -> None:
        target = self.ctx.blob(dst)
        conditions: dict[str, Any] = {
            "source_etag": source.native.etag,  # the HEAD's own spelling of it
            "source_match_condition": MatchConditions.IfNotModified,
        }
        if not overwrite:
            conditions["if_none_match"] = "*"
        with translate(op, dst, create_only=not overwrite):
            started = target.start_copy_from_url(self.ctx.blob(source.key).url, **conditions)
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
            raise RemoteStoreError(
                f"{op} {source.key!r} -> {dst!r}: copy ended {status!r}", path=dst
            )

    def _get_object(self, key: str, *, seekable: bool) -> BinaryIO:
        op = "read_seekable" if seekable else "read"
        return cast(BinaryIO, self.open_reader(op, key, seekable=seekable))

    def _get_bytes(self, key: str) -> bytes:
        blob = self.ctx.blob(key)
        with translate("read_bytes", key):
            try:
                downloader = blob.download_blob(max_concurrency=self.ctx.transfer.max_concurrency)
            except HttpResponseError as exc:
                if azerr.is_missing(exc):
                    raise NotFound(f"read_bytes {key!r}: no such file", path=key) from None
                raise
            if is_folder_marker(downloader.properties):
                raise IsAFolder(f"read_bytes {key!r}: is a folder", path=key, backend="azure")
            return downloader.readall()

    # ------------------------------------------------------------------ reading

    def _first_chunk(self, op: str, path: str, length: int) -> Chunk | None:
        """The first ranged GET; ``None`` for an empty blob. `NotFound` when nothing is
        there, `IsAFolder` for a directory."""
        blob = self.ctx.blob(path)
        with translate(op, path):
            try:
                chunk = fetch(blob, 0, length)
            except HttpResponseError as exc:
                if azerr.is_missing(exc):
                    raise NotFound(f"{op} {path!r}: no such file", path=path) from None
                if azerr.status_of(exc) != 416:
                    raise
                chunk = None  # 416: the blob is empty, or an HNS directory
        if chunk is None:
            props = self._properties(op, path)
            if props is None:
                raise NotFound(f"{op} {path!r}: no such file", path=path)
            if is_folder_marker(props):
                raise IsAFolder(f"{op} {path!r}: is a folder", path=path, backend="azure")
            return None
        if is_folder_marker(chunk.properties):
            raise IsAFolder(f"{op} {path!r}: is a folder", path=path, backend="azure")
        return chunk

    def _head_chunk(self, op: str, path: str) -> Chunk:
        """A seekable reader's start: one HEAD (`NotFound`, `IsAFolder` at the call) and
        no body bytes, since a random reader (a Parquet footer, then a column) would throw
        a first chunk from offset 0 away (AZ-039)."""
        props = self._properties(op, path)
        if props is None:
            raise NotFound(f"{op} {path!r}: no such file", path=path)
        if is_folder_marker(props):
            raise IsAFolder(f"{op} {path!r}: is a folder", path=path, backend="azure")
        return metadata_only(int(props.size or 0), str(props.etag or ""), props)

    def open_reader(self, op: str, path: str, *, seekable: bool) -> BlobReader:
        size = self.ctx.transfer.chunk_get_size
        if seekable:
            chunk = self._head_chunk(op, path)
        else:
            chunk = self._first_chunk(op, path, size) or Chunk(0, b"", 0, "", None)
        return BlobReader(
            self.ctx.blob(path),
            path,
            chunk,
            chunk_size=size,
            seekable=seekable,
            max_concurrency=self.ctx.transfer.max_concurrency,
        )
