"""Configuration as plain, validated, immutable data: backends, stores, retry, secrets.

The TOML shape users write (a standalone file, or ``[tool.remote-store]`` in pyproject)::

    [backends.storage]
    type = "local"
    base_path = "${DATA_DIR:-./data}"

    [stores.default]
    backend = "storage"

``${VAR}`` and ``${VAR:-default}`` are resolved from the environment when the file is
loaded; ``$${`` writes a literal ``${``. Credential options end up wrapped in `Secret`.
"""

from __future__ import annotations

import math
import os
import random
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

from remote_store import paths
from remote_store._placeholders import escape, resolve_env
from remote_store.errors import ConfigError, InvalidArgument, InvalidPath
from remote_store.frozen import FrozenMap
from remote_store.redaction import redact
from remote_store.secret import MASK, Secret

__all__ = [
    "CREDENTIAL_OPTIONS",
    "BackendConfig",
    "RegistryConfig",
    "RetryPolicy",
    "Secret",
    "StoreProfile",
    "resolve_env",
]

_T = TypeVar("_T")

#: Option names (compared case-insensitively) whose str values are wrapped in `Secret`.
CREDENTIAL_OPTIONS: Final = frozenset(
    {
        *("account_key", "sas_token", "connection_string", "password", "client_secret"),
        *("secret", "token", "api_key", "access_key", "secret_key", "credential"),
        *("passphrase", "pkey"),
    }
)


@dataclass(frozen=True)
class RetryPolicy:
    """How a backend retries retryable failures: *attempts* tries in all, exponential
    backoff from *backoff_base* seconds capped at *backoff_max*, optional full jitter, and
    an overall *timeout* in seconds per call (``None``: unbounded)."""

    attempts: int = 3
    backoff_base: float = 0.1
    backoff_max: float = 2.0
    jitter: bool = True
    timeout: float | None = 60.0

    def __post_init__(self) -> None:
        if (
            isinstance(self.attempts, bool)
            or not isinstance(self.attempts, int)
            or self.attempts < 1
        ):
            raise ConfigError(f"retry.attempts must be an int >= 1, got {self.attempts!r}")
        for name in ("backoff_base", "backoff_max"):
            value = getattr(self, name)
            if not _is_number(value) or value < 0:
                raise ConfigError(f"retry.{name} must be a number of seconds >= 0, got {value!r}")
        if self.backoff_max < self.backoff_base:
            raise ConfigError("retry.backoff_max must be >= retry.backoff_base")
        if not isinstance(self.jitter, bool):
            raise ConfigError(f"retry.jitter must be a bool, got {self.jitter!r}")
        if self.timeout is not None and (not _is_number(self.timeout) or self.timeout <= 0):
            raise ConfigError(f"retry.timeout must be seconds > 0 or None, got {self.timeout!r}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RetryPolicy:
        """Build from a mapping such as a TOML ``[backends.NAME.retry]`` table."""
        if isinstance(data, RetryPolicy):
            return data
        return cls(**_known_keys(data, "retry", [f.name for f in fields(cls)]))

    @classmethod
    def from_option(cls, value: object, default: RetryPolicy) -> RetryPolicy:
        """A backend's ``retry=`` option as a policy: ``None`` (*default*), a policy, or a
        mapping such as a TOML ``[backends.NAME.retry]`` table."""
        if value is None:
            return default
        if isinstance(value, RetryPolicy):
            return value
        if isinstance(value, Mapping):
            return cls.from_dict(value)
        raise ConfigError(f"retry must be a RetryPolicy or a mapping, got {type(value).__name__}")

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        """Seconds to wait before each retry (``attempts - 1`` values): doubling from
        *backoff_base*, capped at *backoff_max*; with jitter each is uniform in [0, cap]."""
        uniform = rng.uniform if rng is not None else random.uniform
        cap = float(self.backoff_base)
        for _ in range(self.attempts - 1):
            yield uniform(0.0, cap) if self.jitter else cap
            # Doubling the capped value (not base * 2**n) cannot overflow for huge attempts.
            cap = min(cap * 2, float(self.backoff_max))


@dataclass(frozen=True, repr=False)
class BackendConfig:
    """One backend: its registered *type* and the keyword *options* its class takes.

    Credential options (see `CREDENTIAL_OPTIONS`) given as str are wrapped in `Secret`;
    a ``retry`` table becomes a `RetryPolicy`. *options* is stored read-only.
    """

    type: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.type, str) or not self.type.strip():
            raise ConfigError(f"backend type must be a non-empty str, got {self.type!r}")
        object.__setattr__(self, "options", _freeze_options(self.options))

    def __repr__(self) -> str:
        return f"BackendConfig(type={self.type!r}, options={_shown(self.options)})"


