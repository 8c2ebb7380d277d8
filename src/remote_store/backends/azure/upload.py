"""Uploads: one Put Blob when the payload is small, staged blocks when it is not. Azure's
adapter over `remote_store.transfer.uploader`.

Either way the blob appears in one request (Put Blob, or the Put Block List commit), so
readers see the old content or the new; ``overwrite=False`` rides on that request as
``If-None-Match: *``, ``if_match`` as ``If-Match``. The MD5 of the content is computed
while it streams through and is stored as the blob's Content-MD5. A commit that meets a
conflict after a retry that may have landed asks `reconcile.landed_write` whether the blob
there is our own first attempt.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from azure.core import MatchConditions
from azure.storage.blob import BlobBlock, BlobClient, ContentSettings

from remote_store.backends.azure.errors import translate
from remote_store.backends.azure.reconcile import landed_write
from remote_store.backends.azure.strategy import (
    MAX_BLOCKS,
    Transfer,
    md5_digest,
    normalize_etag,
    service_etag,
)
from remote_store.errors import AlreadyExists, PreconditionFailed
from remote_store.models import WriteResult, WriteSource
from remote_store.streams import WritableContent
from remote_store.transfer import uploader
from remote_store.transfer.uploader import REFINABLE, AtomicWriter, PartUploader, raise_refined

__all__ = ["REFINABLE", "AtomicWriter", "BlockUploader", "raise_refined", "upload"]


class _Blocks:
    """A blob as a `PartTarget`: Put Blob, or Put Block then Put Block List."""

    def __init__(
        self,
        blob: BlobClient,
        key: str,
        *,
        overwrite: bool,
        metadata: dict[str, str] | None,
        if_match: str | None,
    ) -> None:
        self._blob = blob
        self._key = key
        self._overwrite = overwrite
        self._metadata = metadata
        self._condition: dict[str, Any] = {} if overwrite else {"if_none_match": "*"}
        self._swap: dict[str, Any] = {}
        if if_match is not None:  # compare-and-swap: If-Match on the one commit
            self._swap = {
                "etag": service_etag(if_match),
                "match_condition": MatchConditions.IfNotModified,
            }
            self._condition = self._swap
        # Unique per upload: concurrent uploads to one blob must not overwrite each other's
        # staged blocks, and block ids within a blob must all have the same length.
        self._id_prefix = uuid.uuid4().hex

    def put_whole(self, data: bytes, digest: bytes) -> WriteResult:
        return self._commit(
            digest,
            len(data),
            lambda: self._blob.upload_blob(
                data,
                length=len(data),
                overwrite=self._overwrite,
                metadata=self._metadata,
                content_settings=ContentSettings(content_md5=bytearray(digest)),
                max_concurrency=1,
                **self._swap,
            ),
        )

    def begin(self) -> None:
        pass  # blocks need no upload id

    def stage(self, index: int, data: bytes) -> str:
        block_id = f"{self._id_prefix}{index:08d}"
        with translate("write", self._key):
            self._blob.stage_block(block_id, data, length=len(data))
        return block_id

    def commit(self, parts: list[str], digest: bytes, size: int) -> WriteResult:
        return self._commit(
            digest,
            size,
            lambda: self._blob.commit_block_list(
                [BlobBlock(block_id) for block_id in parts],
                content_settings=ContentSettings(content_md5=bytearray(digest)),
                metadata=self._metadata,
                **self._condition,
            ),
        )

    def abort(self) -> None:
        pass  # uncommitted blocks are invisible, and the service drops them after a week

    def _commit(self, digest: bytes, size: int, send: Callable[[], Any]) -> WriteResult:
        try:
            with translate("write", self._key, create_only=not self._overwrite):
                response = send()
        except (AlreadyExists, PreconditionFailed):
            # A retried commit may have met its own first attempt: see reconcile.py.
            landed = landed_write(self._blob, self._key, digest, size, self._metadata)
            if landed is None:
                raise
            response = landed
        return WriteResult(
            path=self._key,
            size=size,
            source=WriteSource.NATIVE,
            etag=normalize_etag(response.get("etag")),
            last_modified=response.get("last_modified"),
            digest=md5_digest(digest),
            version_id=response.get("version_id"),
            metadata=dict(self._metadata) if self._metadata is not None else None,
        )


class BlockUploader(PartUploader[str, WriteResult]):
    """Accepts content piece by piece and lands it as one blob on `finish`.

    Holds at most one single-put payload, or ``max_concurrency`` blocks in flight plus the
    one filling up. Until `finish` nothing is visible: staged blocks stay uncommitted (the
    service discards them after a week) and an `abort` simply walks away from them."""

    def __init__(
        self,
        blob: BlobClient,
        key: str,
        transfer: Transfer,
        *,
        overwrite: bool,
        metadata: dict[str, str] | None,
        if_match: str | None = None,
    ) -> None:
        super().__init__(
            _Blocks(blob, key, overwrite=overwrite, metadata=metadata, if_match=if_match),
            single_put_size=transfer.single_put_size,
            part_size=transfer.block_size,
            max_concurrency=transfer.max_concurrency,
            max_parts=MAX_BLOCKS,
            hint="raise client_options['max_block_size']",
            thread_name="azure-upload",
        )


def upload(
    blob: BlobClient,
    key: str,
    content: WritableContent,
    transfer: Transfer,
    *,
    overwrite: bool,
    metadata: dict[str, str] | None,
    if_match: str | None = None,
) -> WriteResult:
    """Write *content* (bytes or a binary stream) to *blob* in the fewest requests."""
    blocks = BlockUploader(
        blob, key, transfer, overwrite=overwrite, metadata=metadata, if_match=if_match
    )
    return uploader.upload(
        content, blocks, part_size=transfer.block_size, single_put_size=transfer.single_put_size
    )
