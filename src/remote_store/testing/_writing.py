"""Writing: write, write_text, write_atomic, open_atomic (BC-006 to BC-013, ST-010, ST-011)."""

from __future__ import annotations

import array
import hashlib
import io
import os
import threading
import time
from collections.abc import Callable
from typing import ClassVar

import pytest

from remote_store.capabilities import Capability
from remote_store.errors import (
    AlreadyExists,
    InvalidArgument,
    IsAFolder,
    NotAFolder,
    RemoteStoreError,
)
from remote_store.models import WriteResult
from remote_store.store import Store
from remote_store.streams import WritableContent
from remote_store.testing._base import SuiteBase, payload, write_capability
from remote_store.testing._streams import (
    FailingStream,
    SourceFailed,
    StallingStream,
    TrickleStream,
)

Writer = Callable[..., WriteResult]

#: Each way of wrapping the same bytes that `write` must accept.
CONTENT_KINDS: dict[str, Callable[[bytes], WritableContent]] = {
    "bytes": bytes,
    "bytearray": bytearray,
    "memoryview": memoryview,
    # len() of this view counts 4-byte items, not bytes: sizes must come from nbytes.
    "memoryview-of-ints": lambda data: memoryview(array.array("I", data)),
    "stream": io.BytesIO,
    # Every other byte of a buffer twice the size: not contiguous, so no cast("B").
    "memoryview-strided": lambda data: memoryview(bytes(b for c in data for b in (c, 0)))[::2],
}


def _writer(store: Store, method: str) -> Writer:
    return store.write if method == "write" else store.write_atomic


