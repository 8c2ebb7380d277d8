"""The generic ranged reader (`transfer.reader.RangeReader`) over an in-process
`RangeSource`: read-ahead depth, ETag pinning, seeks, buffer reuse, `fill`'s resumes.

No timing assertions except where a test waits for threads that must not exist; overlap
is made deterministic by holding fetches until enough of them run at once."""

from __future__ import annotations

import io
import os
import pickle
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from remote_store.config import RetryPolicy
from remote_store.errors import InvalidArgument, PreconditionFailed
from remote_store.transfer import deadline
from remote_store.transfer.deadline import Call, call_scope
from remote_store.transfer.reader import (
    FIRST_SPAN,
    Buffer,
    Chunk,
    RangeReader,
    fill,
    metadata_only,
    new_buffer,
    total_size,
)

KiB = 1024
MiB = 1024 * KiB
CHUNK = 64 * KiB
WAIT = 5.0
PREFIX = "test-ahead"


@dataclass(frozen=True)
class Fetch:
    offset: int
    length: int
    etag: str
    thread: str
    call: Call | None


class Source:
    """An object in memory, served one range at a time. `hold` makes each fetch wait until
    that many run at once (once reached, no fetch waits again)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.etag = "v1"
        self.fetches: list[Fetch] = []
        self.hold = 0
        self.gate: threading.Event | None = None  # read-ahead fetches wait for it
        self.in_flight = 0
        self.max_in_flight = 0
        self._reached = False
        self._cond = threading.Condition()

    def replace(self, data: bytes) -> None:
        with self._cond:
            self.data, self.etag = data, "v2"

    def wait_in_flight(self, n: int) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: self.in_flight >= n, timeout=WAIT)

    def first(self, length: int) -> Chunk:
        n = min(length, len(self.data))
        buffer = new_buffer(n)
        buffer[:n] = self.data[:n]
        return Chunk(0, buffer, len(self.data), self.etag, None)

    def fetch(
        self, offset: int, length: int, etag: str, allocate: Callable[[int], Buffer]
    ) -> Chunk:
        thread = threading.current_thread().name
        with self._cond:
            self.fetches.append(Fetch(offset, length, etag, thread, deadline.current()))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            if self.in_flight >= self.hold:
                self._reached = True
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._reached, timeout=WAIT)
            data, current = self.data, self.etag
        try:
            if self.gate is not None and thread.startswith(PREFIX):
                self.gate.wait(WAIT)
            if etag != current:
                raise PreconditionFailed(f"read: the object changed at {offset}")
            n = max(0, min(length, len(data) - offset))
            buffer = allocate(n)
            buffer[:n] = data[offset : offset + n]
            return Chunk(offset, buffer, len(data), current, None)
        finally:
            with self._cond:
                self.in_flight -= 1

    def ranges(self) -> list[tuple[int, int]]:
        return [(f.offset, f.offset + f.length) for f in self.fetches]


def reader(
    source: Source,
    *,
    chunk: int = CHUNK,
    concurrency: int = 1,
    seekable: bool = False,
    **extra: Any,
) -> RangeReader:
    return RangeReader(
        source,
        source.first(chunk),
        chunk_size=chunk,
        seekable=seekable,
        max_concurrency=concurrency,
        thread_name=PREFIX,
        **extra,
    )


def chunks(start: int, size: int, spans: Iterator[int]) -> list[tuple[int, int]]:
    out = []
    while start < size:
        n = min(next(spans), size - start)
        out.append((start, start + n))
        start += n
    return out


def always(n: int) -> Iterator[int]:
    while True:
        yield n


def doubling(first: int, cap: int) -> Iterator[int]:
    while True:
        yield first
        first = min(first * 2, cap)


def ahead_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(PREFIX)]


def drain(stream: io.RawIOBase, piece: int = 10_000) -> bytes:
    out = bytearray()
    buffer = bytearray(piece)
    while n := stream.readinto(buffer):
        out += buffer[:n]
    return bytes(out)


# ---------------------------------------------------------------------- sequential reads


@pytest.mark.parametrize("concurrency", [1, 2, 4])
def test_sequential_read_fetches_each_chunk_once_none_past_the_end(concurrency: int) -> None:
    """REL-033."""
    data = os.urandom(10 * CHUNK + 1000)
    source = Source(data)
    with reader(source, concurrency=concurrency) as stream:
        assert drain(stream) == data
    assert sorted(source.ranges()) == chunks(CHUNK, len(data), always(CHUNK))
    threads = {f.thread for f in source.fetches}
    if concurrency == 1:
        assert threads == {threading.current_thread().name}
    else:
        assert any(name.startswith(PREFIX) for name in threads), threads
    assert not ahead_threads()


@pytest.mark.parametrize("concurrency", [2, 3, 4])
def test_read_ahead_keeps_max_concurrency_fetches_in_flight(concurrency: int) -> None:
    """REL-033: depth max_concurrency - 1 ahead, plus the chunk the reader waits for: exactly
    max_concurrency fetches run at once, never more."""
    data = os.urandom(12 * CHUNK)
    source = Source(data)
    source.hold = concurrency
    with reader(source, concurrency=concurrency) as stream:
        assert stream.read() == data
    assert source.max_in_flight == concurrency


def test_each_fetch_is_a_call_of_its_own_unless_one_is_open() -> None:
    """REL-030, REL-033: read-ahead threads run in the caller's context: inside an open
    call they share its deadline; outside, every chunk opens a call under the reader's
    policy."""
    data = os.urandom(8 * CHUNK)
    policy = RetryPolicy(timeout=30.0)
    source = Source(data)
    with reader(source, concurrency=4, policy=policy) as stream:
        stream.read()
    calls = [f.call for f in source.fetches]
    assert all(c is not None and c.policy is policy for c in calls)
    assert len({id(c) for c in calls}) == len(calls)
    source = Source(data)
    with call_scope(RetryPolicy(timeout=5.0)) as outer, reader(source, concurrency=4) as stream:
        stream.read()
    assert all(f.call is outer for f in source.fetches)


# ---------------------------------------------------------------------- the first ETag


@pytest.mark.parametrize("concurrency", [1, 4])
def test_an_object_replaced_mid_read_raises_precondition_failed(concurrency: int) -> None:
    """REL-033: every fetch carries the first chunk's ETag: once the object changes, the reader
    raises where it reaches a chunk fetched after the change, and what it returned before
    is a prefix of the old version (never the new one's bytes)."""
    old = os.urandom(8 * CHUNK)
    source = Source(old)
    got = bytearray()
    with reader(source, concurrency=concurrency) as stream:
        got += stream.read(CHUNK + 1)
        source.replace(os.urandom(len(old)))
        with pytest.raises(PreconditionFailed):
            while piece := stream.read(1000):
                got += piece
    assert old.startswith(got)
    assert len(got) < len(old)
    assert {f.etag for f in source.fetches} == {"v1"}


# ---------------------------------------------------------------------- seeks


def test_a_forward_only_reader_refuses_to_seek() -> None:
    """REL-033."""
    with reader(Source(b"x" * 10)) as stream:
        assert not stream.seekable()
        with pytest.raises(io.UnsupportedOperation):
            stream.seek(3)


@pytest.mark.parametrize("concurrency", [1, 4])
def test_after_a_seek_fetches_start_small_and_double(concurrency: int) -> None:
    """REL-033."""
    data = os.urandom(4 * MiB)
    source = Source(data)
    start = MiB + 12345
    with reader(source, chunk=MiB, concurrency=concurrency, seekable=True) as stream:
        source.fetches.clear()
        stream.seek(start)
        assert drain(stream) == data[start:]
    assert sorted(source.ranges()) == chunks(start, len(data), doubling(FIRST_SPAN, MiB))


def test_random_reads_fetch_first_span_and_nothing_ahead() -> None:
    """REL-033."""
    data = os.urandom(4 * MiB)
    source = Source(data)
    offsets = [3 * MiB + 7, 2 * MiB + 100, MiB + 5000, 3 * MiB + 500_000]
    with reader(source, chunk=MiB, concurrency=4, seekable=True) as stream:
        for offset in offsets:
            stream.seek(offset)
            assert stream.read(4 * KiB) == data[offset : offset + 4 * KiB]
    assert source.ranges() == [(o, o + FIRST_SPAN) for o in offsets]


def test_a_large_read_after_a_seek_fetches_its_size() -> None:
    """REL-033."""
    data = os.urandom(3 * MiB)
    source = Source(data)
    with reader(source, chunk=MiB, seekable=True) as stream:
        stream.seek(2 * MiB)
        assert stream.read(300 * KiB) == data[2 * MiB : 2 * MiB + 300 * KiB]
    assert source.ranges() == [(2 * MiB, 2 * MiB + 300 * KiB)]


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_reader_opened_on_metadata_fetches_nothing_until_read(concurrency: int) -> None:
    """REL-033, AZ-039: opened on `metadata_only` (what a HEAD says), the reader knows the
    size and fetches nothing; its first read is sized like one after a seek (at least
    FIRST_SPAN, or the read's size), every fetch pinned to the HEAD's ETag, and reads from
    the start grow to whole chunks before any read-ahead."""
    data = os.urandom(4 * MiB)
    source = Source(data)
    first = metadata_only(len(data), source.etag)
    with RangeReader(
        source,
        first,
        chunk_size=MiB,
        seekable=True,
        max_concurrency=concurrency,
        thread_name=PREFIX,
    ) as stream:
        assert stream.seek(-8, io.SEEK_END) == len(data) - 8
        assert source.fetches == []
        assert stream.read(8) == data[-8:]
        stream.seek(MiB)
        assert stream.read(200 * KiB) == data[MiB : MiB + 200 * KiB]
        assert source.ranges() == [(len(data) - 8, len(data)), (MiB, MiB + 200 * KiB)]
        source.fetches.clear()
        stream.seek(0)
        assert drain(stream) == data
    assert sorted(source.ranges()) == chunks(0, len(data), doubling(FIRST_SPAN, MiB))
    assert {f.etag for f in source.fetches} == {"v1"}


def test_seeks_within_and_away_from_the_read_ahead() -> None:
    """REL-033."""
    data = os.urandom(16 * CHUNK)
    source = Source(data)
    with reader(source, concurrency=4, seekable=True) as stream:
        assert stream.read(CHUNK + 1) == data[: CHUNK + 1]  # chunk 1 in place, 2..4 ahead
        stream.seek(3 * CHUNK + 5)
        assert stream.read(10) == data[3 * CHUNK + 5 : 3 * CHUNK + 15]
        starts = [f.offset for f in source.fetches]
        assert starts.count(3 * CHUNK) == 1  # the read-ahead's fetch, used
        assert 3 * CHUNK + 5 not in starts  # no fetch of its own
        stream.seek(10 * CHUNK)
        assert stream.read(10) == data[10 * CHUNK : 10 * CHUNK + 10]
        assert stream.tell() == 10 * CHUNK + 10
        stream.seek(-5, io.SEEK_END)
        assert stream.read() == data[-5:]
        stream.seek(0)
        assert stream.read() == data
        with pytest.raises(InvalidArgument):
            stream.seek(-1)


# ---------------------------------------------------------------------- buffers


@pytest.mark.parametrize("concurrency", [1, 4, 8])
def test_a_sequential_read_reuses_its_chunk_buffers(concurrency: int) -> None:
    """REL-033: a chunk's mapped buffer, once read, holds a later chunk: 20 chunks allocate at most
    max_concurrency + 1 buffers of a chunk's size."""
    data = os.urandom(20 * MiB + 1000)
    source = Source(data)
    sizes: list[int] = []

    def allocate(size: int) -> Buffer:
        sizes.append(size)
        return new_buffer(size)

    with reader(source, chunk=MiB, concurrency=concurrency, allocate=allocate) as stream:
        assert drain(stream, MiB) == data
    assert len(source.fetches) == 20
    assert len([s for s in sizes if s == MiB]) <= concurrency + 1, sizes


def test_write_to_hands_the_sink_each_chunk_and_releases_it() -> None:
    """REL-033."""
    data = os.urandom(3 * CHUNK + 10)
    kept: list[Any] = []
    sizes: list[int] = []
    sink = io.BytesIO()

    class Keeping:
        def write(self, piece: memoryview) -> int:
            kept.append(piece)
            sizes.append(len(piece))
            return sink.write(piece)

    with reader(Source(data), concurrency=2) as stream:
        assert stream.write_to(Keeping()) == len(data)
    assert sink.getvalue() == data
    assert sizes == [CHUNK, CHUNK, CHUNK, 10]  # one write per chunk, no copy
    with pytest.raises(ValueError, match="released"):
        bytes(kept[0])

    class Exporting:
        def write(self, piece: memoryview) -> None:
            kept.append(pickle.PickleBuffer(piece))  # a buffer export, as numpy makes

    with reader(Source(data)) as stream, pytest.raises(InvalidArgument, match="must copy"):
        stream.write_to(Exporting())


def test_close_waits_for_the_read_ahead_in_flight() -> None:
    """REL-033."""
    data = os.urandom(16 * CHUNK)
    source = Source(data)
    source.gate = threading.Event()
    stream = reader(source, concurrency=4)
    assert stream.read(CHUNK + 1) == data[: CHUNK + 1]  # chunk 1 in place, 2..4 ahead
    source.wait_in_flight(3)
    closer = threading.Thread(target=stream.close)
    closer.start()
    closer.join(0.3)
    assert closer.is_alive()  # held by the fetches in flight
    source.gate.set()
    closer.join(WAIT)
    assert not closer.is_alive()
    assert stream.closed
    fetched = len(source.fetches)
    assert not ahead_threads()
    assert fetched == len(source.fetches) <= 4


# ---------------------------------------------------------------------- fill


class Cut(Exception):
    pass


def body(data: bytes, cut_after: int | None = None, piece: int = 7) -> Iterable[bytes]:
    for at in range(0, len(data), piece):
        if cut_after is not None and at >= cut_after:
            raise Cut(f"cut at {at}")
        yield data[at : at + piece]


def test_fill_resumes_a_cut_or_short_body_where_it_stopped() -> None:
    """REL-033."""
    data = os.urandom(100)
    resumed: list[int] = []

    def resume(filled: int) -> Iterable[bytes]:
        resumed.append(filled)
        if len(resumed) == 1:
            return iter([data[filled : filled + 10]])  # ends short again
        return body(data[filled:])

    buffer = bytearray(len(data))
    assert fill(buffer, body(data, cut_after=35), resume, cut=(Cut,), short=EOFError) == 100
    assert bytes(buffer) == data
    assert resumed == [35, 45]


def test_fill_gives_up_after_its_resumes() -> None:
    """REL-033."""
    data = os.urandom(100)
    resumed: list[int] = []

    def resume(filled: int) -> Iterable[bytes]:
        resumed.append(filled)
        return iter([])  # nothing more, ever

    with pytest.raises(EOFError, match="ended at 14 of 100"):
        fill(bytearray(100), body(data[:14]), resume, cut=(Cut,), short=EOFError, resumes=2)
    assert resumed == [14, 14]
    with pytest.raises(Cut):
        fill(
            bytearray(100),
            body(data, cut_after=0),
            lambda n: body(data, 0),
            cut=(Cut,),
            short=EOFError,
        )


def test_fill_lets_other_errors_through() -> None:
    """REL-033."""

    def broken() -> Iterator[bytes]:
        yield b"abc"
        raise KeyError("not a cut")

    with pytest.raises(KeyError):
        fill(bytearray(10), broken(), lambda n: iter([]), cut=(Cut,), short=EOFError)


def test_total_size_reads_content_range() -> None:
    """REL-033."""
    assert total_size("bytes 0-1023/4096", 1024) == 4096
    assert total_size("bytes 0-1023/*", 1024) == 1024
    assert total_size(None, 7) == 7
