"""Finding the configuration: ``--config``, ``$REMOTE_STORE_CONFIG``, ``./remote-store.toml``,
``[tool.remote-store]`` in ``./pyproject.toml``, else an embedded local default."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from remote_store.config import RegistryConfig
from remote_store.errors import ConfigError

ENV_VAR = "REMOTE_STORE_CONFIG"
FILE_NAME = "remote-store.toml"

#: Used when no configuration is found, so the command works out of the box.
DEFAULT_TOML = """
[backends.local]
type = "local"
base_path = "."

[stores.local]
backend = "local"
"""


@dataclass(frozen=True)
class FoundConfig:
    """The configuration in force and where it came from (shown by ``remote-store stores``)."""

    config: RegistryConfig
    source: str
    path: Path | None = None


def discover(
    explicit: str | None, *, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> FoundConfig:
    """Load the first configuration in discovery order; `ConfigError` if the one chosen
    is broken (a broken file is never skipped in favour of the next)."""
    environ = os.environ if env is None else env
    here = Path.cwd() if cwd is None else cwd
    if explicit:
        path = Path(explicit)
        return FoundConfig(RegistryConfig.from_toml(path, env=environ), f"--config {path}", path)
    from_env = environ.get(ENV_VAR)
    if from_env:
        path = Path(from_env)
        config = RegistryConfig.from_toml(path, env=environ)
        return FoundConfig(config, f"${ENV_VAR} ({path})", path)
    local = here / FILE_NAME
    if local.is_file():
        return FoundConfig(RegistryConfig.from_toml(local, env=environ), f"./{FILE_NAME}", local)
    pyproject = here / "pyproject.toml"
    if pyproject.is_file() and _has_tool_table(pyproject):
        config = RegistryConfig.from_toml(pyproject, env=environ)
        return FoundConfig(config, "./pyproject.toml [tool.remote-store]", pyproject)
    default = RegistryConfig.from_toml_string(DEFAULT_TOML, env=environ)
    return FoundConfig(default, "built-in default: store 'local' is the current directory")


def _has_tool_table(pyproject: Path) -> bool:
    try:
        document = tomllib.loads(pyproject.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        # A project file that cannot be read may hide the user's settings: say so.
        raise ConfigError(
            f"{pyproject}: cannot read it to look for [tool.remote-store]: {error}"
        ) from error
    tool = document.get("tool")
    return isinstance(tool, dict) and "remote-store" in tool
