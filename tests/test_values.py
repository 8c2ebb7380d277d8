"""Value objects: configuration and capability sets pickle, deep-copy and keep their type."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import pytest

from remote_store import Capability, CapabilitySet, InvalidArgument, RegistryConfig, Secret
from remote_store.backends import LocalBackend, MemoryBackend
from remote_store.frozen import FrozenMap

READ_WRITE = CapabilitySet({Capability.READ, Capability.WRITE})


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (READ_WRITE.union({Capability.LIST}), {"READ", "WRITE", "LIST"}),
        (READ_WRITE.intersection({Capability.READ}), {"READ"}),
        (READ_WRITE.difference({Capability.READ}), {"WRITE"}),
        (READ_WRITE.symmetric_difference({Capability.READ, Capability.LIST}), {"WRITE", "LIST"}),
        (READ_WRITE ^ {Capability.READ}, {"WRITE"}),
        (READ_WRITE.copy(), {"READ", "WRITE"}),
    ],
)
def test_capability_set_methods_keep_the_type(result: object, expected: set[str]) -> None:
    assert type(result) is CapabilitySet
    assert isinstance(result, CapabilitySet)
    assert {c.name for c in result} == expected
    result.require(Capability.WRITE) if "WRITE" in expected else None


def test_capability_set_pickles_and_answers_string_values() -> None:
    copied = pickle.loads(pickle.dumps(READ_WRITE))
    assert (type(copied), copied) == (CapabilitySet, READ_WRITE)
    assert READ_WRITE.supports("read") and READ_WRITE.supports(Capability.WRITE)


def test_registry_config_pickles_and_deep_copies_with_its_secrets() -> None:
    config = RegistryConfig.from_dict(
        {
            "backends": {"disk": {"type": "local", "base_path": "/d", "password": "p4ss"}},
            "stores": {"data": {"backend": "disk", "root_path": "in"}},
        }
    )
    for copied in (pickle.loads(pickle.dumps(config)), copy.deepcopy(config)):
        assert copied == config
        assert copied.backends["disk"].options["password"] == Secret("p4ss")
        assert copied.stores["data"].root_path == "in"


def test_frozen_map_is_read_only_and_equal_to_its_dict() -> None:
    frozen = FrozenMap({"a": 1})
    assert frozen == {"a": 1}
    assert hash(frozen) == hash(FrozenMap({"a": 1}))
    with pytest.raises(TypeError):
        frozen["b"] = 2  # type: ignore[index]
    with pytest.raises(AttributeError):
        frozen._items = {}
    assert pickle.loads(pickle.dumps(frozen)) == frozen


def test_a_backend_pickles_as_its_options_or_refuses(tmp_path: Path) -> None:
    """DS-003 for a backend itself: local rebuilds from its options in the receiving
    process; memory (its data cannot travel) refuses with a typed error."""
    local = LocalBackend(tmp_path / "data")
    local.write("a.txt", b"a")
    copied = pickle.loads(pickle.dumps(local))
    assert type(copied) is LocalBackend and copied is not local
    assert copied.read_bytes("a.txt") == b"a"
    with pytest.raises(InvalidArgument, match="cannot be pickled"):
        pickle.dumps(MemoryBackend())
