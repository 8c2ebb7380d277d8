"""AZ-044: the parallelism of a backend built without ``max_concurrency``, on the wire of the
real SDK against Azurite."""

from __future__ import annotations

import os
import threading

from remote_store.store import Store
from tests.azure.conftest import BackendFactory
from tests.azure.wire import CHUNK, Wire


def _azure_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("azure-")]


def test_large_transfers_keep_four_requests_in_flight(
    make_backend: BackendFactory, wire: Wire
) -> None:
    """AZ-044: a staged upload sends 4 blocks at once and a sequential read keeps 4 GETs in
    flight (the first request of each is held until 4 are), never more."""
    data = os.urandom(12 * CHUNK)
    options = wire.options(max_single_put_size=CHUNK, max_block_size=CHUNK)
    store = Store(make_backend(client_options=options))
    wire.hold_until = 4
    store.write("f", data)
    assert wire.max_in_flight == 4
    with store.read("f") as stream:
        wire.clear()
        wire.hold_until = 4
        assert stream.read() == data
    assert wire.max_in_flight == 4
    assert not _azure_threads()


def test_small_files_start_no_thread(make_backend: BackendFactory, wire: Wire) -> None:
    """AZ-044: a file of one block or one chunk is written and read by the caller's thread:
    the default parallelism costs small files nothing."""
    store = Store(make_backend(client_options=wire.options()))
    seen: list[str] = []
    wire.before_get = lambda _start, thread: seen.append(thread)
    store.write("f", b"x" * CHUNK)
    assert not _azure_threads()
    with store.read("f") as stream:
        assert stream.read() == b"x" * CHUNK
        assert not _azure_threads()
    assert store.read_bytes("f") == b"x" * CHUNK
    assert seen and set(seen) == {threading.current_thread().name}
    assert wire.max_in_flight == 1
