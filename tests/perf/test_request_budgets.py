"""Requests per operation on both strategies, counted in the HNS emulator's request log,
and the folder operations on Azurite (issue 5; the flat small-operation budgets against
Azurite are in tests/azure/test_azure_round_trips.py and are not repeated here)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from azure.storage.blob import ContainerClient

from remote_store.backends.azure import AzureBackend
from remote_store.store import Store
from tests.azure_support import Azurite, RequestLog
from tests.hns_emulator import HnsEmulator
from tests.perf.conftest import StoreFactory

SMALL = b"x" * 1024
Op = Callable[[Store], object]


@pytest.mark.parametrize("hns", [False, True], ids=["flat", "hns"])
@pytest.mark.parametrize(
    "op",
    [
        lambda s: s.write("new.bin", SMALL),
        lambda s: s.write("a.bin", SMALL, overwrite=True),
        lambda s: s.read_bytes("a.bin"),
        lambda s: s.exists("a.bin"),
        lambda s: s.get_file_info("a.bin"),
        pytest.param(lambda s: s.delete("a.bin"), id="delete"),
    ],
    ids=["write", "write-overwrite", "read_bytes", "exists", "get_file_info", "delete"],
)
def test_small_operation_is_one_request(
    emulator: HnsEmulator,
    emulator_store: StoreFactory,
    hns: bool,
    op: Op,
    request: pytest.FixtureRequest,
) -> None:
    """The raw SDK's minimum for each small operation is one request, on either namespace;
    ours is the same, but for the hierarchical delete."""
    # The one exception, by design: a hierarchical delete is a HEAD, then a Delete pinned
    # to its ETag. A Blob DELETE alone would also remove an empty directory (a folder
    # through the file API); the HEAD tells them apart (docs/performance.md).
    expected = 2 if hns and request.node.callspec.id.startswith("delete") else 1
    container = f"perf-small-{'hns' if hns else 'flat'}"
    if container not in emulator.namespace.containers:
        emulator.namespace.create_container(container, {}, dfs=False)
    store = emulator_store(container, hns=hns)
    store.delete("new.bin", missing_ok=True)
    store.write("a.bin", SMALL, overwrite=True)
    emulator.clear_requests()
    op(store)
    assert len(emulator.requests) == expected, emulator.requests


def _strategy(store: Store) -> str:
    return str(store.resolve("").details["strategy"])


def test_hierarchical_folder_operations(
    emulator: HnsEmulator, emulator_store: StoreFactory
) -> None:
    """On HNS, rename and recursive delete are one request each in the raw SDK."""
    if "perf-hns-folders" not in emulator.namespace.containers:
        emulator.namespace.create_container("perf-hns-folders", {}, dfs=True)
    store = emulator_store("perf-hns-folders", hns=True)
    store.write("d/a.bin", SMALL, overwrite=True)
    if _strategy(store) != "hierarchical":
        pytest.skip("the hierarchical strategy is not available yet")
    for i in range(50):
        store.write(f"tree/s{i % 5}/f{i}.bin", SMALL, overwrite=True)
    emulator.clear_requests()
    store.move("d/a.bin", "d/b.bin")
    assert len(emulator.requests) <= 2, emulator.requests
    emulator.clear_requests()
    store.delete_folder("tree", recursive=True)
    assert len(emulator.requests) <= 2, emulator.requests


@pytest.fixture
def counted(azurite: Azurite) -> tuple[Store, RequestLog]:
    log = RequestLog()
    backend = AzureBackend(
        azurite.new_container("perf"),
        connection_string=azurite.connection_string,
        client_options={"raw_response_hook": log},
        hns=False,
    )
    return Store(backend), log


def test_flat_delete_folder_is_one_listing_and_batches(counted: tuple[Store, RequestLog]) -> None:
    """260 files: one listing page and ceil(260 / 256) = 2 batch requests."""
    store, log = counted
    container = store.unwrap(ContainerClient)
    with ThreadPoolExecutor(8) as pool:
        names = [f"tree/s{i % 3}/f{i:03d}" for i in range(260)]
        list(pool.map(lambda n: container.get_blob_client(n).upload_blob(b"x"), names))
    log.clear()
    store.delete_folder("tree", recursive=True)
    assert len(log) == 3, log.show()
    assert log.count("comp=list") == 1 and log.count("comp=batch") == 2, log.show()


def test_flat_move_budget(counted: tuple[Store, RequestLog]) -> None:
    """Copy + delete is the raw minimum (2); ours adds one HEAD of the source, whose ETag
    pins the copy and the delete, so a source changed mid-move is never deleted: 3.
    See docs/performance.md."""
    store, log = counted
    store.write("src.bin", SMALL)
    log.clear()
    store.move("src.bin", "dst.bin")
    assert len(log) == 3, log.show()
    assert [method for method, _, _ in log.requests] == ["HEAD", "PUT", "DELETE"], log.show()
    assert store.read_bytes("dst.bin") == SMALL
