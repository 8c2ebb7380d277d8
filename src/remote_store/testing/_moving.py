"""Moving and copying files (BC-023, ST-009)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from remote_store.capabilities import Capability
from remote_store.errors import AlreadyExists, IsAFolder, NotAFolder, NotFound
from remote_store.store import Store
from remote_store.testing._base import SuiteBase, folder_state_agrees

Transfer = Callable[..., None]
OPERATIONS = ["move", "copy"]


def _operation(store: Store, name: str) -> Transfer:
    return store.move if name == "move" else store.copy


def _capability(name: str) -> Capability:
    return Capability.MOVE if name == "move" else Capability.COPY


class MovingTests(SuiteBase):
    """move and copy: what lands, what stays, and what is refused."""

    def _ready(self, store: Store, name: str, *more: Capability) -> bool:
        return self.gate(store, Capability.WRITE, Capability.READ, _capability(name), *more)

    @pytest.mark.parametrize("name", OPERATIONS)
    def test_transfer_lands_content_and_handles_the_source(self, store: Store, name: str) -> None:
        """BC-023: move removes the source, copy keeps it; folders are created as needed."""
        if not self._ready(store, name):
            return
        self.seed(store, {"src/file.bin": b"content", "src/sibling.txt": b"s"})
        assert _operation(store, name)("src/file.bin", "new/deeper/dst.bin") is None
        expected = {"new/deeper/dst.bin": b"content", "src/sibling.txt": b"s"}
        if name == "copy":
            expected["src/file.bin"] = b"content"
        self.assert_files(store, expected)
        assert store.is_folder("new/deeper")

    def test_copy_is_independent_of_its_source(self, store: Store) -> None:
        """BC-023: changing either file afterwards leaves the other alone."""
        if not self._ready(store, "copy"):
            return
        store.write("a.txt", b"one")
        store.copy("a.txt", "b.txt")
        store.write("a.txt", b"two", overwrite=True)
        assert store.read_bytes("b.txt") == b"one"
        store.write("b.txt", b"three", overwrite=True)
        assert store.read_bytes("a.txt") == b"two"

    @pytest.mark.parametrize("name", OPERATIONS)
    def test_existing_destination_raises_already_exists(self, store: Store, name: str) -> None:
        """BC-023: without overwrite both files stay as they were."""
        if not self._ready(store, name):
            return
        files = {"a.txt": b"source", "b.txt": b"destination"}
        self.seed(store, files)
        with pytest.raises(AlreadyExists):
            _operation(store, name)("a.txt", "b.txt")
        self.assert_files(store, files)

    @pytest.mark.parametrize("name", OPERATIONS)
    def test_overwrite_replaces_the_destination(self, store: Store, name: str) -> None:
        """BC-023"""
        if not self._ready(store, name):
            return
        self.seed(store, {"a.txt": b"short", "b.txt": b"a longer destination"})
        _operation(store, name)("a.txt", "b.txt", overwrite=True)
        expected = {"b.txt": b"short"} | ({"a.txt": b"short"} if name == "copy" else {})
        self.assert_files(store, expected)

    @pytest.mark.parametrize("name", OPERATIONS)
    def test_missing_source_raises_not_found(self, store: Store, name: str) -> None:
        """BC-023: also when the destination is blocked; the source is checked first."""
        if not self._ready(store, name):
            return
        store.write("file.txt", b"x")
        for dst in ("dst.txt", "file.txt", "file.txt/below"):
            with pytest.raises(NotFound):
                _operation(store, name)("missing.txt", dst, overwrite=True)
        self.assert_files(store, {"file.txt": b"x"})

    @pytest.mark.parametrize("name", OPERATIONS)
    def test_folder_source_raises_is_a_folder(self, store: Store, name: str) -> None:
        """BC-023: move and copy act on files; the folder stays."""
        if not self._ready(store, name):
            return
        store.write("dir/inner.txt", b"inner")
        with pytest.raises(IsAFolder):
            _operation(store, name)("dir", "elsewhere")
        self.assert_files(store, {"dir/inner.txt": b"inner"})

    @pytest.mark.parametrize("name", OPERATIONS)
    def test_folder_destination_is_refused(self, store: Store, name: str) -> None:
        """BC-023: IsAFolder; without overwrite AlreadyExists is as good. The folder stays."""
        if not self._ready(store, name):
            return
        files = {"a.txt": b"a", "dir/inner.txt": b"inner"}
        self.seed(store, files)
        with pytest.raises((IsAFolder, AlreadyExists)):
            _operation(store, name)("a.txt", "dir")
        with pytest.raises(IsAFolder):
            _operation(store, name)("a.txt", "dir", overwrite=True)
        self.assert_files(store, files)

    @pytest.mark.parametrize("name", OPERATIONS)
    def test_destination_below_a_file_is_refused_or_tolerated(
        self, store: Store, name: str
    ) -> None:
        """BC-023, BC-011: NotAFolder, or on a flat namespace a separate key; never data loss."""
        if not self._ready(store, name):
            return
        self.seed(store, {"a.txt": b"a", "file.txt": b"file"})
        try:
            _operation(store, name)("a.txt", "file.txt/below.txt")
        except NotAFolder:
            self.assert_files(store, {"a.txt": b"a", "file.txt": b"file"})
        else:
            assert store.read_bytes("file.txt/below.txt") == b"a"
        assert store.read_bytes("file.txt") == b"file"

    @pytest.mark.parametrize("overwrite", [False, True])
    @pytest.mark.parametrize("name", OPERATIONS)
    def test_onto_itself_is_a_no_op(self, store: Store, name: str, overwrite: bool) -> None:
        """ST-009: also when spelled differently; the content survives."""
        if not self._ready(store, name):
            return
        store.write("dir/a.txt", b"keep me")
        _operation(store, name)("dir/a.txt", "dir/a.txt", overwrite=overwrite)
        _operation(store, name)("/dir//a.txt", "dir/./a.txt", overwrite=overwrite)
        self.assert_files(store, {"dir/a.txt": b"keep me"})

    @pytest.mark.parametrize("name", OPERATIONS)
    def test_onto_itself_still_checks_the_source(self, store: Store, name: str) -> None:
        """ST-009: a missing source is NotFound, a folder IsAFolder."""
        if not self._ready(store, name):
            return
        store.write("dir/a.txt", b"x")
        with pytest.raises(NotFound):
            _operation(store, name)("missing.txt", "missing.txt")
        with pytest.raises(IsAFolder):
            _operation(store, name)("dir", "dir")

    @pytest.mark.parametrize("name", OPERATIONS)
    def test_transfer_keeps_user_metadata(self, store: Store, name: str) -> None:
        """BC-023, BC-015: the destination carries the source's metadata, not its own."""
        if not self._ready(store, name, Capability.USER_METADATA, Capability.METADATA):
            return
        store.write("a.txt", b"a", metadata={"origin": "source"})
        store.write("b.txt", b"b", metadata={"stale": "destination"})
        _operation(store, name)("a.txt", "b.txt", overwrite=True)
        assert dict(store.get_file_info("b.txt").metadata or {}) == {"origin": "source"}

    def test_source_folder_after_moving_its_last_file(self, store: Store) -> None:
        """BC-017: the emptied folder persists or vanishes, consistently."""
        if not self._ready(store, "move"):
            return
        store.write("from/only.txt", b"x")
        store.move("from/only.txt", "to/only.txt")
        assert not store.is_file("from/only.txt")
        if folder_state_agrees(store, "from") and store.supports(Capability.DELETE):
            store.delete_folder("from")
        assert store.read_bytes("to/only.txt") == b"x"
