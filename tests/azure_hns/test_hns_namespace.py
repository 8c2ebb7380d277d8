"""Directory semantics of the hierarchical strategy on the HNS emulator (AZ-150..)."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest

from remote_store.backends.azure import AzureBackend
from remote_store.errors import (
    AlreadyExists,
    DirectoryNotEmpty,
    InvalidPath,
    IsAFolder,
    NotAFolder,
    NotFound,
)
from remote_store.models import FileInfo, FolderEntry
from remote_store.store import Store
from tests.azure_hns.conftest import BackendFactory, Wire

SMALL_TRANSFERS = {
    "max_single_put_size": 1024,
    "max_block_size": 512,
    "max_single_get_size": 512,
    "max_chunk_get_size": 512,
}


def make_dir(store: Store, path: str) -> None:
    """An explicit, empty directory (DFS Path - Create), as other tools make them."""
    from azure.storage.filedatalake import FileSystemClient

    store.unwrap(FileSystemClient).get_directory_client(path).create_directory()


@pytest.fixture
def small(make_backend: BackendFactory) -> Store:
    """Tiny transfer sizes: staged blocks (Put Block) on small data."""
    return Store(make_backend(client_options=dict(SMALL_TRANSFERS)))


def test_strategy_and_capabilities(backend: AzureBackend) -> None:
    """AZ-014, AZ-130: hns=True picks the hierarchical strategy, which declares ATOMIC_MOVE."""
    from remote_store.capabilities import Capability

    assert backend.capabilities.supports(Capability.ATOMIC_MOVE)
    assert backend.resolve("x").details["strategy"] == "hierarchical"


def test_empty_directories_are_real_folders(store: Store) -> None:
    """AZ-150: an empty directory exists, is listed as a folder, and is deletable."""
    make_dir(store, "a/empty")
    assert store.is_folder("a/empty") and store.exists("a/empty")
    assert not store.is_file("a/empty")
    assert [f.path for f in store.list_folders("a")] == ["a/empty"]
    assert list(store.iter_children("a")) == [FolderEntry("a/empty")]
    assert list(store.list_files("a", recursive=True)) == []
    assert store.get_folder_info("a/empty").file_count == 0
    store.delete_folder("a/empty")
    assert not store.exists("a/empty")
    assert store.is_folder("a")  # the parent stays, as HNS directories do


def test_directory_survives_its_last_file(store: Store) -> None:
    """AZ-150: deleting or moving away the last file leaves the directory."""
    store.write("d/only.txt", b"x")
    store.move("d/only.txt", "elsewhere.txt")
    assert store.is_folder("d")
    assert list(store.iter_children("d")) == []


FILE_OPS: dict[str, Callable[[Store, str], object]] = {
    "read": lambda s, p: s.read(p),
    "read_bytes": lambda s, p: s.read_bytes(p),
    "read_seekable": lambda s, p: s.read_seekable(p),
    "get_file_info": lambda s, p: s.get_file_info(p),
    "head": lambda s, p: s.head(p),
    "delete": lambda s, p: s.delete(p),
    "delete-missing_ok": lambda s, p: s.delete(p, missing_ok=True),
    "write": lambda s, p: s.write(p, b"x"),
    "write-overwrite": lambda s, p: s.write(p, b"x", overwrite=True),
    "write_atomic-stream": lambda s, p: s.write_atomic(p, io.BytesIO(b"x"), overwrite=True),
    "copy-source": lambda s, p: s.copy(p, "copied.txt"),
    "move-source": lambda s, p: s.move(p, "moved.txt"),
    "copy-destination": lambda s, p: s.copy("file.txt", p, overwrite=True),
    "move-destination": lambda s, p: s.move("file.txt", p, overwrite=True),
}


@pytest.mark.parametrize("empty", [True, False], ids=["empty-dir", "non-empty-dir"])
@pytest.mark.parametrize("op", list(FILE_OPS))
def test_file_operations_on_a_directory_raise_is_a_folder(
    store: Store, op: str, empty: bool
) -> None:
    """AZ-151: IsAFolder (an InvalidPath); the directory and the other file stay."""
    store.write("file.txt", b"file")
    if empty:
        make_dir(store, "dir")
    else:
        store.write("dir/inner.txt", b"inner")
    with pytest.raises(IsAFolder) as caught:
        FILE_OPS[op](store, "dir")
    assert isinstance(caught.value, InvalidPath)
    assert store.is_folder("dir")
    assert store.read_bytes("file.txt") == b"file"
    expected = [] if empty else ["dir/inner.txt"]
    assert [i.path for i in store.list_files("dir", recursive=True)] == expected
    assert not store.exists("copied.txt") and not store.exists("moved.txt")


def test_open_atomic_onto_a_directory_raises_is_a_folder(small: Store) -> None:
    """AZ-151: also when the content was staged in blocks before the commit."""
    small.write("dir/inner.txt", b"inner")
    for size in (10, 5000):
        with pytest.raises(IsAFolder), small.open_atomic("dir", overwrite=True) as out:
            out.write(b"y" * size)
    assert small.read_bytes("dir/inner.txt") == b"inner"


WRITES_BELOW: dict[str, Callable[[Store], object]] = {
    "write-put-blob": lambda s: s.write("f.txt/child", b"x"),
    "write-staged": lambda s: s.write("f.txt/child", b"x" * 5000),
    "write-stream": lambda s: s.write("f.txt/deeper/child", io.BytesIO(b"x" * 3000)),
    "write_atomic": lambda s: s.write_atomic("f.txt/child", b"x", overwrite=True),
    "copy": lambda s: s.copy("other.txt", "f.txt/child"),
    "move": lambda s: s.move("other.txt", "f.txt/child"),
    "move-overwrite": lambda s: s.move("other.txt", "f.txt/a/b", overwrite=True),
}


@pytest.mark.parametrize("op", list(WRITES_BELOW))
def test_writes_below_a_file_raise_not_a_folder(small: Store, op: str) -> None:
    """AZ-152: the namespace refuses natively (Put Blob 404 BlobNotFound, Put Block 409,
    Copy Blob 404, rename 409); nothing is written, the file stays."""
    small.write("f.txt", b"the file")
    small.write("other.txt", b"other")
    with pytest.raises(NotAFolder):
        WRITES_BELOW[op](small)
    assert small.read_bytes("f.txt") == b"the file"
    assert small.read_bytes("other.txt") == b"other"
    assert sorted(i.path for i in small.list_files("", recursive=True)) == ["f.txt", "other.txt"]


def test_open_atomic_below_a_file_raises_not_a_folder(small: Store) -> None:
    small.write("f.txt", b"the file")
    for size in (10, 5000):
        with pytest.raises(NotAFolder), small.open_atomic("f.txt/x") as out:
            out.write(b"y" * size)
    assert small.read_bytes("f.txt") == b"the file"


def test_missing_container_is_not_found_not_a_folder(make_backend: BackendFactory) -> None:
    """AZ-152: a 404 ContainerNotFound is not read as a file ancestor."""
    store = Store(make_backend(container="no-such-container"))
    with pytest.raises(NotFound) as caught:
        store.write("a/b.txt", b"x")
    assert not isinstance(caught.value, NotAFolder)


def test_delete_folder_semantics(store: Store, wire: Wire) -> None:
    """AZ-153: non-recursive on a non-empty directory is the service's 409
    DirectoryNotEmpty (a HEAD and one DELETE, no listing); a file is NotAFolder; missing is
    NotFound unless missing_ok; an empty directory goes without recursive."""
    store.write("dir/sub/f.txt", b"x")
    wire.clear()
    with pytest.raises(DirectoryNotEmpty):
        store.delete_folder("dir")
    got = [(r.method, r.query.get("recursive"), r.error_code) for r in wire.requests()]
    assert got == [("HEAD", None, None), ("DELETE", "false", "DirectoryNotEmpty")], wire.show()
    assert store.read_bytes("dir/sub/f.txt") == b"x"
    for recursive in (False, True):
        with pytest.raises(NotAFolder):
            store.delete_folder("dir/sub/f.txt", recursive=recursive)
        with pytest.raises(NotFound):
            store.delete_folder("missing", recursive=recursive)
        store.delete_folder("missing", recursive=recursive, missing_ok=True)
        store.delete_folder("dir/sub/f.txt/below", recursive=recursive, missing_ok=True)
    assert store.read_bytes("dir/sub/f.txt") == b"x"
    store.delete("dir/sub/f.txt")
    store.delete_folder("dir/sub")
    store.delete_folder("dir")
    assert not store.exists("dir")
    with pytest.raises(InvalidPath):
        store.delete_folder("", recursive=True)


def test_listing_shapes(store: Store) -> None:
    """AZ-154: one level or every level through List Paths; FileInfo from the listing
    agrees with get_file_info (size, ETag, modified); missing and below-a-file list
    nothing."""
    store.write("t/a.txt", b"a")
    store.write("t/sub/b.txt", b"bb")
    make_dir(store, "t/sub/empty")
    children = list(store.iter_children("t"))
    assert children[0] == FolderEntry("t/sub") or children[1] == FolderEntry("t/sub")
    files = [c for c in children if isinstance(c, FileInfo)]
    assert [f.path for f in files] == ["t/a.txt"]
    info = store.get_file_info("t/a.txt")
    assert (files[0].size, files[0].etag, files[0].modified) == (1, info.etag, info.modified)
    assert sorted(i.path for i in store.list_files("t", recursive=True)) == [
        "t/a.txt",
        "t/sub/b.txt",
    ]
    assert [f.name for f in store.list_folders("t/sub")] == ["empty"]
    for path in ("missing", "t/a.txt", "t/a.txt/below"):
        assert list(store.iter_children(path)) == []
        assert list(store.list_files(path, recursive=True)) == []


def test_listing_is_lazy(store: Store, wire: Wire) -> None:
    """AZ-154: pages are fetched as the caller consumes them."""
    for i in range(6):
        store.write(f"p/f{i}.txt", b"x")
    wire.emulator.set_page_sizes(list_paths=2)
    wire.clear()
    listing = store.list_files("p")
    assert len(wire) == 0
    assert next(listing).path == "p/f0.txt"
    assert len(wire) == 1
    assert [i.path for i in listing] == [f"p/f{i}.txt" for i in range(1, 6)]
    assert len(wire) == 3, wire.show()


def test_glob_lists_below_the_literal_prefix_only(store: Store, wire: Wire) -> None:
    """AZ-154: a glob asks List Paths for its literal prefix, one level if it can."""
    store.write("data/x.csv", b"1")
    store.write("data/deep/y.csv", b"2")
    store.write("other/z.csv", b"3")
    wire.clear()
    assert [i.path for i in store.glob("data/*.csv")] == ["data/x.csv"]
    (listing,) = wire.requests()
    assert (listing.query.get("directory"), listing.query.get("recursive")) == ("data", "false")
    wire.clear()
    assert sorted(i.path for i in store.glob("data/**/*.csv")) == ["data/deep/y.csv", "data/x.csv"]
    (listing,) = wire.requests()
    assert (listing.query.get("directory"), listing.query.get("recursive")) == ("data", "true")


def test_copy_is_server_side_and_keeps_metadata(store: Store) -> None:
    store.write("a.txt", b"abc", metadata={"k": "v"})
    store.copy("a.txt", "new/b.txt")
    info = store.get_file_info("new/b.txt")
    assert store.read_bytes("new/b.txt") == b"abc"
    assert dict(info.metadata or {}) == {"k": "v"}
    assert info.digest == store.get_file_info("a.txt").digest
    with pytest.raises(AlreadyExists):
        store.copy("a.txt", "new/b.txt")
