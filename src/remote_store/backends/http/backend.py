"""HttpBackend: read-only access to files on a web server (static file servers, public
data, REST endpoints that serve files), through one thread-safe urllib3 pool."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar, TypeVar

import urllib3

from remote_store.backend import Backend
from remote_store.backends.http import errors
from remote_store.backends.http.clients import build_settings, pool
from remote_store.backends.http.listing import children
from remote_store.backends.http.metadata import file_info, probe
from remote_store.backends.http.reader import open_stream
from remote_store.backends.http.retry import Http, call_scope
from remote_store.capabilities import Capability, CapabilitySet
from remote_store.config import RetryPolicy, Secret
from remote_store.errors import CapabilityNotSupported, NotFound, PermissionDenied
from remote_store.frozen import FrozenMap
from remote_store.models import FileInfo, FolderEntry, ResolutionPlan
from remote_store.streams import Sink, copy_stream

if TYPE_CHECKING:
    from remote_store.store import Store

T = TypeVar("T")

_READING = CapabilitySet(
    {Capability.READ, Capability.METADATA, Capability.LAZY_READ, Capability.SEEKABLE_READ}
)
_LISTING = CapabilitySet({Capability.LIST, Capability.RECURSIVE_LIST, Capability.GLOB})


class HttpBackend(Backend):
    """Files on a web server, read-only.

    Reads are ranged GETs pinned to the first answer's ETag (a file replaced mid-read
    raises `PreconditionFailed`); a server that ignores Range is read whole, never
    wrongly. Listing is declared only with ``listing="nginx-json"``; writes, deletes,
    moves and copies are refused (`CapabilityNotSupported`)."""

    name: ClassVar[str] = errors.NAME
    supported_capabilities: ClassVar[CapabilitySet] = _READING | _LISTING

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str | Secret] | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | Mapping[str, Any] | None = None,
        verify_ssl: bool = True,
        ca_certs: str | os.PathLike[str] | None = None,
        max_redirects: int = 5,
        allow_insecure: bool = False,
        listing: str | None = None,
        chunk_size: int = 4 * 1024 * 1024,
        max_concurrency: int = 4,
    ) -> None:
        settings = build_settings(
            base_url,
            headers=headers,
            timeout=timeout,
            retry=retry,
            verify_ssl=verify_ssl,
            ca_certs=ca_certs,
            max_redirects=max_redirects,
            allow_insecure=allow_insecure,
            listing=listing,
            chunk_size=chunk_size,
            max_concurrency=max_concurrency,
        )
        self._settings = settings
        self._pool = pool(settings)
        self._http = Http(settings, self._pool)
        self._capabilities = _READING | (_LISTING if settings.listing else ())
        # What another process needs to build the same backend (DS-031): the headers as
        # checked, credential values as `Secret` (by value in a pickle, never printed).
        self._options: dict[str, Any] = {
            "base_url": base_url,
            "headers": dict(settings.headers),
            "timeout": timeout,
            "retry": settings.retry,
            "verify_ssl": verify_ssl,
            "ca_certs": None if ca_certs is None else os.path.abspath(os.fspath(ca_certs)),
            "max_redirects": max_redirects,
            "allow_insecure": allow_insecure,
            "listing": listing,
            "chunk_size": chunk_size,
            "max_concurrency": max_concurrency,
        }

    def _rebuild_options(self) -> dict[str, Any]:
        return dict(self._options)

    @classmethod
    def from_url(cls, url: str, **options: Any) -> Store:
        """A `Store` over the folder at an ``http(s)://`` URL; *options* are the
        constructor's (headers, listing, ...)."""
        from remote_store.store import Store

        return Store(cls(url, **options))

    def __repr__(self) -> str:
        s = self._settings
        return (
            f"HttpBackend(base_url={s.base_url!r}, headers={s.header_names()!r}, "
            f"listing={s.listing!r})"
        )

    @property
    def capabilities(self) -> CapabilitySet:
        return self._capabilities

    def _call_scope(self) -> AbstractContextManager[object]:
        # One deadline per public call: every request it makes, retries included, shares it.
        return call_scope(self._settings.retry)

    # ------------------------------------------------------------------ reading

    def _read(self, key: str) -> BinaryIO:
        return open_stream(self._http, key, self._settings.url(key), seekable=False)

    def _read_seekable(self, key: str) -> BinaryIO:
        return open_stream(self._http, key, self._settings.url(key), seekable=True)

    def _read_to(self, key: str, sink: Sink) -> int:
        with self._read(key) as stream:
            write_to = getattr(stream, "write_to", None)
            if write_to is not None:
                return int(write_to(sink))
            return copy_stream(stream, sink)

    def _get_file_info(self, key: str) -> FileInfo:
        return file_info(self._http, key, self._settings.url(key))

    # One HEAD answers each of these: 200 a file, a redirect to KEY/ a folder, 404 neither.

    def _is_file(self, key: str) -> bool:
        return self.__probe(key) == "file"

    def _is_folder(self, key: str) -> bool:
        return self.__probe(key) == "folder"

    def _exists(self, key: str) -> bool:
        return self.__probe(key) is not None

    def __probe(self, key: str) -> str | None:
        answer = probe(self._http, key, self._settings.url(key))
        if answer.is_folder():
            return "folder"
        if answer.status in errors.MISSING:
            return None
        if answer.status == 200:
            return "file"
        if answer.status in (405, 501):  # no HEAD here: the full answer decides
            try:
                self._get_file_info(key)
            except (NotFound, PermissionDenied):
                return None
            return "file"
        raise errors.for_status(answer.status, "exists", key)

    # ------------------------------------------------------------------ listing

    def _iter_children(self, key: str) -> Iterator[FileInfo | FolderEntry]:
        if not self._settings.listing:
            raise self._unsupported(Capability.LIST, key or None)
        url = self._settings.url(key)
        return children(self._http, key, url if url.endswith("/") else url + "/")

    # ------------------------------------------------------------------ names, lifecycle

    def _native_path(self, key: str) -> str:
        """The file's URL."""
        return self._settings.url(key)

    def _to_key(self, native_path: str) -> str:
        return self._settings.key_of(native_path)

    def _resolve(self, key: str) -> ResolutionPlan:
        """Where *key* is served: its URL, the base URL, the listing. Never header values."""
        details = {
            "base_url": self._settings.base_url,
            "key": key,
            "listing": self._settings.listing,
            "headers": self._settings.header_names(),
        }
        return ResolutionPlan(
            kind="http",
            backend=self.name,
            key=key,
            native_path=self._settings.url(key),
            details=FrozenMap(details),
        )

    def _unwrap(self, type_hint: type[T]) -> T:
        """The ``urllib3.PoolManager`` every request goes through (it holds no headers)."""
        if type_hint is urllib3.PoolManager:
            return self._pool  # type: ignore[return-value]
        name = getattr(type_hint, "__name__", repr(type_hint))
        raise CapabilityNotSupported(f"unwrap to {name}", backend=self.name)

    def _ping(self) -> None:
        """One HEAD of the base URL: any answer below 500 but 401 means the server is up."""
        answer = probe(self._http, "", self._settings.url(""))
        if answer.status == 401:
            raise PermissionDenied("ping: HTTP 401", backend=self.name)
        if answer.status >= 500:
            raise errors.for_status(answer.status, "ping", None)

    def _close(self) -> None:
        self._pool.clear()


#: The seeds' name for this backend.
ReadOnlyHttpBackend = HttpBackend

__all__ = ["HttpBackend", "ReadOnlyHttpBackend"]
