"""Lazy readers over a blob: Azure's adapter over `remote_store.transfer.reader`.

What is Azure's: one ranged Get Blob streamed into the reader's buffer (`fetch`), the SDK
errors that mean a body was cut, and the read-ahead threads' name. The reader itself
(read-ahead, seeks, buffer reuse, ETag pinning) is `RangeReader`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from azure.core.exceptions import HttpResponseError, IncompleteReadError, ServiceResponseError
from azure.storage.blob import BlobClient, BlobProperties
from azure.storage.blob._deserialize import deserialize_blob_stream
from azure.storage.blob._generated.models import ModifiedAccessConditions
from azure.storage.blob._shared.response_handlers import process_storage_error

from remote_store.backends.azure.errors import translate
from remote_store.backends.azure.retry import call_scope, policy_of
from remote_store.transfer.reader import (
    FIRST_SPAN,
    RESUMES,
    Buffer,
    Chunk,
    RangeReader,
    fill,
    metadata_only,
    new_buffer,
    total_size,
)

__all__ = [
    "FIRST_SPAN",
    "RESUMES",
    "THREAD_NAME",
    "BlobReader",
    "Buffer",
    "Chunk",
    "fetch",
    "metadata_only",
]

#: The name prefix of a reader's read-ahead threads.
THREAD_NAME = "azure-read-ahead"

#: What azure-core's transport raises for a connection cut, reset or timed out mid-body
#: (IncompleteReadError and DecodeError are HttpResponseErrors).
_CUT = (HttpResponseError, ServiceResponseError)

# Allocates the first chunk (`fetch`) and a reader's buffers: one name for both, looked up
# when each is made.
_buffer = new_buffer


def fetch(
    blob: BlobClient,
    offset: int,
    length: int,
    etag: str | None = None,
    allocate: Callable[[int], Buffer] | None = None,
) -> Chunk:
    """One ranged GET of up to *length* bytes, streamed into one buffer (from *allocate*,
    if given). With *etag* the service answers 412 if the blob has changed. A body cut
    mid-way is re-requested from where it stopped, pinned to the first answer's ETag,
    within the same call deadline.

    Raises the SDK's errors (the caller decides what a 404 or 416 means)."""
    with call_scope(policy_of(blob)):
        props, body = _get(blob, offset, offset + length - 1, etag)
        data = (allocate or _buffer)(min(length, int(props.size or 0)))

        def rest(filled: int) -> Iterator[bytes]:
            return _get(blob, offset + filled, offset + len(data) - 1, props.etag)[1]

        filled = fill(data, body, rest, cut=_CUT, short=IncompleteReadError)
    return Chunk(offset, data, total_size(props.content_range, offset + filled), props.etag, props)


def _get(
    blob: BlobClient, start: int, end: int, etag: str | None
) -> tuple[BlobProperties, Iterator[bytes]]:
    """Send one Get Blob for bytes ``start..end``; the body is not read yet.

    The SDK's generated operation, not `BlobClient.download_blob`: the latter buffers the
    whole range several times over (joins, BytesIO, copies: ~10x the range at its peak),
    where the body here is streamed once into the caller's buffer."""
    conditions = ModifiedAccessConditions(if_match=etag) if etag else None
    try:
        _, body = blob._client.blob.download(
            range=f"bytes={start}-{end}",
            version_id=getattr(blob, "version_id", None),
            modified_access_conditions=conditions,
            cls=deserialize_blob_stream,
            validate_content=False,
            data_stream_total=None,
            download_stream_current=0,
        )
    except HttpResponseError as error:
        process_storage_error(error)  # the typed errors download_blob raises (404, 412, 416)
    return body.properties, body


class _Blob:
    """A blob as a `RangeSource`: a ranged GET, its errors translated."""

    def __init__(self, blob: BlobClient, key: str) -> None:
        self._blob = blob
        self._key = key

    def fetch(
        self, offset: int, length: int, etag: str, allocate: Callable[[int], Buffer]
    ) -> Chunk:
        with translate("read", self._key):
            return fetch(self._blob, offset, length, etag, allocate)


class BlobReader(RangeReader):
    """A read-only stream over one blob version.

    Every chunk after the first is a ranged GET with ``If-Match`` on the ETag seen first,
    so a blob replaced mid-read raises `PreconditionFailed` instead of mixing two
    versions. Reading sequentially, up to ``max_concurrency - 1`` further chunks are
    fetched ahead; a seekable reader starts small after a seek and grows back."""

    def __init__(
        self,
        blob: BlobClient,
        key: str,
        first: Chunk,
        *,
        chunk_size: int,
        seekable: bool,
        max_concurrency: int = 1,
    ) -> None:
        super().__init__(
            _Blob(blob, key),
            first,
            chunk_size=chunk_size,
            seekable=seekable,
            max_concurrency=max_concurrency,
            policy=policy_of(blob),
            thread_name=THREAD_NAME,
            allocate=_buffer,
        )
