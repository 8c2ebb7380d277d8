"""What writes report, and user metadata (BC-014, BC-015, ST-006)."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping

import pytest

from remote_store.capabilities import Capability
from remote_store.models import WriteResult, WriteSource
from remote_store.store import Store
from remote_store.testing._base import PROBE_KEY, SuiteBase, assert_refused, write_capability

# Lower-case identifiers and ASCII values: what every service we know of keeps verbatim.
METADATA = {"author": "alice", "project": "conformance suite"}


def _write_via(
    store: Store, method: str, path: str, data: bytes, metadata: Mapping[str, str]
) -> None:
    """Write *data* with metadata through any of the write methods."""
    if method == "open_atomic":
        with store.open_atomic(path, metadata=metadata) as out:
            out.write(data)
    elif method == "write_text":
        store.write_text(path, data.decode(), metadata=metadata)
    else:
        getattr(store, method)(path, data, metadata=metadata)


class WriteResultTests(SuiteBase):
    """`WriteResult` fields, and metadata that travels with a file."""

    def _result(self, store: Store, method: str) -> WriteResult | None:
        """The result of writing 12 bytes from a stream, or None if the method is refused."""
        if not self.gate(store, write_capability(method)):
            return None
        writer: Callable[..., WriteResult] = getattr(store, method)
        return writer("dir/file.bin", io.BytesIO(b"twelve bytes"))

    @pytest.mark.parametrize("method", ["write", "write_atomic"])
    def test_write_result_has_store_relative_path_and_size(self, store: Store, method: str) -> None:
        """BC-014"""
        result = self._result(store, method)
        if result is None:
            return
        assert isinstance(result, WriteResult)
        assert result.path == "dir/file.bin"
        assert result.size == 12

    @pytest.mark.parametrize("method", ["write", "write_atomic"])
    def test_write_result_source_matches_declared_capability(
        self, store: Store, method: str
    ) -> None:
        """BC-014: NATIVE exactly when WRITE_RESULT_NATIVE is declared; BASIC has no rich field."""
        result = self._result(store, method)
        if result is None:
            return
        native = store.supports(Capability.WRITE_RESULT_NATIVE)
        assert result.source == (WriteSource.NATIVE if native else WriteSource.BASIC)
        if result.source is WriteSource.BASIC:
            rich = (result.etag, result.last_modified, result.digest, result.version_id)
            assert rich == (None, None, None, None)

    @pytest.mark.parametrize("method", ["write", "write_atomic"])
    def test_native_write_result_matches_file_info(self, store: Store, method: str) -> None:
        """BC-014: each rich field a native result reports agrees with get_file_info."""
        result = self._result(store, method)
        if result is None or result.source is not WriteSource.NATIVE:
            return
        if result.last_modified is not None:
            assert result.last_modified.utcoffset() is not None
        if not self.gate(store, Capability.METADATA):
            return
        info = store.get_file_info("dir/file.bin")
        if result.etag is not None:
            assert result.etag == info.etag
        if result.last_modified is not None:
            assert result.last_modified == info.modified
        # A digest computed while writing need not be stored; when both exist they agree.
        if result.digest is not None and info.digest is not None:
            assert result.digest == info.digest

    @pytest.mark.parametrize("method", ["write", "write_atomic"])
    def test_write_result_echoes_metadata(self, store: Store, method: str) -> None:
        """BC-014: the metadata passed, or None when none was."""
        plain = self._result(store, method)
        if plain is None or not self.gate(store, Capability.USER_METADATA):
            return
        assert plain.metadata is None
        writer: Callable[..., WriteResult] = getattr(store, method)
        result = writer("dir/file.bin", b"x", overwrite=True, metadata=METADATA)
        assert result.metadata is not None
        assert dict(result.metadata) == METADATA

    @pytest.mark.parametrize("method", ["write", "write_atomic", "open_atomic"])
    def test_metadata_round_trips_via_get_file_info(self, store: Store, method: str) -> None:
        """BC-015: keys and values come back exactly."""
        needed = (write_capability(method), Capability.USER_METADATA, Capability.METADATA)
        if not self.gate(store, Capability.WRITE, *needed):
            return
        _write_via(store, method, "file.txt", b"x", METADATA)
        metadata = store.get_file_info("file.txt").metadata
        assert metadata is not None
        assert dict(metadata) == METADATA

    def test_overwrite_replaces_metadata(self, store: Store) -> None:
        """BC-015: a write sets the file's whole metadata; nothing is merged."""
        if not self.gate(store, Capability.WRITE, Capability.USER_METADATA, Capability.METADATA):
            return
        store.write("file.txt", b"1", metadata={"old": "1", "shared": "old"})
        store.write("file.txt", b"2", overwrite=True, metadata={"shared": "new"})
        assert dict(store.get_file_info("file.txt").metadata or {}) == {"shared": "new"}
        store.write("file.txt", b"3", overwrite=True)
        assert not store.get_file_info("file.txt").metadata

    def test_file_written_without_metadata_reports_none(self, store: Store) -> None:
        """BC-015: also the only answer on a backend without USER_METADATA."""
        if not self.gate(store, Capability.WRITE, Capability.METADATA):
            return
        store.write("file.txt", b"x")
        assert not store.get_file_info("file.txt").metadata

    @pytest.mark.parametrize("method", ["write", "write_atomic", "open_atomic", "write_text"])
    def test_metadata_needs_user_metadata(self, store: Store, method: str) -> None:
        """ST-006: refused before any I/O when undeclared, accepted when declared."""
        if not self.gate(store, write_capability(method)):
            return

        def call() -> None:
            _write_via(store, method, PROBE_KEY, b"x", {"k": "v"})

        if store.supports(Capability.USER_METADATA):
            call()
            assert store.is_file(PROBE_KEY)
        else:
            assert_refused(Capability.USER_METADATA, call)
            assert not store.exists(PROBE_KEY)
