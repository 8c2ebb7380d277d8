"""Uploads in the fewest requests with bounded memory: one whole put when the content is
small, staged parts committed in one request when it is not.

Either way the object appears in one request (the put, or the commit), so readers see the
old content or the new. The digest of the content (MD5 unless the backend picks another)
is computed while it streams through, in order, by one thread while others send parts.
The service is behind a `PartTarget`; `PartUploader` decides what to send and when.
"""

from __future__ import annotations

import contextvars
import hashlib
import io
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, Protocol, TypeVar, cast

from remote_store.errors import (
    AlreadyExists,
    InvalidArgument,
    InvalidPath,
    NotFound,
    PreconditionFailed,
    RemoteStoreError,
)
from remote_store.models import WriteResult
from remote_store.streams import WritableContent, read_chunks

P = TypeVar("P")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class Hasher(Protocol):
    """A running digest, as `hashlib` makes them."""

    @property
    def name(self) -> str: ...

    def update(self, data: bytes, /) -> None: ...

    def digest(self) -> bytes: ...


class PartTarget(Protocol[P, R_co]):
    """What a backend supplies for `PartUploader`: the requests that land one object.

    Every method raises the library's errors. `put_whole` and `commit` are the requests
    that make the object visible, carrying the backend's conditions (create-only,
    compare-and-swap); a conflict they meet may be their own retried first attempt (see
    `remote_store.transfer.reconcile`), which the target settles before raising."""

    def put_whole(self, data: bytes, digest: bytes) -> R_co:
        """Store *data* (all the content, *digest* its digest) in one request."""
        ...

    def begin(self) -> None:
        """Called once, in the caller's thread, before the first part is staged."""
        ...

    def stage(self, index: int, data: bytes) -> P:
        """Send part *index* (0, 1, ...), invisible until committed; what `commit` needs
        to name it. Called from worker threads, several at once; a retry of a part must
        be idempotent (same index, same bytes). With ``reuse_buffers`` *data* is a
        `bytearray` the uploader refills once this call has returned."""
        ...

    def commit(self, parts: list[P], digest: bytes, size: int) -> R_co:
        """Make the staged *parts* (in order; *size* bytes, *digest* their digest) the
        object, in one request."""
        ...

    def abort(self) -> None:
        """Discard what was staged: called once, after `begin`, when no commit succeeded
        (the content failed, the caller gave up, or the commit failed)."""
        ...


class StagedWrite(Protocol):
    """Content fed piece by piece, landed as one object by `finish`, or by `abort` never."""

    def feed(self, data: bytes | bytearray | memoryview) -> None: ...

    def finish(self) -> WriteResult: ...

    def abort(self) -> None: ...


