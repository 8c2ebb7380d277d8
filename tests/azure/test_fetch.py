"""One ranged GET (`reader.fetch`) through the real SDK against Azurite: its memory at the
peak, a range past the end, and the ETag pin (issue 5, AZ-033)."""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Iterator

import pytest
from azure.storage.blob import BlobClient, BlobServiceClient

from remote_store.backends.azure.reader import fetch
from tests.azure_support import Azurite

MiB = 1024 * 1024


@pytest.fixture
def blob(azurite: Azurite, container: str) -> Iterator[BlobClient]:
    with BlobServiceClient.from_connection_string(azurite.connection_string) as service:
        yield service.get_blob_client(container, "big")


def test_fetch_streams_into_one_buffer(blob: BlobClient) -> None:
    """AZ-033: one 8 MiB ranged GET allocates under 1.5 x 8 MiB of Python memory at its
    peak (the SDK's download_blob().readall(): ~9x); the buffer itself is mapped pages,
    which test_rss_growth.py counts."""
    data = os.urandom(8 * MiB + 100)
    blob.upload_blob(data)
    fetch(blob, 0, 1024)  # connection and SDK warm-up, outside the measure
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        chunk = fetch(blob, 0, 8 * MiB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"fetch of 8 MiB: tracemalloc peak {(peak - base) / MiB:.2f} MiB")
    assert bytes(chunk.data) == data[: 8 * MiB]
    assert (chunk.offset, chunk.size) == (0, len(data))
    assert peak - base < 1.5 * 8 * MiB, f"{(peak - base) / MiB:.1f} MiB"


def test_fetch_near_the_end_and_pinned(blob: BlobClient) -> None:
    """A range past the end is cut to the blob; a stale ETag is refused (412)."""
    from azure.core.exceptions import ResourceModifiedError

    data = os.urandom(1000)
    blob.upload_blob(data)
    chunk = fetch(blob, 900, 500)
    assert (bytes(chunk.data), chunk.offset, chunk.size) == (data[900:], 900, 1000)
    assert chunk.etag == blob.get_blob_properties().etag
    blob.upload_blob(b"other", overwrite=True)
    with pytest.raises(ResourceModifiedError) as caught:
        fetch(blob, 0, 10, chunk.etag)
    assert caught.value.status_code == 412
