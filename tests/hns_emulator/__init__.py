"""An in-process ADLS Gen2 (hierarchical namespace) emulator for the tests.

Usage::

    with HnsEmulator() as emu:
        svc = BlobServiceClient(emu.blob_url, credential=emu.credential)
        dl = DataLakeServiceClient(emu.dfs_url, credential=emu.credential)

See README.md in this directory for what it speaks and what it does not.
"""

from __future__ import annotations

import threading
from types import TracebackType

from .namespace import Namespace
from .server import EmulatorServer, LoggedRequest

__all__ = ["DEFAULT_ACCOUNT", "DEFAULT_KEY", "HnsEmulator", "LoggedRequest", "start_emulator"]

DEFAULT_ACCOUNT = "hnsemulator"
# Any base64 string works; this one is 64 random-looking bytes, test-only.
DEFAULT_KEY = "ZW11bGF0b3Ita2V5LWZvci10ZXN0cy1vbmx5LW5vdC1hLXNlY3JldC0wMTIzNDU2Nzg5YWJjZGVmZ2hpams="


class HnsEmulator:
    """Owns one server thread. Blob and DFS share one URL (see server.py)."""

    def __init__(
        self,
        account: str = DEFAULT_ACCOUNT,
        key: str = DEFAULT_KEY,
        *,
        auth: bool = True,
    ) -> None:
        self.account_name = account
        self.account_key = key
        self._server = EmulatorServer(account, key, auth_enabled=auth)
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------
    def start(self) -> HnsEmulator:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.01},
                name="hns-emulator",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> HnsEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- endpoints and credentials -------------------------------------------
    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def blob_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.account_name}"

    @property
    def dfs_url(self) -> str:
        return self.blob_url  # same port and path; see server.py

    @property
    def credential(self) -> dict[str, str]:
        """A credential both SDKs accept (``account_name``/``account_key``)."""
        return {"account_name": self.account_name, "account_key": self.account_key}

    @property
    def connection_string(self) -> str:
        """Works for ``BlobServiceClient`` and ``DataLakeServiceClient.from_connection_string``.

        The DataLake SDK reads ``BlobEndpoint`` (it has no ``DfsEndpoint`` key)
        and swaps ``.blob.`` for ``.dfs.``, a no-op on this IP-address URL.
        """
        return (
            "DefaultEndpointsProtocol=http;"
            f"AccountName={self.account_name};AccountKey={self.account_key};"
            f"BlobEndpoint={self.blob_url};"
        )

    # -- test controls -------------------------------------------------------
    @property
    def namespace(self) -> Namespace:
        return self._server.namespace

    @property
    def requests(self) -> list[LoggedRequest]:
        """Requests served so far (oldest first, bounded)."""
        with self._server.log_lock:
            return list(self._server.log)

    def clear_requests(self) -> None:
        with self._server.log_lock:
            self._server.log.clear()

    def set_page_sizes(
        self,
        *,
        list_blobs: int | None = None,
        list_paths: int | None = None,
        delete: int | None = None,
    ) -> None:
        """Cap List Blobs / List Paths pages and recursive-delete batches (None = service).

        Each call sets all three; ``None`` restores the service default.
        """
        for value in (list_blobs, list_paths, delete):
            if value is not None and value < 1:
                raise ValueError("page sizes must be >= 1")
        self._server.settings.update(
            list_blobs_page_size=list_blobs,
            list_paths_page_size=list_paths,
            delete_page_size=delete,
        )

    def fail_account_info(self, code: str | None) -> None:
        """Make GetAccountInfo answer the error *code* (``"AuthorizationPermissionMismatch"``
        for 403, ``"ServerBusy"`` for 503); ``None`` restores the normal answer."""
        self._server.account_info_error = code

    def set_auth(self, enabled: bool) -> None:
        self._server.auth_enabled = enabled

    def reset(self) -> None:
        """Drop all containers, the request log and page-size overrides."""
        with self.namespace.lock:
            self.namespace.containers.clear()
        self.clear_requests()
        self.set_page_sizes()
        self.fail_account_info(None)


def start_emulator(
    account: str = DEFAULT_ACCOUNT, key: str = DEFAULT_KEY, *, auth: bool = True
) -> HnsEmulator:
    """Start an emulator; the caller must ``stop()`` it."""
    return HnsEmulator(account, key, auth=auth).start()
