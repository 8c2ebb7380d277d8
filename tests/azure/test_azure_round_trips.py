"""Round-trip budgets, counted on the wire through the SDK's raw_response_hook (AZ-040..)."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from remote_store.errors import AlreadyExists
from remote_store.store import Store
from tests.azure.conftest import BackendFactory
from tests.azure_support import RequestLog

SMALL = b"x" * 1000


def test_small_write_is_one_request(store: Store, requests_log: RequestLog) -> None:
    """AZ-040"""
    requests_log.clear()
    store.write("a.bin", SMALL)
    assert len(requests_log) == 1, requests_log.show()
    requests_log.clear()
    store.write("a.bin", SMALL, overwrite=True)
    assert len(requests_log) == 1, requests_log.show()


def test_small_write_overwrite_false_is_one_request(store: Store, requests_log: RequestLog) -> None:
    """AZ-040, AZ-041: the create-only condition rides on the Put Blob."""
    store.write("a.bin", SMALL)
    requests_log.clear()
    with pytest.raises(AlreadyExists):
        store.write("a.bin", b"other")
    assert len(requests_log) == 1, requests_log.show()
    assert store.read_bytes("a.bin") == SMALL


def test_small_stream_write_is_one_request(store: Store, requests_log: RequestLog) -> None:
    """AZ-040: a stream below the single-put threshold is read first, then put once."""
    import io

    store.write("s.bin", b"")
    requests_log.clear()
    store.write("t.bin", io.BytesIO(SMALL))
    assert len(requests_log) == 1, requests_log.show()


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.read_bytes("a.bin"),
        lambda s: s.exists("a.bin"),
        lambda s: s.is_file("a.bin"),
        lambda s: s.get_file_info("a.bin"),
        lambda s: s.head("a.bin"),
        lambda s: s.read("a.bin").close(),
        lambda s: s.is_folder("dir"),
        lambda s: s.delete("a.bin"),
    ],
    ids=["read_bytes", "exists", "is_file", "get_file_info", "head", "read", "is_folder", "delete"],
)
def test_one_request(store: Store, requests_log: RequestLog, call: object) -> None:
    """AZ-042"""
    store.write("a.bin", SMALL)
    requests_log.clear()
    call(store)  # type: ignore[operator]
    assert len(requests_log) == 1, requests_log.show()


def test_hns_detection_single_flight(
    make_backend: BackendFactory, requests_log: RequestLog
) -> None:
    """AZ-010: 16 concurrent first calls cause at most one GetAccountInfo."""
    backend = make_backend(hns=None)
    barrier = threading.Barrier(16)

    def first_call(i: int) -> bool:
        barrier.wait()
        return backend.exists(f"missing-{i}")

    with ThreadPoolExecutor(16) as pool:
        assert not any(pool.map(first_call, range(16)))
    assert (
        requests_log.count("comp=properties&restype=account")
        + requests_log.count("restype=account&comp=properties")
        == 1
    ), requests_log.show()
    requests_log.clear()
    backend.exists("again")
    assert requests_log.count("restype=account") == 0


def test_no_detection_with_hns_given(
    make_backend: BackendFactory, requests_log: RequestLog
) -> None:
    """AZ-011"""
    backend = make_backend(hns=False)
    backend.exists("x")
    _ = backend.capabilities
    assert requests_log.count("restype=account") == 0, requests_log.show()


def test_race_overwrite_false(store: Store) -> None:
    """AZ-041: 8 writers, one winner, the others AlreadyExists, the content the winner's."""
    barrier = threading.Barrier(8)

    def writer(i: int) -> str:
        barrier.wait()
        try:
            store.write("race.bin", f"writer-{i}".encode())
        except AlreadyExists:
            return "lost"
        return f"writer-{i}"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(writer, range(8)))
    winners = [o for o in outcomes if o != "lost"]
    assert len(winners) == 1, outcomes
    assert store.read_bytes("race.bin") == winners[0].encode()


def test_race_overwrite_false_staged(make_backend: BackendFactory) -> None:
    """AZ-041: the same holds for staged uploads (If-None-Match on Put Block List)."""
    store = Store(make_backend(client_options={"max_single_put_size": 1024, "max_block_size": 512}))
    barrier = threading.Barrier(4)

    def writer(i: int) -> bool:
        barrier.wait()
        try:
            store.write("race.bin", bytes([i]) * 4000)
        except AlreadyExists:
            return False
        return True

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(writer, range(4)))
    assert outcomes.count(True) == 1, outcomes
    data = store.read_bytes("race.bin")
    assert data == bytes([outcomes.index(True)]) * 4000


def test_detection_logged_once(
    make_backend: BackendFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """AZ-012 (Azurite answers GetAccountInfo without HNS: no warning at all)."""
    backend = make_backend(hns=None)
    with caplog.at_level(logging.WARNING, logger="remote_store.azure"):
        backend.exists("x")
        backend.exists("y")
    assert not caplog.records
    assert "flat" in repr(backend)
