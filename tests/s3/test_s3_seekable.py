"""S3-017: what a seekable reader costs on the wire of a real MiniStack, counted by the
fault proxy (response-body bytes) and botocore's ``before-send`` (requests by operation):
the open is one HeadObject and no body byte, a read fetches about what it asks for, and a
forward-only `read()` keeps its whole first chunk."""

from __future__ import annotations

import os

import pytest

from remote_store.errors import PreconditionFailed
from remote_store.store import Store
from remote_store.transfer.reader import FIRST_SPAN
from tests.fault_proxy import FaultProxy
from tests.fault_proxy.fixtures import ProxyFactory
from tests.s3.conftest import MakeBackend
from tests.s3_support import RequestCounter, S3Server

pytestmark = pytest.mark.s3

MiB = 1024 * 1024
CHUNK = 4 * MiB


@pytest.fixture
def proxy(ministack: S3Server, fault_proxy: ProxyFactory) -> FaultProxy:
    return fault_proxy(ministack.endpoint)


@pytest.fixture
def store(make_backend: MakeBackend, proxy: FaultProxy) -> Store:
    return Store(make_backend(endpoint_url=proxy.url, chunk_get_size=CHUNK))


def test_a_seekable_reader_opens_on_a_head_and_reads_what_it_asks(
    store: Store, proxy: FaultProxy, counter: RequestCounter
) -> None:
    """S3-017: HeadObject at the open, no body byte; then one GetObject of max(n, 64 KiB)
    per random read (it was a GetObject of a whole chunk from offset 0 at the open)."""
    data = os.urandom(6 * MiB)
    store.write("f", data)
    proxy.clear()
    counter.clear()
    with store.read_seekable("f") as stream:
        assert counter.sent == ["HeadObject"]
        assert proxy.stats().bytes_down == 0, proxy.show()
        stream.seek(-8, os.SEEK_END)
        assert stream.read(8) == data[-8:]
        stream.seek(MiB)
        assert stream.read(100) == data[MiB : MiB + 100]
        stream.seek(2 * MiB)
        assert stream.read(MiB + 1) == data[2 * MiB : 3 * MiB + 1]
    assert counter.sent == ["HeadObject", "GetObject", "GetObject", "GetObject"]
    assert proxy.stats().bytes_down == 8 + FIRST_SPAN + MiB + 1, proxy.show()


def test_a_forward_read_keeps_its_whole_first_chunk(
    store: Store, proxy: FaultProxy, counter: RequestCounter
) -> None:
    """S3-017: read() opens with one GetObject of a whole chunk, no HEAD."""
    data = os.urandom(CHUNK + MiB)
    store.write("f", data)
    proxy.clear()
    counter.clear()
    with store.read("f") as stream:
        assert counter.sent == ["GetObject"]
        assert proxy.stats().bytes_down == CHUNK
        assert stream.read() == data


def test_an_object_replaced_after_the_open_raises(store: Store) -> None:
    """S3-017: the first GetObject already carries If-Match on the HEAD's ETag."""
    store.write("f", os.urandom(MiB))
    with store.read_seekable("f") as stream:
        store.write("f", b"new", overwrite=True)
        with pytest.raises(PreconditionFailed):
            stream.read(10)
