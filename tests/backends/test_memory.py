"""MemoryBackend-specific behaviour: implied folders, locking, immutability."""

from __future__ import annotations

import hashlib
import io
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from remote_store.backends.memory import MemoryBackend
from remote_store.capabilities import Capability
from remote_store.errors import (
    AlreadyExists,
    DirectoryNotEmpty,
    InvalidPath,
    IsAFolder,
    NotAFolder,
    NotFound,
)
from remote_store.models import FileInfo, FolderEntry, WriteSource

THREADS = 8


@pytest.fixture
def backend() -> MemoryBackend:
    return MemoryBackend()


def test_capabilities_exclude_lazy_read_only(backend: MemoryBackend) -> None:
    assert set(Capability) - backend.capabilities == {Capability.LAZY_READ}


def test_folders_are_implied_by_the_files_below_them(backend: MemoryBackend) -> None:
    backend.write("a/b/c.txt", b"x")
    assert backend.is_folder("a") and backend.is_folder("a/b")
    backend.delete("a/b/c.txt")
    assert not backend.is_folder("a/b") and not backend.is_folder("a")
    assert backend.is_folder("")


def test_write_result_is_native_and_matches_file_info(backend: MemoryBackend) -> None:
    result = backend.write("f.bin", b"hello", metadata={"k": "v"})
    info = backend.get_file_info("f.bin")
    assert result.source is WriteSource.NATIVE
    assert result.digest is not None
    assert result.digest.value == hashlib.md5(b"hello").hexdigest()
    assert (result.etag, result.last_modified, result.digest) == (
        info.etag,
        info.modified,
        info.digest,
    )
    assert result.last_modified is not None and result.last_modified.tzinfo is not None
    assert dict(info.metadata or {}) == {"k": "v"}


def test_etag_changes_on_every_write(backend: MemoryBackend) -> None:
    first = backend.write("f", b"same").etag
    second = backend.write("f", b"same", overwrite=True).etag
    assert first != second


def test_stored_bytes_do_not_follow_the_callers_buffer(backend: MemoryBackend) -> None:
    data = bytearray(b"abc")
    metadata = {"k": "v"}
    backend.write("f", data, metadata=metadata)
    data[0:3] = b"zzz"
    metadata["k"] = "changed"
    assert backend.read_bytes("f") == b"abc"
    assert dict(backend.get_file_info("f").metadata or {}) == {"k": "v"}


def test_read_is_seekable(backend: MemoryBackend) -> None:
    backend.write("f", b"0123456789")
    with backend.read("f") as stream:
        stream.seek(5)
        assert stream.read() == b"56789"


def test_write_refuses_folders_and_paths_through_files(backend: MemoryBackend) -> None:
    backend.write("dir/file", b"x")
    with pytest.raises(IsAFolder) as folder:
        backend.write("dir", b"y", overwrite=True)
    assert folder.value.path == "dir"
    with pytest.raises(NotAFolder) as through:
        backend.write("dir/file/below", b"y")
    assert through.value.path == "dir/file/below"
    assert backend.read_bytes("dir/file") == b"x"


def test_file_operations_name_the_right_error(backend: MemoryBackend) -> None:
    backend.write("dir/file", b"x")
    with pytest.raises(IsAFolder):
        backend.get_file_info("dir")
    with pytest.raises(IsAFolder):
        backend.delete("dir", missing_ok=True)
    with pytest.raises(NotAFolder):
        backend.read("dir/file/x")
    with pytest.raises(NotFound):
        backend.get_file_info("dir/other")
    backend.delete("dir/file/x", missing_ok=True)  # nothing can be there


def test_delete_folder_rules(backend: MemoryBackend) -> None:
    for key in ("a/x", "a/deep/y", "ab/z"):
        backend.write(key, b"1")
    with pytest.raises(InvalidPath):
        backend.delete_folder("", recursive=True)
    with pytest.raises(NotAFolder):
        backend.delete_folder("a/x", missing_ok=True)
    with pytest.raises(DirectoryNotEmpty):
        backend.delete_folder("a")
    with pytest.raises(NotFound):
        backend.delete_folder("missing")
    backend.delete_folder("missing", missing_ok=True)
    backend.delete_folder("a", recursive=True)
    assert [i.path for i in backend.list_files("", recursive=True)] == ["ab/z"]
    assert not backend.is_folder("a")


def test_iter_children_are_sorted_full_keys(backend: MemoryBackend) -> None:
    for key in ("d/b.txt", "d/a/x", "d/c/y", "d/a.txt"):
        backend.write(key, b"1")
    children = list(backend.iter_children("d"))
    assert [c.path for c in children] == ["d/a", "d/a.txt", "d/b.txt", "d/c"]
    assert [type(c) for c in children] == [FolderEntry, FileInfo, FileInfo, FolderEntry]
    assert list(backend.iter_children("d/a.txt")) == []
    assert list(backend.iter_children("nowhere")) == []


