"""Reading: read, read_bytes, read_text, read_seekable, read_to (BC-002 to BC-005, BC-037,
ST-011, ST-015)."""

from __future__ import annotations

import io

import pytest

from remote_store.capabilities import Capability
from remote_store.errors import InvalidArgument, InvalidPath, IsAFolder, NotAFolder, NotFound
from remote_store.store import Store
from remote_store.testing._base import SuiteBase, payload
from remote_store.testing._streams import SinkFull, TrickleSink


class ReadingTests(SuiteBase):
    """Reading files back, and the errors reading raises."""

    @pytest.mark.parametrize(
        "data",
        [b"", b"hello world", bytes(range(256)) * 4, payload(1024 * 1024 + 1)],
        ids=["empty", "text", "all-bytes", "1MiB+1"],
    )
    def test_read_bytes_returns_exactly_what_was_written(self, store: Store, data: bytes) -> None:
        """BC-002"""
        if not self.gate(store, Capability.WRITE, Capability.READ):
            return
        store.write("file.bin", data)
        assert store.read_bytes("file.bin") == data

    def test_read_returns_a_closable_binary_stream(self, store: Store) -> None:
        """BC-003: a context manager, chunked reads, b"" at EOF, close is idempotent."""
        if not self.gate(store, Capability.WRITE, Capability.READ):
            return
        data = payload(10_000, seed=1)
        store.write("file.bin", data)
        with store.read("file.bin") as stream:
            assert stream.readable()
            chunks = []
            while chunk := stream.read(777):
                assert isinstance(chunk, bytes)
                assert len(chunk) <= 777
                chunks.append(chunk)
            assert stream.read(10) == b""
            assert stream.read() == b""
        assert b"".join(chunks) == data
        assert stream.closed
        stream.close()

    def test_read_missing_raises_not_found_at_the_call(self, store: Store) -> None:
        """BC-005, ST-007: before any byte is read, with the store-relative path."""
        if not self.gate(store, Capability.READ):
            return
        with pytest.raises(NotFound) as caught:
            store.read("missing.txt")
        assert isinstance(caught.value, FileNotFoundError)
        assert caught.value.path == "missing.txt"
        with pytest.raises(NotFound):
            store.read_bytes("dir/missing.txt")
        with pytest.raises(FileNotFoundError):
            store.read_text("missing.txt")

    def test_read_folder_raises_is_a_folder(self, store: Store) -> None:
        """BC-005: a folder is not a file; IsAFolder is an InvalidPath and an IsADirectoryError."""
        if not self.gate(store, Capability.WRITE, Capability.READ):
            return
        store.write("dir/inner.txt", b"x")
        with pytest.raises(IsAFolder) as caught:
            store.read("dir")
        assert isinstance(caught.value, InvalidPath)
        assert isinstance(caught.value, IsADirectoryError)
        with pytest.raises(IsAFolder):
            store.read_bytes("dir")
        if store.supports(Capability.SEEKABLE_READ):
            with pytest.raises(IsAFolder):
                store.read_seekable("dir")

    def test_read_below_a_file_raises_not_found_or_not_a_folder(self, store: Store) -> None:
        """BC-005: a path that runs through a file names nothing readable."""
        if not self.gate(store, Capability.WRITE, Capability.READ):
            return
        store.write("file.txt", b"x")
        with pytest.raises((NotFound, NotAFolder)):
            store.read_bytes("file.txt/child")
        with pytest.raises((NotFound, NotAFolder)):
            store.read("file.txt/child/deeper")

    def test_read_root_raises_invalid_path(self, store: Store) -> None:
        """ST-004: the root is not a file."""
        if not self.gate(store, Capability.READ):
            return
        for path in ("", "/", "."):
            with pytest.raises(InvalidPath):
                store.read_bytes(path)

    def test_read_text_decodes(self, store: Store) -> None:
        """ST-011: utf-8 by default, any codec on request."""
        if not self.gate(store, Capability.WRITE, Capability.READ):
            return
        store.write("utf8.txt", "grüße, 日本".encode())
        store.write("latin1.txt", "grüße".encode("latin-1"))
        assert store.read_text("utf8.txt") == "grüße, 日本"
        assert store.read_text("latin1.txt", encoding="latin-1") == "grüße"
        assert store.read_text("latin1.txt", errors="replace") == "gr\ufffd\ufffde"

    def test_read_text_undecodable_raises_invalid_argument(self, store: Store) -> None:
        """ST-011"""
        if not self.gate(store, Capability.WRITE, Capability.READ):
            return
        store.write("bad.txt", b"\xff\xfe\xfa")
        with pytest.raises(InvalidArgument):
            store.read_text("bad.txt")
        with pytest.raises(InvalidArgument):
            store.read_text("bad.txt", encoding="no-such-codec")

    def test_read_seekable_supports_random_access(self, store: Store) -> None:
        """BC-004: seek and tell behave like a file opened in binary mode."""
        if not self.gate(store, Capability.WRITE, Capability.SEEKABLE_READ):
            return
        data = payload(50_000, seed=2)
        store.write("file.bin", data)
        with store.read_seekable("file.bin") as stream:
            assert stream.seekable()
            assert stream.tell() == 0
            assert stream.read(10) == data[:10]
            assert stream.tell() == 10
            assert stream.seek(40_000) == 40_000
            assert stream.read(5) == data[40_000:40_005]
            assert stream.seek(-3, io.SEEK_END) == len(data) - 3
            assert stream.read() == data[-3:]
            assert stream.seek(-100, io.SEEK_CUR) == len(data) - 100
            assert stream.read(100) == data[-100:]
            stream.seek(0)
            assert stream.read() == data

    def test_read_seekable_missing_raises_not_found(self, store: Store) -> None:
        """BC-005"""
        if not self.gate(store, Capability.SEEKABLE_READ):
            return
        with pytest.raises(NotFound):
            store.read_seekable("missing.bin")

    @pytest.mark.parametrize("size", [0, 10, 3 * 1024 * 1024 + 7], ids=["empty", "small", "3MiB+7"])
    def test_read_to_writes_the_whole_file_into_the_sink(self, store: Store, size: int) -> None:
        """BC-037: every byte, in order, and the count returned."""
        if not self.gate(store, Capability.WRITE, Capability.READ):
            return
        data = payload(size, seed=3)
        store.write("file.bin", data)
        sink = io.BytesIO()
        assert store.read_to("file.bin", sink) == size
        assert sink.getvalue() == data

    def test_read_to_completes_short_writes(self, store: Store) -> None:
        """BC-037: a raw sink taking part of each write is given the rest."""
        if not self.gate(store, Capability.WRITE, Capability.READ):
            return
        data = payload(300_001, seed=4)
        store.write("file.bin", data)
        sink = TrickleSink(step=10_000)
        assert store.read_to("file.bin", sink) == len(data)
        assert sink.received == data
        assert sink.writes >= 31

    def test_read_to_missing_or_folder_raises_and_writes_nothing(self, store: Store) -> None:
        """BC-037, BC-005: the errors of `read`, before the sink is written."""
        if not self.gate(store, Capability.WRITE, Capability.READ):
            return
        store.write("dir/inner.txt", b"x")
        sink = TrickleSink()
        with pytest.raises(NotFound) as caught:
            store.read_to("missing.bin", sink)
        assert caught.value.path == "missing.bin"
        with pytest.raises(IsAFolder):
            store.read_to("dir", sink)
        with pytest.raises(InvalidPath):
            store.read_to("", sink)
        assert sink.writes == 0

    def test_read_to_lets_the_sinks_own_error_through(self, store: Store) -> None:
        """ST-015: the sink's exception object itself, an OSError neither translated nor
        wrapped, after the bytes it took."""
        if not self.gate(store, Capability.WRITE, Capability.READ):
            return
        data = payload(200_000, seed=5)
        store.write("file.bin", data)
        sink = TrickleSink(step=50_000, fail_after=100_000)
        with pytest.raises(SinkFull) as caught:
            store.read_to("file.bin", sink)
        assert caught.value is sink.raised
        assert sink.received == data[:100_000]

    def test_read_to_refuses_what_cannot_take_bytes(self, store: Store) -> None:
        """ST-015: InvalidArgument before any I/O."""
        if not self.gate(store, Capability.READ):
            return
        for sink in (io.StringIO(), object(), None):
            with pytest.raises(InvalidArgument):
                store.read_to("missing.bin", sink)  # type: ignore[arg-type]
