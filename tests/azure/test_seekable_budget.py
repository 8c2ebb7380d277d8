"""What a seekable reader costs on the wire (AZ-039, issue 21): opening is one HEAD and no
body byte, a read fetches about what it asks for, and a sequential `read()` keeps its big
first GET. Counted by the fault proxy in front of the real Azurite: requests by method and
response-body bytes, the same counters `benchmarks.datascience` reports."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from azure.storage.blob import BlobServiceClient

from remote_store.backends.azure import AzureBackend
from remote_store.backends.azure.reader import FIRST_SPAN
from remote_store.errors import NotFound, PreconditionFailed
from remote_store.store import Store
from tests.azure_support import Azurite
from tests.fault_proxy import FaultProxy

KiB = 1024
MiB = 1024 * KiB
CHUNK = 4 * MiB  # the reader's chunk here: what a first GET of read() asks for


@pytest.fixture
def store(azurite_proxy: FaultProxy, container: str) -> Iterator[Store]:
    backend = AzureBackend(
        container,
        connection_string=azurite_proxy.connection_string,
        hns=False,
        client_options={"max_chunk_get_size": CHUNK},
        max_concurrency=4,
    )
    with Store(backend) as opened:
        yield opened


def _methods(proxy: FaultProxy) -> list[str]:
    return [e.method for e in proxy.log()]


def test_opening_a_seekable_reader_moves_no_body_byte(
    store: Store, azurite_proxy: FaultProxy
) -> None:
    """AZ-039: read_seekable is one HEAD and no body byte until the first read (it was one
    GET of a whole chunk from offset 0, which a Parquet reader throws away)."""
    data = os.urandom(6 * MiB)
    store.write("f", data)
    azurite_proxy.clear()
    with store.read_seekable("f") as stream:
        assert _methods(azurite_proxy) == ["HEAD"], azurite_proxy.show()
        assert azurite_proxy.stats().bytes_down == 0, azurite_proxy.show()
        assert stream.seek(-100, os.SEEK_END) == len(data) - 100  # the size came with the HEAD
    assert azurite_proxy.stats().bytes_down == 0, azurite_proxy.show()


def test_a_random_read_fetches_about_what_it_asks(store: Store, azurite_proxy: FaultProxy) -> None:
    """AZ-039: after the open, a read of n bytes is one GET of max(n, 64 KiB): a footer's 8
    bytes cost 64 KiB, a 1.5 MiB column chunk 1.5 MiB, never a whole chunk more."""
    data = os.urandom(6 * MiB)
    store.write("f", data)
    azurite_proxy.clear()
    with store.read_seekable("f") as stream:
        stream.seek(-8, os.SEEK_END)
        assert stream.read(8) == data[-8:]
        assert azurite_proxy.stats().bytes_down == 8  # cut at the end of the blob
        stream.seek(MiB)
        assert stream.read(100) == data[MiB : MiB + 100]
        assert azurite_proxy.stats().bytes_down == 8 + FIRST_SPAN
        stream.seek(2 * MiB)
        wanted = 3 * MiB // 2
        assert stream.read(wanted) == data[2 * MiB : 2 * MiB + wanted]
        stats = azurite_proxy.stats()
    assert _methods(azurite_proxy) == ["HEAD", "GET", "GET", "GET"], azurite_proxy.show()
    assert stats.bytes_down == 8 + FIRST_SPAN + wanted, azurite_proxy.show()


def test_a_sequential_read_keeps_its_whole_first_chunk(
    store: Store, azurite_proxy: FaultProxy
) -> None:
    """AZ-033: read() (forward-only) still opens with one GET of a whole chunk: NotFound at
    the call, and a streaming read starts at full speed with no HEAD before it."""
    data = os.urandom(CHUNK + MiB)
    store.write("f", data)
    azurite_proxy.clear()
    with store.read("f") as stream:
        assert _methods(azurite_proxy) == ["GET"], azurite_proxy.show()
        assert azurite_proxy.stats().bytes_down == CHUNK
        assert stream.read() == data
    assert _methods(azurite_proxy) == ["GET", "GET"], azurite_proxy.show()


def test_seekable_reader_of_an_empty_or_missing_blob(
    store: Store, azurite_proxy: FaultProxy
) -> None:
    """AZ-033, AZ-039: NotFound at the call (from the HEAD, then the core's one listing that
    tells a folder from nothing); an empty blob reads as b"" with no GET at all."""
    store.write("empty", b"")
    azurite_proxy.clear()
    with pytest.raises(NotFound):
        store.read_seekable("missing")
    with store.read_seekable("empty") as stream:
        assert stream.read() == b""
    blobs = [(e.method, e.path.rsplit("/", 1)[1]) for e in azurite_proxy.log() if not e.query]
    assert blobs == [("HEAD", "missing"), ("HEAD", "empty")], azurite_proxy.show()


def test_a_blob_replaced_between_open_and_first_read_raises(
    store: Store, azurite: Azurite, container: str
) -> None:
    """AZ-034: every GET of a seekable reader, the first included, carries If-Match on the
    HEAD's ETag: a blob replaced after the open raises PreconditionFailed, never mixing
    the new bytes with the size seen at open."""
    store.write("f", os.urandom(MiB))
    with store.read_seekable("f") as stream:
        with BlobServiceClient.from_connection_string(azurite.connection_string) as direct:
            direct.get_blob_client(container, "f").upload_blob(b"new", overwrite=True)
        with pytest.raises(PreconditionFailed):
            stream.read(10)
