"""The generic part uploader (`transfer.uploader`) over an in-process `PartTarget`: whole
put against parts, parts in flight bounded, the streamed digest, abort, `AtomicWriter`."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from typing import Any

import pytest

from remote_store.config import RetryPolicy
from remote_store.errors import (
    AlreadyExists,
    BackendUnavailable,
    InvalidArgument,
    RemoteStoreError,
)
from remote_store.models import WriteResult
from remote_store.transfer import deadline
from remote_store.transfer.deadline import call_scope
from remote_store.transfer.uploader import AtomicWriter, Hasher, PartUploader, upload

KiB = 1024
PART = 16 * KiB
SINGLE = 32 * KiB
WAIT = 5.0
PREFIX = "test-upload"


class Target:
    """An object store of one object, in memory. `gate`, when set, holds every part until
    it is opened; `fail_at` makes that part's staging fail."""

    def __init__(self) -> None:
        self.object: bytes | None = None
        self.puts: list[tuple[bytes, bytes]] = []
        self.begins = 0
        self.staged: dict[int, bytes] = {}
        self.indices: list[int] = []
        self.stage_threads: set[str] = set()
        self.stage_calls: list[deadline.Call | None] = []
        self.commits: list[tuple[list[str], bytes, int]] = []
        self.aborts = 0
        self.gate: threading.Event | None = None
        self.fail_at: int | None = None
        self.in_flight = 0
        self.max_in_flight = 0
        self._cond = threading.Condition()

    def put_whole(self, data: bytes, digest: bytes) -> WriteResult:
        self.puts.append((data, digest))
        self.object = data
        return WriteResult(path="k", size=len(data))

    def begin(self) -> None:
        self.begins += 1

    def stage(self, index: int, data: bytes) -> str:
        with self._cond:
            self.indices.append(index)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self._cond.notify_all()
        try:
            if self.gate is not None:
                assert self.gate.wait(WAIT)
            if index == self.fail_at:
                raise BackendUnavailable(f"part {index} failed")
            self.staged[index] = bytes(data)
            self.stage_threads.add(threading.current_thread().name)
            self.stage_calls.append(deadline.current())
            return f"part-{index}"
        finally:
            with self._cond:
                self.in_flight -= 1

    def commit(self, parts: list[str], digest: bytes, size: int) -> WriteResult:
        self.commits.append((list(parts), digest, size))
        self.object = b"".join(self.staged[int(p.split("-")[1])] for p in parts)
        return WriteResult(path="k", size=size)

    def abort(self) -> None:
        self.aborts += 1
        self.staged.clear()

    def wait_in_flight(self, n: int) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: self.in_flight >= n, timeout=WAIT)


def uploader(
    target: Target, *, concurrency: int = 4, single: int = SINGLE, **extra: Any
) -> PartUploader[str, WriteResult]:
    return PartUploader(
        target,
        single_put_size=single,
        part_size=PART,
        max_concurrency=concurrency,
        thread_name=PREFIX,
        **extra,
    )


def send(target: Target, content: Any, *, single: int = SINGLE, **extra: Any) -> WriteResult:
    parts = uploader(target, single=single, **extra)
    return upload(content, parts, part_size=PART, single_put_size=single)


def upload_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(PREFIX)]


class Reads(io.RawIOBase):
    """A stream over *data* that counts what was read, returning at most *most* per read."""

    def __init__(self, data: bytes, most: int | None = None) -> None:
        self._data = memoryview(data)
        self._most = most
        self.taken = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), len(self._data) - self.taken)
        if self._most is not None:
            n = min(n, self._most)
        buffer[:n] = self._data[self.taken : self.taken + n]
        self.taken += n
        return n


# ---------------------------------------------------------------------- whole put or parts


@pytest.mark.parametrize("size", [0, 1, SINGLE])
@pytest.mark.parametrize("as_stream", [False, True], ids=["bytes", "stream"])
def test_content_up_to_single_put_size_is_one_whole_put(size: int, as_stream: bool) -> None:
    """REL-034."""
    data = os.urandom(size)
    target = Target()
    send(target, Reads(data) if as_stream else data)
    assert target.puts == [(data, hashlib.md5(data).digest())]
    assert (target.begins, target.staged, target.commits, target.aborts) == (0, {}, [], 0)
    assert not upload_threads()


@pytest.mark.parametrize("as_stream", [False, True], ids=["bytes", "stream"])
@pytest.mark.parametrize("most", [None, 5000], ids=["whole-reads", "short-reads"])
def test_larger_content_is_parts_committed_in_order(as_stream: bool, most: int | None) -> None:
    """REL-034."""
    data = os.urandom(5 * PART + 123)
    target = Target()
    send(target, Reads(data, most) if as_stream else data)
    assert target.puts == []
    assert target.begins == 1
    assert sorted(target.staged) == list(range(6))
    assert [len(target.staged[i]) for i in range(6)] == [PART] * 5 + [123]
    assert target.commits == [
        ([f"part-{i}" for i in range(6)], hashlib.md5(data).digest(), len(data))
    ]
    assert target.object == data
    assert target.aborts == 0
    assert target.stage_threads and all(t.startswith(PREFIX) for t in target.stage_threads)
    assert not upload_threads()


