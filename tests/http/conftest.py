"""A fresh folder on the session's nginx for each test, and backends over it (directly
or through a fault proxy), closed when the test ends."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from remote_store.backends.http import HttpBackend
from tests.fault_proxy import FaultProxy
from tests.http_support import WebServer


class Site:
    """A folder of its own on a server; files put there, backends built over it."""

    def __init__(self, server: WebServer, location: str = "files") -> None:
        self.server = server
        self.folder = f"t-{uuid.uuid4().hex[:12]}"
        self.location = location
        self._opened: list[HttpBackend] = []

    def put(self, name: str, data: bytes) -> None:
        self.server.put(f"{self.folder}/{name}", data)

    def path(self, name: str) -> str:
        return f"{self.folder}/{name}"

    def base(self, origin: str | None = None, location: str | None = None) -> str:
        where = location if location is not None else self.location
        prefix = f"{where}/" if where else ""
        return f"{origin or self.server.origin}/{prefix}{self.folder}"

    def backend(self, *, via: FaultProxy | None = None, **options: Any) -> HttpBackend:
        """A backend over this folder (through *via* when given); small chunks and a
        fast retry policy unless *options* say otherwise."""
        options.setdefault("chunk_size", 64 * 1024)
        options.setdefault(
            "retry", {"attempts": 3, "backoff_base": 0.0, "backoff_max": 0.0, "timeout": 20.0}
        )
        origin = via.url.rstrip("/") if via is not None else None
        backend = HttpBackend(self.base(origin), **options)
        self._opened.append(backend)
        return backend

    def close(self) -> None:
        for backend in self._opened:
            backend.close()


@pytest.fixture
def site(nginx: WebServer) -> Iterator[Site]:
    """A fresh folder on nginx (``/files/``: Range, ETag, no index)."""
    made = Site(nginx)
    yield made
    made.close()


@pytest.fixture
def plain_site(plain_http: WebServer) -> Iterator[Site]:
    """A fresh folder on http.server (no Range, no ETag)."""
    made = Site(plain_http, location="")
    yield made
    made.close()


@pytest.fixture
def nginx_proxy(nginx: WebServer, fault_proxy: Callable[..., FaultProxy]) -> FaultProxy:
    """A fault proxy in front of nginx: its log counts requests and bytes."""
    return fault_proxy(nginx.origin)
