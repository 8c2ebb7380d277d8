"""Queries: get_file_info, head, get_folder_info, exists, is_file, is_folder (BC-024 to BC-027)."""

from __future__ import annotations

import copy
import hashlib
import pickle
from datetime import UTC, datetime, timedelta

import pytest

from remote_store.capabilities import Capability
from remote_store.errors import InvalidArgument, InvalidPath, IsAFolder, NotAFolder, NotFound
from remote_store.models import ContentDigest, FileInfo, FolderInfo
from remote_store.store import Store
from remote_store.testing._base import SuiteBase

# Generous: emulators and services may run on another clock.
CLOCK_SKEW = timedelta(hours=1)


def _recent(moment: datetime | None) -> None:
    assert moment is not None
    assert moment.utcoffset() is not None, "timestamps must be timezone-aware"
    now = datetime.now(UTC)
    assert now - timedelta(days=1) < moment < now + CLOCK_SKEW


class MetadataTests(SuiteBase):
    """Describing files and folders, and asking what a path is."""

    def test_get_file_info_describes_the_file(self, store: Store) -> None:
        """BC-024: path, name, size, tz-aware modified time, a non-empty etag."""
        if not self.gate(store, Capability.WRITE, Capability.METADATA):
            return
        store.write("dir/file.bin", b"12345")
        info = store.get_file_info("dir/file.bin")
        assert isinstance(info, FileInfo)
        assert (info.path, info.name, info.size) == ("dir/file.bin", "file.bin", 5)
        _recent(info.modified)
        assert isinstance(info.etag, str)
        assert info.etag

    def test_etag_changes_with_the_content(self, store: Store) -> None:
        """BC-024: and a digest, when reported, is the content's."""
        if not self.gate(store, Capability.WRITE, Capability.METADATA):
            return
        store.write("file.bin", b"first")
        first = store.get_file_info("file.bin")
        store.write("file.bin", b"the second", overwrite=True)
        second = store.get_file_info("file.bin")
        assert first.etag != second.etag
        assert second.size == 10
        for info, data in ((first, b"first"), (second, b"the second")):
            if info.digest is not None:
                assert isinstance(info.digest, ContentDigest)
                expected = hashlib.new(info.digest.algorithm, data).hexdigest()
                assert info.digest.value == expected

    def test_get_file_info_errors(self, store: Store) -> None:
        """BC-024: missing is NotFound, a folder IsAFolder, below a file either kind."""
        if not self.gate(store, Capability.WRITE, Capability.METADATA):
            return
        store.write("dir/file.txt", b"x")
        with pytest.raises(NotFound) as caught:
            store.get_file_info("missing.txt")
        assert caught.value.path == "missing.txt"
        with pytest.raises(IsAFolder):
            store.get_file_info("dir")
        with pytest.raises((NotFound, NotAFolder)):
            store.get_file_info("dir/file.txt/below")
        with pytest.raises(InvalidPath):
            store.get_file_info("")

    def test_head_is_get_file_info_or_none(self, store: Store) -> None:
        """BC-024: None only when nothing is there; a folder is still refused."""
        if not self.gate(store, Capability.WRITE, Capability.METADATA):
            return
        store.write("dir/file.txt", b"abc")
        head = store.head("dir/file.txt")
        assert head is not None
        info = store.get_file_info("dir/file.txt")
        assert (head.path, head.size, head.etag) == (info.path, info.size, info.etag)
        assert store.head("missing.txt") is None
        assert store.head("dir/missing.txt") is None
        with pytest.raises(IsAFolder):
            store.head("dir")

    def test_get_folder_info_aggregates_every_depth(self, store: Store) -> None:
        """BC-025: count and total size of all files below, the newest modified time."""
        if not self.gate(store, Capability.WRITE, Capability.METADATA):
            return
        self.seed(store, {"dir/a": b"1", "dir/sub/b": b"22", "dir/sub/deep/c": b"333"})
        store.write("dir2/beside", b"not counted")
        info = store.get_folder_info("dir")
        assert isinstance(info, FolderInfo)
        assert (info.path, info.file_count, info.total_size) == ("dir", 3, 6)
        if info.modified is not None:
            _recent(info.modified)
        nested = store.get_folder_info("dir/sub")
        assert (nested.path, nested.file_count, nested.total_size) == ("dir/sub", 2, 5)
        whole = store.get_folder_info("")
        assert (whole.path, whole.file_count, whole.total_size) == ("", 4, 17)

    def test_results_pickle_and_deep_copy(self, store: Store) -> None:
        """BC-024: FileInfo, WriteResult, FolderInfo and ResolutionPlan survive pickle and
        deepcopy equal to themselves (they cross process boundaries), metadata included."""
        if not self.gate(store, Capability.WRITE, Capability.METADATA):
            return
        metadata = {"k": "v"} if store.supports(Capability.USER_METADATA) else None
        results = [
            store.write("dir/f.bin", b"abc", metadata=metadata),
            store.get_file_info("dir/f.bin"),
            store.get_folder_info("dir"),
            store.resolve("dir/f.bin"),
        ]
        for result in results:
            for copied in (pickle.loads(pickle.dumps(result)), copy.deepcopy(result)):
                assert copied == result, type(result).__name__

    def test_get_folder_info_max_depth(self, store: Store) -> None:
        """BC-025: max_depth counts levels below the folder (1 = its own files); below 1
        is InvalidArgument; name and modified_at are there under 0.33's names."""
        if not self.gate(store, Capability.WRITE, Capability.METADATA):
            return
        self.seed(store, {"dir/a": b"1", "dir/sub/b": b"22", "dir/sub/deep/c": b"333"})
        counted = {
            depth: (info.file_count, info.total_size)
            for depth in (1, 2, 3)
            for info in [store.get_folder_info("dir", max_depth=depth)]
        }
        assert counted == {1: (1, 1), 2: (2, 3), 3: (3, 6)}
        info = store.get_folder_info("dir/sub", max_depth=1)
        assert (info.name, info.file_count, info.modified_at) == ("sub", 1, info.modified)
        with pytest.raises(InvalidArgument):
            store.get_folder_info("dir", max_depth=0)

    def test_get_folder_info_errors(self, store: Store) -> None:
        """BC-025: a file is NotAFolder, a missing folder NotFound."""
        if not self.gate(store, Capability.WRITE, Capability.METADATA):
            return
        store.write("file.txt", b"x")
        with pytest.raises(NotAFolder):
            store.get_folder_info("file.txt")
        with pytest.raises(NotFound):
            store.get_folder_info("missing")

    def test_queries_on_a_file_a_folder_and_nothing(self, store: Store) -> None:
        """BC-026: a folder implied by a file is a folder; a path is never both."""
        if not self.gate(store, Capability.WRITE):
            return
        store.write("a/b/file.txt", b"x")
        cases = {
            "a/b/file.txt": (True, True, False),
            "a": (True, False, True),
            "a/b": (True, False, True),
            "/a/b/": (True, False, True),
            "missing": (False, False, False),
            "a/missing/deeper": (False, False, False),
            "a/b/fil": (False, False, False),
            "a/b/file.txt/below": (False, False, False),
            "": (True, False, True),
        }
        for path, expected in cases.items():
            got = (store.exists(path), store.is_file(path), store.is_folder(path))
            assert got == expected, path

    def test_backend_root_is_always_a_folder(self, store: Store) -> None:
        """BC-027: the backend's own root, before and after anything is written."""
        root = Store(store.backend)
        assert root.is_folder("")
        assert root.exists("")
        assert not root.is_file("")
