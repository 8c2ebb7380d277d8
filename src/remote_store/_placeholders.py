"""``${VAR}`` placeholders in configuration values: resolution and escaping."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from remote_store.errors import ConfigError

__all__ = ["escape", "resolve_env"]

_T = TypeVar("_T")

# One pass: an escape, a well-formed placeholder, or a stray "${" (an error, not a literal,
# so that a typo like "${1X}" cannot silently reach a backend).
_PLACEHOLDER = re.compile(
    r"\$\$\{|\$\{(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\})?"
)


def resolve_env(value: _T, *, env: Mapping[str, str] | None = None) -> _T:
    """*value* (a str, or lists and tables of them) with ``${VAR}`` and ``${VAR:-default}``
    replaced from *env* (default: `os.environ`) and ``$${`` by a literal ``${``, as a
    config file's values are. An unset variable without a default raises `ConfigError`."""
    source = os.environ if env is None else env
    resolved: _T = _map_strings(value, lambda text, where: _substitute(text, where, source))
    return resolved


def _substitute(text: str, where: str, env: Mapping[str, str]) -> str:
    where = where or "value"

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name = match.group("name")
        if name is None:
            # Never quote the text: it may hold a credential next to the typo.
            raise ConfigError(
                f"{where}: malformed placeholder; write ${{NAME}} or ${{NAME:-default}}, "
                "or $${ for a literal '${'"
            )
        value, default = env.get(name), match.group("default")
        if default is not None and not value:  # shell rule: unset or empty takes default
            return default
        if value is None:
            raise ConfigError(
                f"{where}: environment variable {name} is not set (or write ${{{name}:-default}})"
            )
        return value

    # re.sub does not rescan replacements, so a value containing "${" stays literal.
    return _PLACEHOLDER.sub(replace, text)


def _map_strings(value: Any, change: Callable[[str, str], str], where: str = "") -> Any:
    """Apply ``change(text, key_path)`` to every str inside *value*, keeping its shape."""
    if isinstance(value, str):
        return change(value, where)
    if isinstance(value, Mapping):
        return {
            key: _map_strings(item, change, f"{where}.{key}" if where else str(key))
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        items = [_map_strings(item, change, f"{where}[{i}]") for i, item in enumerate(value)]
        return tuple(items) if isinstance(value, tuple) else items
    return value


def escape(value: Any) -> Any:
    """Inverse of placeholder resolution, for values that are already final."""
    return _map_strings(value, lambda text, _: text.replace("${", "$${"))