class WritingTests(SuiteBase):
    """Writing files: content kinds, overwrite rules, folders, atomicity."""

    #: Bigger than any internal chunk or block size we know of (1 MiB, 4 MiB), and odd.
    large_payload_size: ClassVar[int] = 5 * 1024 * 1024 + 3

    @pytest.mark.parametrize("kind", list(CONTENT_KINDS))
    def test_write_accepts_bytes_like_and_streams(self, store: Store, kind: str) -> None:
        """BC-006"""
        if not self.gate(store, Capability.WRITE, Capability.READ):
            return
        data = payload(3000, seed=4)  # a multiple of 4, for the view of ints
        result = store.write("file.bin", CONTENT_KINDS[kind](data))
        assert result.size == len(data)
        assert store.read_bytes("file.bin") == data

    def test_write_stream_starts_at_its_current_position(self, store: Store) -> None:
        """BC-006: bytes before the stream's position are not written; the stream stays open."""
        if not self.gate(store, Capability.WRITE, Capability.READ):
            return
        stream = io.BytesIO(b"skip-me|keep-me")
        stream.seek(8)
        assert store.write("file.txt", stream).size == 7
        assert store.read_bytes("file.txt") == b"keep-me"
        assert not stream.closed  # the caller opened it, the caller closes it

    def test_write_accepts_non_seekable_stream_with_short_reads(self, store: Store) -> None:
        """BC-006: a stream of unknown length whose reads return less than asked."""
        if not self.gate(store, Capability.WRITE, Capability.READ):
            return
        data = payload(300_000, seed=5)
        result = store.write("file.bin", TrickleStream(data, step=1000).as_binary())
        assert result.size == len(data)
        assert store.read_bytes("file.bin") == data

    @pytest.mark.parametrize("method", ["write", "write_atomic"])
    def test_large_stream_round_trips(self, store: Store, method: str) -> None:
        """BC-006: content beyond internal chunk sizes, streamed in and read back in chunks."""
        if not self.gate(store, Capability.WRITE, write_capability(method), Capability.READ):
            return
        data = payload(self.large_payload_size, seed=6)
        result = _writer(store, method)("big.bin", TrickleStream(data).as_binary())
        assert result.size == len(data)
        digest, total = hashlib.sha256(), 0
        with store.read("big.bin") as stream:
            while chunk := stream.read(1024 * 1024):
                digest.update(chunk)
                total += len(chunk)
        assert total == len(data)
        assert digest.digest() == hashlib.sha256(data).digest()

    @pytest.mark.parametrize("method", ["write", "write_atomic"])
    def test_write_existing_raises_already_exists(self, store: Store, method: str) -> None:
        """BC-007, ST-007: overwrite=False is the default; the original content stays."""
        if not self.gate(store, Capability.WRITE, write_capability(method), Capability.READ):
            return
        store.write("file.txt", b"original")
        with pytest.raises(AlreadyExists) as caught:
            _writer(store, method)("file.txt", b"replacement")
        assert isinstance(caught.value, FileExistsError)
        assert caught.value.path == "file.txt"
        with pytest.raises(AlreadyExists):
            _writer(store, method)("file.txt", io.BytesIO(b"replacement"), overwrite=False)
        assert store.read_bytes("file.txt") == b"original"

    @pytest.mark.parametrize("method", ["write", "write_atomic"])
    def test_overwrite_replaces_the_whole_content(self, store: Store, method: str) -> None:
        """BC-008: shorter content leaves no tail of the old."""
        if not self.gate(store, Capability.WRITE, write_capability(method), Capability.READ):
            return
        store.write("file.txt", b"a much longer original content")
        result = _writer(store, method)("file.txt", b"short", overwrite=True)
        assert result.size == 5
        assert store.read_bytes("file.txt") == b"short"
        _writer(store, method)("file.txt", io.BytesIO(b""), overwrite=True)
        assert store.read_bytes("file.txt") == b""

    @pytest.mark.parametrize("method", ["write", "write_atomic"])
    def test_write_creates_parent_folders(self, store: Store, method: str) -> None:
        """BC-009"""
        if not self.gate(store, Capability.WRITE, write_capability(method), Capability.READ):
            return
        _writer(store, method)("a/b/c/file.txt", b"deep")
        assert store.read_bytes("a/b/c/file.txt") == b"deep"
        assert store.is_folder("a")
        assert store.is_folder("a/b/c")
        assert not store.is_file("a/b")

    @pytest.mark.parametrize("method", ["write", "write_atomic"])
    @pytest.mark.parametrize("overwrite", [False, True])
    def test_write_to_a_folder_raises_is_a_folder(
        self, store: Store, method: str, overwrite: bool
    ) -> None:
        """BC-010: the folder and what is in it stay as they were."""
        if not self.gate(store, Capability.WRITE, write_capability(method), Capability.READ):
            return
        store.write("dir/inner.txt", b"inner")
        with pytest.raises(IsAFolder):
            _writer(store, method)("dir", b"x", overwrite=overwrite)
        assert store.is_folder("dir")
        assert not store.is_file("dir")
        assert store.read_bytes("dir/inner.txt") == b"inner"

    @pytest.mark.parametrize("method", ["write", "write_atomic"])
    def test_write_below_a_file_is_refused_or_tolerated(self, store: Store, method: str) -> None:
        """BC-011: NotAFolder, or on a flat namespace that does not check, a separate key."""
        if not self.gate(store, Capability.WRITE, write_capability(method), Capability.READ):
            return
        store.write("file.txt", b"the file")
        try:
            _writer(store, method)("file.txt/child.txt", io.BytesIO(b"child"))
        except NotAFolder:
            assert not store.is_file("file.txt/child.txt")
        else:
            assert store.read_bytes("file.txt/child.txt") == b"child"
        assert store.is_file("file.txt")
        assert store.read_bytes("file.txt") == b"the file"

    def test_write_text_encodes(self, store: Store) -> None:
        """ST-011: utf-8 by default, any codec on request, the same overwrite rule."""
        if not self.gate(store, Capability.WRITE, Capability.READ):
            return
        assert store.write_text("a.txt", "grüße 日本").size == len("grüße 日本".encode())
        assert store.read_bytes("a.txt") == "grüße 日本".encode()
        store.write_text("b.txt", "grüße", encoding="latin-1")
        assert store.read_bytes("b.txt") == "grüße".encode("latin-1")
        with pytest.raises(AlreadyExists):
            store.write_text("a.txt", "again")
        store.write_text("a.txt", "again", overwrite=True)
        assert store.read_text("a.txt") == "again"

    def test_write_text_refuses_what_it_cannot_encode(self, store: Store) -> None:
        """ST-011: nothing is written."""
        if not self.gate(store, Capability.WRITE):
            return
        with pytest.raises(InvalidArgument):
            store.write_text("a.txt", b"bytes")  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument):
            store.write_text("a.txt", "日本", encoding="ascii")
        assert not store.exists("a.txt")

    @pytest.mark.parametrize("existing", [None, b"previous"], ids=["new", "existing"])
    def test_write_atomic_failing_source_changes_nothing(
        self, store: Store, existing: bytes | None
    ) -> None:
        """BC-012: no partial file, no temporary files left behind, the old content intact."""
        if not self.gate(store, Capability.WRITE, Capability.ATOMIC_WRITE, Capability.READ):
            return
        expected = {} if existing is None else {"dir/file.bin": existing}
        self.seed(store, expected)
        source = FailingStream(payload(100_000), fail_after=50_000)
        with pytest.raises((SourceFailed, RemoteStoreError)):
            store.write_atomic("dir/file.bin", source.as_binary(), overwrite=True)
        self.assert_files(store, expected)

    def test_open_atomic_commits_when_the_caller_closes_the_stream(self, store: Store) -> None:
        """BC-013: ``with io.TextIOWrapper(out) as text:`` closes *out* inside the block;
        every backend still commits what was written, and a write after that close is a
        ValueError, as on any closed file."""
        if not self.gate(store, Capability.ATOMIC_WRITE, Capability.READ):
            return
        with store.open_atomic("text.txt") as out:
            with io.TextIOWrapper(out, encoding="utf-8") as text:
                text.write("héllo\n")
            assert out.closed
            with pytest.raises(ValueError):
                out.write(b"more")
        assert store.read_text("text.txt") == "héllo\n"

    def test_open_atomic_commits_on_clean_exit_only(self, store: Store) -> None:
        """BC-013: nothing is visible at the path until the block ends."""
        if not self.gate(store, Capability.WRITE, Capability.ATOMIC_WRITE, Capability.READ):
            return
        store.write("old.txt", b"old")
        with store.open_atomic("new.txt") as out, store.open_atomic("old.txt", overwrite=True) as o:
            out.write(b"part one, ")
            o.write(b"replaced")
            assert not store.is_file("new.txt")
            assert store.read_bytes("old.txt") == b"old"
            out.write(b"part two")
        self.assert_files(store, {"new.txt": b"part one, part two", "old.txt": b"replaced"})

    @pytest.mark.parametrize("existing", [None, b"previous"], ids=["new", "existing"])
    def test_open_atomic_exception_propagates_and_changes_nothing(
        self, store: Store, existing: bytes | None
    ) -> None:
        """BC-013, ST-010: the block's own exception reaches the caller unchanged."""
        if not self.gate(store, Capability.WRITE, Capability.ATOMIC_WRITE, Capability.READ):
            return
        expected = {} if existing is None else {"dir/file.txt": existing}
        self.seed(store, expected)
        with pytest.raises(SourceFailed), store.open_atomic("dir/file.txt", overwrite=True) as out:
            out.write(b"partial")
            raise SourceFailed("the caller's own failure")
        self.assert_files(store, expected)

    def test_open_atomic_refuses_existing_without_overwrite(self, store: Store) -> None:
        """BC-013, BC-007: the refusal may come at entry or at exit; the original stays."""
        if not self.gate(store, Capability.WRITE, Capability.ATOMIC_WRITE, Capability.READ):
            return
        store.write("file.txt", b"original")
        with pytest.raises(AlreadyExists), store.open_atomic("file.txt") as out:
            out.write(b"replacement")
        self.assert_files(store, {"file.txt": b"original"})

    @pytest.mark.parametrize("method", ["write", "write_atomic"])
    def test_a_non_blocking_stream_is_never_stored_truncated(
        self, store: Store, method: str
    ) -> None:
        """BC-006: ``read()`` answering ``None`` is "no data yet", not the end. From a
        non-blocking pipe the write waits and stores every byte; from a stream with nothing
        to wait on it is refused and nothing is stored."""
        if not self.gate(store, write_capability(method), Capability.READ):
            return
        data = payload(300_000, seed=9)
        source = StallingStream(data, stall_after=100_000).as_binary()
        with pytest.raises(InvalidArgument, match="non-blocking"):
            _writer(store, method)("stalled.bin", source)
        assert not store.exists("stalled.bin")

        read_end, write_end = os.pipe()
        os.set_blocking(read_end, False)
        feeder = threading.Thread(target=_feed, args=(write_end, data))
        feeder.start()
        try:
            with os.fdopen(read_end, "rb", buffering=0) as pipe:
                result = _writer(store, method)("piped.bin", pipe)
        finally:
            feeder.join()
        assert result.size == len(data)
        assert store.read_bytes("piped.bin") == data


def _feed(descriptor: int, data: bytes) -> None:
    """Write *data* into a pipe in pieces with pauses, so the reader meets an empty pipe."""
    with os.fdopen(descriptor, "wb", buffering=0) as pipe:
        for start in range(0, len(data), 50_000):
            time.sleep(0.02)
            pipe.write(data[start : start + 50_000])
