"""The flat strategy through the Store API, against Azurite (AZ-020..)."""

from __future__ import annotations

import hashlib
import io
import os
from typing import BinaryIO, cast

import pytest

from remote_store.errors import (
    AlreadyExists,
    DirectoryNotEmpty,
    InvalidArgument,
    InvalidPath,
    IsAFolder,
    NotAFolder,
    NotFound,
    PreconditionFailed,
)
from remote_store.models import FileInfo, FolderEntry
from remote_store.store import Store
from tests.azure.conftest import BackendFactory
from tests.azure_support import RequestLog

SMALL_TRANSFERS = {
    "max_single_put_size": 64 * 1024,
    "max_block_size": 16 * 1024,
    "max_single_get_size": 16 * 1024,
    "max_chunk_get_size": 16 * 1024,
}


@pytest.fixture
def small(make_backend: BackendFactory) -> Store:
    """Tiny transfer sizes, so staged uploads and chunked reads happen on small data."""
    return Store(make_backend(client_options=dict(SMALL_TRANSFERS), max_concurrency=3))


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def test_write_result_and_file_info_agree(store: Store) -> None:
    """AZ-030: etag, last_modified, MD5 digest and metadata, one ETag form everywhere."""
    result = store.write("d/a.txt", b"hello", metadata={"owner": "me"})
    info = store.get_file_info("d/a.txt")
    assert result.etag == info.etag and result.etag is not None
    assert result.etag == result.etag.lower() and '"' not in result.etag
    assert result.digest is not None and result.digest.value == md5(b"hello")
    assert info.digest == result.digest
    assert result.last_modified == info.modified
    assert result.metadata == {"owner": "me"} and info.metadata == {"owner": "me"}
    listed = next(iter(store.list_files("d")))
    assert listed.etag == info.etag and listed.digest == info.digest
    assert listed.metadata == {"owner": "me"}
    assert store.write("d/b.txt", b"x").metadata is None


@pytest.mark.parametrize("size", [0, 1, 64 * 1024, 64 * 1024 + 1, 200_003])
@pytest.mark.parametrize("kind", ["bytes", "stream", "open_atomic"])
def test_write_read_round_trip(small: Store, size: int, kind: str) -> None:
    """AZ-031: every size and path (single put, staged blocks) stores the MD5."""
    data = os.urandom(size)
    if kind == "bytes":
        result = small.write("f.bin", data)
    elif kind == "stream":
        result = small.write("f.bin", io.BytesIO(data))
    else:
        with small.open_atomic("f.bin") as out:
            for start in range(0, size, 7000):
                out.write(data[start : start + 7000])
        result = small.get_file_info("f.bin")  # type: ignore[assignment]
    assert small.read_bytes("f.bin") == data
    with small.read("f.bin") as stream:
        assert stream.read() == data
    info = small.get_file_info("f.bin")
    assert info.size == size and info.digest is not None and info.digest.value == md5(data)
    assert result.digest == info.digest


def test_staged_write_overwrite_false(small: Store) -> None:
    small.write("f.bin", b"old")
    with pytest.raises(AlreadyExists):
        small.write("f.bin", os.urandom(100_000))
    assert small.read_bytes("f.bin") == b"old"


def test_open_atomic_failure_leaves_nothing(small: Store) -> None:
    """AZ-032: staged blocks are invisible until the commit."""
    with pytest.raises(RuntimeError), small.open_atomic("f.bin") as out:
        out.write(os.urandom(100_000))  # several blocks staged already
        raise RuntimeError("body failed")
    assert not small.exists("f.bin")
    assert list(small.list_files("", recursive=True)) == []


def test_failing_stream_leaves_nothing(small: Store) -> None:
    class Broken(io.RawIOBase):
        sent = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
            if self.sent > 100_000:
                raise OSError("disk gone")
            self.sent += len(buffer)
            buffer[:] = b"x" * len(buffer)
            return len(buffer)

    with pytest.raises(Exception, match=r"disk gone|failed"):
        small.write("f.bin", cast(BinaryIO, Broken()))
    assert not small.exists("f.bin")


def test_read_is_lazy_and_chunked(small: Store, requests_log: RequestLog) -> None:
    """AZ-033: read() fetches one bounded chunk at a time."""
    data = os.urandom(100_000)
    small.write("f.bin", data)
    requests_log.clear()
    with small.read("f.bin") as stream:
        assert stream.read(10) == data[:10]
        assert len(requests_log) == 1
        assert not stream.seekable()
        assert stream.read() == data[10:]
    assert len(requests_log) == 7  # ceil(100000 / 16384)


