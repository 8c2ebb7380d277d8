"""Paths, addressing and identity (BC-001, BC-028, BC-029, ST-001 to ST-005, ST-008, ST-013)."""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Mapping

import pytest

from remote_store.backend import Backend
from remote_store.capabilities import Capability, CapabilitySet
from remote_store.errors import (
    CapabilityNotSupported,
    InvalidArgument,
    InvalidPath,
    RemoteStoreError,
)
from remote_store.models import ResolutionPlan
from remote_store.paths import MAX_SEGMENT_BYTES
from remote_store.store import Store
from remote_store.testing._base import (
    PROBE_KEY,
    SuiteBase,
    assert_refused,
    fresh_root,
    remove_quietly,
)

BAD_PATHS = ["..", "../x", "a/../b", "a\\b", "a\x00b", "a\nb"]

#: Store calls that take a file path, with the capability each is gated on.
FILE_CALLS: Mapping[str, tuple[Capability, Callable[[Store, str], object]]] = {
    "read_bytes": (Capability.READ, lambda s, p: s.read_bytes(p)),
    "read_to": (Capability.READ, lambda s, p: s.read_to(p, io.BytesIO())),
    "write": (Capability.WRITE, lambda s, p: s.write(p, b"x")),
    "delete": (Capability.DELETE, lambda s, p: s.delete(p, missing_ok=True)),
    "get_file_info": (Capability.METADATA, lambda s, p: s.get_file_info(p)),
    "move": (Capability.MOVE, lambda s, p: s.move(PROBE_KEY, p)),
    "copy": (Capability.COPY, lambda s, p: s.copy(p, PROBE_KEY)),
}


def _open_atomic(store: Store) -> None:
    with store.open_atomic(PROBE_KEY, overwrite=True):
        pass


#: Every gated Store method, the capabilities it needs (in gate order) and a call to it.
GATED_CALLS: Mapping[str, tuple[tuple[Capability, ...], Callable[[Store], object]]] = {
    "read": ((Capability.READ,), lambda s: s.read(PROBE_KEY).close()),
    "read_bytes": ((Capability.READ,), lambda s: s.read_bytes(PROBE_KEY)),
    "read_text": ((Capability.READ,), lambda s: s.read_text(PROBE_KEY)),
    "read_to": ((Capability.READ,), lambda s: s.read_to(PROBE_KEY, io.BytesIO())),
    "read_seekable": ((Capability.SEEKABLE_READ,), lambda s: s.read_seekable(PROBE_KEY)),
    "write": ((Capability.WRITE,), lambda s: s.write(PROBE_KEY, b"", overwrite=True)),
    "write_text": ((Capability.WRITE,), lambda s: s.write_text(PROBE_KEY, "", overwrite=True)),
    "write_atomic": (
        (Capability.ATOMIC_WRITE,),
        lambda s: s.write_atomic(PROBE_KEY, b"", overwrite=True),
    ),
    "open_atomic": ((Capability.ATOMIC_WRITE,), _open_atomic),
    "delete": ((Capability.DELETE,), lambda s: s.delete(PROBE_KEY, missing_ok=True)),
    "delete_folder": ((Capability.DELETE,), lambda s: s.delete_folder("p", missing_ok=True)),
    "move": ((Capability.MOVE,), lambda s: s.move(PROBE_KEY, "moved.bin")),
    "copy": ((Capability.COPY,), lambda s: s.copy(PROBE_KEY, "copied.bin")),
    "list_files": ((Capability.LIST,), lambda s: list(s.list_files(""))),
    "list_files(recursive)": (
        (Capability.LIST, Capability.RECURSIVE_LIST),
        lambda s: list(s.list_files("", recursive=True)),
    ),
    "list_folders": ((Capability.LIST,), lambda s: list(s.list_folders(""))),
    "iter_children": ((Capability.LIST,), lambda s: list(s.iter_children(""))),
    "glob": ((Capability.GLOB,), lambda s: list(s.glob("*"))),
    "get_file_info": ((Capability.METADATA,), lambda s: s.get_file_info(PROBE_KEY)),
    "head": ((Capability.METADATA,), lambda s: s.head(PROBE_KEY)),
    "get_folder_info": ((Capability.METADATA,), lambda s: s.get_folder_info("p")),
}

