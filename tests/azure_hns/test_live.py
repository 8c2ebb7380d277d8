"""The conformance suite against a real ADLS Gen2 account: ``pytest --live``.

Reads ``AZURE_STORAGE_CONNECTION_STRING`` (an account with the hierarchical namespace
enabled) and optionally ``AZURE_STORAGE_LIVE_CONTAINER`` (default ``remote-store-live``,
created when missing). Deselected without ``--live`` (tests/conftest.py); with ``--live``
and no connection string the tests fail, they never skip silently.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import suppress

import pytest

from remote_store.backends.azure import AzureBackend
from remote_store.testing import ConformanceSuite

pytestmark = pytest.mark.live

ENV = "AZURE_STORAGE_CONNECTION_STRING"


@pytest.fixture(scope="module")
def live_container() -> str:
    from azure.core.exceptions import ResourceExistsError
    from azure.storage.blob import BlobServiceClient

    connection = os.environ.get(ENV)
    if not connection:
        pytest.fail(f"--live needs {ENV} (an ADLS Gen2 account's connection string)")
    name = os.environ.get("AZURE_STORAGE_LIVE_CONTAINER", "remote-store-live")
    with (
        BlobServiceClient.from_connection_string(connection) as service,
        suppress(ResourceExistsError),
    ):
        service.create_container(name)
    return name


class TestLiveHierarchical(ConformanceSuite):
    """Every conformance test on the real service, with HNS detected (not assumed)."""

    @pytest.fixture
    def backend(self, live_container: str) -> Iterator[AzureBackend]:
        with AzureBackend(live_container, connection_string=os.environ[ENV]) as backend:
            backend.exists("")  # detection
            assert backend.resolve("x").details["strategy"] == "hierarchical", (
                "the live account has no hierarchical namespace"
            )
            yield backend
