"""The MD5 stored with a multipart object.

A multipart object's ETag is not a digest of its content, and S3 takes no metadata once
the upload has begun. So, as rclone does, the content is hashed *before* the upload when it
can be read twice without a second download (bytes, an in-memory stream, a regular file),
and the MD5 travels as user metadata ``md5chksum`` (base64, rclone's key and encoding) on
CreateMultipartUpload: no extra request, and never a digest of other content, because the
upload's own streamed MD5 must equal it before the Complete is sent. A one-pass stream is
uploaded without one (its `WriteResult` still carries the MD5 computed on the way).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import os
import stat
from collections.abc import Mapping
from typing import Any

from remote_store.errors import InvalidArgument
from remote_store.models import ContentDigest
from remote_store.streams import WritableContent, known_length

#: The user-metadata key the MD5 is stored under (``x-amz-meta-md5chksum``).
DIGEST_KEY = "md5chksum"
_PIECE = 1024 * 1024


def hash_ahead(content: WritableContent, single_put_size: int) -> bytes | None:
    """The MD5 of *content*, when it will go up in parts and can be read twice locally;
    a stream is left where it was."""
    length = known_length(content)
    if length is None or length <= single_put_size:
        return None  # one PutObject, whose ETag is the MD5; or a length only reading tells
    if isinstance(content, bytes | bytearray | memoryview):
        return hashlib.md5(content, usedforsecurity=False).digest()
    if not _local(content):
        return None  # another store's stream, a pipe: reading it twice costs a download
    stream: Any = content
    start = stream.tell()
    md5 = hashlib.md5(usedforsecurity=False)
    while piece := stream.read(_PIECE):
        md5.update(piece)
    stream.seek(start)
    return md5.digest()


def _local(stream: Any) -> bool:
    if callable(getattr(stream, "getbuffer", None)):
        return True  # io.BytesIO
    try:
        return stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return False


def stored(md5: bytes) -> dict[str, str]:
    """The metadata entry that stores *md5*."""
    return {DIGEST_KEY: base64.b64encode(md5).decode()}


def from_metadata(metadata: Mapping[str, str]) -> ContentDigest | None:
    """The stored MD5, if *metadata* holds a well-formed one."""
    value = metadata.get(DIGEST_KEY)
    if value is None:
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return ContentDigest("md5", raw.hex()) if len(raw) == 16 else None


def user_metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    """*metadata* without the stored digest: what the caller wrote."""
    return {name: value for name, value in metadata.items() if name != DIGEST_KEY}


def check_not_reserved(metadata: Mapping[str, str]) -> None:
    if DIGEST_KEY in metadata:
        raise InvalidArgument(
            f"metadata key {DIGEST_KEY!r} is reserved on S3: it stores the content's MD5"
        )
