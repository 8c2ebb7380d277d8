"""Request model and helpers shared by the Blob and DFS endpoint modules."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field

from .errors import StorageError
from .namespace import (
    DIR_ACL,
    DIR_PERMISSIONS,
    FILE_ACL,
    FILE_PERMISSIONS,
    OWNER,
    Node,
    rfc1123,
)


@dataclass
class Request:
    """One parsed request. ``headers`` has lower-case names; ``query`` decoded values."""

    method: str
    container: str
    name: str  # path below the container, percent-decoded, no leading slash
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    raw_path: str = ""
    meta_headers: dict[str, str] = field(default_factory=dict)  # x-ms-meta-*, case kept
    # Emulator settings the handlers need (page sizes), filled by the server.
    settings: dict[str, int | None] = field(default_factory=dict)


def quoted(etag: str) -> str:
    return f'"{etag}"'


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def check_body_md5(req: Request, header: str = "content-md5") -> None:
    """Transactional MD5 (Put Blob / Put Block / Append): 400 Md5Mismatch on mismatch."""
    sent = req.headers.get(header)
    if not sent:
        return
    try:
        expected = base64.b64decode(sent, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise StorageError("InvalidHeaderValue") from exc
    if hashlib.md5(req.body).digest() != expected:
        raise StorageError("Md5Mismatch")


def decode_md5_header(value: str | None) -> bytes | None:
    if not value:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise StorageError("InvalidHeaderValue") from exc


def parse_properties(value: str | None) -> dict[str, str]:
    """DFS ``x-ms-properties``: ``k=base64(v),...`` -> {k: v}."""
    out: dict[str, str] = {}
    if not value:
        return out
    for pair in value.split(","):
        key, sep, encoded = pair.strip().partition("=")
        if not sep or not key:
            raise StorageError("InvalidHeaderValue")
        try:
            out[key] = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, ValueError) as exc:
            raise StorageError("InvalidHeaderValue") from exc
    return out


def format_properties(metadata: dict[str, str]) -> str:
    return ",".join(f"{k}={base64.b64encode(v.encode()).decode()}" for k, v in metadata.items())


# Blob content properties settable through x-ms-blob-* request headers and
# returned under the standard response header names.
CONTENT_HEADERS = {
    "x-ms-blob-content-encoding": "Content-Encoding",
    "x-ms-blob-content-language": "Content-Language",
    "x-ms-blob-content-disposition": "Content-Disposition",
    "x-ms-blob-cache-control": "Cache-Control",
}
DFS_CONTENT_HEADERS = {
    "x-ms-content-encoding": "Content-Encoding",
    "x-ms-content-language": "Content-Language",
    "x-ms-content-disposition": "Content-Disposition",
    "x-ms-cache-control": "Cache-Control",
}


def content_headers(req: Request, mapping: dict[str, str]) -> dict[str, str]:
    return {resp: req.headers[h] for h, resp in mapping.items() if req.headers.get(h)}


def node_headers(node: Node, *, with_md5: bool, dfs: bool = False) -> dict[str, str]:
    """Properties of a path as Blob HEAD/GET report them (recordings README 4.12)."""
    h: dict[str, str] = {"Last-Modified": rfc1123(node.modified_ns), "ETag": quoted(node.etag)}
    if node.content_type:
        h["Content-Type"] = node.content_type
    if with_md5 and node.content_md5 is not None and not node.is_dir:
        h["Content-MD5"] = base64.b64encode(node.content_md5).decode()
    h.update(node.content_headers)
    h["Accept-Ranges"] = "bytes"
    if not dfs:
        h["x-ms-blob-type"] = "BlockBlob"
        h["x-ms-creation-time"] = rfc1123(node.created_ns)
        h.update(node.copy)
        for key, value in node.metadata.items():
            h["x-ms-meta-" + key] = value
        if node.is_dir:
            h["x-ms-meta-hdi_isfolder"] = "true"
        h["x-ms-access-tier"] = "Hot"
        h["x-ms-access-tier-inferred"] = "true"
    else:
        h["x-ms-creation-time"] = rfc1123(node.created_ns)
        if node.metadata:
            h["x-ms-properties"] = format_properties(node.metadata)
    h["x-ms-resource-type"] = "directory" if node.is_dir else "file"
    h["x-ms-owner"] = OWNER
    h["x-ms-group"] = OWNER
    h["x-ms-permissions"] = DIR_PERMISSIONS if node.is_dir else FILE_PERMISSIONS
    h["x-ms-acl"] = DIR_ACL if node.is_dir else FILE_ACL
    h["x-ms-lease-state"] = "available"
    h["x-ms-lease-status"] = "unlocked"
    h["x-ms-server-encrypted"] = "true"
    return h


_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(req: Request) -> tuple[int, int | None] | None:
    """``x-ms-range`` (preferred) or ``Range``: (start, end-inclusive or None) or None.

    A suffix range ``bytes=-n`` is returned as (-n, None). Malformed values are
    ignored, as the service ignores an unparsable Range and returns the blob.
    """
    value = req.headers.get("x-ms-range") or req.headers.get("range")
    if not value:
        return None
    m = _RANGE_RE.match(value.strip())
    if not m or (not m.group(1) and not m.group(2)):
        return None
    if not m.group(1):
        return -int(m.group(2)), None
    start = int(m.group(1))
    end = int(m.group(2)) if m.group(2) else None
    if end is not None and end < start:
        return None
    return start, end


def read_slice(
    req: Request, node: Node, headers: dict[str, str], *, md5_header: str
) -> tuple[int, bytes]:
    """Apply the request's range to ``node``: (status, body), updating ``headers``.

    A range starting at or past the end (which includes any range on a 0-byte
    blob or a directory) is 416 InvalidRange with ``Content-Range: bytes */N``,
    as recorded (README 4.13).
    """
    size = node.size
    rng = parse_range(req)
    if rng is None:
        return 200, node.data if not node.is_dir else b""
    start, end = rng
    if start < 0:
        start = max(0, size + start)
        if size == 0:
            raise StorageError("InvalidRange", {"Content-Range": f"bytes */{size}"})
    if start >= size:
        raise StorageError("InvalidRange", {"Content-Range": f"bytes */{size}"})
    last = size - 1 if end is None else min(end, size - 1)
    body = node.data[start : last + 1]
    headers["Content-Range"] = f"bytes {start}-{last}/{size}"
    if node.content_md5 is not None:
        headers[md5_header] = base64.b64encode(node.content_md5).decode()
    if req.headers.get("x-ms-range-get-content-md5", "").lower() == "true":
        headers["Content-MD5"] = md5_b64(body)
    return 206, body


def int_param(req: Request, name: str, *, required: bool = False) -> int | None:
    raw = req.query.get(name)
    if raw is None or raw == "":
        if required:
            raise StorageError("MissingRequiredQueryParameter")
        return None
    try:
        value = int(raw)
    except ValueError as exc:
        raise StorageError("InvalidQueryParameterValue") from exc
    if value < 0:
        raise StorageError("InvalidQueryParameterValue")
    return value
