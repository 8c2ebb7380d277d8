"""Backend types, and the Registry that builds configured backends and hands out Stores.

A backend type maps to a lazy ``"module:Class"`` target and an install hint, so the core
imports no optional SDK until a backend of that type is built. Third-party packages add
types through the ``remote_store.backends`` entry-point group or `register_backend`.
Lookup order: `register_backend`, then built-ins, then entry points.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import inspect
import logging
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from remote_store._pickling import RegistryOrigin, check_rebuildable
from remote_store.backend import Backend
from remote_store.config import BackendConfig, RegistryConfig
from remote_store.errors import ConfigError, InvalidArgument, RemoteStoreError
from remote_store.extras import install_hint as extra_hint
from remote_store.store import Store

log = logging.getLogger("remote_store.registry")

#: Entry-point group through which installed packages contribute backend types.
ENTRY_POINT_GROUP = "remote_store.backends"


@dataclass(frozen=True)
class _BackendType:
    target: str | type[Backend]
    install_hint: str | None = None
    extra: str | None = None  # the package extra a built-in type needs

    @property
    def hint(self) -> str | None:
        return self.install_hint or (extra_hint(self.extra) if self.extra else None)


_types_lock = threading.Lock()
_types: dict[str, _BackendType] = {
    "local": _BackendType("remote_store.backends.local:LocalBackend"),
    "memory": _BackendType("remote_store.backends.memory:MemoryBackend"),
    "azure": _BackendType("remote_store.backends.azure:AzureBackend", extra="azure"),
    "http": _BackendType("remote_store.backends.http:HttpBackend", extra="http"),
    "s3": _BackendType("remote_store.backends.s3:S3Backend", extra="s3"),
    "s3-pyarrow": _BackendType(
        "remote_store.backends.s3.arrow:S3PyArrowBackend", extra="s3-pyarrow"
    ),
    "sql-blob": _BackendType("remote_store.backends.sql:SQLBlobBackend", extra="sql"),
    "sql-query": _BackendType("remote_store.backends.sql.query:SQLQueryBackend", extra="sql-query"),
    "sftp": _BackendType("remote_store.backends.sftp:SFTPBackend", extra="sftp"),
}


def register_backend(
    type_name: str, target: str | type[Backend], *, install_hint: str | None = None
) -> None:
    """Make *type_name* usable in `BackendConfig.type`. *target* is a Backend subclass or a
    lazy ``"module:Class"`` string; *install_hint* is shown when its import fails.
    Registering an existing name replaces it."""
    if not isinstance(type_name, str) or not type_name.strip():
        raise InvalidArgument(f"type_name must be a non-empty str, got {type_name!r}")
    if isinstance(target, str):
        module, sep, attr = target.partition(":")
        if not (module and sep and attr):
            raise InvalidArgument(f"target must look like 'package.module:Class', got {target!r}")
    elif not (isinstance(target, type) and issubclass(target, Backend)):
        raise InvalidArgument(
            f"target must be a Backend subclass or 'module:Class', got {target!r}"
        )
    if install_hint is not None and not isinstance(install_hint, str):
        raise InvalidArgument("install_hint must be a str or None")
    with _types_lock:
        _types[type_name] = _BackendType(target, install_hint)


def _entry_points() -> dict[str, _BackendType]:
    # Scanned on demand, not cached: a plugin installed after import is still found.
    found: dict[str, _BackendType] = {}
    for point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(point, "dist", None)
        hint = f"pip install --force-reinstall {dist.name}" if dist is not None else None
        found.setdefault(point.name, _BackendType(point.value, hint))
    return found


def _lookup(type_name: str) -> _BackendType | None:
    with _types_lock:
        entry = _types.get(type_name)
    return entry if entry is not None else _entry_points().get(type_name)


def known_backend_types() -> list[str]:
    """Every backend type name currently available, sorted."""
    with _types_lock:
        names = set(_types)
    return sorted(names | set(_entry_points()))


def load_backend_class(type_name: str) -> type[Backend]:
    """Import and return the Backend class of *type_name*. An unknown type, or a module
    that cannot be imported (a missing extra), raises `ConfigError` saying what to do."""
    entry = _lookup(type_name) if isinstance(type_name, str) else None
    if entry is None:
        known = ", ".join(known_backend_types())
        raise ConfigError(f"unknown backend type {type_name!r}; known types: {known}")
    if not isinstance(entry.target, str):
        return entry.target
    module_name, _, attr = entry.target.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
    except ImportError as error:
        missing = error.name or module_name
        hint = f"; install it with: {entry.hint}" if entry.hint else ""
        raise ConfigError(
            f"backend type {type_name!r} is not available: cannot import {missing!r}{hint}"
        ) from error
    try:
        for part in attr.split("."):
            found = getattr(found, part)
    except AttributeError:
        raise ConfigError(
            f"backend type {type_name!r}: {entry.target!r} names nothing importable"
        ) from None
    if not (isinstance(found, type) and issubclass(found, Backend)):
        raise ConfigError(f"backend type {type_name!r}: {entry.target!r} is not a Backend class")
    return found


class Registry:
    """Builds each configured backend on first use, exactly once, and closes what it built.

    Use it as a context manager, or call `close`. Stores it hands out share the backend.
    """

    def __init__(self, config: RegistryConfig) -> None:
        if not isinstance(config, RegistryConfig):
            raise InvalidArgument(f"config must be a RegistryConfig, got {type(config).__name__}")
        known = known_backend_types()
        bad = [
            f"backend {name!r} has unknown type {backend.type!r}"
            for name, backend in config.backends.items()
            if backend.type not in known
        ]
        if bad:
            raise ConfigError(f"{'; '.join(bad)}; known types: {', '.join(known)}")
        self._config = config
        self._lock = threading.Lock()  # guards _built and _closed
        # One lock per backend: a slow build of one backend never blocks another.
        self._build_locks = {name: threading.Lock() for name in config.backends}
        self._built: dict[str, Backend] = {}
        self._closed = False

    @property
    def config(self) -> RegistryConfig:
        """The configuration this registry was built from."""
        return self._config

    def __repr__(self) -> str:
        state = ", closed" if self._closed else ""
        stores, backends = list(self._config.stores), list(self._config.backends)
        return f"Registry(stores={stores!r}, backends={backends!r}{state})"

    def get_store(self, name: str) -> Store:
        """A `Store` over the backend and root folder of the store profile *name*."""
        self._check_open()
        profile = self._config.stores.get(name) if isinstance(name, str) else None
        if profile is None:
            defined = ", ".join(self._config.stores) or "(none)"
            raise ConfigError(f"unknown store {name!r}; defined stores: {defined}")
        store = Store(self.get_backend(profile.backend), profile.root_path, owns_backend=False)
        store._origin = RegistryOrigin(self._config, name)  # it pickles as this configuration
        return store

    def get_backend(self, name: str) -> Backend:
        """The backend *name*, built on first use (once, even under concurrent calls)."""
        self._check_open()
        config = self._config.backends.get(name) if isinstance(name, str) else None
        if config is None:
            defined = ", ".join(self._config.backends) or "(none)"
            raise ConfigError(f"unknown backend {name!r}; defined backends: {defined}")
        with self._lock:
            backend = self._built.get(name)
        if backend is not None:
            return backend
        with self._build_locks[name]:
            with self._lock:
                self._check_open()
                backend = self._built.get(name)
            if backend is not None:  # another thread built it while we waited
                return backend
            backend = _build(name, config)
            with self._lock:
                if not self._closed:
                    self._built[name] = backend
                    return backend
            backend.close()  # close() ran during the build; do not leak what we made
            raise RemoteStoreError("Registry was closed while building a backend", backend=name)

    def __reduce__(self) -> tuple[type[Registry], tuple[RegistryConfig]]:
        """A registry pickles as its configuration; the receiving process builds each
        backend on first use."""
        with self._lock:
            built = list(self._built.values())
        for backend in built:
            check_rebuildable(backend)
        return (type(self), (self._config,))

    def close(self) -> None:
        """Close every backend this registry built, newest first. Idempotent; a failing
        close does not stop the others, and the first failure is raised at the end."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            built, self._built = self._built, {}
        first: Exception | None = None
        for name, backend in reversed(built.items()):
            try:
                backend.close()
            except Exception as error:
                log.warning("closing backend %r failed: %s", name, type(error).__name__)
                first = first or error
        if first is not None:
            raise first

    def __enter__(self) -> Registry:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise RemoteStoreError("Registry is closed")


