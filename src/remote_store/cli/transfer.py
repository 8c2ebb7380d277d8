"""The transfer engine: stream one file between any two stores without leaving a partial
destination, and run many such jobs on a bounded pool that Ctrl-C stops cleanly.

A destination is written with `Store.write_atomic` where it declares ATOMIC_WRITE (local
disk stages a hidden file and renames it), else under a temporary name that is moved into
place. Ctrl-C reaches only the main thread, so it sets a flag that every source stream
checks on each read: the worker's write fails, the backend discards its staging, and the
command exits once every worker has cleaned up.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import BinaryIO, cast

from remote_store import paths
from remote_store.capabilities import Capability
from remote_store.cli.output import note
from remote_store.cli.progress import Reporter
from remote_store.cli.session import Location
from remote_store.errors import PreconditionFailed
from remote_store.models import FileInfo
from remote_store.operations import runs_natively
from remote_store.store import Store

CHUNK = 1024 * 1024
PART_PREFIX = ".rs-part-"


class Cancelled(BaseException):
    """Raised inside a source stream's read once the user pressed Ctrl-C. A BaseException,
    so the Store's error translation lets it through and backends discard their staging."""


@dataclass(frozen=True)
class Job:
    """Move *src* (a file, described by *info*) to *dst*; *dst_info* is what is there now."""

    src: Location
    info: FileInfo
    dst: Location
    dst_info: FileInfo | None = None


@dataclass
class Outcome:
    job: Job
    status: str  # copied | moved | skipped | failed | deleted
    error: BaseException | None = None


