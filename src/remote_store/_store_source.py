"""How a `Store` holds its backend, built or rebuilt lazily after unpickling, and how it
pickles: by configuration, never a live client (`remote_store._pickling`)."""

from __future__ import annotations

from typing import Any, Self

from remote_store import _pickling
from remote_store.backend import Backend

__all__ = ["StoreSource"]


class StoreSource:
    """The backend behind a `Store` and the root it sees it through."""

    _source: Backend | _pickling.LazyBackend
    _root: str
    _owns_backend: bool
    _origin: _pickling.RegistryOrigin | None

    @classmethod
    def _lazy(
        cls,
        source: Backend | _pickling.LazyBackend,
        root: str,
        origin: _pickling.RegistryOrigin | None,
        *,
        owns: bool,
    ) -> Self:
        store = cls.__new__(cls)
        store._source, store._root, store._owns_backend = source, root, owns
        store._origin = origin
        return store

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickle by configuration, never a live client: see `remote_store._pickling`."""
        if self._origin is not None:
            built = self._built()
            if built is not None:
                _pickling.check_rebuildable(built)
            origin = self._origin
            return (_pickling.registry_store, (origin.config, origin.name, self._root))
        backend = self._backend
        options = _pickling.direct_options(backend)
        return (_pickling.direct_store, (type(backend), options, self._root))

    def __copy__(self) -> Self:
        clone = type(self).__new__(type(self))
        clone.__dict__.update(self.__dict__)
        return clone

    def _built(self) -> Backend | None:
        source = self._source
        return source if isinstance(source, Backend) else source.built

    @property
    def _backend(self) -> Backend:
        source = self._source
        return source if isinstance(source, Backend) else source.get()