def _build(name: str, config: BackendConfig) -> Backend:
    """Instantiate the backend *name* with its options as keyword arguments."""
    cls = load_backend_class(config.type)
    options = dict(config.options)
    try:
        signature: inspect.Signature | None = inspect.signature(cls)
    except (TypeError, ValueError):  # no introspectable signature; let the call decide
        signature = None
    where = f"backend {name!r} (type {config.type!r})"
    if signature is not None:
        try:
            signature.bind(**options)
        except TypeError:
            # Checked before calling so the message names options, never their values.
            raise ConfigError(_mismatch(name, config, cls, signature)) from None
        _check_flags(where, signature, options)
    log.debug("building backend %r (type %r, %s)", name, config.type, cls.__qualname__)
    try:
        return cls(**options)
    except RemoteStoreError as error:
        # Our own messages never quote a credential (ERR-008), so they are kept.
        raise ConfigError(f"{where} rejected its options: {error}", backend=name) from error
    except Exception as error:
        # Another library's message may quote an option value, a credential among them:
        # only its type is shown, and it is not chained.
        kind = type(error).__name__
        log.debug("%s: constructor raised %s", where, kind)
        raise ConfigError(
            f"{where} rejected its options: its constructor raised {kind} "
            "(the message is not shown: it may quote an option value)",
            backend=name,
        ) from None


def _check_flags(where: str, signature: inspect.Signature, options: dict[str, Any]) -> None:
    """A parameter whose default is a bool takes only a bool: ``create = "false"`` from a
    config file would otherwise be read as true."""
    for parameter in signature.parameters.values():
        given = options.get(parameter.name)
        if isinstance(parameter.default, bool) and not isinstance(given, bool | None):
            raise ConfigError(
                f"{where}: option {parameter.name!r} must be true or false, "
                f"got a {type(given).__name__}",
            )


def _mismatch(
    name: str, config: BackendConfig, cls: type[Backend], signature: inspect.Signature
) -> str:
    by_keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    params = [p for p in signature.parameters.values() if p.kind in by_keyword]
    accepted = [p.name for p in params]
    open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())
    problems = []
    unknown = [key for key in config.options if key not in accepted and not open_ended]
    for key in unknown:
        close = difflib.get_close_matches(key, accepted, n=1)
        problems.append(
            f"unknown option {key!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
        )
    missing = [
        p.name
        for p in params
        if p.default is inspect.Parameter.empty and p.name not in config.options
    ]
    if missing:
        problems.append(f"missing required option(s) {', '.join(missing)}")
    return (
        f"backend {name!r} (type {config.type!r}, {cls.__name__}): "
        f"{'; '.join(problems) or 'options do not match its signature'}; "
        f"accepted options: {', '.join(accepted) or '(none)'}"
    )
