"""List Blobs (Blob endpoint, XML) and List Paths (DFS endpoint, JSON).

List Paths follows the recordings exactly (README 4.8): string-typed fields,
FILETIME ``creationTime``, unquoted ``etag``, ``isDirectory`` only on
directories, a trailing newline, names sorted so that a directory is directly
followed by its descendants. Paging (``x-ms-continuation``/``continuation``)
follows Microsoft's "Path - List" page; the token is opaque (base64 of the
last returned name).

List Blobs is not recorded; it follows Microsoft's "List Blobs" page. On an
HNS account every directory is itself a (zero-length) blob carrying
``hdi_isfolder=true`` metadata, so a flat listing returns directories as
blobs, and a delimited listing returns a directory both as a ``Blob`` (the
directory object) and, when it has children, as a ``BlobPrefix``.
"""

from __future__ import annotations

import base64
import binascii
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from .common import Request, int_param, node_headers
from .errors import Response, StorageError
from .namespace import (
    DIR_PERMISSIONS,
    FILE_PERMISSIONS,
    OWNER,
    Container,
    Node,
    filetime,
    rfc1123,
    tree_key,
)

SERVICE_MAX_RESULTS = 5000  # the service's cap for both listings


def _page_size(req: Request, param: str, setting: str) -> int:
    asked = int_param(req, param)
    limit = req.settings.get(setting) or SERVICE_MAX_RESULTS
    if asked == 0:
        raise StorageError("InvalidQueryParameterValue")
    return min(asked or SERVICE_MAX_RESULTS, limit)


def encode_token(name: str) -> str:
    return base64.urlsafe_b64encode(name.encode()).decode()


def decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise StorageError("InvalidQueryParameterValue") from exc


# -- DFS List Paths -------------------------------------------------------------


def _path_entry(name: str, node: Node) -> dict[str, str]:
    entry = {
        "contentLength": str(node.size),
        "creationTime": filetime(node.created_ns),
        "etag": node.etag,
        "expiryTime": "0",
        "group": OWNER,
    }
    if node.is_dir:
        entry["isDirectory"] = "true"
    entry.update(
        {
            "lastModified": rfc1123(node.modified_ns),
            "name": name,
            "owner": OWNER,
            "permissions": DIR_PERMISSIONS if node.is_dir else FILE_PERMISSIONS,
        }
    )
    return entry


def list_paths(req: Request, cont: Container) -> Response:
    """``GET /{fs}?resource=filesystem&directory=&recursive=&maxResults=&continuation=``."""
    directory = req.query.get("directory", "").strip("/")
    recursive = req.query.get("recursive", "").lower() == "true"
    size = _page_size(req, "maxResults", "list_paths_page_size")
    names: list[str]
    if directory:
        node, blocked = cont.lookup(directory)
        if blocked:
            raise StorageError("PathConflict")  # recorded (README 6.1)
        if node is None:
            raise StorageError("PathNotFound")
        # Emulator choice: a file named as ``directory`` lists as itself.
        names = [directory] if not node.is_dir else list(cont.descendants(directory))
    else:
        names = list(cont.nodes)
    if not recursive and directory and cont.nodes[directory].is_dir:
        names = [n for n in names if "/" not in n[len(directory) + 1 :]]
    elif not recursive and not directory:
        names = [n for n in names if "/" not in n]
    names.sort(key=tree_key)
    token = req.query.get("continuation")
    if token:
        after = tree_key(decode_token(token))
        names = [n for n in names if tree_key(n) > after]
    page, more = names[:size], len(names) > size
    body = json.dumps(
        {"paths": [_path_entry(n, cont.nodes[n]) for n in page]}, separators=(",", ":")
    )
    headers = {"Content-Type": "application/json;charset=utf-8"}
    if more:
        headers["x-ms-continuation"] = encode_token(page[-1])
    return Response(200, headers, (body + "\n").encode())


# -- Blob List Blobs ------------------------------------------------------------


def _blob_items(cont: Container, prefix: str, delimiter: str) -> list[tuple[str, bool]]:
    """Sorted (name, is_prefix) items of a listing before paging."""
    items: dict[str, bool] = {}
    for name in cont.nodes:
        if not name.startswith(prefix):
            continue
        if delimiter:
            cut = name.find(delimiter, len(prefix))
            if cut >= 0:
                items[name[: cut + len(delimiter)]] = True
                continue
        items[name] = False
    return sorted(items.items())


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    if text is not None:
        el.text = text
    return el


def _blob_xml(parent: ET.Element, name: str, node: Node, include: Iterable[str]) -> None:
    blob = _sub(parent, "Blob")
    _sub(blob, "Name", name)
    props = _sub(blob, "Properties")
    h = node_headers(node, with_md5=True)
    _sub(props, "Creation-Time", rfc1123(node.created_ns))
    _sub(props, "Last-Modified", h["Last-Modified"])
    _sub(props, "Etag", node.etag)
    _sub(props, "ResourceType", h["x-ms-resource-type"])
    _sub(props, "Content-Length", str(node.size))
    _sub(props, "Content-Type", node.content_type or "")
    for resp_name in ("Content-Encoding", "Content-Language", "Cache-Control"):
        _sub(props, resp_name, node.content_headers.get(resp_name, ""))
    _sub(props, "Content-MD5", h.get("Content-MD5", ""))
    _sub(props, "Content-Disposition", node.content_headers.get("Content-Disposition", ""))
    _sub(props, "BlobType", "BlockBlob")
    _sub(props, "AccessTier", "Hot")
    _sub(props, "AccessTierInferred", "true")
    _sub(props, "LeaseStatus", "unlocked")
    _sub(props, "LeaseState", "available")
    _sub(props, "ServerEncrypted", "true")
    if "metadata" in include:
        meta = _sub(blob, "Metadata")
        for key, value in node.metadata.items():
            _sub(meta, key, value)
        if node.is_dir:
            _sub(meta, "hdi_isfolder", "true")


def list_blobs(req: Request, cont: Container, account: str) -> Response:
    """``GET /{c}?restype=container&comp=list`` with prefix/delimiter/marker/maxresults."""
    prefix = req.query.get("prefix", "")
    delimiter = req.query.get("delimiter", "")
    include = {s.strip() for s in req.query.get("include", "").split(",") if s.strip()}
    size = _page_size(req, "maxresults", "list_blobs_page_size")
    items = _blob_items(cont, prefix, delimiter)
    marker = req.query.get("marker", "")
    if marker:
        first = decode_token(marker)
        items = [it for it in items if it[0] >= first]
    page, rest = items[:size], items[size:]
    root = ET.Element(
        "EnumerationResults",
        {"ServiceEndpoint": f"http://127.0.0.1/{account}/", "ContainerName": req.container},
    )
    if prefix:
        _sub(root, "Prefix", prefix)
    if marker:
        _sub(root, "Marker", marker)
    if "maxresults" in req.query:
        _sub(root, "MaxResults", req.query["maxresults"])
    if delimiter:
        _sub(root, "Delimiter", delimiter)
    blobs = _sub(root, "Blobs")
    for name, is_prefix in page:
        if is_prefix:
            _sub(_sub(blobs, "BlobPrefix"), "Name", name)
        else:
            _blob_xml(blobs, name, cont.nodes[name], include)
    _sub(root, "NextMarker", encode_token(rest[0][0]) if rest else "")
    body = b'\xef\xbb\xbf<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(root)
    return Response(200, {"Content-Type": "application/xml"}, body)
