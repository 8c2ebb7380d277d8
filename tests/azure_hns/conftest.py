"""Fixtures for the hierarchical-namespace tests: a fresh filesystem per test on the
session's HNS emulator, backends that count their requests, emulator controls restored."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient

from tests.azure_support import BackendFactory, backend, backend_factory, store
from tests.hns_emulator import HnsEmulator, LoggedRequest

__all__ = ["BackendFactory", "backend", "store"]


@dataclass(frozen=True)
class Sent:
    """One request as the SDK sent it (with its headers) and the status it got."""

    method: str
    url: str
    headers: dict[str, str]
    status: int


@dataclass
class HeaderLog:
    """A ``raw_response_hook`` that keeps each request's headers, to check what went out."""

    sent: list[Sent] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, response: Any) -> None:
        request = response.http_request
        entry = Sent(
            request.method,
            request.url,
            {k.lower(): v for k, v in request.headers.items()},
            response.http_response.status_code,
        )
        with self._lock:
            self.sent.append(entry)

    def __bool__(self) -> bool:  # the SDK tests the hook for truth
        return True

    def clear(self) -> None:
        with self._lock:
            self.sent.clear()


@dataclass
class Wire:
    """The emulator's own request log, narrowed to one test's filesystem."""

    emulator: HnsEmulator
    container: str

    def clear(self) -> None:
        self.emulator.clear_requests()

    def requests(self) -> list[LoggedRequest]:
        mine = f"/{self.emulator.account_name}/{self.container}"
        return [
            r for r in self.emulator.requests if r.path == mine or r.path.startswith(mine + "/")
        ]

    def __len__(self) -> int:
        return len(self.requests())

    def show(self) -> str:
        return "\n".join(
            f"{r.service} {r.method} {r.path} {r.query} -> {r.status} {r.error_code or ''}"
            for r in self.requests()
        )


@pytest.fixture
def emulator(hns_emulator: HnsEmulator) -> Iterator[HnsEmulator]:
    """The session's emulator; page sizes and injected faults are restored afterwards."""
    yield hns_emulator
    hns_emulator.set_page_sizes()
    hns_emulator.fail_account_info(None)


@pytest.fixture
def container(emulator: HnsEmulator) -> Iterator[str]:
    name = f"h-{uuid.uuid4().hex[:20]}"
    with BlobServiceClient.from_connection_string(emulator.connection_string) as service:
        service.create_container(name)
        yield name
        service.delete_container(name)


@pytest.fixture
def wire(emulator: HnsEmulator, container: str) -> Wire:
    return Wire(emulator, container)


@pytest.fixture
def headers_log() -> HeaderLog:
    return HeaderLog()


@pytest.fixture
def make_backend(
    emulator: HnsEmulator, container: str, headers_log: HeaderLog
) -> Iterator[BackendFactory]:
    """Backends on the test's filesystem (``hns=True`` unless told otherwise)."""
    with backend_factory(
        headers_log,
        container=container,
        connection_string=emulator.connection_string,
        hns=True,
    ) as make:
        yield make