def test_read_pinned_to_etag(small: Store) -> None:
    """AZ-034: a blob replaced mid-read raises instead of mixing versions."""
    small.write("f.bin", b"a" * 100_000)
    with small.read("f.bin") as stream:
        stream.read(10)
        small.write("f.bin", b"b" * 100_000, overwrite=True)
        with pytest.raises(PreconditionFailed):
            stream.read()


def test_read_seekable(small: Store, requests_log: RequestLog) -> None:
    """AZ-035"""
    data = os.urandom(100_000)
    small.write("f.bin", data)
    requests_log.clear()
    with small.read_seekable("f.bin") as stream:
        assert stream.seekable()
        stream.seek(50_000)
        assert stream.read(100) == data[50_000:50_100]
        stream.seek(-10, io.SEEK_END)
        assert stream.read() == data[-10:]
        stream.seek(0)
        assert stream.read() == data
    assert len(requests_log) <= 10


def test_read_lines(small: Store) -> None:
    lines = b"".join(f"line {i}\n".encode() for i in range(5000))
    small.write("f.txt", lines)
    with small.read("f.txt") as stream:
        assert list(stream) == lines.splitlines(keepends=True)


def test_folders_are_prefixes(store: Store) -> None:
    """AZ-050"""
    store.write("top/a.txt", b"1")
    store.write("top/sub/b.txt", b"22")
    store.write("top/sub/deep/c.txt", b"333")
    assert store.is_folder("top") and store.is_folder("top/sub")
    assert not store.is_folder("top/a.txt") and not store.is_folder("nope")
    assert store.exists("top") and store.exists("top/a.txt") and not store.exists("top/x")
    children = list(store.iter_children("top"))
    assert sorted((type(c).__name__, c.path) for c in children) == [
        ("FileInfo", "top/a.txt"),
        ("FolderEntry", "top/sub"),
    ]
    assert sorted(f.path for f in store.list_folders("top")) == ["top/sub"]
    assert [f.path for f in store.list_files("top")] == ["top/a.txt"]
    assert sorted(f.path for f in store.list_files("top", recursive=True)) == [
        "top/a.txt",
        "top/sub/b.txt",
        "top/sub/deep/c.txt",
    ]
    assert sorted(f.path for f in store.glob("top/**/*.txt")) == [
        "top/a.txt",
        "top/sub/b.txt",
        "top/sub/deep/c.txt",
    ]
    info = store.get_folder_info("top")
    assert (info.file_count, info.total_size) == (3, 6)
    with pytest.raises(NotAFolder):
        store.get_folder_info("top/a.txt")
    with pytest.raises(NotFound):
        store.get_folder_info("missing")


def test_folder_markers_are_not_files(backend: object, store: Store) -> None:
    """AZ-051: HNS directories seen through the Blob API (hdi_isfolder) are folders."""
    from azure.storage.blob import ContainerClient

    client = store.unwrap(ContainerClient)
    client.upload_blob("hdir", b"", metadata={"hdi_isfolder": "true"})
    client.upload_blob("hdir/inner", b"", metadata={"hdi_isfolder": "true"})
    client.upload_blob("hdir/inner/f.txt", b"data")
    children = list(store.iter_children(""))
    assert children == [FolderEntry("hdir")]
    assert [f.path for f in store.list_files("", recursive=True)] == ["hdir/inner/f.txt"]
    assert not store.is_file("hdir")
    with pytest.raises(IsAFolder):
        store.get_file_info("hdir")
    with pytest.raises(IsAFolder):
        store.read_bytes("hdir")
    with pytest.raises(IsAFolder):
        store.read("hdir")
    store.delete_folder("hdir", recursive=True)
    assert list(client.list_blobs()) == []


def test_file_ops_on_folder_raise_is_a_folder(store: Store) -> None:
    """AZ-052"""
    store.write("dir/inner.txt", b"x")
    for call in (store.read, store.read_bytes, store.get_file_info, store.delete):
        with pytest.raises(IsAFolder):
            call("dir")
    with pytest.raises(InvalidPath):
        store.read_seekable("dir")


