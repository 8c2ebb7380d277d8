"""Fixtures and helpers shared by every part of the conformance suite."""

from __future__ import annotations

import functools
import random
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import suppress

import pytest

from remote_store.backend import Backend
from remote_store.capabilities import Capability
from remote_store.errors import CapabilityNotSupported, RemoteStoreError
from remote_store.store import Store

PROBE_KEY = "capability-probe.bin"

#: One call per gating capability that the Store must refuse when the backend lacks it.
PROBES: Mapping[Capability, Callable[[Store], object]] = {
    Capability.READ: lambda s: s.read_bytes(PROBE_KEY),
    Capability.WRITE: lambda s: s.write(PROBE_KEY, b""),
    Capability.DELETE: lambda s: s.delete(PROBE_KEY, missing_ok=True),
    Capability.LIST: lambda s: s.list_files(""),
    Capability.RECURSIVE_LIST: lambda s: s.list_files("", recursive=True),
    Capability.MOVE: lambda s: s.move(PROBE_KEY, "probe-moved.bin"),
    Capability.COPY: lambda s: s.copy(PROBE_KEY, "probe-copied.bin"),
    Capability.ATOMIC_WRITE: lambda s: s.write_atomic(PROBE_KEY, b""),
    Capability.GLOB: lambda s: s.glob("*"),
    Capability.METADATA: lambda s: s.get_file_info(PROBE_KEY),
    Capability.SEEKABLE_READ: lambda s: s.read_seekable(PROBE_KEY),
    Capability.USER_METADATA: lambda s: s.write(PROBE_KEY, b"", metadata={"k": "v"}),
    Capability.CONDITIONAL_WRITE: lambda s: s.write(PROBE_KEY, b"", overwrite=True, if_match="e"),
}

# A probe can only name its own capability once the capability it builds on is present.
_PREREQUISITE = {
    Capability.RECURSIVE_LIST: Capability.LIST,
    Capability.USER_METADATA: Capability.WRITE,
    Capability.CONDITIONAL_WRITE: Capability.WRITE,
}


def fresh_root() -> str:
    """A folder name no other test uses: backends such as Azure share one container."""
    return f"conformance-{uuid.uuid4().hex[:12]}"


def remove_quietly(backend: Backend, root: str) -> None:
    """Best-effort removal of a test's folder; a failure here must not hide the test's."""
    if not backend.capabilities.supports(Capability.DELETE):
        return
    with suppress(RemoteStoreError):
        Store(backend).delete_folder(root, recursive=True, missing_ok=True)


def assert_refused(capability: Capability, call: Callable[[], object]) -> None:
    """*call* must raise `CapabilityNotSupported` naming *capability*."""
    with pytest.raises(CapabilityNotSupported) as caught:
        result = call()
        if isinstance(result, Iterator):  # a lazy refusal still counts
            list(result)
    assert isinstance(caught.value, NotImplementedError)
    assert caught.value.capability in (capability.name, capability.value), caught.value


def write_capability(method: str) -> Capability:
    """The capability a write method (write, write_text, write_atomic, open_atomic) needs."""
    return Capability.ATOMIC_WRITE if "atomic" in method else Capability.WRITE


def folder_state_agrees(store: Store, folder: str) -> bool:
    """Whether *folder* exists, after checking every query gives the same answer (BC-017)."""
    parent, _, name = folder.rpartition("/")
    exists = store.is_folder(folder)
    assert store.exists(folder) == exists
    assert not store.is_file(folder)
    if store.supports(Capability.LIST):
        assert (name in [f.name for f in store.list_folders(parent)]) == exists
    return exists


def payload(size: int, seed: int = 0) -> bytes:
    """Deterministic, incompressible bytes."""
    return random.Random(seed).randbytes(size)


class SuiteBase:
    """Provides the `store` fixture and the capability gate. Needs a `backend` fixture."""

    @pytest.fixture
    def store(self, backend: Backend) -> Iterator[Store]:
        """A Store over *backend* rooted at a fresh folder, removed afterwards."""
        root = fresh_root()
        yield Store(backend, root_path=root)
        remove_quietly(backend, root)

    def gate(self, store: Store, *capabilities: Capability) -> bool:
        """True when the backend declares every capability. Otherwise check the Store refuses
        the first missing one (ST-005) and return False, so the test ends having asserted."""
        for capability in capabilities:
            needed = [_PREREQUISITE[capability]] if capability in _PREREQUISITE else []
            for cap in [*needed, capability]:
                if not store.supports(cap):
                    assert_refused(cap, functools.partial(PROBES[cap], store))
                    return False
        return True

    @staticmethod
    def seed(store: Store, files: Mapping[str, bytes]) -> None:
        """Write *files* (path -> content), creating each."""
        for path, data in files.items():
            store.write(path, data)

    @staticmethod
    def assert_files(store: Store, expected: Mapping[str, bytes]) -> None:
        """The store holds exactly *expected* (path -> content): no strays such as temporary
        files where the backend can list recursively, and each file's content otherwise."""
        if store.supports(Capability.LIST) and store.supports(Capability.RECURSIVE_LIST):
            listed = sorted(info.path for info in store.list_files("", recursive=True))
            assert listed == sorted(expected)
        for path, data in expected.items():
            assert store.read_bytes(path) == data, path
