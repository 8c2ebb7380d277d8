"""Value objects returned by stores and backends. All frozen."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from remote_store.frozen import FrozenMap


@dataclass(frozen=True)
class ContentDigest:
    """A content hash: *algorithm* (e.g. ``"md5"``) and its lower-case hex *value*."""

    algorithm: str
    value: str


@dataclass(frozen=True)
class FileInfo:
    """What is known about a file. ``path`` is relative to the store (or backend) root."""

    path: str
    size: int
    modified: datetime | None = None
    etag: str | None = None
    digest: ContentDigest | None = None
    content_type: str | None = None
    metadata: Mapping[str, str] | None = None

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def modified_at(self) -> datetime | None:
        """`modified`, under the name remote-store 0.33 used."""
        return self.modified


@dataclass(frozen=True)
class FolderEntry:
    """A child folder seen while listing. ``path`` is relative to the store root."""

    path: str

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class FolderInfo:
    """Aggregates over every file below a folder, at any depth."""

    path: str
    file_count: int
    total_size: int
    modified: datetime | None = None

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def modified_at(self) -> datetime | None:
        """`modified`, under the name remote-store 0.33 used."""
        return self.modified


class WriteSource(StrEnum):
    """Where a `WriteResult`'s fields came from."""

    NATIVE = "native"  # the service's own answer to the write (etag, last_modified, ...)
    BASIC = "basic"  # only what the library knows without asking: path and size


@dataclass(frozen=True)
class WriteResult:
    """The outcome of a write. Rich fields are ``None`` unless the backend reports them."""

    path: str
    size: int
    source: WriteSource = WriteSource.BASIC
    etag: str | None = None
    last_modified: datetime | None = None
    digest: ContentDigest | None = None
    version_id: str | None = None
    metadata: Mapping[str, str] | None = None


@dataclass(frozen=True)
class ResolutionPlan:
    """How a path maps onto the backend: the kind of location, the backend's name, the
    backend key, its native path (a filesystem path, a URL) and details. Never credentials."""

    kind: str
    backend: str
    key: str
    native_path: str
    details: Mapping[str, Any] = field(default_factory=FrozenMap)


@runtime_checkable
class PathEntry(Protocol):
    """Anything a listing yields: it has a ``path`` and a ``name`` (`FileInfo`, `FolderEntry`)."""

    @property
    def path(self) -> str: ...

    @property
    def name(self) -> str: ...


Entry = FileInfo | FolderEntry
