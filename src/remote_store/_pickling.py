"""How a `Store` crosses a process boundary: by configuration, never by live client.

A store a `Registry` handed out pickles as (its `RegistryConfig`, the store's name, its
root); a store built on a backend directly pickles as (the backend's class, the options
its `_rebuild_options` hook returns, the root). The receiving process builds nothing
until the store's first call. What a pickle carries: docs/data-science.md.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from remote_store.backend import Backend
from remote_store.config import RegistryConfig
from remote_store.errors import InvalidArgument
from remote_store.operations import BackendHooks

if TYPE_CHECKING:
    from remote_store.registry import Registry
    from remote_store.store import Store


class LazyBackend:
    """A backend built by *build* on first use, exactly once, shared by a store and its
    children."""

    def __init__(self, build: Callable[[], Backend]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._backend: Backend | None = None

    @property
    def built(self) -> Backend | None:
        return self._backend

    def get(self) -> Backend:
        backend = self._backend
        if backend is None:
            with self._lock:
                if self._backend is None:
                    self._backend = self._build()
                backend = self._backend
        return backend


@dataclass(frozen=True)
class RegistryOrigin:
    """The store *name* of a registry built from *config*."""

    config: RegistryConfig
    name: str


# One registry per configuration per process: every store unpickled from the same
# configuration (a dask worker receives many) shares its backends and their connections.
_shared: list[Registry] = []
_shared_lock = threading.Lock()


def shared_registry(config: RegistryConfig) -> Registry:
    from remote_store.registry import Registry

    with _shared_lock:
        for registry in _shared:
            # Equal values are not enough: a config resolved from ${VAR} must keep pickling
            # as its template, not as an equal literal one that holds the secret.
            if registry.config == config and _template(registry.config) == _template(config):
                return registry
        registry = Registry(config)
        _shared.append(registry)
        return registry


def _template(config: RegistryConfig) -> object:
    return config.__dict__.get("_template")


def check_rebuildable(backend: Backend) -> None:
    """Raise if a backend rebuilt from configuration would not be the same store (memory)."""
    backend._rebuild_options()


def direct_options(backend: BackendHooks) -> dict[str, Any]:
    options = backend._rebuild_options()
    if options is None:
        kind = type(backend).__name__
        raise InvalidArgument(
            f"a {kind} built directly (or a Store over one) cannot be pickled: it holds live "
            "clients and does not say how to rebuild itself (_rebuild_options); build the "
            "store from a Registry configuration instead, which pickles as that configuration",
            backend=backend.name,
        )
    return dict(options)


def rebuild_backend(cls: type[Backend], options: dict[str, Any]) -> Backend:
    """The backend a pickle of one stands for, built anew from its options."""
    return cls(**options)


def registry_store(config: RegistryConfig, name: str, root: str) -> Store:
    from remote_store.store import Store

    def build() -> Backend:
        registry = shared_registry(config)
        return registry.get_backend(registry.config.stores[name].backend)

    return Store._lazy(LazyBackend(build), root, RegistryOrigin(config, name), owns=False)


def direct_store(cls: type[Backend], options: Mapping[str, Any], root: str) -> Store:
    from remote_store.store import Store

    return Store._lazy(LazyBackend(lambda: cls(**options)), root, None, owns=True)
