"""What the Registry does with a backend's options before and while building it (REG-013,
REG-014 in 004): foreign constructor errors never quoted, flags only as bools."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from remote_store import Backend, ConfigError, Registry, RegistryConfig, register_backend
from remote_store.backends import LocalBackend


def config_of(backends: dict[str, Any]) -> RegistryConfig:
    return RegistryConfig.from_dict({"backends": backends, "stores": {}})


class _Raising(Backend):
    """A test-only backend whose constructor fails as a third-party client might."""

    name = "raising"

    def __init__(self, token: str = "", kind: str = "runtime") -> None:
        errors = {"runtime": RuntimeError, "key": KeyError, "os": OSError}
        raise errors[kind](f"could not parse token {token}")


@pytest.mark.parametrize("kind", ["runtime", "key", "os"])
def test_reg_013_any_constructor_error_is_config_error_without_its_text(kind: str) -> None:
    register_backend("raising", _Raising)
    config = config_of({"r": {"type": "raising", "token": "VALUE-NOT-SHOWN", "kind": kind}})
    with pytest.raises(ConfigError, match="constructor raised") as caught:
        Registry(config).get_backend("r")
    assert "VALUE-NOT-SHOWN" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.parametrize("value", ["false", "no", 0, 1])
def test_reg_014_bool_options_take_only_bools(tmp_path: Path, value: object) -> None:
    config = config_of({"d": {"type": "local", "base_path": str(tmp_path / "x"), "create": value}})
    with pytest.raises(ConfigError, match="'create' must be true or false"):
        Registry(config).get_backend("d")
    assert not (tmp_path / "x").exists()
    with pytest.raises(ConfigError, match="create must be True or False"):
        LocalBackend(tmp_path / "y", create=value)  # type: ignore[arg-type]