@dataclass(frozen=True)
class StoreProfile:
    """A named view of a backend: the backend's name and a root folder inside it."""

    backend: str
    root_path: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.backend, str) or not self.backend:
            raise ConfigError(f"store backend must be a non-empty str, got {self.backend!r}")
        try:
            root = paths.normalize(self.root_path)
        except InvalidPath as error:
            raise ConfigError(f"invalid root_path: {error}") from None
        object.__setattr__(self, "root_path", root)


@dataclass(frozen=True, repr=False)
class RegistryConfig:
    """Named backends and the named stores built on them; every store's backend exists."""

    backends: Mapping[str, BackendConfig] = field(default_factory=dict)
    stores: Mapping[str, StoreProfile] = field(default_factory=dict)

    def __post_init__(self) -> None:
        backends = _named(self.backends, "backends", BackendConfig)
        stores = _named(self.stores, "stores", StoreProfile)
        for name, store in stores.items():
            if store.backend not in backends:
                defined = ", ".join(sorted(backends)) or "(none)"
                raise ConfigError(
                    f"store {name!r} uses backend {store.backend!r}, which is not defined; "
                    f"defined backends: {defined}"
                )
        object.__setattr__(self, "backends", FrozenMap(backends))
        object.__setattr__(self, "stores", FrozenMap(stores))

    def __repr__(self) -> str:
        return f"RegistryConfig(backends={dict(self.backends)!r}, stores={dict(self.stores)!r})"

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, env: Mapping[str, str] | None = None
    ) -> RegistryConfig:
        """Build from ``{"backends": {name: {"type": ..., **options}}, "stores": {name:
        {"backend": ..., "root_path": ...}}}``, resolving ``${VAR}`` placeholders from
        *env* (default: `os.environ`). A backend may also nest its options under
        ``"options"``."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"config must be a mapping, got {type(data).__name__}")
        top = _known_keys(data, "config", ["backends", "stores"])
        resolved = resolve_env(top, env=env)
        backends = {
            name: _backend_from(name, raw) for name, raw in _table(resolved, "backends").items()
        }
        stores = {name: _store_from(name, raw) for name, raw in _table(resolved, "stores").items()}
        config = cls(backends=backends, stores=stores)
        if resolved != top:
            # Values came from the environment: a pickle carries this template, never them.
            object.__setattr__(config, "_template", top)
        return config

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """A config whose values came from ``${VAR}`` placeholders pickles as its unresolved
        template and is resolved again from the receiving process's environment (an unset
        variable raises `ConfigError` there); any other config pickles by value."""
        template = self.__dict__.get("_template")
        if template is not None:
            return (_from_template, (template,))
        return (type(self), (dict(self.backends), dict(self.stores)))

    def __copy__(self) -> RegistryConfig:
        return self  # immutable; a copy must not re-read the environment

    def __deepcopy__(self, memo: dict[int, Any]) -> RegistryConfig:
        return self

    @classmethod
    def from_toml(
        cls, path: str | os.PathLike[str], *, env: Mapping[str, str] | None = None
    ) -> RegistryConfig:
        """Load a TOML file; a ``[tool.remote-store]`` table (as in pyproject.toml) is used
        when present."""
        if not isinstance(path, str | os.PathLike):
            raise InvalidArgument(f"path must be a str or PathLike, got {type(path).__name__}")
        file = Path(path)
        try:
            raw = file.read_bytes()
        except FileNotFoundError:
            raise ConfigError(f"config file {str(file)!r} does not exist") from None
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise ConfigError(f"cannot read config file {str(file)!r}: {reason}") from error
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigError(f"{file}: TOML must be UTF-8 encoded") from None
        data = _load_toml(text, str(file), pyproject=file.name == "pyproject.toml")
        return cls.from_dict(data, env=env)

    @classmethod
    def from_toml_string(cls, text: str, *, env: Mapping[str, str] | None = None) -> RegistryConfig:
        """Like `from_toml`, from TOML text."""
        if not isinstance(text, str):
            raise InvalidArgument(f"text must be a str, got {type(text).__name__}")
        return cls.from_dict(_load_toml(text, "<string>", pyproject=False), env=env)

    def to_dict(self) -> dict[str, Any]:
        """Plain data that `from_dict` turns back into an equal config. Secrets stay
        `Secret` objects; a literal ``${`` is written as ``$${`` so it survives reloading."""
        backends = {
            name: {"type": escape(backend.type), **escape(dict(backend.options))}
            for name, backend in self.backends.items()
        }
        stores = {
            name: {"backend": escape(store.backend), "root_path": escape(store.root_path)}
            for name, store in self.stores.items()
        }
        return {"backends": backends, "stores": stores}


# ---------------------------------------------------------------------- helpers


def _from_template(template: Mapping[str, Any]) -> RegistryConfig:
    return RegistryConfig.from_dict(template)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _known_keys(data: object, where: str, allowed: list[str]) -> dict[str, Any]:
    """*data* as a dict, or a ConfigError naming the unknown keys and the allowed ones."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must be a table, got {type(data).__name__}")
    unknown = sorted(str(key) for key in data if key not in allowed)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}"
        )
    return dict(data)


