"""The interface a namespace strategy implements, and what every strategy shares.

`AzureBackend` decides once per instance whether the account has a hierarchical namespace
and picks one strategy object, whose hooks the kernel then calls for every operation. A
strategy never asks which account kind it runs on: that is answered by which class was
picked.
"""

from __future__ import annotations

import functools
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO, ClassVar, cast

from azure.storage.blob import BlobClient, BlobProperties, ContainerClient

from remote_store.backends.azure.reader import BlobReader
from remote_store.capabilities import CapabilitySet
from remote_store.errors import InvalidArgument
from remote_store.models import ContentDigest
from remote_store.operations import Operations
from remote_store.streams import Sink

MiB = 1024 * 1024

#: Transfer defaults (see docs/backends/azure.md, "Transfer defaults", for how they were chosen).
DEFAULT_SINGLE_PUT_SIZE = 8 * MiB
DEFAULT_BLOCK_SIZE = 8 * MiB
DEFAULT_FIRST_GET_SIZE = 8 * MiB
DEFAULT_CHUNK_GET_SIZE = 8 * MiB
# 4 requests in flight: on both emulators c=8 moved no more than c=4, and every one
# costs a thread and a chunk of memory.
DEFAULT_MAX_CONCURRENCY = 4

#: Azure limits (REST API version 2019-12-12 and later).
MAX_BLOCKS = 50_000
MAX_BLOCK_SIZE = 4000 * MiB
MAX_SINGLE_PUT_SIZE = 5000 * MiB

#: HNS directories seen through the Blob API: zero-length blobs carrying this metadata.
FOLDER_MARKER_KEY = "hdi_isfolder"

_METADATA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_METADATA_LIMIT = 8 * 1024


@dataclass(frozen=True)
class Transfer:
    """Sizes and parallelism of uploads and downloads."""

    single_put_size: int = DEFAULT_SINGLE_PUT_SIZE
    block_size: int = DEFAULT_BLOCK_SIZE
    first_get_size: int = DEFAULT_FIRST_GET_SIZE
    chunk_get_size: int = DEFAULT_CHUNK_GET_SIZE
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY


@dataclass(frozen=True)
class AzureContext:
    """What a strategy works with: the clients the backend built and its settings."""

    container: ContainerClient
    container_name: str
    transfer: Transfer
    reject_write_under_file_ancestor: bool = False
    #: Builds (once) and returns the Data Lake ``FileSystemClient``; for the HNS strategy.
    filesystem: Callable[[], Any] | None = None

    def __post_init__(self) -> None:
        # A BlobClient costs ~0.25 ms to build (a generated client and its pipeline config),
        # 4% of a small operation on loopback; clients are thread-safe, so hot keys reuse one.
        clients = functools.lru_cache(maxsize=1024)(self.container.get_blob_client)
        object.__setattr__(self, "_blob_clients", clients)

    def blob(self, key: str) -> BlobClient:
        client: BlobClient = self._blob_clients(key)  # type: ignore[attr-defined]
        return client


class AzureStrategy(Operations, ABC):
    """One namespace model (flat Blob, or hierarchical Data Lake) of the Azure backend: the
    `Operations` the kernel calls once `AzureBackend` has decided which one the account
    needs. A strategy raises only `remote_store.errors` exceptions: Azure SDK errors are
    translated with `remote_store.backends.azure.errors.translate`."""

    name: ClassVar[str] = "azure"
    #: ``"flat"`` or ``"hierarchical"``: reported by ``resolve()``.
    kind: ClassVar[str]
    #: What an instance on this strategy honours.
    capabilities: ClassVar[CapabilitySet]

    def __init__(self, ctx: AzureContext) -> None:
        self.ctx = ctx

    @abstractmethod
    def open_reader(self, op: str, path: str, *, seekable: bool) -> BlobReader:
        """A ranged reader over the blob at *path*; raises at once when it is missing."""

    def _read(self, path: str) -> BinaryIO:
        return cast(BinaryIO, self.open_reader("read", path, seekable=False))

    def _read_seekable(self, path: str) -> BinaryIO:
        return cast(BinaryIO, self.open_reader("read_seekable", path, seekable=True))

    def _read_to(self, path: str, sink: Sink) -> int:
        with self.open_reader("read_to", path, seekable=False) as reader:
            return reader.write_to(sink)


# ---------------------------------------------------------------------- shared helpers


def normalize_etag(etag: str | None) -> str | None:
    """The one ETag form this backend reports: without quotes, lower-case."""
    return etag.strip('"').lower() if etag else None


def service_etag(etag: str) -> str:
    """The header form of a reported ETag: quoted, hex digits upper-case (``"0x8D..."``)."""
    body = etag.strip('"')
    if body[:2].lower() == "0x":
        body = "0x" + body[2:].upper()
    return f'"{body}"'


def md5_digest(md5: bytes | bytearray | None) -> ContentDigest | None:
    return ContentDigest("md5", bytes(md5).hex()) if md5 else None


def is_folder_marker(props: BlobProperties | Mapping[str, Any]) -> bool:
    """Whether a blob is an HNS directory seen through the Blob API."""
    metadata = props.get("metadata") if isinstance(props, Mapping) else props.metadata
    if not metadata:
        return False
    return any(
        k.lower() == FOLDER_MARKER_KEY and str(v).lower() == "true" for k, v in metadata.items()
    )


def check_metadata(metadata: Mapping[str, str] | None) -> dict[str, str] | None:
    """Refuse metadata Azure would reject, before any request is sent."""
    if metadata is None:
        return None
    seen: set[str] = set()
    total = 0
    for name, value in metadata.items():
        if not isinstance(name, str) or not _METADATA_NAME.match(name):
            raise InvalidArgument(
                f"metadata key {str(name)[:40]!r} is not allowed on Azure: keys must be C# "
                "identifiers (ASCII letters, digits and '_', not starting with a digit)"
            )
        if name.lower() in seen:
            raise InvalidArgument(f"metadata key {name!r} repeats (Azure keys ignore case)")
        if name.lower() == FOLDER_MARKER_KEY:
            raise InvalidArgument(f"metadata key {name!r} is reserved for HNS directories")
        seen.add(name.lower())
        if not isinstance(value, str) or not all(" " <= c <= "~" for c in value):
            raise InvalidArgument(f"metadata value for {name!r} must be printable ASCII on Azure")
        if value != value.strip():
            raise InvalidArgument(
                f"metadata value for {name!r} has leading or trailing spaces, which HTTP drops"
            )
        total += len(name) + len(value)
    if total > _METADATA_LIMIT:
        raise InvalidArgument(f"metadata is {total} bytes; Azure allows {_METADATA_LIMIT}")
    return dict(metadata)