def test_missing_file(store: Store) -> None:
    with pytest.raises(NotFound):
        store.read("missing")
    with pytest.raises(NotFound):
        store.read_bytes("missing")
    with pytest.raises(NotFound):
        store.delete("missing")
    store.delete("missing", missing_ok=True)
    assert store.head("missing") is None
    assert not store.is_file("missing")


def test_empty_file(store: Store) -> None:
    store.write("empty", b"")
    assert store.read_bytes("empty") == b""
    with store.read("empty") as stream:
        assert stream.read() == b""
    assert store.get_file_info("empty").digest is not None


def test_delete_folder(store: Store, make_backend: BackendFactory) -> None:
    """AZ-053: batch deletes; DirectoryNotEmpty; NotAFolder; missing folders."""
    for i in range(300):
        store.write(f"big/{i:03d}.txt", b"x")
    store.write("keep.txt", b"k")
    with pytest.raises(DirectoryNotEmpty):
        store.delete_folder("big")
    with pytest.raises(NotAFolder):
        store.delete_folder("keep.txt")
    store.delete_folder("big", recursive=True)
    assert not store.is_folder("big")
    assert [f.path for f in store.list_files("", recursive=True)] == ["keep.txt"]
    with pytest.raises(NotFound):
        store.delete_folder("big")
    store.delete_folder("big", missing_ok=True)


def test_delete_folder_uses_batches(store: Store, requests_log: RequestLog) -> None:
    for i in range(10):
        store.write(f"b/{i}", b"x")
    requests_log.clear()
    store.delete_folder("b", recursive=True)
    assert requests_log.count("comp=batch") == 1, requests_log.show()
    assert len(requests_log) == 2  # one listing page, one batch


def test_copy_and_move(store: Store, requests_log: RequestLog) -> None:
    """AZ-060, AZ-061"""
    store.write("src.txt", b"data", metadata={"k": "v"})
    store.copy("src.txt", "copy.txt")
    info = store.get_file_info("copy.txt")
    assert store.read_bytes("copy.txt") == b"data" and info.metadata == {"k": "v"}
    assert info.digest is not None
    with pytest.raises(AlreadyExists):
        store.copy("src.txt", "copy.txt")
    store.copy("src.txt", "copy.txt", overwrite=True)
    requests_log.clear()
    store.move("src.txt", "moved.txt")
    assert len(requests_log) == 3, requests_log.show()  # HEAD, Copy, Delete
    assert not store.exists("src.txt") and store.read_bytes("moved.txt") == b"data"
    with pytest.raises(AlreadyExists):
        store.move("moved.txt", "copy.txt")
    assert store.exists("moved.txt")
    with pytest.raises(NotFound):
        store.copy("nope.txt", "x.txt")
    store.write("dir/f", b"1")
    with pytest.raises(IsAFolder):
        store.move("dir", "elsewhere")


def test_metadata_validated_before_any_request(store: Store, requests_log: RequestLog) -> None:
    """AZ-036"""
    requests_log.clear()
    for bad in ({"bad-key": "v"}, {"1abc": "v"}, {"k": "caf\u00e9"}, {"hdi_isfolder": "true"}):
        with pytest.raises(InvalidArgument):
            store.write("f.txt", b"x", metadata=bad)
    assert requests_log.requests == [] or all(
        "restype=account" in r[1] for r in requests_log.requests
    )


def test_reject_write_under_file_ancestor(make_backend: BackendFactory) -> None:
    """AZ-037"""
    strict = Store(make_backend(reject_write_under_file_ancestor=True))
    strict.write("f.txt", b"x")
    with pytest.raises(NotAFolder):
        strict.write("f.txt/child", b"y")
    strict.write("d/inner", b"z")
    with pytest.raises(IsAFolder):
        strict.write("d", b"y")
    lax = Store(make_backend())
    lax.write("f.txt/child", b"y")  # a flat namespace allows it


def test_listing_pages_are_lazy(make_backend: BackendFactory, requests_log: RequestLog) -> None:
    """AZ-054: FileInfo comes from the listing, never a HEAD per item."""
    store = Store(make_backend())
    for i in range(20):
        store.write(f"p/{i:02d}", b"x")
    requests_log.clear()
    files = list(store.list_files("p", recursive=True))
    assert len(files) == 20 and all(isinstance(f, FileInfo) for f in files)
    assert all(r[0] == "GET" and "comp=list" in r[1] for r in requests_log.requests)