@dataclass
class Report:
    """What a transfer did, for the summary line and ``--json``."""

    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    def by_status(self, status: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def failed(self) -> list[Outcome]:
        return self.by_status("failed")


class Watched:
    """A source stream that reports bytes read and stops the copy on Ctrl-C."""

    def __init__(self, stream: BinaryIO, cancel: threading.Event, on_bytes: Callable[[int], None]):
        self._stream = stream
        self._cancel = cancel
        self._on_bytes = on_bytes

    def read(self, size: int = -1) -> bytes:
        if self._cancel.is_set():
            raise Cancelled("interrupted")
        # A bounded read even when asked for "everything": never hold a whole file.
        data = self._stream.read(CHUNK if size is None or size < 0 else size)
        # Checked again after a read that may have blocked (a pipe): data read after
        # Ctrl-C must not complete the file.
        if self._cancel.is_set():
            raise Cancelled("interrupted")
        self._on_bytes(len(data))
        return data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        self._stream.close()


def same_backend(a: Location, b: Location) -> bool:
    return a.store.backend is b.store.backend


def _native(src: Location, dst: Location, operation: str) -> bool:
    """Whether the shared backend does *operation* itself (a rename, a server-side copy).
    A copy streamed through the client would run without our cancel checks and progress,
    so it is used only where the service does the work."""
    if not same_backend(src, dst):
        return False
    capability = Capability.MOVE if operation == "move" else Capability.COPY
    native = runs_natively(src.store.backend, "move" if operation == "move" else "copy")
    return src.store.supports(capability) and native


def _root_store(location: Location) -> tuple[Store, str]:
    """A store on the backend's root and the full key, for calls spanning two stores."""
    store = Store(location.store.backend, "", owns_backend=False)
    return store, paths.join(location.store.root_path, location.key)


def copy_file(
    job: Job,
    *,
    overwrite: bool,
    cancel: threading.Event,
    on_bytes: Callable[[int], None],
    move: bool = False,
) -> None:
    """Copy (or move) one file: server-side on a shared backend, else streamed in chunks
    into an atomic write. The destination gets the whole file or nothing."""
    if cancel.is_set():
        raise Cancelled("interrupted")
    src, dst = job.src, job.dst
    if _native(src, dst, "move" if move else "copy"):
        store, src_key = _root_store(src)
        _, dst_key = _root_store(dst)
        (store.move if move else store.copy)(src_key, dst_key, overwrite=overwrite)
        on_bytes(job.info.size)
        return
    metadata = None
    if job.info.metadata and dst.store.supports(Capability.USER_METADATA):
        metadata = job.info.metadata
    version = job.info.etag if job.info.etag or not move else src.store.get_file_info(src.key).etag
    with src.store.read(src.key) as stream:
        write_stream(dst, Watched(stream, cancel, on_bytes), overwrite, metadata)
    if move:
        _delete_version(src, version)


def _delete_version(src: Location, etag: str | None) -> None:
    """Delete the source of a move only if it is still the version that was copied: a
    version written meanwhile stays (the move reports it). Atomic where the backend has
    CONDITIONAL_WRITE; elsewhere the etag is compared just before the delete."""
    store = src.store
    try:
        if etag is not None and store.supports(Capability.CONDITIONAL_WRITE):
            store.delete(src.key, if_match=etag)
            return
        current = store.get_file_info(src.key).etag
        if etag is not None and current != etag:
            raise PreconditionFailed("etag changed", path=src.key)
        store.delete(src.key)
    except PreconditionFailed:
        raise PreconditionFailed(
            f"{src.show()} changed while it was being moved: the copy has the version that "
            "was read, and the source is kept with the newer one",
            path=src.key,
        ) from None


def write_stream(
    dst: Location,
    source: Watched,
    overwrite: bool,
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Write *source* to *dst* so that a reader never sees part of it."""
    store = dst.store
    content = cast(BinaryIO, source)  # Watched has the one method a write uses: read()
    if store.supports(Capability.ATOMIC_WRITE):
        store.write_atomic(dst.key, content, overwrite=overwrite, metadata=metadata)
        return
    # No atomic write: stage under a temporary name in the same folder, then move it.
    folder, _, name = dst.key.rpartition("/")
    temp = paths.join(folder, f"{PART_PREFIX}{secrets.token_hex(6)}-{name}"[:200])
    try:
        store.write(temp, content, overwrite=False, metadata=metadata)
        store.move(temp, dst.key, overwrite=overwrite)
    except BaseException:
        try:
            store.delete(temp, missing_ok=True)
        finally:
            raise


def digest_of(location: Location, algorithm: str, cancel: threading.Event) -> str:
    """Hash the file at *location* by streaming it."""
    hasher = hashlib.new(algorithm)
    with location.store.read(location.key) as stream:
        while chunk := stream.read(CHUNK):
            if cancel.is_set():
                raise Cancelled("interrupted")
            hasher.update(chunk)
    return hasher.hexdigest()


def same_content(job: Job, *, size_only: bool, cancel: threading.Event) -> bool:
    """Whether *job*'s destination already holds the source's content: equal sizes, and
    equal digests, hashing (md5, or the algorithm one side reports) whichever side lacks one.
    Etags are per-object version stamps, not content hashes, so they are not compared."""
    there = job.dst_info
    if there is None or there.size != job.info.size:
        return False
    if size_only:
        return True
    ours, theirs = job.info.digest, there.digest
    if ours and theirs and ours.algorithm == theirs.algorithm:
        return ours.value.lower() == theirs.value.lower()
    algorithm = (ours or theirs).algorithm if (ours or theirs) else "md5"  # type: ignore[union-attr]
    if algorithm not in hashlib.algorithms_available:
        return False
    a = ours.value if ours and ours.algorithm == algorithm else None
    b = theirs.value if theirs and theirs.algorithm == algorithm else None
    a = a or digest_of(job.src, algorithm, cancel)
    b = b or digest_of(job.dst, algorithm, cancel)
    return a.lower() == b.lower()


Work = Callable[[Job, threading.Event, Callable[[int], None]], str]


def run(jobs: Sequence[Job], work: Work, *, workers: int, progress: Reporter) -> Report:
    """Run *work* on every job with at most *workers* at a time. A failing job does not
    stop the others; Ctrl-C cancels them all, waits for their clean-up, and re-raises."""
    report = Report()
    cancel = threading.Event()

    def one(job: Job) -> Outcome:
        try:
            status = work(job, cancel, progress.advance)
        except Cancelled:
            return Outcome(job, "cancelled")
        except Exception as error:
            # A backend may wrap the interruption in its own error.
            return Outcome(job, "cancelled" if cancel.is_set() else "failed", error)
        progress.file_done()
        return Outcome(job, status)

    with progress, ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures: list[Future[Outcome]] = [pool.submit(one, job) for job in jobs]
        try:
            pending = set(futures)
            while pending:
                # A timeout keeps the main thread responsive to Ctrl-C.
                _, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
        except KeyboardInterrupt:
            cancel.set()
            for future in futures:
                future.cancel()
            _drain(futures)
            raise
        report.outcomes = [f.result() for f in futures]
    return report


def _drain(futures: list[Future[Outcome]]) -> None:
    note("remote-store: interrupted; removing unfinished files (Ctrl-C again to quit now)")
    try:
        pending = {f for f in futures if not f.done()}
        while pending:
            _, pending = wait(pending, timeout=0.2)
    except KeyboardInterrupt:
        # The user insists. Destinations are still whole or absent; only a hidden staging
        # file may stay behind.
        os._exit(130)
