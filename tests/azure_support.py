"""Azurite for the test session, helpers to count the HTTP requests a backend sends, and the
backend fixtures the Azure test folders share.

The session fixture in ``tests/conftest.py`` starts Azurite (installed by
``scripts/install-azurite.sh``) on a free loopback port with a temporary data folder.
Set ``AZURITE_BLOB_ENDPOINT`` (e.g. ``http://127.0.0.1:10000/devstoreaccount1``) to use an
emulator you run yourself instead, such as the one in ``docker-compose.yml``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from remote_store.store import Store

if TYPE_CHECKING:  # the Azure SDK is an extra: importing this module must not need it
    from remote_store.backends.azure import AzureBackend

ROOT = Path(__file__).resolve().parents[1]
AZURITE_MAIN = ROOT / ".tools/azurite/node_modules/azurite/dist/src/blob/main.js"
ACCOUNT = "devstoreaccount1"
# The emulator's published, well-known key: not a secret.
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


@dataclass
class Azurite:
    """A running emulator's Blob endpoint."""

    endpoint: str  # http://127.0.0.1:PORT/devstoreaccount1

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={self.endpoint};"
        )

    def new_container(self, prefix: str = "t") -> str:
        """Create a container with a fresh name and return the name."""
        from azure.storage.blob import BlobServiceClient

        name = f"{prefix}-{uuid.uuid4().hex[:20]}"
        with BlobServiceClient.from_connection_string(self.connection_string) as service:
            service.create_container(name)
        return name


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode(errors="replace") if process.stdout else ""
            pytest.fail(f"Azurite exited with code {process.returncode}:\n{output[-2000:]}")
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    pytest.fail(f"Azurite did not listen on 127.0.0.1:{port} within {timeout:.0f}s")


@contextmanager
def run_azurite(location: Path) -> Iterator[Azurite]:
    """Start Azurite's Blob service, yield it, stop it. Fails (never skips) when absent."""
    external = os.environ.get("AZURITE_BLOB_ENDPOINT")
    if external:
        yield Azurite(external.rstrip("/"))
        return
    node = shutil.which("node")
    if node is None or not AZURITE_MAIN.is_file():
        pytest.fail(
            "Azurite is not installed: run `bash scripts/install-azurite.sh` (needs node and "
            "npm), or set AZURITE_BLOB_ENDPOINT to a running emulator"
        )
    port = _free_port()
    command = [
        node,
        str(AZURITE_MAIN),
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        str(port),
        "--location",
        str(location),
        "--silent",
        # The SDK speaks a newer API version than Azurite 3.37 knows; the operations we use
        # are the same.
        "--skipApiVersionCheck",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, process)
        yield Azurite(f"http://127.0.0.1:{port}/{ACCOUNT}")
    finally:
        # Killed outright: its data folder is temporary, and a graceful stop waits ~10 s
        # for idle keep-alive connections.
        process.kill()
        process.wait()
        if process.stdout:
            process.stdout.close()


@dataclass
class RequestLog:
    """A ``raw_response_hook``: records every HTTP exchange the SDK makes (retries too)."""

    requests: list[tuple[str, str, int]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, response: Any) -> None:
        request = response.http_request
        with self._lock:
            self.requests.append((request.method, request.url, response.http_response.status_code))

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def __len__(self) -> int:
        return len(self.requests)

    def __bool__(self) -> bool:  # the SDK tests the hook for truth
        return True

    def count(self, fragment: str) -> int:
        """Requests whose URL contains *fragment*."""
        return sum(1 for _, url, _ in self.requests if fragment in url)

    def show(self) -> str:
        return "\n".join(f"{m} {u} -> {s}" for m, u, s in self.requests)


BackendFactory = Callable[..., "AzureBackend"]


@contextmanager
def backend_factory(hook: Callable[[Any], None], **defaults: Any) -> Iterator[BackendFactory]:
    """Yield a function that builds `AzureBackend`s, closing every one it built on exit.

    Each backend hands every response to *hook* (its ``raw_response_hook``), plus any
    ``client_options`` the call gives. *defaults* (``container`` among them) are the
    backend's arguments where a call does not name its own."""
    from remote_store.backends.azure import AzureBackend

    built: list[AzureBackend] = []

    def make(**options: Any) -> AzureBackend:
        client_options = {"raw_response_hook": hook, **options.pop("client_options", {})}
        arguments = {**defaults, **options}
        backend = AzureBackend(
            arguments.pop("container"), client_options=client_options, **arguments
        )
        built.append(backend)
        return backend

    try:
        yield make
    finally:
        for backend in built:
            backend.close()


# Not in a conftest because tests/azure and tests/azure_hns are siblings: each imports these,
# and its own `make_backend` decides which emulator and request log a backend gets.
@pytest.fixture
def backend(make_backend: BackendFactory) -> AzureBackend:
    """A backend with the folder's defaults."""
    return make_backend()


@pytest.fixture
def store(backend: AzureBackend) -> Store:
    return Store(backend)


_CONFORMANCE_CONTAINER = "conformance"


def conformance_backend(request: pytest.FixtureRequest) -> Any:
    """A flat `AzureBackend` on the session's Azurite, for the conformance factory table.

    Every conformance test roots its Store in a fresh folder, so they share one container."""
    from azure.core.exceptions import ResourceExistsError
    from azure.storage.blob import BlobServiceClient

    from remote_store.backends.azure import AzureBackend

    emulator: Azurite = request.getfixturevalue("azurite")
    service = BlobServiceClient.from_connection_string(emulator.connection_string)
    with service, suppress(ResourceExistsError):
        service.create_container(_CONFORMANCE_CONTAINER)
    # BC-010 (no file over a folder) costs a listing per write on a flat namespace, so it is
    # opt-in, like the ancestor check of BC-011; the suite runs with it on.
    return AzureBackend(
        _CONFORMANCE_CONTAINER,
        connection_string=emulator.connection_string,
        hns=False,
        reject_write_under_file_ancestor=True,
    )


_HNS_CONFORMANCE_CONTAINER = "conformance-hns"


def hns_conformance_backend(request: pytest.FixtureRequest) -> Any:
    """A hierarchical `AzureBackend` on the session's HNS emulator, for the conformance table.

    Like the flat one, every test roots its Store in a fresh folder of one shared
    filesystem. The filesystem is (re)created when missing, because emulator tests may
    `reset()` the shared emulator between conformance tests."""
    from azure.core.exceptions import ResourceExistsError
    from azure.storage.blob import BlobServiceClient

    from remote_store.backends.azure import AzureBackend

    emulator = request.getfixturevalue("hns_emulator")
    service = BlobServiceClient.from_connection_string(emulator.connection_string)
    with service, suppress(ResourceExistsError):
        service.create_container(_HNS_CONFORMANCE_CONTAINER)
    return AzureBackend(
        _HNS_CONFORMANCE_CONTAINER, connection_string=emulator.connection_string, hns=True
    )
