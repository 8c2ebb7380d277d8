"""How the Azure readers move bytes (issue 5, docs/performance.md), seen on the wire of the
real SDK against Azurite: one buffer per ranged GET, read-ahead at ``max_concurrency``,
small fetches for random reads on a seekable stream.

No timing assertions: requests are counted and their ranges compared, overlap is made
deterministic by holding a request until another one is in flight."""

from __future__ import annotations

import io
import os
import pickle
import random
import threading
from collections.abc import Iterator
from typing import Any, cast

import pytest
from azure.storage.blob import BlobServiceClient

from remote_store.backends.azure import AzureBackend
from remote_store.backends.azure import reader as reader_module
from remote_store.backends.azure.reader import FIRST_SPAN, THREAD_NAME
from remote_store.errors import InvalidArgument, PreconditionFailed
from remote_store.store import Store
from remote_store.transfer.prefetch import ReadAhead
from tests.azure.conftest import BackendFactory
from tests.azure.wire import CHUNK, WAIT, Wire
from tests.azure_support import Azurite
from tests.fault_proxy import Fault, FaultProxy, Match

KiB = 1024
MiB = 1024 * KiB


def _chunks(start: int, size: int, spans: Iterator[int]) -> list[tuple[int, int]]:
    """The ranges a reader fetches from *start* to *size* with the given spans."""
    out = []
    while start < size:
        n = min(next(spans), size - start)
        out.append((start, start + n - 1))
        start += n
    return out


def _doubling(first: int, cap: int) -> Iterator[int]:
    span = first
    while True:
        yield span
        span = min(span * 2, cap)


def _always(n: int) -> Iterator[int]:
    while True:
        yield n


def _read_ahead_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(THREAD_NAME)]


