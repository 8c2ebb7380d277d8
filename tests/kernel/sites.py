"""Where `test_direct_calls` runs: one site per backend. A site hands out a backend whose
storage holds exactly the seed tree, and photographs that storage (path -> bytes) without
going through the backend under test, so a backend that misbehaves cannot hide what it did.

A site re-seeds only when the last photograph differs from the seed: an in-process backend
is simply built anew; local disk and Azure containers are wiped and written again by hand.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any, Protocol

from remote_store.backend import Backend
from remote_store.backends import LocalBackend
from tests.azure_support import RequestLog

#: The tree every call starts from: a folder with a file and a subfolder, and a top file.
SEED: dict[str, bytes] = {
    "dir/f.txt": b"f-content",
    "dir/sub/g.txt": b"g-content!!",
    "top.txt": b"top",
}
#: Beside the local backend's directory, outside its root: no call may touch it.
OUTSIDE = b"outside the root: must never change"

#: Path -> bytes for every file; a folder that exists in its own right (local disk, HNS) is
#: its path with a trailing "/" -> None.
Snapshot = dict[str, bytes | None]


class Requests(Protocol):
    """A request log (`RequestLog`, `RequestCounter`): cleared, then counted."""

    def clear(self) -> None: ...

    def __len__(self) -> int: ...


class Site(ABC):
    """A backend and its storage, seen from outside the backend."""

    def __init__(self, name: str) -> None:
        self.name = name
        #: Every HTTP request the backend under test made (Azure, S3), else None.
        self.requests: Requests | None = None
        self._backend: Backend | None = None
        self._seed: Snapshot | None = None

    @abstractmethod
    def _reset(self) -> Backend:
        """Wipe the storage, write `SEED`, and return a backend on it."""

    @abstractmethod
    def snapshot(self) -> Snapshot:
        """Every file (and real folder) of the storage, read without the backend under test."""

    def _expected_files(self) -> dict[str, bytes]:
        return dict(SEED)

    def fresh(self) -> Backend:
        """A backend whose storage holds exactly the seed."""
        if self._backend is None:
            backend = self._reset()
            self._backend = backend
            seeded = self.snapshot()
            files = {k: v for k, v in seeded.items() if v is not None}
            assert files == self._expected_files(), f"{self.name}: seeding failed: {seeded}"
            assert self._seed is None or seeded == self._seed, f"{self.name}: re-seed differs"
            self._seed = seeded
        return self._backend

    @property
    def seed(self) -> Snapshot:
        assert self._seed is not None
        return self._seed

    def settle(self, after: Snapshot) -> None:
        """Note the state a call left: anything but the seed is re-seeded before the next."""
        if after != self.seed:
            self._backend = None

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()


class InProcessSite(Site):
    """Memory and the documented DictBackend: a new instance is a new storage, photographed
    by *photograph* from the backend's own dict (not through the code under test)."""

    def __init__(
        self,
        name: str,
        factory: Callable[[], Backend],
        photograph: Callable[[Backend], Snapshot],
    ) -> None:
        super().__init__(name)
        self._factory = factory
        self._photograph = photograph

    def _reset(self) -> Backend:
        backend = self._factory()
        for key, data in SEED.items():
            backend.write(key, data)
        return backend

    def snapshot(self) -> Snapshot:
        assert self._backend is not None
        return self._photograph(self._backend)


def memory_files(backend: Backend) -> Snapshot:
    """MemoryBackend keeps ``_files``: key -> record with ``.data``."""
    files: dict[str, Any] = getattr(backend, "_files")  # noqa: B009
    return {key: record.data for key, record in files.items()}


def dict_objects(backend: Backend) -> Snapshot:
    """The documented DictBackend keeps ``_objects``: key -> (data, meta)."""
    objects: dict[str, Any] = getattr(backend, "_objects")  # noqa: B009
    return {key: data for key, (data, _) in objects.items()}