def test_list_files_is_sorted_and_stays_below_the_folder(backend: MemoryBackend) -> None:
    for key in ("p/z", "p/q/b", "p/q/a", "p-sibling/x", "top"):
        backend.write(key, b"1")
    assert [i.path for i in backend.list_files("p", recursive=True)] == ["p/q/a", "p/q/b", "p/z"]
    assert [i.path for i in backend.list_files("p")] == ["p/z"]
    assert [i.path for i in backend.list_files("")] == ["top"]


def test_move_is_a_rename_that_keeps_etag(backend: MemoryBackend) -> None:
    etag = backend.write("a", b"1", metadata={"k": "v"}).etag
    backend.move("a", "b/c")
    info = backend.get_file_info("b/c")
    assert (info.etag, dict(info.metadata or {})) == (etag, {"k": "v"})
    assert not backend.is_file("a")


def test_move_refusals_leave_both_files(backend: MemoryBackend) -> None:
    backend.write("a", b"1")
    backend.write("b", b"2")
    with pytest.raises(AlreadyExists):
        backend.move("a", "b")
    with pytest.raises(NotAFolder):
        backend.move("a", "a/inside")
    with pytest.raises(NotFound):
        backend.move("missing", "c")
    backend.write("dir/x", b"3")
    with pytest.raises(IsAFolder):
        backend.move("dir", "elsewhere")
    with pytest.raises(IsAFolder):
        backend.move("a", "dir", overwrite=True)
    assert (backend.read_bytes("a"), backend.read_bytes("b")) == (b"1", b"2")


def test_copy_keeps_metadata_with_a_new_etag(backend: MemoryBackend) -> None:
    etag = backend.write("a", b"1", metadata={"k": "v"}).etag
    backend.copy("a", "b")
    info = backend.get_file_info("b")
    assert dict(info.metadata or {}) == {"k": "v"}
    assert info.etag != etag
    with pytest.raises(AlreadyExists):
        backend.copy("a", "b")


def test_native_path_round_trip(backend: MemoryBackend) -> None:
    native = backend.native_path("x/y.txt")
    assert native == "memory://x/y.txt"
    assert backend.to_key(native) == "x/y.txt"
    assert backend.to_key("/x//y.txt") == "x/y.txt"
    assert backend.resolve("x").native_path == "memory://x"


@pytest.fixture
def eager_switching() -> Iterator[None]:
    """Switch threads as often as possible, so unlocked interleavings would show."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


@pytest.mark.usefixtures("eager_switching")
def test_create_only_race_has_exactly_one_winner(backend: MemoryBackend) -> None:
    barrier = threading.Barrier(THREADS)

    def attempt(n: int) -> list[int]:
        won = []
        for round_ in range(20):
            barrier.wait()
            try:
                backend.write(f"contested-{round_}", f"writer-{n}".encode())
            except AlreadyExists:
                continue
            won.append(round_)
        return won

    with ThreadPoolExecutor(THREADS) as pool:
        wins = list(pool.map(attempt, range(THREADS)))
    for round_ in range(20):
        winners = [n for n in range(THREADS) if round_ in wins[n]]
        assert len(winners) == 1
        assert backend.read_bytes(f"contested-{round_}") == f"writer-{winners[0]}".encode()


@pytest.mark.usefixtures("eager_switching")
def test_concurrent_writers_and_deleters_keep_folders_consistent(
    backend: MemoryBackend,
) -> None:
    # Every thread writes and deletes the same few keys in one folder, which keeps
    # appearing and disappearing.
    keys = [f"hot/sub/f{n}" for n in range(4)]

    def churn(n: int) -> None:
        for round_ in range(2000):
            key = keys[(n + round_) % len(keys)]
            if round_ % 2:
                backend.delete(key, missing_ok=True)
            else:
                backend.write(key, b"x", overwrite=True)

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(churn, range(THREADS)))
    files = [i.path for i in backend.list_files("", recursive=True)]
    assert backend.is_folder("hot/sub") == bool(files)
    for key in files:
        backend.delete(key)
    assert list(backend.iter_children("")) == []
    assert not backend.is_folder("hot")


def test_slow_stream_is_read_without_holding_the_lock(backend: MemoryBackend) -> None:
    started, release = threading.Event(), threading.Event()

    class SlowStream(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            if release.is_set():
                return 0
            started.set()
            release.wait(timeout=10)
            buffer[:1] = b"s"
            return 1

    writer = threading.Thread(target=backend.write, args=("slow", SlowStream()))
    writer.start()
    try:
        assert started.wait(timeout=10)
        other = threading.Thread(target=backend.write, args=("other", b"x"))
        other.start()
        other.join(timeout=5)
        assert not other.is_alive(), "a write waited for the slow stream"
        assert not backend.is_file("slow")
    finally:
        release.set()
        writer.join(timeout=10)
    assert backend.read_bytes("slow") == b"s"
