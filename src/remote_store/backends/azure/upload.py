"""Uploads: one Put Blob when the payload is small, staged blocks when it is not.

Either way the blob appears in one request (Put Blob, or the Put Block List commit), so
readers see the old content or the new; ``overwrite=False`` rides on that request as
``If-None-Match: *``. The MD5 of the content is computed while it streams through and is
stored as the blob's Content-MD5.
"""

from __future__ import annotations

import contextvars
import hashlib
import io
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
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
from remote_store.errors import (
    AlreadyExists,
    InvalidArgument,
    InvalidPath,
    NotFound,
    PreconditionFailed,
    RemoteStoreError,
)
from remote_store.models import WriteResult, WriteSource
from remote_store.streams import WritableContent


class BlockUploader:
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
        self._blob = blob
        self._key = key
        self._transfer = transfer
        self._overwrite = overwrite
        self._if_match = if_match
        self._metadata = metadata
        self._md5 = hashlib.md5()
        self._pending = _Pieces()
        self._size = 0
        self._staging = False
        self._block_ids: list[str] = []
        # Unique per upload: concurrent uploads to one blob must not overwrite each other's
        # staged blocks, and block ids within a blob must all have the same length.
        self._id_prefix = uuid.uuid4().hex
        #: Block senders and the one MD5 thread, made on the first staged block.
        self._pools: tuple[ThreadPoolExecutor, ThreadPoolExecutor] | None = None
        self._in_flight: deque[tuple[Future[Any], Future[Any]]] = deque()
        self._done = False

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        if self._done:
            raise ValueError("upload already finished")
        piece = _immutable(data)
        self._size += len(piece)
        self._pending.append(piece)
        if not self._staging and len(self._pending) <= self._transfer.single_put_size:
            return
        self._staging = True
        block = self._transfer.block_size
        while len(self._pending) >= block:
            self._stage(self._pending.take(block))

    def finish(self) -> WriteResult:
        """Commit: one Put Blob, or the last block then one Put Block List."""
        self._done = True
        digest = b""
        condition: dict[str, Any] = {} if self._overwrite else {"if_none_match": "*"}
        swap: dict[str, Any] = {}
        if self._if_match is not None:  # compare-and-swap: If-Match on the one commit
            swap = {
                "etag": service_etag(self._if_match),
                "match_condition": MatchConditions.IfNotModified,
            }
            condition = swap
        try:
            with translate("write", self._key, create_only=not self._overwrite):
                if not self._staging:
                    data = self._pending.take(len(self._pending))
                    self._md5.update(data)
                    digest = self._md5.digest()
                    response = self._blob.upload_blob(
                        data,
                        length=len(data),
                        overwrite=self._overwrite,
                        metadata=self._metadata,
                        content_settings=ContentSettings(content_md5=bytearray(digest)),
                        max_concurrency=1,
                        **swap,
                    )
                else:
                    if self._pending:
                        self._stage(self._pending.take(len(self._pending)))
                    self._drain(0)
                    digest = self._md5.digest()
                    response = self._blob.commit_block_list(
                        [BlobBlock(block_id) for block_id in self._block_ids],
                        content_settings=ContentSettings(content_md5=bytearray(digest)),
                        metadata=self._metadata,
                        **condition,
                    )
        except (AlreadyExists, PreconditionFailed):
            if not digest:  # refused before the commit was sent
                raise
            # A retried commit may have met its own first attempt: see reconcile.py.
            landed = landed_write(self._blob, self._key, digest, self._size, self._metadata)
            if landed is None:
                raise
            response = landed
        finally:
            self._shutdown()
        return WriteResult(
            path=self._key,
            size=self._size,
            source=WriteSource.NATIVE,
            etag=normalize_etag(response.get("etag")),
            last_modified=response.get("last_modified"),
            digest=md5_digest(digest),
            version_id=response.get("version_id"),
            metadata=dict(self._metadata) if self._metadata is not None else None,
        )

    def abort(self) -> None:
        """Give up: wait for blocks in flight, commit nothing."""
        self._done = True
        self._pending = _Pieces()
        for staging, hashing in self._in_flight:
            staging.cancel()
            hashing.cancel()
        self._shutdown()

    def _stage(self, data: bytes) -> None:
        """Send one block from a worker thread; at most ``max_concurrency`` blocks are
        held, counting the one the caller reads next."""
        if len(self._block_ids) >= MAX_BLOCKS:
            raise InvalidArgument(
                f"content needs more than {MAX_BLOCKS} blocks of {self._transfer.block_size} "
                "bytes; raise client_options['max_block_size']"
            )
        block_id = f"{self._id_prefix}{len(self._block_ids):08d}"
        self._block_ids.append(block_id)
        concurrency = max(self._transfer.max_concurrency, 1)
        if self._pools is None:
            # One thread hashes the blocks in order while others send them: on a fast link
            # an inline MD5 cost a third of the upload's time.
            self._pools = (
                ThreadPoolExecutor(concurrency, thread_name_prefix="azure-upload"),
                ThreadPoolExecutor(1, thread_name_prefix="azure-upload-md5"),
            )
        senders, hasher = self._pools
        hashing = hasher.submit(self._md5.update, data)
        # In the caller's context, so the blocks share the call's deadline (retry.py).
        run = contextvars.copy_context().run
        staging = senders.submit(run, self._blob.stage_block, block_id, data, length=len(data))
        self._in_flight.append((staging, hashing))
        # The caller reads the next block only once a slot is free: blocks in flight plus
        # the one being read stay within max_concurrency (as the SDK's own uploader).
        self._drain(concurrency - 1)

    def _drain(self, keep: int) -> None:
        """Wait until at most *keep* blocks are in flight, re-raising the first failure."""
        while len(self._in_flight) > keep:
            staging, hashing = self._in_flight.popleft()
            hashing.result()
            with translate("write", self._key):
                staging.result()

    def _shutdown(self) -> None:
        for pool in self._pools or ():
            pool.shutdown(wait=True, cancel_futures=True)
        self._pools = None
        self._in_flight.clear()


