"""Deleting: delete and delete_folder (BC-016 to BC-018, ST-004)."""

from __future__ import annotations

import errno

import pytest

from remote_store.capabilities import Capability
from remote_store.errors import DirectoryNotEmpty, InvalidPath, IsAFolder, NotAFolder, NotFound
from remote_store.store import Store
from remote_store.testing._base import SuiteBase, folder_state_agrees


class DeletingTests(SuiteBase):
    """Removing files and folders, and what is left afterwards."""

    def test_delete_removes_only_the_file(self, store: Store) -> None:
        """BC-016: siblings, including names sharing a prefix, are untouched."""
        if not self.gate(store, Capability.WRITE, Capability.DELETE, Capability.READ):
            return
        self.seed(store, {"dir/a.txt": b"a", "dir/a.txt.bak": b"bak", "dir/b.txt": b"b"})
        assert store.delete("dir/a.txt") is None
        assert not store.exists("dir/a.txt")
        self.assert_files(store, {"dir/a.txt.bak": b"bak", "dir/b.txt": b"b"})

    def test_delete_missing_raises_not_found_unless_missing_ok(self, store: Store) -> None:
        """BC-016, ST-007"""
        if not self.gate(store, Capability.DELETE):
            return
        with pytest.raises(NotFound) as caught:
            store.delete("missing.txt")
        assert isinstance(caught.value, FileNotFoundError)
        assert caught.value.path == "missing.txt"
        store.delete("missing.txt", missing_ok=True)
        store.delete("no/such/folder/missing.txt", missing_ok=True)

    @pytest.mark.parametrize("missing_ok", [False, True])
    def test_delete_folder_path_raises_is_a_folder(self, store: Store, missing_ok: bool) -> None:
        """BC-016: missing_ok does not turn a folder into a missing file."""
        if not self.gate(store, Capability.WRITE, Capability.DELETE, Capability.READ):
            return
        store.write("dir/inner.txt", b"inner")
        with pytest.raises(IsAFolder):
            store.delete("dir", missing_ok=missing_ok)
        self.assert_files(store, {"dir/inner.txt": b"inner"})

    def test_delete_below_a_file_raises_not_found_or_not_a_folder(self, store: Store) -> None:
        """BC-016"""
        if not self.gate(store, Capability.WRITE, Capability.DELETE, Capability.READ):
            return
        store.write("file.txt", b"x")
        with pytest.raises((NotFound, NotAFolder)):
            store.delete("file.txt/child")
        self.assert_files(store, {"file.txt": b"x"})

    def test_folder_after_its_last_file_is_deleted(self, store: Store) -> None:
        """BC-017: the folder persists or vanishes, consistently, and is deletable if it stays."""
        if not self.gate(store, Capability.WRITE, Capability.DELETE):
            return
        store.write("dir/sub/only.txt", b"x")
        store.delete("dir/sub/only.txt")
        assert not store.exists("dir/sub/only.txt")
        if folder_state_agrees(store, "dir/sub"):
            store.delete_folder("dir/sub")
            assert not folder_state_agrees(store, "dir/sub")
        else:
            with pytest.raises(NotFound):
                store.delete_folder("dir/sub")
            store.delete_folder("dir/sub", missing_ok=True)

    def test_delete_folder_recursive_removes_everything_below(self, store: Store) -> None:
        """BC-018: every depth goes; siblings whose names share the prefix stay."""
        if not self.gate(store, Capability.WRITE, Capability.DELETE, Capability.READ):
            return
        keep = {"dir2/x.txt": b"2", "dir.txt": b"3", "di/r.txt": b"4", "other/dir/x": b"5"}
        self.seed(store, {"dir/a.txt": b"a", "dir/sub/b.txt": b"b", "dir/sub/deep/c": b"c"})
        self.seed(store, keep)
        assert store.delete_folder("dir", recursive=True) is None
        for path in ("dir", "dir/sub", "dir/sub/deep", "dir/a.txt", "dir/sub/deep/c"):
            assert not store.exists(path), path
        self.assert_files(store, keep)

    def test_delete_folder_non_recursive_refuses_a_non_empty_folder(self, store: Store) -> None:
        """BC-018: DirectoryNotEmpty (an OSError with ENOTEMPTY) and nothing is deleted."""
        if not self.gate(store, Capability.WRITE, Capability.DELETE, Capability.READ):
            return
        files = {"dir/a.txt": b"a", "dir/sub/b.txt": b"b"}
        self.seed(store, files)
        with pytest.raises(DirectoryNotEmpty) as caught:
            store.delete_folder("dir")
        assert isinstance(caught.value, OSError)
        assert caught.value.errno == errno.ENOTEMPTY
        self.assert_files(store, files)

    def test_delete_folder_holding_only_a_subfolder_is_not_empty(self, store: Store) -> None:
        """BC-018: a folder whose files are all deeper down is still not empty."""
        if not self.gate(store, Capability.WRITE, Capability.DELETE, Capability.READ):
            return
        store.write("dir/sub/b.txt", b"b")
        with pytest.raises(DirectoryNotEmpty):
            store.delete_folder("dir", missing_ok=True)
        self.assert_files(store, {"dir/sub/b.txt": b"b"})

    def test_delete_folder_missing_raises_not_found_unless_missing_ok(self, store: Store) -> None:
        """BC-018"""
        if not self.gate(store, Capability.DELETE):
            return
        for recursive in (False, True):
            with pytest.raises(NotFound):
                store.delete_folder("missing", recursive=recursive)
            store.delete_folder("missing", recursive=recursive, missing_ok=True)

    @pytest.mark.parametrize("missing_ok", [False, True])
    @pytest.mark.parametrize("recursive", [False, True])
    def test_delete_folder_on_a_file_raises_not_a_folder(
        self, store: Store, recursive: bool, missing_ok: bool
    ) -> None:
        """BC-018: the file is not a folder and stays; NotAFolder is a NotADirectoryError."""
        if not self.gate(store, Capability.WRITE, Capability.DELETE, Capability.READ):
            return
        store.write("file.txt", b"x")
        with pytest.raises(NotAFolder) as caught:
            store.delete_folder("file.txt", recursive=recursive, missing_ok=missing_ok)
        assert isinstance(caught.value, NotADirectoryError)
        self.assert_files(store, {"file.txt": b"x"})

    def test_delete_and_delete_folder_refuse_the_root(self, store: Store) -> None:
        """ST-004: the root cannot be deleted through the store; nothing is lost."""
        if not self.gate(store, Capability.WRITE, Capability.DELETE, Capability.READ):
            return
        store.write("file.txt", b"x")
        for path in ("", "/", "."):
            with pytest.raises(InvalidPath):
                store.delete_folder(path, recursive=True)
            with pytest.raises(InvalidPath):
                store.delete(path, missing_ok=True)
        self.assert_files(store, {"file.txt": b"x"})