class Recording:
    """SHA-256 that notes which threads fed it."""

    name = "sha256"

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.threads: set[str] = set()

    def update(self, data: bytes, /) -> None:
        self.threads.add(threading.current_thread().name)
        self._hash.update(data)

    def digest(self) -> bytes:
        return self._hash.digest()


def test_the_digest_is_computed_in_order_by_one_thread_of_its_own() -> None:
    """REL-034: the digest algorithm is the backend's choice; one thread (named after it) hashes
    the parts in order while others send them."""
    data = os.urandom(9 * PART + 5)
    target = Target()
    made: list[Recording] = []

    def recording() -> Hasher:
        made.append(Recording())
        return made[-1]

    send(target, Reads(data, most=3000), digest=recording)
    assert target.commits[0][1] == hashlib.sha256(data).digest()
    (threads,) = [m.threads for m in made]
    assert len(threads) == 1 and next(iter(threads)).startswith(f"{PREFIX}-sha256")
    assert not threads & target.stage_threads
    small = Target()
    send(small, data[:10], digest=hashlib.sha1)
    assert small.puts == [(data[:10], hashlib.sha1(data[:10]).digest())]


@pytest.mark.parametrize("staged", [False, True], ids=["whole-put", "parts"])
def test_a_buffer_the_writer_reuses_does_not_change_what_is_sent(staged: bool) -> None:
    """REL-034: a writer may change its buffer once feed() returns: what was fed is what lands,
    though it waits in memory (less than a part) until finish()."""
    target = Target()
    parts = uploader(target)
    expected = os.urandom(3 * PART) if staged else b""
    parts.feed(expected)
    for buffer, view in [(bytearray(os.urandom(PART // 2)), False), (bytearray(b"xyz"), True)]:
        expected += bytes(buffer)
        parts.feed(memoryview(buffer) if view else buffer)
        buffer[:] = bytes(len(buffer))
    parts.finish()
    assert target.object == expected
    assert bool(target.commits) is staged


def test_parts_are_staged_in_the_callers_call() -> None:
    """REL-030, REL-034: part threads run in a copy of the caller's context: they share
    its deadline."""
    target = Target()
    with call_scope(RetryPolicy(timeout=30.0)) as call:
        send(target, os.urandom(4 * PART))
    assert target.stage_calls and all(c is call for c in target.stage_calls)


# ---------------------------------------------------------------------- bounded memory


@pytest.mark.parametrize("concurrency", [2, 3, 4])
def test_at_most_max_concurrency_parts_are_held(concurrency: int) -> None:
    """REL-034: with every part held in flight, the source is read no further than
    max_concurrency parts (those in flight, the last one read among them): the next part
    is read only once a slot is free. Never more than max_concurrency are sent at once."""
    data = os.urandom(12 * PART)
    target = Target()
    target.gate = threading.Event()
    stream = Reads(data)
    options = {"concurrency": concurrency, "single": PART}
    worker = threading.Thread(target=send, args=(target, stream), kwargs=options)
    worker.start()
    try:
        target.wait_in_flight(concurrency)
        worker.join(0.3)  # time for a wrong uploader to read on
        assert stream.taken == concurrency * PART
    finally:
        target.gate.set()
        worker.join(WAIT)
    assert target.object == data
    assert target.max_in_flight == concurrency


def test_too_many_parts_are_refused_before_they_are_sent() -> None:
    """REL-034."""
    target = Target()
    with pytest.raises(InvalidArgument, match=r"more than 3 parts of 16384 bytes; raise it"):
        send(target, os.urandom(4 * PART), max_parts=3, hint="raise it")
    assert sorted(target.indices) == [0, 1, 2]
    assert (target.commits, target.aborts) == ([], 1)


# ---------------------------------------------------------------------- abort


def test_abort_commits_nothing_and_waits_for_parts_in_flight() -> None:
    """REL-034."""
    target = Target()
    parts = uploader(target)
    parts.feed(os.urandom(3 * PART))
    parts.abort()
    assert (target.puts, target.commits, target.aborts) == ([], [], 1)
    assert target.object is None
    assert not upload_threads()
    with pytest.raises(ValueError, match="finished"):
        parts.feed(b"more")


def test_abort_before_any_part_tells_the_target_nothing() -> None:
    """REL-034."""
    target = Target()
    parts = uploader(target)
    parts.feed(b"small")
    parts.abort()
    assert (target.begins, target.puts, target.aborts) == (0, [], 0)


def test_a_failing_source_aborts_the_upload() -> None:
    """REL-034."""

    class Failing(io.RawIOBase):
        def __init__(self) -> None:
            self.reads = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            self.reads += 1
            if self.reads > 3:
                raise OSError("disk gone")
            buffer[: len(buffer)] = bytes(len(buffer))
            return len(buffer)

    target = Target()
    with pytest.raises(OSError, match="disk gone"):
        send(target, Failing())
    assert (target.commits, target.aborts, target.object) == ([], 1, None)
    assert not upload_threads()


@pytest.mark.parametrize("at", [1, 5], ids=["while-feeding", "in-finish"])
def test_a_failed_part_aborts_and_commits_nothing(at: int) -> None:
    """REL-034."""
    target = Target()
    target.fail_at = at
    with pytest.raises(BackendUnavailable, match=f"part {at} failed"):
        send(target, os.urandom(5 * PART + 1))
    assert (target.commits, target.aborts, target.object) == ([], 1, None)
    assert not upload_threads()


def test_a_failed_commit_aborts_once() -> None:
    """REL-034."""

    class Refusing(Target):
        def commit(self, parts: list[str], digest: bytes, size: int) -> WriteResult:
            raise AlreadyExists("k exists")

    target = Refusing()
    parts = uploader(target)
    parts.feed(os.urandom(3 * PART))
    with pytest.raises(AlreadyExists):
        parts.finish()
    parts.abort()
    assert target.aborts == 1


# ---------------------------------------------------------------------- AtomicWriter


def test_atomic_writer_commits_on_commit_and_never_on_discard() -> None:
    """REL-034."""
    data = os.urandom(3 * PART + 7)
    target = Target()
    writer = AtomicWriter(uploader(target))
    for at in range(0, len(data), 5000):
        assert writer.write(data[at : at + 5000]) == len(data[at : at + 5000])
    writer.close()  # harmless: the commit is explicit
    assert target.commits == []
    result = writer.commit()
    assert result.size == len(data) and writer.result is result
    assert target.object == data and writer.closed
    other = Target()
    writer = AtomicWriter(uploader(other))
    writer.write(data)
    writer.discard()
    assert (other.commits, other.aborts, other.object) == ([], 1, None)
    with pytest.raises(ValueError, match="closed"):
        writer.write(b"x")


def test_atomic_writer_passes_errors_through_refine() -> None:
    """REL-034."""

    class Refusing(Target):
        def put_whole(self, data: bytes, digest: bytes) -> WriteResult:
            raise AlreadyExists("k exists", path="k")

    better = InvalidArgument("k is a folder")

    def refine(error: RemoteStoreError) -> RemoteStoreError:
        return better if isinstance(error, AlreadyExists) else error

    writer = AtomicWriter(uploader(Refusing()), refine)
    writer.write(b"small")
    with pytest.raises(InvalidArgument, match="folder") as caught:
        writer.commit()
    assert isinstance(caught.value.__cause__, AlreadyExists)
    same = AtomicWriter(uploader(Refusing()))
    same.write(b"small")
    with pytest.raises(AlreadyExists):
        same.commit()


# ---------------------------------------------------------------------- reused part buffers


class Buffers(Target):
    """A target that records which buffer objects parts arrived in."""

    def __init__(self) -> None:
        super().__init__()
        self.buffers: set[int] = set()
        self.kinds: set[type] = set()

    def stage(self, index: int, data: bytes) -> str:
        self.buffers.add(id(data))
        self.kinds.add(type(data))
        return super().stage(index, data)


@pytest.mark.parametrize("as_stream", [False, True], ids=["bytes", "stream"])
@pytest.mark.parametrize("concurrency", [1, 3])
def test_reused_buffers_carry_the_same_parts(as_stream: bool, concurrency: int) -> None:
    """REL-034: with reuse_buffers, full parts are sent from at most max_concurrency
    buffers refilled in turn (no allocation per part), the content read a little at a time
    (read_size); what lands, the parts and the digest are as without."""
    data = os.urandom(9 * PART + 123)
    target = Buffers()
    parts = uploader(target, concurrency=concurrency, reuse_buffers=True)
    content: Any = Reads(data, 5000) if as_stream else data
    upload(content, parts, part_size=PART, single_put_size=SINGLE, read_size=4 * KiB)
    assert target.object == data
    assert [len(target.staged[i]) for i in range(10)] == [PART] * 9 + [123]
    assert target.commits[0][1:] == (hashlib.md5(data).digest(), len(data))
    # Nine full parts from `concurrency` buffers; the short last part is a bytes copy.
    assert target.kinds == {bytearray, bytes}
    assert len(target.buffers) == concurrency + 1
    assert not upload_threads()


def test_reused_buffers_hold_at_most_max_concurrency_parts() -> None:
    """REL-034: with reuse_buffers, the source is read no further than max_concurrency
    parts while every part is held in flight."""
    data = os.urandom(12 * PART)
    target = Target()
    target.gate = threading.Event()
    stream = Reads(data)
    parts = uploader(target, concurrency=3, single=PART, reuse_buffers=True)
    options = {"part_size": PART, "single_put_size": PART, "read_size": 4 * KiB}
    worker = threading.Thread(target=upload, args=(stream, parts), kwargs=options)
    worker.start()
    try:
        target.wait_in_flight(3)
        worker.join(0.3)
        assert stream.taken == 3 * PART
    finally:
        target.gate.set()
        worker.join(WAIT)
    assert target.object == data
    assert target.max_in_flight == 3
