"""Store-specific behaviour: gating, error translation, confinement (ST-* in 003)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from remote_store import (
    Capability,
    CapabilityNotSupported,
    CapabilitySet,
    FileInfo,
    InvalidArgument,
    InvalidPath,
    NotFound,
    RemoteStoreError,
    Store,
)
from remote_store.backends import LocalBackend, MemoryBackend


class ReadOnlyMemory(MemoryBackend):
    """A memory backend that declares only reading, to exercise the gate."""

    supported_capabilities = CapabilitySet([Capability.READ, Capability.LIST])


class BrokenMemory(MemoryBackend):
    """A backend with a bug: a native exception escapes it."""

    def _read(self, path: str) -> BinaryIO:
        raise KeyError(path)

    def _list_files(self, path: str, *, recursive: bool) -> Iterator[FileInfo]:
        yield from ()
        raise RuntimeError("listing broke")


@pytest.fixture
def store() -> Store:
    return Store(MemoryBackend(), root_path="root")


def test_st_gate_refuses_undeclared_capability_naming_it() -> None:
    store = Store(ReadOnlyMemory())
    with pytest.raises(CapabilityNotSupported, match="WRITE") as caught:
        store.write("a.txt", b"x")
    assert caught.value.capability == "WRITE"
    with pytest.raises(CapabilityNotSupported, match="GLOB"):
        store.glob("*.txt")
    with pytest.raises(CapabilityNotSupported, match="RECURSIVE_LIST"):
        store.list_files("", recursive=True)
    assert not store.supports(Capability.WRITE)
    assert store.supports("read")


def test_st_metadata_needs_user_metadata_capability() -> None:
    class NoMetadata(MemoryBackend):
        supported_capabilities = MemoryBackend.supported_capabilities - {Capability.USER_METADATA}

    with pytest.raises(CapabilityNotSupported, match="USER_METADATA"):
        Store(NoMetadata()).write("a", b"x", metadata={"k": "v"})


def test_st_native_exceptions_are_wrapped_with_cause() -> None:
    store = Store(BrokenMemory())
    with pytest.raises(RemoteStoreError) as caught:
        store.read("a.txt")
    assert isinstance(caught.value.__cause__, KeyError)
    with pytest.raises(RemoteStoreError, match="unexpectedly") as listing:
        list(store.list_files(""))
    assert isinstance(listing.value.__cause__, RuntimeError)


def test_st_error_paths_are_store_relative(store: Store) -> None:
    with pytest.raises(NotFound) as caught:
        store.read_bytes("missing/file.txt")
    assert caught.value.path == "missing/file.txt"


def test_st_results_are_store_relative(store: Store) -> None:
    result = store.write("d/a.txt", b"abc")
    assert result.path == "d/a.txt"
    assert store.get_file_info("d/a.txt").path == "d/a.txt"
    assert [i.path for i in store.list_files("", recursive=True)] == ["d/a.txt"]
    assert [e.path for e in store.iter_children("")] == ["d"]
    assert [i.path for i in store.glob("**/*.txt")] == ["d/a.txt"]
    assert store.backend.is_file("root/d/a.txt")


def test_st_root_confinement_and_child(store: Store) -> None:
    store.write("sub/x.txt", b"1")
    child = store.child("sub")
    assert child.read_bytes("x.txt") == b"1"
    assert child.root_path == "root/sub"
    for bad in ("..", "../x", "sub/../../x"):
        with pytest.raises(InvalidPath):
            store.child(bad)
        with pytest.raises(InvalidPath):
            store.read_bytes(bad)


def test_st_to_key_refuses_native_paths_outside_root(store: Store) -> None:
    outside = store.backend.native_path("elsewhere/x.txt")
    with pytest.raises(InvalidPath, match="outside"):
        store.to_key(outside)
    assert store.to_key(store.native_path("a/b.txt")) == "a/b.txt"


@pytest.mark.parametrize(
    ("content", "message"),
    [("text", "write_text"), (io.StringIO("t"), "text stream"), (42, "int"), (None, "NoneType")],
)
def test_st_write_refuses_non_binary_content(store: Store, content: object, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        store.write("a.txt", content)  # type: ignore[arg-type]
    assert not store.exists("a.txt")


def test_st_write_validates_options(store: Store) -> None:
    with pytest.raises(InvalidArgument, match="overwrite"):
        store.write("a", b"x", overwrite="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="metadata"):
        store.write("a", b"x", metadata={"k": 1})  # type: ignore[dict-item]
    with pytest.raises(InvalidArgument, match="max_depth"):
        store.list_files("", recursive=True, max_depth=0)
    with pytest.raises(InvalidArgument, match="pattern"):
        store.list_files("", pattern="a/b")


def test_st_list_files_depth_and_pattern(store: Store) -> None:
    for key in ("a.csv", "a.txt", "d/b.csv", "d/e/c.csv"):
        store.write(key, b"x")
    depth_two = {i.path for i in store.list_files("", recursive=True, max_depth=2)}
    assert depth_two == {"a.csv", "a.txt", "d/b.csv"}
    csvs = {i.path for i in store.list_files("", recursive=True, pattern="*.csv")}
    assert csvs == {"a.csv", "d/b.csv", "d/e/c.csv"}


def test_st_open_atomic_failure_leaves_nothing(store: Store) -> None:
    with pytest.raises(ZeroDivisionError), store.open_atomic("a.txt") as out:
        out.write(b"partial")
        raise ZeroDivisionError
    assert not store.exists("a.txt")
    with store.open_atomic("a.txt") as out:
        out.write(b"whole")
    assert store.read_bytes("a.txt") == b"whole"


def test_st_read_text_decoding_error_is_typed(store: Store) -> None:
    store.write("bin", b"\xff\xfe\xfa")
    with pytest.raises(InvalidArgument, match="utf-8"):
        store.read_text("bin")


def test_st_repr_names_backend_and_root(store: Store) -> None:
    assert repr(store) == "Store(backend='memory', root_path='root')"


@pytest.mark.parametrize("root", ["root", "a/b", "q'uote"])
def test_error_messages_quote_the_same_store_relative_path_as_path(
    tmp_path: Path, root: str
) -> None:
    for backend in (MemoryBackend(), LocalBackend(tmp_path / root.replace("/", "_"))):
        _check_messages(Store(backend, root), root)


def _check_messages(store: Store, root: str) -> None:
    store.write("f", b"1")
    calls: dict[str, Callable[[], object]] = {
        "missing": lambda: store.read_bytes("dir/x.txt"),
        "below a file": lambda: store.write("f/below", b"x"),
        "exists": lambda: store.write("f", b"2"),
        "folder": lambda: store.get_folder_info("nothing"),
    }
    for name, call in calls.items():
        with pytest.raises(RemoteStoreError) as caught:
            call()
        error = caught.value
        assert error.path is not None and not error.path.startswith(root), name
        assert error.path in str(error), (name, str(error))
        assert f"{root}/" not in str(error), (name, str(error))


def test_a_lone_surrogate_is_named_as_such() -> None:
    with pytest.raises(InvalidPath, match="lone surrogate") as caught:
        Store(MemoryBackend()).write("name\udcff.txt", b"x")
    assert "control character" not in str(caught.value)
