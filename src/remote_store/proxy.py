"""ProxyStore: the base for middleware around a `Store` (logging, metrics, caching, policy)."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any

from remote_store.backend import Backend
from remote_store.errors import InvalidArgument
from remote_store.store import Store


class ProxyStore(Store):
    """A `Store` that forwards every method to the store it wraps. Subclass it and override
    the methods you want to change; call ``super()`` (or `inner`) to reach the wrapped store.

    `child` returns a proxy of the same class around the inner store's child, so middleware
    still applies below a subfolder. Closing the proxy closes the wrapped store.
    """

    def __init__(self, inner: Store) -> None:
        if not isinstance(inner, Store):
            raise InvalidArgument(f"inner must be a Store, got {type(inner).__name__}")
        # Store's own state is never used: every call goes to the wrapped store.
        self._inner = inner

    @property
    def inner(self) -> Store:
        """The wrapped store."""
        return self._inner

    @property
    def backend(self) -> Backend:
        return self._inner.backend

    @property
    def root_path(self) -> str:
        return self._inner.root_path

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._inner!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # The proxy's own attributes as they are; the wrapped store by configuration.
        return (_blank, (type(self),), dict(self.__dict__))

    def child(self, subpath: str) -> Store:
        """A proxy of this class (a shallow copy of this one) around the inner store's child."""
        wrapped = copy.copy(self)
        wrapped._inner = self._inner.child(subpath)
        return wrapped


def _blank(cls: type[ProxyStore]) -> ProxyStore:
    return cls.__new__(cls)


def _forwarding(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def forward(self: ProxyStore, *args: Any, **kwargs: Any) -> Any:
        return getattr(self._inner, name)(*args, **kwargs)

    return forward


def _install_forwarding() -> None:
    own = set(vars(ProxyStore))
    for name, member in vars(Store).items():
        if name.startswith("_") or name in own or not callable(member):
            continue
        setattr(ProxyStore, name, _forwarding(name, member))


# Generated from Store itself, so a method Store gains is forwarded without an edit here.
_install_forwarding()