class PartUploader(Generic[P, R]):
    """Accepts content piece by piece and lands it through *target* on `finish`.

    Up to *single_put_size* bytes are held and sent by one `PartTarget.put_whole`; past
    that, parts of *part_size* bytes are staged from up to *max_concurrency* threads
    (named *thread_name*) and committed in order. At most *max_concurrency* parts are held:
    those in flight plus the one filling up, whose source is read only once a slot is
    free. Staging runs in a copy of the caller's context, so parts share its deadline.
    More than *max_parts* parts raise `InvalidArgument` ending with *hint*.

    With *reuse_buffers*, content is copied into *max_concurrency* part buffers made once
    and refilled, instead of a new `bytes` per part: freeing a multi-MiB block per part
    raises glibc's mmap threshold, after which the clients' per-request allocations in
    the sender threads stay in per-thread arenas (S3 at c=8: RSS growth 98 MiB, above the
    80 MiB bound)."""

    def __init__(
        self,
        target: PartTarget[P, R],
        *,
        single_put_size: int,
        part_size: int,
        max_concurrency: int,
        max_parts: int | None = None,
        hint: str = "raise the part size",
        digest: Callable[[], Hasher] = hashlib.md5,
        thread_name: str = "upload",
        reuse_buffers: bool = False,
    ) -> None:
        self._target = target
        self._single_put_size = single_put_size
        self._part_size = part_size
        self._concurrency = max(max_concurrency, 1)
        self._max_parts = max_parts
        self._hint = hint
        self._hash = digest()
        self._thread_name = thread_name
        self._pending = _Pieces()
        self._size = 0
        self._staging = False
        self._staged = 0
        self._parts: list[P] = []
        #: Part senders and the one digest thread, made on the first staged part.
        self._pools: tuple[ThreadPoolExecutor, ThreadPoolExecutor] | None = None
        self._in_flight: deque[tuple[Future[P], Future[Any], bytes | bytearray]] = deque()
        self._done = False
        self._reuse = reuse_buffers
        self._free: list[bytearray] = []  # part buffers whose part was sent
        self._part: bytearray | None = None  # the part filling up (reuse_buffers)
        self._filled = 0

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        """Take the next bytes of the content (copied if the caller could change them)."""
        if self._done:
            raise ValueError("upload already finished")
        if self._staging and self._reuse:
            self._size += len(data)
            self._fill(memoryview(data).cast("B"))
            return
        piece = _immutable(data)
        self._size += len(piece)
        self._pending.append(piece)
        if not self._staging and len(self._pending) <= self._single_put_size:
            return
        if not self._staging:
            self._target.begin()
            self._staging = True
        if self._reuse:
            held, self._pending = self._pending, _Pieces()
            for piece in held.drain():
                self._fill(memoryview(piece).cast("B"))
        while len(self._pending) >= self._part_size:
            self._stage(self._pending.take(self._part_size))

    def _fill(self, view: memoryview) -> None:
        """Copy *view* into part buffers, staging each one that fills up."""
        while view:
            if self._part is None:
                self._part = self._free.pop() if self._free else bytearray(self._part_size)
                self._filled = 0
            n = min(len(view), self._part_size - self._filled)
            self._part[self._filled : self._filled + n] = view[:n]
            self._filled += n
            view = view[n:]
            if self._filled == self._part_size:
                part, self._part = self._part, None
                self._stage(part)

    def finish(self) -> R:
        """Commit: one whole put, or the last part then one commit."""
        self._done = True
        try:
            if not self._staging:
                data = self._pending.take(len(self._pending))
                self._hash.update(data)
                return self._target.put_whole(data, self._hash.digest())
            if self._pending:
                self._stage(self._pending.take(len(self._pending)))
            if self._part is not None and self._filled:
                self._stage(bytes(memoryview(self._part)[: self._filled]))
            self._part = None
            self._drain(0)
            return self._target.commit(self._parts, self._hash.digest(), self._size)
        except BaseException:
            self._discard()
            raise
        finally:
            self._shutdown()

    def abort(self) -> None:
        """Give up: wait for parts in flight, commit nothing."""
        self._done = True
        self._pending = _Pieces()
        self._part = None
        for staging, hashing, _ in self._in_flight:
            staging.cancel()
            hashing.cancel()
        self._discard()

    def _discard(self) -> None:
        self._shutdown()
        if self._staging:
            self._staging = False  # abort() once, however the upload ended
            self._target.abort()

    def _stage(self, data: bytes | bytearray) -> None:
        if self._max_parts is not None and self._staged >= self._max_parts:
            raise InvalidArgument(
                f"content needs more than {self._max_parts} parts of {self._part_size} "
                f"bytes; {self._hint}"
            )
        index = self._staged
        self._staged += 1
        if self._pools is None:
            # One thread hashes the parts in order while others send them: on a fast link
            # an inline MD5 cost a third of the upload's time.
            self._pools = (
                ThreadPoolExecutor(self._concurrency, thread_name_prefix=self._thread_name),
                ThreadPoolExecutor(1, thread_name_prefix=f"{self._thread_name}-{self._hash.name}"),
            )
        senders, hasher = self._pools
        hashing = hasher.submit(self._hash.update, data)  # type: ignore[arg-type]
        # In the caller's context, so the parts share the call's deadline (deadline.py).
        run = contextvars.copy_context().run
        # A bytearray only with reuse_buffers, whose targets take one (see `stage`).
        staging = senders.submit(run, self._target.stage, index, cast(bytes, data))
        self._in_flight.append((staging, hashing, data))
        # The caller reads the next part only once a slot is free: parts in flight plus
        # the one being read stay within max_concurrency (as the SDKs' own uploaders).
        self._drain(self._concurrency - 1)

    def _drain(self, keep: int) -> None:
        """Wait until at most *keep* parts are in flight, re-raising the first failure."""
        while len(self._in_flight) > keep:
            staging, hashing, data = self._in_flight.popleft()
            hashing.result()
            self._parts.append(staging.result())
            if self._reuse and isinstance(data, bytearray):
                self._free.append(data)

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
    """Bytes waiting to be sent, kept as the pieces they arrived in: a part is cut from
    them with at most one copy (none when a piece is exactly one part)."""

    def __init__(self) -> None:
        self._pieces: deque[bytes | memoryview] = deque()
        self._length = 0

    def __len__(self) -> int:
        return self._length

    def append(self, piece: bytes | memoryview) -> None:
        if len(piece):
            self._pieces.append(piece)
            self._length += len(piece)

    def drain(self) -> Iterator[bytes | memoryview]:
        """The pieces held, in order, as they arrived; none is held after."""
        while self._pieces:
            piece = self._pieces.popleft()
            self._length -= len(piece)
            yield piece

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
    content: WritableContent,
    uploader: StagedWrite,
    *,
    part_size: int,
    single_put_size: int,
    read_size: int | None = None,
) -> WriteResult:
    """Feed *content* (bytes or a binary stream) to *uploader* and finish it; abort it if
    the content fails. A stream is read up to *single_put_size* at a time, so a small one
    becomes one whole put; or *read_size* at a time (for an uploader that copies into
    reused buffers: reads below glibc's mmap threshold are recycled by malloc, not
    mapped and unmapped, and never raise the threshold)."""
    try:
        if isinstance(content, bytes | bytearray | memoryview):
            view = memoryview(content).cast("B")
            step = max(part_size, single_put_size)
            for start in range(0, len(view), step):
                uploader.feed(view[start : start + step])
        else:
            for chunk in read_chunks(content, read_size or min(part_size, single_put_size)):
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
        uploader: StagedWrite,
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
        """Finish the upload: the object appears, or the error (refined) is raised."""
        try:
            self.result = self._uploader.finish()
        except REFINABLE as error:
            raise_refined(error, self._refine)
            raise
        finally:
            super().close()
        return self.result

    def discard(self) -> None:
        """Abort the upload: nothing becomes visible."""
        self._uploader.abort()
        super().close()

    def close(self) -> None:
        # Closing inside the ``with`` block is harmless: the commit happens on exit.
        pass
