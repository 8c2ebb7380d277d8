"""Round-trip budgets of the hierarchical strategy, counted by the emulator (AZ-140..)."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from remote_store.errors import AlreadyExists
from remote_store.store import Store
from tests.azure_hns.conftest import BackendFactory, HeaderLog, Wire

SMALL = b"x" * 1000


def test_small_write_is_one_put_blob(store: Store, wire: Wire) -> None:
    """AZ-140: bytes or a small stream, new or overwritten, plain or atomic: one Put Blob,
    which creates missing parent directories too. A refused create costs one HEAD more, on
    the failure path only, to tell an existing file (AlreadyExists) from a directory."""
    wire.clear()
    store.write("deep/new/parents/a.bin", SMALL)
    store.write("deep/new/parents/a.bin", SMALL, overwrite=True)
    store.write("b.bin", io.BytesIO(SMALL))
    store.write_atomic("c.bin", SMALL)
    assert [(r.service, r.method) for r in wire.requests()] == [("blob", "PUT")] * 4, wire.show()
    assert store.is_folder("deep/new/parents")
    wire.clear()
    with pytest.raises(AlreadyExists):
        store.write("b.bin", SMALL)
    assert [(r.method, r.status) for r in wire.requests()] == [("PUT", 409), ("HEAD", 200)]


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.exists("a.bin"),
        lambda s: s.exists("dir"),
        lambda s: s.exists("missing"),
        lambda s: s.is_file("a.bin"),
        lambda s: s.is_folder("dir"),
        lambda s: s.is_folder("a.bin"),
        lambda s: s.is_folder("missing"),
        lambda s: s.get_file_info("a.bin"),
        lambda s: s.head("a.bin"),
        lambda s: s.head("missing"),
        lambda s: s.read_bytes("a.bin"),
        lambda s: s.read("a.bin").close(),
    ],
    ids=[
        "exists-file",
        "exists-dir",
        "exists-missing",
        "is_file",
        "is_folder-dir",
        "is_folder-file",
        "is_folder-missing",
        "get_file_info",
        "head",
        "head-missing",
        "read_bytes",
        "read",
    ],
)
def test_one_request(store: Store, wire: Wire, call: Callable[[Store], object]) -> None:
    """AZ-141: one HEAD (or one GET) answers, for files, directories and nothing alike."""
    store.write("a.bin", SMALL)
    store.write("dir/inner.bin", SMALL)
    wire.clear()
    call(store)
    assert len(wire) == 1, wire.show()


def test_move_is_one_rename_after_one_head(store: Store, wire: Wire) -> None:
    """AZ-142: HEAD (refuses a directory source, pins the ETag) + one DFS rename."""
    store.write("a.bin", SMALL)
    store.write("dst/keep.bin", b"")
    wire.clear()
    store.move("a.bin", "dst/a.bin")
    got = [(r.service, r.method) for r in wire.requests()]
    assert got == [("blob", "HEAD"), ("dfs", "PUT")], wire.show()
    assert store.read_bytes("dst/a.bin") == SMALL


def test_move_to_a_missing_parent_creates_it(store: Store, wire: Wire) -> None:
    """AZ-142: the rename refuses a missing destination parent; one Path - Create makes it
    (with its ancestors), then the rename is sent again."""
    store.write("a.bin", SMALL)
    wire.clear()
    store.move("a.bin", "new/deeper/a.bin")
    codes = [(r.service, r.method, r.error_code) for r in wire.requests()]
    assert codes == [
        ("blob", "HEAD", None),
        ("dfs", "PUT", "RenameDestinationParentPathNotFound"),
        ("dfs", "PUT", None),  # create directory new/deeper
        ("dfs", "PUT", None),  # the rename again
    ], wire.show()
    assert store.read_bytes("new/deeper/a.bin") == SMALL
    assert store.is_folder("new")


def test_rename_carries_if_none_match_star(store: Store, headers_log: HeaderLog) -> None:
    """AZ-143: overwrite=False is exactly ``If-None-Match: *`` on the rename request, and
    the source is pinned by ``x-ms-source-if-match``; overwrite=True sends no destination
    condition."""
    store.write("a.bin", SMALL)
    store.write("b.bin", SMALL)
    etag = store.get_file_info("a.bin").etag
    headers_log.clear()
    store.move("a.bin", "c.bin")
    renames = [s for s in headers_log.sent if "x-ms-rename-source" in s.headers]
    assert len(renames) == 1
    sent = renames[0].headers
    assert sent["if-none-match"] == "*"
    assert "if-match" not in sent
    assert sent["x-ms-source-if-match"].strip('"').lower() == etag
    headers_log.clear()
    store.move("c.bin", "b.bin", overwrite=True)
    (rename,) = [s for s in headers_log.sent if "x-ms-rename-source" in s.headers]
    assert "if-none-match" not in rename.headers and "if-match" not in rename.headers


def test_delete_folder_recursive_is_one_delete(
    store: Store, wire: Wire, make_backend: BackendFactory
) -> None:
    """AZ-144: a 2,000-file tree goes in one Path - Delete (after one HEAD)."""
    from azure.storage.blob import ContainerClient

    container = store.unwrap(ContainerClient)
    names = [f"tree/d{i % 20}/f{i}.bin" for i in range(2000)]

    def put(name: str) -> None:
        container.upload_blob(name, b"")

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, names))
    wire.emulator.set_page_sizes(delete=5000)  # the whole tree fits one call
    wire.clear()
    store.delete_folder("tree", recursive=True)
    got = [(r.service, r.method, r.query.get("recursive")) for r in wire.requests()]
    assert got == [("blob", "HEAD", None), ("dfs", "DELETE", "true")], wire.show()
    assert not store.exists("tree")


def test_recursive_delete_follows_continuation(store: Store, wire: Wire) -> None:
    """AZ-144: when the service pages a recursive delete, the SDK sends the continuation
    until the directory is gone (page size 7 for 30 entries: 5 requests)."""
    for i in range(25):
        store.write(f"tree/sub{i % 5}/f{i}.bin", b"")  # 25 files + 5 directories
    wire.emulator.set_page_sizes(delete=7)
    wire.clear()
    store.delete_folder("tree", recursive=True)
    deletes = [r for r in wire.requests() if r.method == "DELETE"]
    assert len(deletes) == 5, wire.show()
    assert "continuation" not in deletes[0].query
    assert all("continuation" in r.query for r in deletes[1:])
    assert not store.exists("tree")
    assert list(store.list_files("", recursive=True)) == []


def test_detection_at_most_once_per_lifetime(make_backend: BackendFactory, wire: Wire) -> None:
    """AZ-010 on HNS: 16 concurrent first calls, one GetAccountInfo; none afterwards."""
    backend = make_backend(hns=None)
    barrier = threading.Barrier(16)

    def first_call(i: int) -> bool:
        barrier.wait()
        return backend.exists(f"missing-{i}")

    wire.clear()
    with ThreadPoolExecutor(16) as pool:
        assert not any(pool.map(first_call, range(16)))
    probes = [r for r in wire.requests() if r.query.get("restype") == "account"]
    assert len(probes) == 1, wire.show()
    assert "hierarchical" in repr(backend)
    wire.clear()
    backend.exists("again")
    assert len(wire) == 1
