"""What the S3 modules share: transfer settings, the one ETag form, metadata checks, and
`ObjectMeta` from what HeadObject or ListObjectsV2 return."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from remote_store.backends.s3 import digest as stored_digest
from remote_store.errors import ConfigError, InvalidArgument
from remote_store.models import ContentDigest
from remote_store.objectstore import ObjectMeta

MiB = 1024 * 1024

#: Transfer defaults: 8 MiB parts and 4 in flight, as the Azure backend (and boto3's own
#: transfer manager: 8 MiB threshold and chunks).
DEFAULT_PART_SIZE = 8 * MiB
DEFAULT_SINGLE_PUT_SIZE = 8 * MiB
DEFAULT_CHUNK_GET_SIZE = 8 * MiB
DEFAULT_MAX_CONCURRENCY = 4

#: S3's bounds: the smallest part but the last, the largest part, the largest PutObject.
MIN_PART_SIZE = 5 * MiB
MAX_PART_SIZE = 5 * 1024 * MiB
#: User metadata: names and values travel as ``x-amz-meta-*`` headers, 2 KiB in all.
_METADATA_LIMIT = 2 * 1024
_METADATA_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_MD5_ETAG = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Settings:
    """Sizes and parallelism of uploads and downloads."""

    part_size: int = DEFAULT_PART_SIZE
    single_put_size: int = DEFAULT_SINGLE_PUT_SIZE
    chunk_get_size: int = DEFAULT_CHUNK_GET_SIZE
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY

    def __post_init__(self) -> None:
        for name in ("part_size", "single_put_size", "chunk_get_size", "max_concurrency"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be an int >= 1, got {value!r}")
        if not MIN_PART_SIZE <= self.part_size <= MAX_PART_SIZE:
            raise ConfigError(
                f"part_size must be between {MIN_PART_SIZE} (5 MiB, S3's smallest part) and "
                f"{MAX_PART_SIZE} (5 GiB), got {self.part_size}"
            )
        if self.single_put_size > MAX_PART_SIZE:
            raise ConfigError(f"single_put_size must be at most 5 GiB, got {self.single_put_size}")


def normalize_etag(etag: str | None) -> str | None:
    """The one ETag form this backend reports: without quotes."""
    return etag.strip('"') if etag else None


def quoted(etag: str) -> str:
    """The header form of a reported ETag."""
    return f'"{etag.strip(chr(34))}"'


def md5_digest(etag: str | None) -> ContentDigest | None:
    """The content's MD5, when the ETag is one: an object stored by one PutObject without
    SSE-KMS. A multipart ETag (``...-N``) is not a digest of the content."""
    return ContentDigest("md5", etag) if etag and _MD5_ETAG.match(etag) else None


def is_marker(key: str, size: int) -> bool:
    """A zero-byte ``folder/`` object made by a console or another tool: never a file."""
    return key.endswith("/") and size == 0


def whole_seconds(moment: datetime | None) -> datetime | None:
    """*moment* to the second: HeadObject's ``Last-Modified`` is an HTTP date (seconds),
    a listing's may carry milliseconds; a file reports one time whichever asked."""
    return moment.replace(microsecond=0) if moment is not None else None


def head_meta(key: str, head: Mapping[str, Any]) -> ObjectMeta:
    """`ObjectMeta` from a HeadObject (or GetObject) answer."""
    etag = normalize_etag(head.get("ETag"))
    size = int(head.get("ContentLength") or 0)
    modified = whole_seconds(head.get("LastModified"))
    metadata = head.get("Metadata") or {}
    return ObjectMeta(
        key=key,
        size=size,
        etag=etag,
        modified=modified,
        digest=md5_digest(etag) or stored_digest.from_metadata(metadata),
        content_type=head.get("ContentType"),
        metadata=stored_digest.user_metadata(metadata),
        marker=is_marker(key, size),
        native=head,
    )


def listed_meta(item: Mapping[str, Any]) -> ObjectMeta:
    """`ObjectMeta` from one ``Contents`` entry of ListObjectsV2 (no user metadata there)."""
    key = str(item["Key"])
    etag = normalize_etag(item.get("ETag"))
    size = int(item.get("Size") or 0)
    return ObjectMeta(
        key=key,
        size=size,
        etag=etag,
        modified=whole_seconds(item.get("LastModified")),
        digest=md5_digest(etag),
        marker=key.endswith("/"),  # a `dir/` key is never a file, whatever its size
        native=item,
    )


def check_metadata(metadata: Mapping[str, str] | None) -> dict[str, str] | None:
    """Refuse metadata S3 would reject or change, before any request is sent: names are
    sent as HTTP headers, which S3 stores lower-case, so only lower-case names round-trip."""
    if metadata is None:
        return None
    stored_digest.check_not_reserved(metadata)
    total = 0
    for name, value in metadata.items():
        if not isinstance(name, str) or not _METADATA_NAME.match(name):
            raise InvalidArgument(
                f"metadata key {str(name)[:40]!r} is not allowed on S3: keys must be lower-case "
                "ASCII letters, digits, '-', '_' or '.' (S3 stores header names lower-case)"
            )
        if not isinstance(value, str) or not all(" " <= c <= "~" for c in value):
            raise InvalidArgument(f"metadata value for {name!r} must be printable ASCII on S3")
        if value != value.strip():
            raise InvalidArgument(
                f"metadata value for {name!r} has leading or trailing spaces, which HTTP drops"
            )
        total += len(name) + len(value)
    if total > _METADATA_LIMIT:
        raise InvalidArgument(f"metadata is {total} bytes; S3 allows {_METADATA_LIMIT}")
    return dict(metadata)