def _normalized(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


_CREDENTIAL_NAMES: Final = frozenset(_normalized(name) for name in CREDENTIAL_OPTIONS)
# A key ending like this is masked in a repr whatever its spelling (``accountKey``,
# ``db-password``), even where the option is not wrapped in `Secret`.
_SECRET_ENDINGS: Final = (
    *("key", "secret", "token", "password", "passwd", "passphrase", "credential"),
    *("credentials", "signature", "sig", "sas", "connectionstring", "authorization", "cookie"),
)


def _shown(value: Any, key: str = "") -> str:
    """*value* for a repr: credentials masked by their key's name, signatures and
    passwords inside URLs and connection strings redacted, at any depth."""
    if isinstance(value, Secret):
        return repr(value)
    if key and _normalized(key).endswith(_SECRET_ENDINGS):
        return repr(MASK)
    if isinstance(value, str):
        return repr(redact(value))
    if isinstance(value, Mapping):
        shown = (f"{k!r}: {_shown(v, k if isinstance(k, str) else '')}" for k, v in value.items())
        return "{" + ", ".join(shown) + "}"
    if isinstance(value, list | tuple):
        items = ", ".join(_shown(item) for item in value)
        return f"[{items}]" if isinstance(value, list) else f"({items})"
    return repr(value)


def _freeze_options(options: object) -> Mapping[str, Any]:
    if not isinstance(options, Mapping):
        raise ConfigError(f"backend options must be a mapping, got {type(options).__name__}")
    frozen: dict[str, Any] = {}
    for key, value in options.items():
        if not isinstance(key, str) or not key:
            raise ConfigError(f"backend option names must be non-empty str, got {key!r}")
        if key == "type":
            raise ConfigError("'type' names the backend type and cannot be an option")
        if isinstance(value, str) and _normalized(key) in _CREDENTIAL_NAMES:
            value = Secret(value)
        elif key == "url" and isinstance(value, str) and _has_password(value):
            value = Secret(value)  # a database URL with its password in it
        elif key == "retry" and isinstance(value, Mapping):
            value = RetryPolicy.from_dict(value)
        frozen[key] = value
    return FrozenMap(frozen)


def _has_password(url: str) -> bool:
    try:
        return urlsplit(url).password is not None
    except ValueError:
        return False


def _named(items: object, where: str, kind: type[_T]) -> dict[str, _T]:
    if not isinstance(items, Mapping):
        raise ConfigError(f"{where} must be a mapping of name to {kind.__name__}")
    checked: dict[str, _T] = {}
    for name, item in items.items():
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{where}: names must be non-empty str, got {name!r}")
        if not isinstance(item, kind):
            raise ConfigError(
                f"{where}[{name!r}] must be a {kind.__name__}, got {type(item).__name__} "
                "(use RegistryConfig.from_dict for plain data)"
            )
        checked[name] = item
    return checked


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    table = data.get(key, {})
    if not isinstance(table, Mapping):
        raise ConfigError(f"{key!r} must be a table of name = {{...}}, got {type(table).__name__}")
    return table


def _backend_from(name: str, raw: object) -> BackendConfig:
    where = f"backends.{name}"
    if isinstance(raw, BackendConfig):
        return raw
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be a table with a 'type' key, got {type(raw).__name__}")
    options = dict(raw)
    kind = options.pop("type", None)
    if kind is None:
        raise ConfigError(f"{where}: missing 'type' (the backend type, e.g. \"local\")")
    nested = options.pop("options", None)
    if nested is not None:
        if not isinstance(nested, Mapping):
            raise ConfigError(f"{where}.options must be a table")
        clash = sorted(set(nested) & set(options))
        if clash:
            raise ConfigError(f"{where}: {', '.join(clash)} given both inline and in options")
        options.update(nested)
    try:
        return BackendConfig(type=kind, options=options)
    except ConfigError as error:
        raise ConfigError(f"{where}: {error}") from None


def _store_from(name: str, raw: object) -> StoreProfile:
    where = f"stores.{name}"
    if isinstance(raw, StoreProfile):
        return raw
    fields_ = _known_keys(raw, where, ["backend", "root_path"])
    if "backend" not in fields_:
        raise ConfigError(f"{where}: missing 'backend' (the name of a backend under [backends])")
    try:
        return StoreProfile(**fields_)
    except ConfigError as error:
        raise ConfigError(f"store {name!r}: {error}") from None


def _load_toml(text: str, source: str, *, pyproject: bool) -> Mapping[str, Any]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # tomllib's message carries "(at line L, column C)" and never the offending value.
        raise ConfigError(f"{source}: invalid TOML: {error}") from error
    tool = document.get("tool")
    table = tool.get("remote-store") if isinstance(tool, dict) else None
    if table is not None:
        if not isinstance(table, dict):
            raise ConfigError(f"{source}: [tool.remote-store] must be a table")
        return table
    if pyproject:
        raise ConfigError(f"{source} has no [tool.remote-store] table")
    return document