class LocalSite(Site):
    """Local disk: the backend's directory ``store/`` beside a sentinel file, both inside
    *outer*, which is photographed whole (so an escape from the root shows)."""

    def __init__(self, outer: Path) -> None:
        super().__init__("local")
        self._outer = outer

    def _expected_files(self) -> dict[str, bytes]:
        return {"outside.txt": OUTSIDE, **{f"store/{k}": v for k, v in SEED.items()}}

    def _reset(self) -> Backend:
        shutil.rmtree(self._outer)
        self._outer.mkdir()
        (self._outer / "outside.txt").write_bytes(OUTSIDE)
        for key, data in SEED.items():
            target = self._outer / "store" / key
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return self._open(self._outer / "store")

    def _open(self, folder: Path) -> Backend:
        return LocalBackend(folder)

    def snapshot(self) -> Snapshot:
        shot: Snapshot = {}
        for directory, folders, files in os.walk(self._outer):
            relative = Path(directory).relative_to(self._outer).as_posix()
            prefix = "" if relative == "." else relative + "/"
            for folder in folders:
                shot[f"{prefix}{folder}/"] = None
            for name in files:
                shot[prefix + name] = Path(directory, name).read_bytes()
        return shot


class AzureSite(Site):
    """A container of its own on Azurite (flat) or the HNS emulator, wiped and seeded through
    the plain SDK; HNS directories (``hdi_isfolder`` blobs) are photographed as folders."""

    def __init__(self, name: str, connection_string: str, *, hns: bool) -> None:
        from azure.storage.blob import BlobServiceClient

        super().__init__(name)
        self._connection_string = connection_string
        self._hns = hns
        self._service = BlobServiceClient.from_connection_string(connection_string)
        self._contents: dict[tuple[str, str], bytes] = {}
        self._azure: Backend | None = None
        self.requests = RequestLog()
        self.container_name = ""
        self._new_container()

    def _new_container(self) -> None:
        """Move to a container of a fresh name: a direct call may leave blobs that cannot be
        deleted or listed (a NUL, a ``..`` segment the client normalises away)."""
        if self._azure is not None:
            self._azure.close()
            self._azure = None
        if self.container_name:
            with suppress(Exception):
                self._service.delete_container(self.container_name)
        self.container_name = f"direct-{uuid.uuid4().hex[:20]}"
        self._service.create_container(self.container_name)
        self._container = self._service.get_container_client(self.container_name)

    def _reset(self) -> Backend:
        from azure.core.exceptions import ResourceNotFoundError

        from remote_store.backends.azure import AzureBackend
        from remote_store.backends.azure.retry import DEFAULT_RETRY

        try:
            names = [blob.name for blob in self._container.list_blobs()]
            # Deepest first: an HNS directory can be deleted only once it is empty.
            for name in sorted(names, key=lambda n: (-n.count("/"), n)):
                self._container.delete_blob(name)
        except ResourceNotFoundError:  # the shared HNS emulator was reset by another test
            self._service.create_container(self.container_name)
        except Exception:
            self._new_container()
        for key, data in SEED.items():
            self._container.upload_blob(key, data)
        if self._azure is None:
            self._azure = AzureBackend(
                self.container_name,
                connection_string=self._connection_string,
                hns=self._hns,
                # As the conformance factories: the flat namespace checks what it may write.
                reject_write_under_file_ancestor=not self._hns,
                client_options={"raw_response_hook": self.requests},
                # The default policy without its sleeps: Azurite answers a NUL in a name
                # with HTTP 500, which is retried (~20 s of backoff over the module).
                retry=dataclasses.replace(DEFAULT_RETRY, backoff_base=0.0, backoff_max=0.0),
            )
        return self._azure

    def snapshot(self) -> Snapshot:
        """Unreadable state shows as such (a marker key or content), never as an error."""
        shot: Snapshot = {}
        try:
            blobs = list(self._container.list_blobs(include=["metadata"]))
        except Exception as error:
            return {f"<the container cannot be listed: {type(error).__name__}>": None}
        for blob in blobs:
            if (blob.metadata or {}).get("hdi_isfolder") == "true":
                shot[blob.name + "/"] = None
                continue
            version = (blob.name, blob.etag)
            if version not in self._contents:
                try:
                    data = self._container.download_blob(blob.name).readall()
                except Exception as error:
                    data = f"<unreadable: {type(error).__name__}>".encode()
                self._contents[version] = data
            shot[blob.name] = self._contents[version]
        return shot

    def close(self) -> None:
        if self._azure is not None:
            self._azure.close()
        try:
            self._service.delete_container(self.container_name)
        finally:
            self._service.close()