SPECIAL_NAMES = [
    "with space.txt",
    "percent%20sign.txt",
    "plus+and=equals&amp.txt",
    "hash#and;semicolon.txt",
    "quote's.txt",
    "ünïcødé-日本語.txt",
    ".hidden",
    "x" * MAX_SEGMENT_BYTES,
]


class PathTests(SuiteBase):
    """Path rules, root confinement, addressing and the backend's identity."""

    @pytest.mark.parametrize("call", list(FILE_CALLS))
    @pytest.mark.parametrize("bad", BAD_PATHS, ids=repr)
    def test_bad_path_raises_invalid_path(self, store: Store, call: str, bad: str) -> None:
        """ST-003: `..`, backslash and control characters are refused, as a ValueError too."""
        capability, operation = FILE_CALLS[call]
        if not self.gate(store, capability):
            return
        with pytest.raises(InvalidPath) as caught:
            operation(store, bad)
        assert isinstance(caught.value, ValueError)

    def test_queries_refuse_bad_paths(self, store: Store) -> None:
        """ST-003: queries answer for valid paths only; a bad one is not merely absent."""
        for bad in BAD_PATHS:
            for query in (store.exists, store.is_file, store.is_folder):
                with pytest.raises(InvalidPath):
                    query(bad)

    @pytest.mark.parametrize("call", list(FILE_CALLS))
    def test_file_operations_refuse_the_root(self, store: Store, call: str) -> None:
        """ST-004: an empty path names the root, which is not a file."""
        capability, operation = FILE_CALLS[call]
        if not self.gate(store, capability):
            return
        for path in ("", "/", ".", "//./"):
            with pytest.raises(InvalidPath):
                operation(store, path)

    def test_redundant_slashes_and_dots_name_the_same_file(self, store: Store) -> None:
        """ST-002: results always carry the canonical spelling."""
        if not self.gate(store, Capability.WRITE, Capability.READ):
            return
        result = store.write("//a//b/./c.txt", b"x")
        assert result.path == "a/b/c.txt"
        assert store.read_bytes("a/b/c.txt") == b"x"
        assert store.read_bytes("/a/b/c.txt/") == b"x"
        assert store.is_folder("a/b/")
        self.assert_files(store, {"a/b/c.txt": b"x"})

    @pytest.mark.parametrize("name", SPECIAL_NAMES, ids=lambda n: n[:20])
    def test_unusual_names_round_trip(self, store: Store, name: str) -> None:
        """BC-029: through write, write_atomic, read and listing, spelled exactly."""
        if not self.gate(store, Capability.WRITE, Capability.READ):
            return
        store.write(f"dir/{name}", name.encode())
        assert store.read_bytes(f"dir/{name}") == name.encode()
        if store.supports(Capability.ATOMIC_WRITE):
            store.write_atomic(f"{name}/{name}", b"atomic")
            assert store.read_bytes(f"{name}/{name}") == b"atomic"
        if store.supports(Capability.LIST):
            assert [info.name for info in store.list_files("dir")] == [name]

    def test_stores_with_different_roots_do_not_see_each_other(self, store: Store) -> None:
        """ST-001: same keys, separate files; nothing escapes its root."""
        if not self.gate(store, Capability.WRITE, Capability.READ):
            return
        other = Store(store.backend, root_path=fresh_root())
        try:
            store.write("same.txt", b"mine")
            assert not other.exists("same.txt")
            other.write("same.txt", b"theirs")
            assert store.read_bytes("same.txt") == b"mine"
            assert other.read_bytes("same.txt") == b"theirs"
            self.assert_files(store, {"same.txt": b"mine"})
        finally:
            remove_quietly(store.backend, other.root_path)

    def test_child_store_shares_the_files_below_it(self, store: Store) -> None:
        """ST-008: paths in a child are relative to it; it cannot climb out."""
        if not self.gate(store, Capability.WRITE, Capability.READ):
            return
        child = store.child("sub/dir")
        assert child.root_path == f"{store.root_path}/sub/dir"
        store.write("sub/dir/from-parent.txt", b"p")
        result = child.write("nested/from-child.txt", b"c")
        assert result.path == "nested/from-child.txt"
        assert child.read_bytes("from-parent.txt") == b"p"
        assert store.read_bytes("sub/dir/nested/from-child.txt") == b"c"
        assert not child.exists("sub")
        assert store.child("").root_path == store.root_path
        for bad in ("..", "../sibling", "a/../.."):
            with pytest.raises(InvalidPath):
                store.child(bad)

    @pytest.mark.parametrize("path", ["file.txt", "dir/sub/file.bin", "ünï cødé/x.txt"])
    def test_native_path_round_trips_through_to_key(self, store: Store, path: str) -> None:
        """ST-013, BC-028: to_key(native_path(p)) == p, and resolve agrees."""
        native = store.native_path(path)
        assert isinstance(native, str)
        assert native
        assert store.to_key(native) == path
        plan = store.resolve(path)
        assert isinstance(plan, ResolutionPlan)
        assert plan.native_path == native
        assert isinstance(plan.backend, str)
        assert plan.backend
        assert isinstance(plan.kind, str)
        assert plan.kind
        assert isinstance(plan.details, Mapping)

    def test_native_path_of_the_root_and_outside_it(self, store: Store) -> None:
        """ST-013: the root maps to "", a native path outside the root is refused."""
        assert store.to_key(store.native_path("")) == ""
        outside = Store(store.backend, root_path="elsewhere").native_path("x.txt")
        with pytest.raises(InvalidPath):
            store.to_key(outside)

    def test_listed_paths_round_trip_through_native_paths(self, store: Store) -> None:
        """BC-028: what a listing returns maps to a native path and back."""
        if not self.gate(store, Capability.WRITE, Capability.RECURSIVE_LIST):
            return
        self.seed(store, {"a.txt": b"a", "d/e/f.txt": b"f"})
        for info in store.list_files("", recursive=True):
            assert store.to_key(store.native_path(info.path)) == info.path

    def test_backend_identity(self, backend: Backend) -> None:
        """BC-001: a name, capabilities within what the class declares, a working ping."""
        assert isinstance(backend.name, str)
        assert backend.name
        assert isinstance(backend.capabilities, CapabilitySet)
        assert backend.capabilities <= type(backend).supported_capabilities
        Store(backend).ping()  # raises when the backend cannot be reached

    def test_supports_mirrors_declared_capabilities(self, store: Store) -> None:
        """ST-005: by member or by value; an unknown name is an InvalidArgument."""
        for capability in Capability:
            declared = capability in store.backend.capabilities
            assert store.supports(capability) is declared
            assert store.supports(capability.value) is declared
        with pytest.raises(InvalidArgument):
            store.supports("teleport")

    @pytest.mark.parametrize("method", list(GATED_CALLS))
    def test_gated_call_matches_declaration(self, store: Store, method: str) -> None:
        """ST-005: refused before any I/O when undeclared, never refused when declared."""
        capabilities, call = GATED_CALLS[method]
        missing = [c for c in capabilities if not store.supports(c)]
        if missing:
            assert_refused(missing[0], functools.partial(call, store))
            assert not store.exists(PROBE_KEY)
            return
        try:
            call(store)
        except CapabilityNotSupported as error:
            pytest.fail(f"{method} refused although it is declared: {error}")
        except RemoteStoreError:
            pass  # NotFound and the like: the call got past the gate, which is all we ask

    def test_unwrap_of_an_unrelated_type_is_refused(self, store: Store) -> None:
        """BC-028: unwrap returns a native client of the asked type or refuses."""

        class NotAClient:
            pass

        with pytest.raises(CapabilityNotSupported):
            store.unwrap(NotAClient)
