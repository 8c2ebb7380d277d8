"""The kernel's own rules (spec 005, KRN-*) beyond what the direct-call test compares."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

from remote_store import paths
from remote_store.backend import Backend
from remote_store.backends import LocalBackend, MemoryBackend
from remote_store.capabilities import Capability, CapabilitySet
from remote_store.errors import (
    BackendUnavailable,
    CapabilityNotSupported,
    InvalidArgument,
    InvalidPath,
    RemoteStoreError,
)
from remote_store.models import FileInfo, FolderEntry
from remote_store.store import Store


class Closable(Backend):
    """A minimal terminal backend that counts how often it was really closed."""

    name = "closable"
    supported_capabilities = CapabilitySet({Capability.READ, Capability.LIST})

    def __init__(self) -> None:
        self.closes = 0

    def _read(self, key: str) -> BinaryIO:
        raise KeyError(key)  # a bug: a native exception escapes the hook

    def _is_folder(self, key: str) -> bool:
        return False

    def _iter_children(self, key: str) -> Iterator[FileInfo | FolderEntry]:
        yield from ()

    def _close(self) -> None:
        self.closes += 1


def test_krn_001_public_methods_cannot_be_overridden() -> None:
    with pytest.raises(TypeError, match="overrides delete_folder, read"):

        class Sneaky(MemoryBackend):
            def read(self, path: str) -> BinaryIO:  # type: ignore[misc]
                raise NotImplementedError

            def delete_folder(self, path: str, **options: object) -> None:  # type: ignore[misc]
                raise NotImplementedError


def test_krn_002_store_keys_are_not_validated_twice() -> None:
    marked = paths.canonical("root", "a/b.txt")
    assert paths.normalize(marked) == "root/a/b.txt"
    assert type(paths.normalize(marked)) is str  # the marker never reaches a backend's results
    with pytest.raises(InvalidPath, match="names the store root"):
        paths.normalize(paths.canonical("", ""), allow_root=False)


def test_krn_003_flags_must_be_bools() -> None:
    backend = MemoryBackend()
    backend.write("d/f.txt", b"x")
    with pytest.raises(InvalidArgument, match="recursive must be a bool"):
        backend.delete_folder("d", recursive="no")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="missing_ok must be a bool"):
        backend.delete("d/f.txt", missing_ok=1)  # type: ignore[arg-type]
    assert backend.read_bytes("d/f.txt") == b"x"


def test_krn_005_a_native_exception_becomes_a_library_error() -> None:
    backend = Closable()
    with pytest.raises(RemoteStoreError, match="closable backend failed unexpectedly") as caught:
        backend.read("f.txt")
    assert type(caught.value) is RemoteStoreError
    assert isinstance(caught.value.__cause__, KeyError)


def test_krn_006_a_closed_terminal_backend_refuses_every_call() -> None:
    backend = Closable()
    store = Store(backend)
    backend.close()
    backend.close()
    assert backend.closes == 1  # idempotent: the hook runs once
    for call in (
        lambda: backend.read("f.txt"),
        lambda: backend.exists("f.txt"),
        lambda: backend.list_files(""),
        lambda: store.is_folder("d"),
        backend.ping,
    ):
        with pytest.raises(BackendUnavailable, match="closed") as caught:
            call()
        assert not caught.value.retryable


def test_krn_006_memory_and_local_stay_usable_after_close(tmp_path: Path) -> None:
    for backend in (MemoryBackend(), LocalBackend(tmp_path)):
        backend.close()
        backend.write("f.txt", b"still here")
        assert backend.read_bytes("f.txt") == b"still here"


def test_krn_009_a_direct_call_is_gated_before_its_path_is_checked() -> None:
    """A backend called directly refuses an undeclared capability first, as a Store does
    (ST-005): the same error for the same call, whatever the path."""
    backend = Closable()
    store = Store(backend)
    calls: dict[str, Callable[[Backend | Store], object]] = {
        "write": lambda target: target.write("", b"x"),
        "delete": lambda target: target.delete("../x"),
        "list recursive": lambda target: target.list_files("", recursive=True),
        "folder walk": lambda target: target.list_folders("a", max_depth=2),
        "metadata": lambda target: target.get_file_info("a\\b"),
        "glob": lambda target: target.glob("**"),
    }
    for name, call in calls.items():
        for target in (backend, store):
            with pytest.raises(CapabilityNotSupported):
                call(target)
        assert backend.closes == 0, name