def _immutable(data: bytes | bytearray | memoryview) -> bytes | memoryview:
    """*data* itself when nothing can change it under us (bytes, or a view of bytes), else
    a copy: a writer may reuse its buffer as soon as `write` returns."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, memoryview) and isinstance(data.obj, bytes) and data.c_contiguous:
        view = data.cast("B")
        return data.obj if view.nbytes == len(data.obj) else view
    return bytes(data)


class _Pieces:
    """Bytes waiting to be sent, kept as the pieces they arrived in: a block is cut from
    them with at most one copy (none when a piece is exactly one block)."""

    def __init__(self) -> None:
        self._pieces: deque[bytes | memoryview] = deque()
        self._length = 0

    def __len__(self) -> int:
        return self._length

    def append(self, piece: bytes | memoryview) -> None:
        if len(piece):
            self._pieces.append(piece)
            self._length += len(piece)

    def take(self, n: int) -> bytes:
        """The next *n* bytes (at most what is held) as one `bytes` object."""
        n = min(n, self._length)
        if n == 0:
            return b""
        self._length -= n
        first = self._pieces[0]
        if len(first) == n and isinstance(first, bytes):
            self._pieces.popleft()
            return first
        parts: list[bytes | memoryview] = []
        wanted = n
        while wanted:
            piece = self._pieces.popleft()
            if len(piece) > wanted:
                view = memoryview(piece)
                self._pieces.appendleft(view[wanted:])
                piece = view[:wanted]
            parts.append(piece)
            wanted -= len(piece)
        return bytes(parts[0]) if len(parts) == 1 else b"".join(parts)


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
    uploader = BlockUploader(
        blob, key, transfer, overwrite=overwrite, metadata=metadata, if_match=if_match
    )
    try:
        if isinstance(content, bytes | bytearray | memoryview):
            view = memoryview(content).cast("B")
            step = max(transfer.block_size, transfer.single_put_size)
            for start in range(0, len(view), step):
                uploader.feed(view[start : start + step])
        else:
            # Read up to the single-put threshold first: a small stream becomes one Put Blob.
            step = min(transfer.block_size, transfer.single_put_size)
            while True:
                chunk = content.read(step)
                if not chunk:
                    break
                if not isinstance(chunk, bytes | bytearray | memoryview):
                    raise InvalidArgument(
                        f"stream returned {type(chunk).__name__} from read(); expected bytes"
                    )
                uploader.feed(chunk)
    except BaseException:
        uploader.abort()
        raise
    return uploader.finish()


#: Errors a namespace may explain better (a folder at the target, a file ancestor...).
REFINABLE = (NotFound, InvalidPath, AlreadyExists, PreconditionFailed)


def raise_refined(
    error: RemoteStoreError, refine: Callable[[RemoteStoreError], RemoteStoreError]
) -> None:
    """Raise ``refine(error)`` (chained) if it differs from *error*; else return."""
    better = refine(error)
    if better is not error:
        raise better from error


class AtomicWriter(io.RawIOBase):
    """The stream `open_atomic` yields: content is staged as it is written, committed by
    `commit` in one request, never made visible by `discard`. Upload errors pass through
    *refine*, so they name the namespace's reason."""

    def __init__(
        self,
        uploader: BlockUploader,
        refine: Callable[[RemoteStoreError], RemoteStoreError] = lambda error: error,
    ) -> None:
        super().__init__()
        self._uploader = uploader
        self._refine = refine
        self.result: WriteResult | None = None

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        view = memoryview(data).cast("B")
        try:
            self._uploader.feed(view)
        except REFINABLE as error:
            raise_refined(error, self._refine)
            raise
        return len(view)

    def commit(self) -> WriteResult:
        try:
            self.result = self._uploader.finish()
        except REFINABLE as error:
            raise_refined(error, self._refine)
            raise
        finally:
            super().close()
        return self.result

    def discard(self) -> None:
        self._uploader.abort()
        super().close()

    def close(self) -> None:
        # Closing inside the ``with`` block is harmless: the commit happens on exit.
        pass
