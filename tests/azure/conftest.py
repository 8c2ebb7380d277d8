"""Fixtures for the Azure backend tests: a fresh container per test on the session's Azurite."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from remote_store.backends.azure import AzureBackend
from remote_store.store import Store
from tests.azure_support import Azurite, RequestLog

BackendFactory = Callable[..., AzureBackend]


@pytest.fixture
def container(azurite: Azurite) -> str:
    return azurite.new_container()


@pytest.fixture
def requests_log() -> RequestLog:
    return RequestLog()


@pytest.fixture
def make_backend(
    azurite: Azurite, container: str, requests_log: RequestLog
) -> Iterator[BackendFactory]:
    """Build backends on the test's container; each counts its requests in `requests_log`."""
    built: list[AzureBackend] = []

    def make(**options: Any) -> AzureBackend:
        client_options = {"raw_response_hook": requests_log, **options.pop("client_options", {})}
        options.setdefault("hns", False)
        backend = AzureBackend(
            options.pop("container", container),
            connection_string=azurite.connection_string,
            client_options=client_options,
            **options,
        )
        built.append(backend)
        return backend

    yield make
    for backend in built:
        backend.close()


@pytest.fixture
def backend(make_backend: BackendFactory) -> AzureBackend:
    return make_backend()


@pytest.fixture
def store(backend: AzureBackend) -> Store:
    return Store(backend)
