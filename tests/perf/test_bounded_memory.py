"""A 256 MiB streamed upload and download through `Store` on Azurite holds at most
block size x (max_concurrency + 1) of Python memory, whatever the file size (issue 5).

No timing: the largest single read from the source stream and the tracemalloc peak of
the transfer are asserted, and the content is verified by hash."""

from __future__ import annotations

import hashlib
import io
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

import pytest

from remote_store.backends.azure import AzureBackend
from remote_store.backends.azure.strategy import DEFAULT_BLOCK_SIZE, DEFAULT_CHUNK_GET_SIZE
from remote_store.store import Store
from tests.azure_support import Azurite
from tests.perf.streams import CountingStream

MiB = 1024 * 1024
SIZE = 256 * MiB
CONCURRENCY = 2
MARGIN = 2 * MiB  # SDK and HTTP bookkeeping, headers, the caller's 1 MiB read buffer


def _store(azurite: Azurite, prefix: str) -> Store:
    backend = AzureBackend(
        azurite.new_container(prefix),
        connection_string=azurite.connection_string,
        max_concurrency=CONCURRENCY,
        hns=False,
    )
    return Store(backend)


@dataclass
class Uploaded:
    store: Store
    peak: int
    source: CountingStream


@pytest.fixture(scope="module")
def uploaded(azurite: Azurite) -> Iterator[Uploaded]:
    """One 256 MiB streamed upload, its tracemalloc peak taken; the download reads it back."""
    with _store(azurite, "perf-mem") as store:
        source = CountingStream(SIZE)
        peak = _peak_during(lambda: store.write("big.bin", cast(BinaryIO, source)))
        assert source.pos == SIZE
        yield Uploaded(store, peak, source)


def _peak_during(action: Any) -> int:
    """Bytes of Python allocations at their highest during *action*, above where it began."""
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - base


def test_streamed_upload_memory_is_bounded(uploaded: Uploaded) -> None:
    assert uploaded.source.largest_read <= DEFAULT_BLOCK_SIZE, uploaded.source.largest_read
    bound = DEFAULT_BLOCK_SIZE * (CONCURRENCY + 1) + MARGIN
    peak = uploaded.peak
    assert peak <= bound, f"upload held {peak / MiB:.1f} MiB (bound {bound / MiB:.0f} MiB)"


class ShortReads(CountingStream):
    """Hands out at most 1 MiB + 3 bytes per read, so no block is one piece of the source."""

    def read(self, n: int = -1) -> bytes:
        return super().read(min(n, MiB + 3) if n is not None and n >= 0 else MiB + 3)


def test_short_read_upload_memory_is_bounded(azurite: Azurite) -> None:
    """Blocks cut from many short reads cost one join each: one block more than the
    aligned case, never the whole file."""
    with _store(azurite, "perf-mem-short") as store:
        source = ShortReads(64 * MiB)
        peak = _peak_during(lambda: store.write("short.bin", cast(BinaryIO, source)))
        assert store.get_file_info("short.bin").size == 64 * MiB
        assert store.read_bytes("short.bin") == _expected(64 * MiB)
    bound = DEFAULT_BLOCK_SIZE * (CONCURRENCY + 2) + MARGIN
    assert peak <= bound, f"upload held {peak / MiB:.1f} MiB (bound {bound / MiB:.0f} MiB)"


def _expected(size: int) -> bytes:
    return CountingStream(size).read(size)


def _download_peak(uploaded: Uploaded) -> int:
    """Stream the file back through `Store.read` (hash-verified); the tracemalloc peak."""
    digest = hashlib.md5()
    largest = 0

    def download() -> None:
        nonlocal largest
        buffer = bytearray(MiB)
        with uploaded.store.read("big.bin") as stream:
            reader = cast(io.RawIOBase, stream)
            while n := reader.readinto(buffer):
                largest = max(largest, n)
                digest.update(memoryview(buffer)[:n])

    peak = _peak_during(download)
    assert digest.hexdigest() == uploaded.source.md5.hexdigest()
    assert largest <= MiB
    return peak


@pytest.fixture(scope="module")
def download_peak(uploaded: Uploaded) -> int:
    return _download_peak(uploaded)


def test_streamed_download_memory_is_bounded(download_peak: int) -> None:
    peak = download_peak
    bound = DEFAULT_CHUNK_GET_SIZE * (CONCURRENCY + 1) + MARGIN
    assert peak <= bound, f"download held {peak / MiB:.1f} MiB (bound {bound / MiB:.0f} MiB)"


class _HashingSink:
    def __init__(self) -> None:
        self.digest = hashlib.md5()
        self.largest = 0

    def write(self, data: memoryview) -> None:
        self.largest = max(self.largest, len(data))
        self.digest.update(data)


def test_read_to_memory_is_bounded(uploaded: Uploaded) -> None:
    """AZ-043: read_to hands the sink the chunk buffers themselves: no more held than a
    streamed read, and no caller's buffer."""
    sink = _HashingSink()
    peak = _peak_during(lambda: uploaded.store.read_to("big.bin", sink))
    assert sink.digest.hexdigest() == uploaded.source.md5.hexdigest()
    assert sink.largest == DEFAULT_CHUNK_GET_SIZE
    bound = DEFAULT_CHUNK_GET_SIZE * (CONCURRENCY + 1) + MARGIN
    assert peak <= bound, f"read_to held {peak / MiB:.1f} MiB (bound {bound / MiB:.0f} MiB)"