@pytest.fixture
def mapped(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every read buffer the readers allocate, in order."""
    sizes: list[int] = []
    real = reader_module._buffer

    def counting(size: int) -> Any:
        sizes.append(size)
        return real(size)

    monkeypatch.setattr(reader_module, "_buffer", counting)
    return sizes


def _store(make_backend: BackendFactory, wire: Wire, concurrency: int, **extra: Any) -> Store:
    return Store(make_backend(max_concurrency=concurrency, client_options=wire.options(**extra)))


def _drain(stream: Any, piece: int = 64 * KiB) -> bytes:
    reader = cast(io.RawIOBase, stream)
    out = bytearray()
    buffer = bytearray(piece)
    while n := reader.readinto(buffer):
        out += buffer[:n]
    return bytes(out)


# ---------------------------------------------------------------------- sequential reads


@pytest.mark.parametrize("seekable", [False, True], ids=["read", "read_seekable"])
@pytest.mark.parametrize("concurrency", [1, 4])
def test_sequential_read_fetches_each_chunk_once(
    make_backend: BackendFactory, wire: Wire, concurrency: int, seekable: bool
) -> None:
    """AZ-038, AZ-039: at any max_concurrency, a sequential read is one GET per chunk, none past
    the end; read_seekable (opened on a HEAD) grows from 64 KiB to whole chunks, then reads
    as read() does."""
    data = os.urandom(10 * CHUNK + 1000)
    store = _store(make_backend, wire, concurrency)
    store.write("f", data)
    opener = store.read_seekable if seekable else store.read
    with opener("f") as stream:
        got = _drain(stream)
        if concurrency == 1:
            assert not _read_ahead_threads()
    assert got == data
    spans = _doubling(FIRST_SPAN, CHUNK) if seekable else _always(CHUNK)
    assert wire.ranges() == _chunks(0, len(data), spans), wire.gets
    assert all(g.status == 206 for g in wire.gets)
    threads = {g.thread for g in wire.gets}
    if concurrency == 1:
        assert threads == {threading.current_thread().name}
    else:
        assert any(t.startswith(THREAD_NAME) for t in threads), threads
    assert not _read_ahead_threads()


def test_read_ahead_keeps_requests_in_flight_together(
    make_backend: BackendFactory, wire: Wire
) -> None:
    """AZ-038: max_concurrency=4: the reader has several GETs in flight (the first one after the
    open is held until a second is sent: a sequential reader never sends it), never more
    than max_concurrency."""
    data = os.urandom(12 * CHUNK)
    store = _store(make_backend, wire, 4)
    store.write("f", data)
    with store.read("f") as stream:
        wire.clear()
        wire.hold_until = 2
        assert stream.read() == data
    assert wire.max_in_flight >= 2, wire.gets
    assert wire.max_in_flight <= 4, wire.max_in_flight


@pytest.mark.parametrize("concurrency", [1, 4, 8])
def test_sequential_read_reuses_its_chunk_buffers(
    make_backend: BackendFactory, wire: Wire, mapped: list[int], concurrency: int
) -> None:
    """AZ-038: the mapped buffer of a chunk read is reused for a later chunk: a read of 20
    chunks maps at most max_concurrency + 1 buffers (a fresh mapping per chunk cost page
    faults and zeroing on every chunk)."""
    chunk = MiB  # buffers from 1 MiB up are mapped, and reused
    data = os.urandom(20 * chunk + 1000)
    store = _store(make_backend, wire, concurrency, max_chunk_get_size=chunk)
    store.write("f", data)
    with store.read("f") as stream:
        got = _drain(stream, MiB)
    assert got == data
    assert len(wire.ranges()) == 21, wire.gets
    full = [size for size in mapped if size == chunk]
    assert 1 <= len(full) <= concurrency + 1, mapped


@pytest.mark.parametrize("concurrency", [1, 4])
def test_read_to_fetches_and_maps_as_a_sequential_read(
    make_backend: BackendFactory, wire: Wire, mapped: list[int], concurrency: int
) -> None:
    """AZ-043: read_to sends the GETs a sequential read() does (one per chunk, pinned to the
    first ETag), reuses its mapped buffers, and hands the sink views of them (no copy):
    each write is a whole chunk."""
    chunk = MiB
    data = os.urandom(12 * chunk + 1000)
    store = _store(make_backend, wire, concurrency, max_chunk_get_size=chunk)
    store.write("f", data)
    written: list[int] = []
    sink = io.BytesIO()

    class Recording:
        def write(self, piece: memoryview) -> int:
            assert isinstance(piece, memoryview)
            written.append(len(piece))
            return sink.write(piece)

    assert store.read_to("f", Recording()) == len(data)
    assert sink.getvalue() == data
    assert written == [chunk] * 12 + [1000]
    assert wire.ranges() == _chunks(0, len(data), _always(chunk)), wire.gets
    etags = {g.if_match for g in wire.gets[1:]}
    assert len(etags) == 1 and None not in etags, wire.gets
    assert 1 <= len([size for size in mapped if size == chunk]) <= concurrency + 1, mapped
    assert not _read_ahead_threads()


def test_read_to_releases_each_view_it_hands_the_sink(make_backend: BackendFactory) -> None:
    """AZ-043: a sink that keeps the view it was given (against the write() contract) cannot
    read a later chunk's bytes through it; one that keeps a buffer over it makes read_to
    raise InvalidArgument, unless the sink itself failed: then its error is the one."""
    store = Store(make_backend(client_options={"max_chunk_get_size": MiB}))
    store.write("f", os.urandom(3 * MiB))
    kept: list[memoryview] = []

    class Keeping:
        def write(self, piece: memoryview) -> None:
            kept.append(piece)

    assert store.read_to("f", Keeping()) == 3 * MiB
    assert len(kept) == 3
    with pytest.raises(ValueError, match="released"):
        bytes(kept[0])
    held: list[Any] = []

    class Exporting:
        def write(self, piece: memoryview) -> None:
            held.append(pickle.PickleBuffer(piece))  # holds a buffer export, as numpy would

    with pytest.raises(InvalidArgument, match="must copy it"):
        store.read_to("f", Exporting())

    class ExportingThenFailing:
        def write(self, piece: memoryview) -> None:
            held.append(pickle.PickleBuffer(piece))
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):  # its own error, not ours
        store.read_to("f", ExportingThenFailing())


def test_read_ahead_loads_while_the_reader_waits_for_its_range() -> None:
    """AZ-038: with read-ahead depth max_concurrency - 1, the range the reader has taken and
    waits for is loaded together with the depth queued after it: max_concurrency loads run
    at once (a pool of depth threads ran one fewer)."""
    together = threading.Barrier(4, timeout=WAIT)

    def load(offset: int, length: int) -> int:
        together.wait()  # breaks (and raises) unless four loads run at once
        return offset

    ahead: ReadAhead[int] = ReadAhead(load, 3)
    try:
        ahead.extend(0, 100, 10)
        taken = ahead.take(0)
        assert taken is not None
        ahead.extend(10, 100, 10)
        assert taken.future.result(timeout=2 * WAIT) == 0
    finally:
        ahead.close()


# ---------------------------------------------------------------------- seekable reads


@pytest.mark.parametrize("concurrency", [1, 4])
def test_random_small_reads_fetch_small_ranges(
    make_backend: BackendFactory, wire: Wire, concurrency: int
) -> None:
    """AZ-039: random 4 KiB reads fetch 64 KiB each, not a whole chunk (1 MiB here), and fetch
    nothing ahead."""
    data = os.urandom(4 * MiB)
    store = _store(make_backend, wire, concurrency, max_chunk_get_size=MiB)
    store.write("f", data)
    offsets = random.Random(7).sample(range(MiB, len(data)), 40)
    with store.read_seekable("f") as stream:
        wire.clear()
        for offset in offsets:
            stream.seek(offset)
            assert stream.read(4 * KiB) == data[offset : offset + 4 * KiB]
    assert 0 < len(wire.gets) <= len(offsets)
    assert wire.moved() <= len(offsets) * FIRST_SPAN, wire.moved()
    assert all(g.end - g.start + 1 <= FIRST_SPAN for g in wire.gets), wire.gets


@pytest.mark.parametrize("concurrency", [1, 4])
def test_sequential_reads_after_a_seek_grow_their_fetches(
    make_backend: BackendFactory, wire: Wire, concurrency: int
) -> None:
    """AZ-039: after a seek out of the buffer: 64 KiB, then 128, 256, 512 KiB, then whole chunks
    (read ahead with max_concurrency > 1: the same ranges)."""
    data = os.urandom(5 * MiB)
    store = _store(make_backend, wire, concurrency, max_chunk_get_size=MiB)
    store.write("f", data)
    start = MiB + 12345
    with store.read_seekable("f") as stream:
        wire.clear()
        stream.seek(start)
        got = bytearray()
        while piece := stream.read(10_000):
            got += piece
    assert got == data[start:]
    assert wire.ranges() == _chunks(start, len(data), _doubling(FIRST_SPAN, MiB)), wire.gets


def test_a_large_read_after_a_seek_fetches_what_it_asks(
    make_backend: BackendFactory, wire: Wire
) -> None:
    """AZ-039: a read over 64 KiB after a seek fetches its size in one GET (up to a chunk)."""
    data = os.urandom(3 * MiB)
    store = _store(make_backend, wire, 1, max_chunk_get_size=MiB)
    store.write("f", data)
    with store.read_seekable("f") as stream:
        wire.clear()
        stream.seek(2 * MiB)
        assert stream.read(300 * KiB) == data[2 * MiB : 2 * MiB + 300 * KiB]
    assert wire.ranges() == [(2 * MiB, 2 * MiB + 300 * KiB - 1)]


def test_seeks_within_and_away_from_the_read_ahead(
    make_backend: BackendFactory, wire: Wire
) -> None:
    """AZ-038: a seek into a chunk already fetched ahead uses it; one away from it drops the rest
    and reads the right bytes."""
    data = os.urandom(16 * CHUNK)
    store = _store(make_backend, wire, 4)
    store.write("f", data)
    with store.read_seekable("f") as stream:
        assert stream.read(CHUNK + 1) == data[: CHUNK + 1]  # fetches chunk 1, 2..4 ahead
        stream.seek(3 * CHUNK + 5)
        assert stream.read(10) == data[3 * CHUNK + 5 : 3 * CHUNK + 15]
        starts = [g.start for g in wire.gets]
        assert starts.count(3 * CHUNK) == 1, wire.gets  # the read-ahead's GET
        assert 3 * CHUNK + 5 not in starts, wire.gets  # no GET of its own
        stream.seek(10 * CHUNK)
        assert stream.read(10) == data[10 * CHUNK : 10 * CHUNK + 10]
        stream.seek(0)
        assert stream.read() == data


# ---------------------------------------------------------------------- consistency


@pytest.mark.parametrize("when", ["before-next-is-sent", "after-next-arrived"])
def test_blob_replaced_while_chunks_are_read_ahead_raises(
    make_backend: BackendFactory, wire: Wire, azurite: Azurite, container: str, when: str
) -> None:
    """AZ-034, AZ-038: a blob replaced mid-read raises PreconditionFailed when the reader
    reaches a chunk fetched after the change (a read-ahead's 412 surfaces there, not
    earlier); chunks fetched before it are the old version's bytes."""
    data = os.urandom(8 * CHUNK)
    store = _store(make_backend, wire, 4)
    store.write("f", data)
    direct = BlobServiceClient.from_connection_string(azurite.connection_string)
    replaced: list[int] = []
    # "before": replace just before chunk 2 (read ahead) is requested, once chunk 1 (the
    # chunk read in place) has its answer. "after": once chunks 2..4 (read ahead) have
    # theirs, so chunk 5 is the first one refused.
    first_refused = 2 if when == "before-next-is-sent" else 5

    def replace() -> None:
        direct.get_blob_client(container, "f").upload_blob(os.urandom(len(data)), overwrite=True)
        replaced.append(1)

    def before_get(start: int, thread: str) -> None:
        if when == "before-next-is-sent" and start == 2 * CHUNK and not replaced:
            assert thread.startswith(THREAD_NAME)
            wire.wait_for_get(CHUNK)
            replace()

    wire.before_get = before_get
    with direct, store.read("f") as stream:
        assert stream.read(CHUNK + 1) == data[: CHUNK + 1]
        if when == "after-next-arrived":
            for n in (2, 3, 4):
                wire.wait_for_get(n * CHUNK)
            replace()
        got = stream.read(first_refused * CHUNK - CHUNK - 1)
        assert got == data[CHUNK + 1 : first_refused * CHUNK]
        with pytest.raises(PreconditionFailed):
            stream.read(1)
    assert replaced
    assert any(g.status == 412 for g in wire.gets), wire.gets


def test_close_waits_for_read_ahead_and_sends_nothing_after(
    make_backend: BackendFactory, wire: Wire
) -> None:
    """AZ-038: close() with read-ahead requests in flight returns once they end: no request after
    it, no read-ahead thread left."""
    data = os.urandom(16 * CHUNK)
    store = _store(make_backend, wire, 4)
    store.write("f", data)
    started, release = threading.Event(), threading.Event()

    def before_get(start: int, thread: str) -> None:
        if thread.startswith(THREAD_NAME):
            started.set()
            release.wait(WAIT)

    stream = store.read("f")
    wire.clear()
    wire.before_get = before_get
    assert stream.read(CHUNK + 1) == data[: CHUNK + 1]  # chunk 1 in place, 2..4 ahead
    assert started.wait(WAIT)
    closer = threading.Thread(target=stream.close)
    closer.start()
    closer.join(0.5)
    assert closer.is_alive()  # held: close() waits for the read-ahead in flight
    release.set()
    closer.join(WAIT)
    assert not closer.is_alive()
    assert stream.closed
    assert not _read_ahead_threads()
    assert wire.ranges() == _chunks(CHUNK, 5 * CHUNK, _always(CHUNK)), wire.gets
    assert wire.in_flight == 0


# ---------------------------------------------------------------------- cut bodies


def test_a_cut_body_resumes_where_it_stopped(
    azurite_proxy: FaultProxy, container: str, wire: Wire
) -> None:
    """AZ-033: a body cut mid-way is re-requested from where it stopped, to the chunk's end,
    pinned to the ETag: not the whole range again."""
    data = os.urandom(3 * MiB)
    backend = AzureBackend(
        container,
        connection_string=azurite_proxy.connection_string,
        hns=False,
        client_options=wire.options(max_chunk_get_size=MiB),
        max_concurrency=1,  # one GET at a time: the second to arrive is the second chunk
    )
    with Store(backend) as store:
        store.write("f", data)
        azurite_proxy.add(
            Fault.reset_mid_body(300_000, skip=1, match=Match(method="GET", path=r"/f$"))
        )
        with store.read("f") as stream:
            assert stream.read() == data
    assert azurite_proxy.stats().faults["reset_mid_body"] == 1
    second = [g for g in wire.gets if g.end == 2 * MiB - 1]
    assert len(second) == 2, wire.gets
    cut, resumed = second
    assert cut.start == MiB
    assert MiB < resumed.start <= MiB + 300_000, wire.gets
    assert resumed.if_match is not None
    assert resumed.if_match == cut.if_match
