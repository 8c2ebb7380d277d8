"""DS-001..DS-006: stores and registries pickle by configuration, never by live client."""

from __future__ import annotations

import copy
import pickle
import pickletools
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from remote_store.backends.local import LocalBackend
from remote_store.backends.memory import MemoryBackend
from remote_store.config import RegistryConfig
from remote_store.errors import ConfigError, InvalidArgument
from remote_store.proxy import ProxyStore
from remote_store.registry import Registry
from remote_store.store import Store
from tests.datascience import workers

# Module prefixes a pickle must never name: a live client, socket, lock or thread.
_LIVE = ("azure.", "socket", "_socket", "threading", "_thread", "ssl", "urllib3", "requests")


def globals_named(payload: bytes) -> set[str]:
    """Every module-qualified name a pickle refers to (what it will import to load)."""
    names: set[str] = set()
    strings: list[str] = []
    for opcode, arg, _ in pickletools.genops(payload):
        if opcode.name in ("GLOBAL", "INST"):
            names.add(str(arg).replace(" ", "."))
        elif isinstance(arg, str):
            strings.append(arg)
        if opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
            names.add(f"{strings[-2]}.{strings[-1]}")
    return names


def assert_no_live_objects(payload: bytes) -> None:
    live = [name for name in globals_named(payload) if name.startswith(_LIVE)]
    assert not live, f"the pickle refers to live objects: {live}"


def local_config(tmp_path: Path) -> RegistryConfig:
    return RegistryConfig.from_dict(
        {
            "backends": {"disk": {"type": "local", "base_path": "${DS_TEST_DIR}"}},
            "stores": {"data": {"backend": "disk", "root_path": "lake"}},
        },
        env={"DS_TEST_DIR": str(tmp_path)},
    )


def test_ds_001_registry_store_round_trips_in_a_spawned_process(
    tmp_path: Path, spawned: ProcessPoolExecutor
) -> None:
    with Registry(local_config(tmp_path)) as registry:
        store = registry.get_store("data")
        store.write("raw/a.csv", b"x,y\n1,2\n")
        payload = pickle.dumps(store.child("raw"))
    assert_no_live_objects(payload)
    env = {"DS_TEST_DIR": str(tmp_path)}
    before, data = spawned.submit(workers.read_in_worker, payload, "a.csv", env).result()
    assert data == b"x,y\n1,2\n"
    assert before == "Store(backend='(not built yet)', root_path='lake/raw')"  # lazy


def test_ds_002_a_placeholder_is_resolved_in_the_receiving_process(
    tmp_path: Path, spawned: ProcessPoolExecutor
) -> None:
    here, there = tmp_path / "here", tmp_path / "there"
    (there / "lake").mkdir(parents=True)
    (there / "lake" / "f.txt").write_bytes(b"worker's copy")
    with Registry(local_config(here)) as registry:
        payload = pickle.dumps(registry.get_store("data"))
    assert str(here).encode() not in payload  # the template travels, not the value
    env = {"DS_TEST_DIR": str(there)}
    assert spawned.submit(workers.read_in_worker, payload, "f.txt", env).result()[1] == (
        b"worker's copy"
    )
    # Unset on the worker: unpickling says which variable, with a typed error.
    error = spawned.submit(workers.unpickle_error, payload, env).result()
    assert error.startswith("ConfigError: ")
    assert "DS_TEST_DIR is not set" in error


def test_ds_002_a_config_without_placeholders_pickles_by_value(tmp_path: Path) -> None:
    config = RegistryConfig.from_dict(
        {"backends": {"disk": {"type": "local", "base_path": str(tmp_path)}}}
    )
    assert pickle.loads(pickle.dumps(config)) == config
    templated = local_config(tmp_path)
    assert copy.copy(templated) is templated
    assert copy.deepcopy(templated) is templated
    # The documented way to ship resolved values instead of the template:
    frozen = RegistryConfig.from_dict(templated.to_dict())
    assert str(tmp_path).encode() in pickle.dumps(frozen)


def test_ds_003_registry_pickles_as_its_configuration(
    tmp_path: Path, spawned: ProcessPoolExecutor
) -> None:
    with Registry(local_config(tmp_path)) as registry:
        registry.get_store("data").write("k.bin", b"\x00\x01")
        payload = pickle.dumps(registry)
    assert_no_live_objects(payload)
    env = {"DS_TEST_DIR": str(tmp_path)}
    assert spawned.submit(workers.registry_read, payload, "data", "k.bin", env).result() == (
        b"\x00\x01"
    )


def test_ds_004_direct_local_store_rebuilds_from_its_options(
    tmp_path: Path, spawned: ProcessPoolExecutor
) -> None:
    store = Store(LocalBackend(tmp_path), "sub")
    payload = pickle.dumps(store)
    assert_no_live_objects(payload)
    spawned.submit(workers.write_in_worker, payload, "w.txt", b"from worker", {}).result()
    assert store.read_bytes("w.txt") == b"from worker"


def test_ds_005_memory_store_refuses_to_pickle() -> None:
    with pytest.raises(InvalidArgument, match="memory store cannot be pickled"):
        pickle.dumps(Store(MemoryBackend()))
    config = RegistryConfig.from_dict(
        {"backends": {"m": {"type": "memory"}}, "stores": {"m": {"backend": "m"}}}
    )
    with Registry(config) as registry:
        store = registry.get_store("m")
        with pytest.raises(InvalidArgument, match="memory store cannot be pickled"):
            pickle.dumps(store)
        with pytest.raises(InvalidArgument, match="memory store cannot be pickled"):
            pickle.dumps(registry)


def test_ds_005_a_backend_without_the_hook_refuses_with_a_typed_error(tmp_path: Path) -> None:
    class Opaque(LocalBackend):
        def _rebuild_options(self) -> None:
            return None

    with pytest.raises(InvalidArgument, match=r"cannot be pickled.*Registry"):
        pickle.dumps(Store(Opaque(tmp_path)))


def test_ds_006_unpickled_registry_store_builds_nothing_until_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DS_TEST_DIR", str(tmp_path))
    with Registry(local_config(tmp_path)) as registry:
        payload = pickle.dumps(registry.get_store("data"))
    bad = payload.replace(b"local", b"nolcl")  # an unknown type fails only at first use
    store = pickle.loads(bad)
    assert repr(store) == "Store(backend='(not built yet)', root_path='lake')"
    with pytest.raises(ConfigError):
        store.exists("x")


class Tagged(ProxyStore):
    tag = ""


def test_ds_006_proxy_store_pickles_its_state_and_its_store_by_configuration(
    tmp_path: Path,
) -> None:
    proxy = Tagged(Store(LocalBackend(tmp_path)))
    proxy.tag = "audit"
    proxy.write("a.txt", b"1")
    loaded = pickle.loads(pickle.dumps(proxy.child("")))
    assert isinstance(loaded, Tagged)
    assert (loaded.tag, loaded.read_bytes("a.txt")) == ("audit", b"1")
    assert copy.copy(proxy.inner).backend is proxy.inner.backend
