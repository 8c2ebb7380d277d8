"""The three implementations compared, behind one small interface.

* ``ours``: this library through `Store` (default options unless a sweep says otherwise).
* ``sdk``: the raw azure SDK doing the fewest calls for the same result, with the same
  transfer sizes as ours (``sdk-defaults``: the SDK's own defaults).
* ``adlfs``: fsspec's Azure filesystem, where it offers the operation.

Every method does one benchmarked operation; keys are relative to the container.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from typing import Any, Protocol

from benchmarks.common import MiB
from benchmarks.targets import Target
from remote_store.backends.azure.strategy import (
    DEFAULT_BLOCK_SIZE,
    DEFAULT_CHUNK_GET_SIZE,
    DEFAULT_FIRST_GET_SIZE,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_SINGLE_PUT_SIZE,
)

COPY_BUFFER = MiB  # what a caller streaming a download reads at a time

#: Our defaults as SDK client options, so ``sdk`` moves data in the same request sizes.
OUR_TRANSFER = {
    "max_single_put_size": DEFAULT_SINGLE_PUT_SIZE,
    "max_block_size": DEFAULT_BLOCK_SIZE,
    "min_large_block_upload_threshold": 1,
    "max_single_get_size": DEFAULT_FIRST_GET_SIZE,
    "max_chunk_get_size": DEFAULT_CHUNK_GET_SIZE,
}


class Impl(Protocol):
    name: str

    def write(self, key: str, data: bytes, *, overwrite: bool) -> None: ...
    def read(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def info(self, key: str) -> int: ...
    def list_flat(self, folder: str) -> int: ...
    def list_recursive(self, folder: str) -> int: ...
    def glob(self, pattern: str) -> int: ...
    def delete_folder(self, folder: str) -> None: ...
    def move(self, src: str, dst: str) -> None: ...
    def read_sequential(self, key: str, *, seekable: bool) -> int: ...
    def read_random(self, key: str, offsets: list[int], length: int) -> int: ...
    def upload(self, key: str, stream: Any, size: int) -> None: ...
    def download(self, key: str, sink: Any) -> None: ...
    def close(self) -> None: ...


def _drain(stream: Any) -> int:
    buffer = bytearray(COPY_BUFFER)
    total = 0
    while n := stream.readinto(buffer):
        total += n
    return total


def _copy_out(stream: Any, sink: Any) -> None:
    buffer = bytearray(COPY_BUFFER)
    view = memoryview(buffer)
    while n := stream.readinto(buffer):
        sink.write(view[:n])


class Ours:
    name = "ours"

    def __init__(
        self,
        target: Target,
        container: str,
        *,
        concurrency: int = DEFAULT_MAX_CONCURRENCY,
        **options: Any,
    ):
        from remote_store.backends.azure import AzureBackend
        from remote_store.store import Store

        backend = AzureBackend(
            container,
            connection_string=target.connection_string,
            hns=target.hns,
            client_options=options or None,
            max_concurrency=concurrency,
        )
        self.store = Store(backend)

    def write(self, key: str, data: bytes, *, overwrite: bool) -> None:
        self.store.write(key, data, overwrite=overwrite)

    def read(self, key: str) -> bytes:
        return self.store.read_bytes(key)

    def exists(self, key: str) -> bool:
        return self.store.exists(key)

    def info(self, key: str) -> int:
        return self.store.get_file_info(key).size

    def list_flat(self, folder: str) -> int:
        return sum(1 for _ in self.store.list_files(folder))

    def list_recursive(self, folder: str) -> int:
        return sum(1 for _ in self.store.list_files(folder, recursive=True))

    def glob(self, pattern: str) -> int:
        return sum(1 for _ in self.store.glob(pattern))

    def delete_folder(self, folder: str) -> None:
        self.store.delete_folder(folder, recursive=True)

    def move(self, src: str, dst: str) -> None:
        self.store.move(src, dst)

    def read_sequential(self, key: str, *, seekable: bool) -> int:
        opener = self.store.read_seekable if seekable else self.store.read
        with opener(key) as stream:
            return _drain(stream)

    def read_random(self, key: str, offsets: list[int], length: int) -> int:
        total = 0
        with self.store.read_seekable(key) as stream:
            for offset in offsets:
                stream.seek(offset)
                total += len(stream.read(length))
        return total

    def upload(self, key: str, stream: Any, size: int) -> None:
        self.store.write(key, stream, overwrite=True)

    def download(self, key: str, sink: Any) -> None:
        self.store.read_to(key, sink)

    def close(self) -> None:
        self.store.close()


class Sdk:
    name = "sdk"

    def __init__(
        self,
        target: Target,
        container: str,
        *,
        concurrency: int = 1,
        defaults: bool = False,
        **options: Any,
    ):
        from azure.storage.blob import BlobServiceClient

        self.name = "sdk-defaults" if defaults else "sdk"
        self.target = target
        self.concurrency = concurrency
        self.options = {} if defaults else {**OUR_TRANSFER, **options}
        self.service = BlobServiceClient.from_connection_string(
            target.connection_string, **self.options
        )
        self.container = self.service.get_container_client(container)
        self.container_name = container
        self._filesystem: Any = None

    def filesystem(self) -> Any:
        """Data Lake client (HNS target only): rename and recursive delete are one call."""
        if self._filesystem is None:
            from azure.storage.filedatalake import DataLakeServiceClient

            service = DataLakeServiceClient.from_connection_string(self.target.connection_string)
            self._filesystem = service.get_file_system_client(self.container_name)
        return self._filesystem

    def write(self, key: str, data: bytes, *, overwrite: bool) -> None:
        self.container.get_blob_client(key).upload_blob(data, overwrite=overwrite)

    def read(self, key: str) -> bytes:
        data: bytes = self.container.get_blob_client(key).download_blob().readall()
        return data

    def exists(self, key: str) -> bool:
        return bool(self.container.get_blob_client(key).exists())

    def info(self, key: str) -> int:
        return int(self.container.get_blob_client(key).get_blob_properties().size)

    def list_flat(self, folder: str) -> int:
        items = self.container.walk_blobs(f"{folder}/", delimiter="/", include=["metadata"])
        return sum(1 for item in items if not item.name.endswith("/"))

    def list_recursive(self, folder: str) -> int:
        items = self.container.list_blobs(name_starts_with=f"{folder}/", include=["metadata"])
        # On HNS the Blob API also lists directories, as blobs marked hdi_isfolder.
        return sum(1 for item in items if (item.metadata or {}).get("hdi_isfolder") != "true")

    def glob(self, pattern: str) -> int:
        # The hand-written way: list below the literal prefix, match names locally.
        literal = pattern.split("*", 1)[0].rsplit("/", 1)[0]
        match = re.compile(fnmatch.translate(pattern.replace("**/", ""))).match
        items = self.container.list_blobs(name_starts_with=f"{literal}/", include=["metadata"])
        return sum(1 for item in items if match(item.name))

    def delete_folder(self, folder: str) -> None:
        if self.target.hns:
            self.filesystem().get_directory_client(folder).delete_directory()
            return
        names = [b.name for b in self.container.list_blobs(name_starts_with=f"{folder}/")]
        for start in range(0, len(names), 256):
            # As ours does: a blob already gone counts as deleted (Azurite under load
            # answered BlobNotFound for a few sub-requests of a batch).
            batch = names[start : start + 256]
            for response in self.container.delete_blobs(*batch, raise_on_any_failure=False):
                if response.status_code not in (202, 404):
                    raise RuntimeError(f"batch delete: HTTP {response.status_code}")

    def move(self, src: str, dst: str) -> None:
        if self.target.hns:
            file = self.filesystem().get_file_client(src)
            file.rename_file(f"{self.container_name}/{dst}")
            return
        source = self.container.get_blob_client(src)
        copy = self.container.get_blob_client(dst).start_copy_from_url(source.url)
        if copy["copy_status"] != "success":
            raise RuntimeError(f"copy is {copy['copy_status']}: a pending copy needs polling")
        source.delete_blob()

    def read_sequential(self, key: str, *, seekable: bool) -> int:
        downloader = self.container.get_blob_client(key).download_blob()
        return sum(len(chunk) for chunk in downloader.chunks())

    def read_random(self, key: str, offsets: list[int], length: int) -> int:
        blob = self.container.get_blob_client(key)
        return sum(
            len(blob.download_blob(offset=offset, length=length).readall()) for offset in offsets
        )

    def upload(self, key: str, stream: Any, size: int) -> None:
        self.container.get_blob_client(key).upload_blob(
            stream, length=size, overwrite=True, max_concurrency=self.concurrency
        )

    def download(self, key: str, sink: Any) -> None:
        blob = self.container.get_blob_client(key)
        blob.download_blob(max_concurrency=self.concurrency).readinto(sink)

    def close(self) -> None:
        self.service.close()
        if self._filesystem is not None:
            self._filesystem.close()


class Adlfs:
    name = "adlfs"

    def __init__(self, target: Target, container: str, *, concurrency: int = 1, **_: Any):
        from adlfs import AzureBlobFileSystem

        self.fs = AzureBlobFileSystem(
            connection_string=target.connection_string,
            skip_instance_cache=True,
            max_concurrency=concurrency,
        )
        self.root = container

    def _p(self, key: str) -> str:
        return f"{self.root}/{key}"

    def write(self, key: str, data: bytes, *, overwrite: bool) -> None:
        self.fs.pipe_file(self._p(key), data, overwrite=overwrite)

    def read(self, key: str) -> bytes:
        data: bytes = self.fs.cat_file(self._p(key))
        return data

    def exists(self, key: str) -> bool:
        return bool(self.fs.exists(self._p(key)))

    def info(self, key: str) -> int:
        return int(self.fs.info(self._p(key))["size"])

    def list_flat(self, folder: str) -> int:
        self.fs.invalidate_cache()
        entries = self.fs.ls(self._p(folder), detail=True, refresh=True)
        return sum(1 for e in entries if e["type"] == "file")

    def list_recursive(self, folder: str) -> int:
        self.fs.invalidate_cache()
        return len(self.fs.find(self._p(folder), detail=True))

    def glob(self, pattern: str) -> int:
        self.fs.invalidate_cache()
        return len(self.fs.glob(self._p(pattern)))

    def delete_folder(self, folder: str) -> None:
        self.fs.invalidate_cache()
        self.fs.rm(self._p(folder), recursive=True)

    def move(self, src: str, dst: str) -> None:
        self.fs.invalidate_cache()
        self.fs.mv(self._p(src), self._p(dst))

    def read_sequential(self, key: str, *, seekable: bool) -> int:
        with self.fs.open(self._p(key), "rb") as stream:
            return _drain(stream)

    def read_random(self, key: str, offsets: list[int], length: int) -> int:
        total = 0
        with self.fs.open(self._p(key), "rb") as stream:
            for offset in offsets:
                stream.seek(offset)
                total += len(stream.read(length))
        return total

    def upload(self, key: str, stream: Any, size: int) -> None:
        with self.fs.open(self._p(key), "wb") as out:
            while chunk := stream.read(COPY_BUFFER):
                out.write(chunk)

    def download(self, key: str, sink: Any) -> None:
        with self.fs.open(self._p(key), "rb") as stream:
            _copy_out(stream, sink)

    def close(self) -> None:
        pass


class SdkMd5(Sdk):
    """The raw SDK producing what our upload produces: the blob and its stored Content-MD5.
    `upload_blob` wants the MD5 before it starts, so a streamed upload hashes on the way
    and sets it afterwards (Set Blob Properties: one request more)."""

    def __init__(self, target: Target, container: str, **kwargs: Any) -> None:
        super().__init__(target, container, **kwargs)
        self.name = "sdk+md5"

    def upload(self, key: str, stream: Any, size: int) -> None:
        from azure.storage.blob import ContentSettings

        digest = hashlib.md5()

        class Hashing:
            def read(self, n: int = -1) -> bytes:
                data: bytes = stream.read(n)
                digest.update(data)
                return data

        blob = self.container.get_blob_client(key)
        hashing: Any = Hashing()
        blob.upload_blob(hashing, length=size, overwrite=True, max_concurrency=self.concurrency)
        blob.set_http_headers(ContentSettings(content_md5=bytearray(digest.digest())))


def build(name: str, target: Target, container: str, **kwargs: Any) -> Impl:
    if name == "ours":
        return Ours(target, container, **kwargs)
    if name == "sdk":
        return Sdk(target, container, **kwargs)
    if name == "sdk-defaults":
        return Sdk(target, container, defaults=True, **kwargs)
    if name == "sdk+md5":
        return SdkMd5(target, container, **kwargs)
    if name == "adlfs":
        return Adlfs(target, container, **kwargs)
    raise ValueError(f"unknown implementation {name!r}")
