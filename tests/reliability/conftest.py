"""Fault tests on both Azure strategies: a backend behind a `FaultProxy`, a direct client
that bypasses it (to see what really landed), and a tally printed at the end of the run.

``rig`` is parametrized: ``flat`` is the Blob strategy on Azurite, ``hns`` the hierarchical
strategy on the HNS emulator. Every test that uses it adds its proxy's fault counts to the
session tally; tests add the operations they attempted, the bytes they verified and any
data they found lost (which must stay 0)."""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import BlobServiceClient, ContainerClient

from remote_store.backends.azure import AzureBackend
from remote_store.config import RetryPolicy
from remote_store.store import Store
from tests.azure_support import Azurite
from tests.fault_proxy import FaultProxy
from tests.hns_emulator import HnsEmulator

#: Retries without waiting long: the tests are about outcomes, not backoff.
QUICK = RetryPolicy(attempts=4, backoff_base=0.01, backoff_max=0.5, jitter=False, timeout=30)
#: One attempt: a fault surfaces as the error it is.
ONCE = RetryPolicy(attempts=1, backoff_base=0, backoff_max=0, jitter=False, timeout=30)
#: Staged uploads of 64 KiB blocks, and 64 KiB read chunks, so small payloads cross them.
SMALL_TRANSFERS = {
    "max_single_put_size": 64 * 1024,
    "max_block_size": 64 * 1024,
    "max_chunk_get_size": 64 * 1024,
    "max_single_get_size": 64 * 1024,
}


@dataclass
class Tally:
    """What the fault tests did, for the closing note."""

    faults: Counter[str] = field(default_factory=Counter)
    operations: int = 0
    bytes_verified: int = 0
    data_lost: int = 0
    tests: int = 0

    def line(self) -> str:
        kinds = ", ".join(f"{k}={n}" for k, n in sorted(self.faults.items()) if n) or "none"
        return (
            f"reliability: {self.tests} fault tests, faults injected {sum(self.faults.values())}"
            f" ({kinds}), operations attempted {self.operations}, bytes verified "
            f"{self.bytes_verified}, data lost {self.data_lost}"
        )


TALLY = Tally()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TALLY.tests:
        terminalreporter.write_line(TALLY.line())


@dataclass
class Rig:
    """One strategy behind a fault proxy."""

    kind: str
    proxy: FaultProxy
    direct: ContainerClient
    make: Callable[..., AzureBackend]
    tally: Tally

    def store(self, retry: RetryPolicy = QUICK, **client_options: Any) -> Store:
        return Store(self.make(retry=retry, client_options=client_options))

    def blob(self, key: str) -> bytes | None:
        """What is really stored at *key* (read around the proxy), or None."""
        try:
            return self.direct.download_blob(key).readall()
        except ResourceNotFoundError:
            return None

    def put(self, key: str, data: bytes) -> None:
        self.direct.upload_blob(key, data, overwrite=True)

    def keys(self) -> list[str]:
        return sorted(
            b.name
            for b in self.direct.list_blobs(include=["metadata"])
            if not (b.metadata or {}).get("hdi_isfolder")
        )

    def verify(self, actual: bytes | None, *allowed: bytes | None) -> None:
        """*actual* must be one of *allowed* whole versions; counts the bytes checked."""
        self.tally.operations += 1
        digest = hashlib.sha256(actual).hexdigest() if actual is not None else None
        wanted = {hashlib.sha256(a).hexdigest() if a is not None else None for a in allowed}
        if digest not in wanted:
            self.tally.data_lost += 1
        assert digest in wanted, f"{len(actual or b'')} bytes match no allowed version"
        self.tally.bytes_verified += len(actual or b"")


def _direct(connection_string: str, container: str) -> ContainerClient:
    service = BlobServiceClient.from_connection_string(connection_string)
    service.create_container(container)
    return service.get_container_client(container)


@pytest.fixture(params=["flat", "hns"])
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    kind: str = request.param
    if kind == "flat":
        upstream: Azurite | HnsEmulator = request.getfixturevalue("azurite")
        proxy: FaultProxy = request.getfixturevalue("azurite_proxy")
    else:
        upstream = request.getfixturevalue("hns_emulator")
        proxy = request.getfixturevalue("hns_proxy")
    container = f"r-{uuid.uuid4().hex[:20]}"
    direct = _direct(upstream.connection_string, container)
    built: list[AzureBackend] = []

    def make(**options: Any) -> AzureBackend:
        options.setdefault("hns", kind == "hns")
        backend = AzureBackend(container, connection_string=proxy.connection_string, **options)
        built.append(backend)
        return backend

    yield Rig(kind, proxy, direct, make, TALLY)
    TALLY.tests += 1
    TALLY.faults.update(proxy.stats().faults)
    for backend in built:
        backend.close()
    direct.close()