class SftpSite(LocalSite):
    """SFTP to the test sshd, whose files are this machine's: seeded and photographed on
    disk like `LocalSite` (so a temporary file left behind shows too)."""

    def __init__(self, outer: Path, open_backend: Callable[[Path], Backend]) -> None:
        super().__init__(outer)
        self.name = "sftp"
        self._open_backend = open_backend

    def _open(self, folder: Path) -> Backend:
        return self._open_backend(folder)


def sqlite_site(folder: Path) -> InProcessSite:
    """SQLBlob on an SQLite file: a new file per storage, photographed with the stdlib
    ``sqlite3`` module (rows and their chunks), not through the backend under test."""
    from remote_store.backends.sql import SQLBlobBackend

    def factory() -> Backend:
        return SQLBlobBackend(f"sqlite:///{folder / (uuid.uuid4().hex + '.db')}", chunk_size=4096)

    def photograph(backend: Backend) -> Snapshot:
        import sqlite3

        database = getattr(backend, "_engine").url.database  # noqa: B009
        with sqlite3.connect(database) as db:
            rows = db.execute(
                "SELECT o.key, c.data FROM remote_store_objects o LEFT JOIN "
                "remote_store_objects_chunks c ON c.version = o.version ORDER BY o.key, c.seq"
            ).fetchall()
        shot: dict[str, bytes] = {}
        for key, data in rows:
            shot[key] = shot.get(key, b"") + (data or b"")
        return dict(shot)

    return InProcessSite("sql-blob-sqlite", factory, photograph)


class HttpSite(Site):
    """The read-only HTTP backend over nginx: a folder of its own inside the folder nginx
    serves, seeded and photographed on disk (the backend can change nothing: every write
    must be refused as a Store refuses it)."""

    def __init__(self, served: Path, url: str) -> None:
        super().__init__("http")
        self._folder = served
        self._url = url

    def _reset(self) -> Backend:
        from remote_store.backends.http import HttpBackend

        shutil.rmtree(self._folder, ignore_errors=True)
        for key, data in SEED.items():
            target = self._folder / key
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return HttpBackend(self._url, listing="nginx-json")

    def snapshot(self) -> Snapshot:
        shot: Snapshot = {}
        for directory, _, files in os.walk(self._folder):
            relative = Path(directory).relative_to(self._folder).as_posix()
            prefix = "" if relative == "." else relative + "/"
            for name in files:
                shot[prefix + name] = Path(directory, name).read_bytes()
        return shot


class S3Site(Site):
    """A bucket of its own on MiniStack, wiped and seeded through a plain boto3 client; a
    bucket of a fresh name when a call left keys that cannot be deleted."""

    def __init__(self, server: Any) -> None:
        from tests.s3_support import RequestCounter

        super().__init__("s3")
        self._server = server
        self._client = server.client()
        self._contents: dict[tuple[str, str], bytes] = {}
        self._s3: Backend | None = None
        self.requests = self._counter = RequestCounter()
        self.bucket = server.new_bucket("direct")

    def _keys(self) -> list[tuple[str, str]]:
        pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        return [(o["Key"], o["ETag"]) for page in pages for o in page.get("Contents", ())]

    def _reset(self) -> Backend:
        from remote_store.config import RetryPolicy

        try:
            for key, _ in self._keys():
                self._client.delete_object(Bucket=self.bucket, Key=key)
        except Exception:
            self.bucket = self._server.new_bucket("direct")
            if self._s3 is not None:
                self._s3.close()
                self._s3 = None
        for key, data in SEED.items():
            self._client.put_object(Bucket=self.bucket, Key=key, Body=data)
        if self._s3 is None:
            self._s3 = self._server.backend(self.bucket, retry=RetryPolicy(backoff_base=0.0))
            self._counter.attach(self._s3.unwrap(object))
        return self._s3

    def snapshot(self) -> Snapshot:
        shot: Snapshot = {}
        try:
            keys = self._keys()
        except Exception as error:
            return {f"<the bucket cannot be listed: {type(error).__name__}>": None}
        for key, etag in keys:
            if (key, etag) not in self._contents:
                try:
                    data = self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
                except Exception as error:
                    data = f"<unreadable: {type(error).__name__}>".encode()
                self._contents[(key, etag)] = data
            shot[key] = self._contents[(key, etag)]
        return shot

    def close(self) -> None:
        if self._s3 is not None:
            self._s3.close()
