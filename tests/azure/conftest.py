"""Fixtures for the Azure backend tests: a fresh container per test on the session's Azurite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.azure.wire import Wire
from tests.azure_support import (
    Azurite,
    BackendFactory,
    RequestLog,
    backend,
    backend_factory,
    store,
)

__all__ = ["BackendFactory", "backend", "store"]


@pytest.fixture
def container(azurite: Azurite) -> str:
    return azurite.new_container()


@pytest.fixture
def requests_log() -> RequestLog:
    return RequestLog()


@pytest.fixture
def wire() -> Wire:
    return Wire()


@pytest.fixture
def make_backend(
    azurite: Azurite, container: str, requests_log: RequestLog
) -> Iterator[BackendFactory]:
    """Build backends on the test's container; each counts its requests in `requests_log`."""
    with backend_factory(
        requests_log,
        container=container,
        connection_string=azurite.connection_string,
        hns=False,
    ) as make:
        yield make
