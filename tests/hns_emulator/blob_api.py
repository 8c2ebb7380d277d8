"""Blob endpoint operations on the HNS model.

Recorded behaviour (recordings README section 4) wins; where the recordings
are silent this follows Microsoft's REST reference pages "Put Blob", "Put
Block", "Put Block List", "Get Blob", "Get Blob Properties", "Set Blob
Metadata", "Copy Blob", "Delete Blob", "List Blobs" and "Specifying
conditional headers for Blob service operations". Choices the docs do not
settle are marked "emulator choice" and listed in README.md.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import unquote, urlsplit

from . import listing
from .common import (
    CONTENT_HEADERS,
    Request,
    check_body_md5,
    content_headers,
    decode_md5_header,
    md5_b64,
    node_headers,
    quoted,
    read_slice,
)
from .errors import Response, StorageError
from .namespace import (
    MAX_UNCOMMITTED_BLOCKS,
    Container,
    Namespace,
    Node,
    check_conditions,
    rfc1123,
)

ACCOUNT_HEADERS = {
    "x-ms-sku-name": "Standard_LRS",
    "x-ms-account-kind": "StorageV2",
    "x-ms-is-hns-enabled": "true",
}


def handle(ns: Namespace, req: Request, account: str) -> Response:
    """Dispatch one Blob-endpoint request."""
    q, m = req.query, req.method
    if q.get("restype") == "account" and q.get("comp") == "properties" and m in ("GET", "HEAD"):
        return Response(200, dict(ACCOUNT_HEADERS))
    if not req.container:
        raise StorageError("InvalidUri")
    with ns.lock:
        if not req.name:
            return _container_op(ns, req, account)
        cont = ns.container(req.container, dfs=False)
        comp = q.get("comp")
        if m == "PUT":
            if comp == "block":
                return _put_block(req, cont)
            if comp == "blocklist":
                return _put_block_list(ns, req, cont)
            if comp in ("metadata", "properties"):
                return _set_props(ns, req, cont, comp)
            if "x-ms-copy-source" in req.headers:
                return _copy(ns, req, cont, account)
            return _put_blob(ns, req, cont)
        if m in ("GET", "HEAD"):
            node = _existing(req, cont)
            check_conditions(req.headers, node, read=True)
            if comp == "metadata":
                meta = {"x-ms-meta-" + k: v for k, v in node.metadata.items()}
                return Response(200, {**meta, "ETag": quoted(node.etag)})
            if m == "HEAD":
                h = node_headers(node, with_md5=True)
                h["Content-Length"] = str(node.size)
                return Response(200, h)
            return _get_blob(req, node)
        if m == "DELETE":
            return _delete(req, cont)
    raise StorageError("UnsupportedHttpVerb")


def _existing(req: Request, cont: Container) -> Node:
    node, _blocked = cont.lookup(req.name)
    if node is None:  # missing, or below a file: both BlobNotFound (README 6.1)
        raise StorageError("BlobNotFound")
    return node


def _written(node: Node, status: int = 201) -> Response:
    return Response(
        status,
        {
            "ETag": quoted(node.etag),
            "Last-Modified": rfc1123(node.modified_ns),
            "x-ms-request-server-encrypted": "true",
        },
    )


def _target(req: Request, cont: Container, *, blocked_code: str) -> Node | None:
    """The write target: refuse paths below a file and directory paths."""
    node, blocked = cont.lookup(req.name)
    if blocked:
        raise StorageError(blocked_code)
    if node is not None and node.is_dir:
        raise StorageError("PathConflict")  # emulator choice: files never replace directories
    return node


def _put_blob(ns: Namespace, req: Request, cont: Container) -> Response:
    if req.headers.get("x-ms-blob-type", "BlockBlob") != "BlockBlob":
        raise StorageError("InvalidHeaderValue")  # page/append blobs are out of scope
    old = _target(req, cont, blocked_code="BlobNotFound")  # recorded: 404 below a file
    check_conditions(req.headers, old, read=False)
    check_body_md5(req)
    stored_md5 = decode_md5_header(req.headers.get("x-ms-blob-content-md5"))
    node = ns.write_file(
        cont,
        req.name,
        req.body,
        metadata=req.meta_headers,
        content_md5=stored_md5 or hashlib.md5(req.body).digest(),
        content_type=req.headers.get("x-ms-blob-content-type")
        or req.headers.get("content-type")
        or "application/octet-stream",
        content_headers=content_headers(req, CONTENT_HEADERS),
    )
    node.committed_blocks = []
    resp = _written(node)
    resp.headers["Content-MD5"] = md5_b64(req.body)
    return resp


def _put_block(req: Request, cont: Container) -> Response:
    block_id = req.query.get("blockid")
    if not block_id:
        raise StorageError("MissingRequiredQueryParameter")
    _target(req, cont, blocked_code="OperationNotAllowedInCurrentState")  # recorded
    check_body_md5(req)
    staged = cont.blocks.setdefault(req.name, {})
    if block_id not in staged and len(staged) >= MAX_UNCOMMITTED_BLOCKS:
        raise StorageError("OperationNotAllowedInCurrentState")
    staged[block_id] = req.body
    return Response(201, {"x-ms-request-server-encrypted": "true"})


def _put_block_list(ns: Namespace, req: Request, cont: Container) -> Response:
    old = _target(req, cont, blocked_code="OperationNotAllowedInCurrentState")
    check_conditions(req.headers, old, read=False)
    try:
        root = ET.fromstring(req.body)
    except ET.ParseError as exc:
        raise StorageError("InvalidBlockList") from exc
    staged = cont.blocks.get(req.name, {})
    committed: dict[str, bytes] = {}
    if old is not None:
        offset = 0
        for bid, size in old.committed_blocks:
            committed[bid] = old.data[offset : offset + size]
            offset += size
    parts: list[bytes] = []
    ids: list[tuple[str, int]] = []
    for el in root:
        bid = (el.text or "").strip()
        chunk: bytes | None
        if el.tag == "Uncommitted":
            chunk = staged.get(bid)
        elif el.tag == "Committed":
            chunk = committed.get(bid)
        elif el.tag == "Latest":
            chunk = staged.get(bid, committed.get(bid))
        else:
            raise StorageError("InvalidBlockList")
        if chunk is None:
            raise StorageError("InvalidBlockList")
        parts.append(chunk)
        ids.append((bid, len(chunk)))
    node = ns.write_file(
        cont,
        req.name,
        b"".join(parts),
        metadata=req.meta_headers,
        # Only an explicit x-ms-blob-content-md5 is stored (recorded: none otherwise).
        content_md5=decode_md5_header(req.headers.get("x-ms-blob-content-md5")),
        content_type=req.headers.get("x-ms-blob-content-type") or "application/octet-stream",
        content_headers=content_headers(req, CONTENT_HEADERS),
    )
    node.committed_blocks = ids
    return _written(node)


def _set_props(ns: Namespace, req: Request, cont: Container, comp: str) -> Response:
    node = _existing(req, cont)
    check_conditions(req.headers, node, read=False)
    if comp == "metadata":
        node.metadata = dict(req.meta_headers)
    else:  # Set Blob Properties replaces the content settings it names
        node.content_headers = content_headers(req, CONTENT_HEADERS)
        if req.headers.get("x-ms-blob-content-type"):
            node.content_type = req.headers["x-ms-blob-content-type"]
        if "x-ms-blob-content-md5" in req.headers:
            node.content_md5 = decode_md5_header(req.headers["x-ms-blob-content-md5"])
    node.etag, node.modified_ns = ns.stamp()
    status = 200
    return _written(node, status)


def _source_path(url: str, account: str) -> tuple[str, str]:
    """Split an ``x-ms-copy-source`` URL into (container, blob).

    Accepts host-style URLs (``https://acct.blob.core.windows.net/c/b``, as
    recorded) and path-style emulator URLs (``http://127.0.0.1:p/acct/c/b``).
    """
    parts = urlsplit(url)
    path = parts.path.lstrip("/")
    if not (parts.hostname or "").startswith(account + "."):
        first, _, path = path.partition("/")
        if first != account:
            raise StorageError("CannotVerifyCopySource")  # emulator: one account only
    container, _, name = path.partition("/")
    return unquote(container), unquote(name)


def _copy(ns: Namespace, req: Request, cont: Container, account: str) -> Response:
    src_url = req.headers["x-ms-copy-source"]
    src_c_name, src_name = _source_path(src_url, account)
    src_c = ns.containers.get(src_c_name)
    src = src_c.lookup(src_name)[0] if src_c is not None and src_name else None
    if src is None:
        raise StorageError("CannotVerifyCopySource")
    if src.is_dir:
        raise StorageError("PathConflict")  # emulator choice: directories are not copied
    check_conditions(req.headers, src, read=False, prefix="x-ms-source-")
    old = _target(req, cont, blocked_code="BlobNotFound")  # recorded: 404 below a file
    check_conditions(req.headers, old, read=False)
    node = ns.write_file(
        cont,
        req.name,
        src.data,
        metadata=req.meta_headers or src.metadata,
        content_md5=src.content_md5,
        content_type=src.content_type,
        content_headers=src.content_headers,
        keep_created=False,
    )
    copy_id = str(uuid.uuid4())
    node.copy = {
        "x-ms-copy-id": copy_id,
        "x-ms-copy-source": src_url,
        "x-ms-copy-status": "success",
        "x-ms-copy-progress": f"{len(src.data)}/{len(src.data)}",
        "x-ms-copy-completion-time": rfc1123(node.modified_ns),
    }
    resp = _written(node, 202)
    del resp.headers["x-ms-request-server-encrypted"]
    resp.headers.update({"x-ms-copy-id": copy_id, "x-ms-copy-status": "success"})
    return resp


def _get_blob(req: Request, node: Node) -> Response:
    headers = node_headers(node, with_md5=False)
    status, body = read_slice(req, node, headers, md5_header="x-ms-blob-content-md5")
    if status == 200 and node.content_md5 is not None and not node.is_dir:
        headers["Content-MD5"] = base64.b64encode(node.content_md5).decode()
    return Response(status, headers, body)


def _delete(req: Request, cont: Container) -> Response:
    node, blocked = cont.lookup(req.name)
    if blocked:
        raise StorageError("OperationNotAllowedInCurrentState")  # recorded (README 6.1)
    if node is None:
        raise StorageError("BlobNotFound")
    check_conditions(req.headers, node, read=False)
    if node.is_dir and cont.has_children(req.name):
        raise StorageError("DirectoryIsNotEmpty")  # Delete Blob on HNS: no recursion
    del cont.nodes[req.name]
    cont.blocks.pop(req.name, None)
    return Response(202, {"x-ms-delete-type-permanent": "true"})


def _container_op(ns: Namespace, req: Request, account: str) -> Response:
    q, m = req.query, req.method
    if q.get("restype") != "container":
        raise StorageError("InvalidQueryParameterValue")
    comp = q.get("comp")
    if m == "PUT" and comp is None:
        made = ns.create_container(req.container, req.meta_headers, dfs=False)
        return Response(
            201, {"ETag": quoted(made.etag), "Last-Modified": rfc1123(made.modified_ns)}
        )
    cont = ns.container(req.container, dfs=False)
    if m == "DELETE" and comp is None:
        del ns.containers[req.container]  # non-empty containers go too (recorded)
        return Response(202)
    if m in ("GET", "HEAD") and comp is None:
        h = {"ETag": quoted(cont.etag), "Last-Modified": rfc1123(cont.modified_ns)}
        h.update({"x-ms-meta-" + k: v for k, v in cont.metadata.items()})
        h.update(
            {
                "x-ms-lease-status": "unlocked",
                "x-ms-lease-state": "available",
                "x-ms-has-immutability-policy": "false",
                "x-ms-has-legal-hold": "false",
                "x-ms-default-encryption-scope": "$account-encryption-key",
                "x-ms-deny-encryption-scope-override": "false",
                "x-ms-immutable-storage-with-versioning-enabled": "false",
            }
        )
        return Response(200, h)
    if m == "PUT" and comp == "metadata":
        cont.metadata = dict(req.meta_headers)
        cont.etag, cont.modified_ns = ns.stamp()
        return Response(
            200, {"ETag": quoted(cont.etag), "Last-Modified": rfc1123(cont.modified_ns)}
        )
    if m == "GET" and comp == "list":
        return listing.list_blobs(req, cont, account)
    raise StorageError("UnsupportedHttpVerb")
