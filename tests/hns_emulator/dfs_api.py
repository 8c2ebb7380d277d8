"""DFS (ADLS Gen2) endpoint operations on the HNS model.

Recorded behaviour (recordings README 4.3-4.8, 6.1) wins; otherwise this
follows Microsoft's "Path - Create", "Path - Update", "Path - Delete",
"Path - List", "Path - Get Properties" and "Path - Read" pages. Choices the
docs leave open are marked "emulator choice" and listed in README.md.
"""

from __future__ import annotations

from urllib.parse import unquote

from . import listing
from .common import (
    DFS_CONTENT_HEADERS,
    Request,
    check_body_md5,
    content_headers,
    decode_md5_header,
    int_param,
    node_headers,
    parse_properties,
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

_EXISTS = "PathAlreadyExists"


def handle(ns: Namespace, req: Request) -> Response:
    """Dispatch one DFS-endpoint request."""
    q, m = req.query, req.method
    if not req.container:
        raise StorageError("InvalidUri")
    with ns.lock:
        if not req.name:
            return _filesystem_op(ns, req)
        cont = ns.container(req.container, dfs=True)
        if m == "PUT":
            if "x-ms-rename-source" in req.headers:
                return _rename(ns, req, cont)
            if q.get("resource") in ("file", "directory"):
                return _create(ns, req, cont)
            raise StorageError("InvalidQueryParameterValue")
        if m == "PATCH":
            action = q.get("action")
            if action == "append":
                return _append(req, cont)
            if action == "flush":
                return _flush(ns, req, cont)
            if action == "setProperties":
                return _set_properties(ns, req, cont)
            if action == "setAccessControl":  # ACLs are out of scope: accepted, ignored
                node = _existing(req, cont)
                return Response(200, _stamp_headers(node))
            raise StorageError("InvalidQueryParameterValue")
        if m == "DELETE":
            return _delete(ns, req, cont)
        if m in ("HEAD", "GET"):
            node = _existing(req, cont)
            check_conditions(req.headers, node, read=True)
            headers = node_headers(node, with_md5=True, dfs=True)
            if m == "HEAD":
                headers["Content-Length"] = str(node.size)
                return Response(200, headers)
            headers.pop("Content-MD5", None)
            status, body = read_slice(req, node, headers, md5_header="x-ms-content-md5")
            if status == 200 and node.content_md5 is not None and not node.is_dir:
                headers["Content-MD5"] = node_headers(node, with_md5=True)["Content-MD5"]
            return Response(status, headers, body)
    raise StorageError("UnsupportedHttpVerb")


def _stamp_headers(node: Node) -> dict[str, str]:
    return {"ETag": quoted(node.etag), "Last-Modified": rfc1123(node.modified_ns)}


def _existing(req: Request, cont: Container) -> Node:
    node, _blocked = cont.lookup(req.name)
    if node is None:  # emulator choice: below a file reads as PathNotFound
        raise StorageError("PathNotFound")
    return node


def _create(ns: Namespace, req: Request, cont: Container) -> Response:
    node, blocked = cont.lookup(req.name)
    if blocked:
        raise StorageError("PathConflict")  # recorded (README 6.1)
    check_conditions(req.headers, node, read=False, exists_code=_EXISTS)
    metadata = parse_properties(req.headers.get("x-ms-properties"))
    if req.query["resource"] == "directory":
        if node is not None and not node.is_dir:
            raise StorageError("PathConflict")
        made = ns.make_dir(cont, req.name, metadata)
    else:
        if node is not None and node.is_dir:
            raise StorageError("PathConflict")
        cont.pending.pop(req.name, None)  # create truncates: staged appends are gone
        made = ns.write_file(
            cont,
            req.name,
            b"",
            metadata=metadata,
            content_md5=None,
            content_type=req.headers.get("x-ms-content-type") or "application/octet-stream",
            content_headers=content_headers(req, DFS_CONTENT_HEADERS),
            keep_created=False,
        )
    headers = _stamp_headers(made)
    headers["x-ms-request-server-encrypted"] = "true"
    return Response(201, headers)


def _append(req: Request, cont: Container) -> Response:
    """Stage a chunk at ``position``. The path may not exist yet: with
    ``upload_data(overwrite=False)`` the SDK appends first and creates the file
    by a flush carrying ``If-None-Match: *`` (azure-storage-file-datalake
    ``_upload_helper``), so staging is keyed by path.
    """
    position = int_param(req, "position", required=True)
    assert position is not None
    node, blocked = cont.lookup(req.name)
    if blocked or (node is not None and node.is_dir):
        raise StorageError("PathConflict")  # emulator choice: no data on directories
    check_body_md5(req)
    staged = cont.pending.setdefault(req.name, {})
    if position not in staged and len(staged) >= MAX_UNCOMMITTED_BLOCKS:
        raise StorageError("OperationNotAllowedInCurrentState")  # keeps memory bounded
    staged[position] = req.body
    # Appends change neither ETag nor Last-Modified (recorded, README 4.4).
    return Response(202, {"x-ms-request-server-encrypted": "true"})


def _flush(ns: Namespace, req: Request, cont: Container) -> Response:
    """Commit appended data up to ``position`` (Path - Update, action=flush).

    The data between the current length and ``position`` must be covered
    exactly and contiguously by appended chunks; otherwise 400
    InvalidFlushPosition. Chunks beyond ``position`` are kept only with
    ``retainUncommittedData=true``.
    """
    position = int_param(req, "position", required=True)
    assert position is not None
    node, blocked = cont.lookup(req.name)
    staged = cont.pending.get(req.name, {})
    if blocked or (node is not None and node.is_dir):
        raise StorageError("PathConflict")
    if node is None and req.name not in cont.pending:
        raise StorageError("PathNotFound")
    check_conditions(req.headers, node, read=False, exists_code=_EXISTS)
    length = len(node.data) if node is not None else 0
    if position < length:
        raise StorageError("InvalidFlushPosition")
    parts: list[bytes] = []
    cursor = length
    while cursor < position:
        chunk = staged.get(cursor)
        if not chunk or cursor + len(chunk) > position:
            raise StorageError("InvalidFlushPosition")
        parts.append(chunk)
        cursor += len(chunk)
    retain = req.query.get("retainUncommittedData", "").lower() == "true"
    kept = {p: c for p, c in staged.items() if p >= position} if retain else {}
    if kept:
        cont.pending[req.name] = kept
    else:
        cont.pending.pop(req.name, None)
    if node is None:  # created by this flush (see _append)
        node = ns.write_file(
            cont,
            req.name,
            b"",
            metadata={},
            content_md5=None,
            content_type="application/octet-stream",
            keep_created=False,
        )
    node.data = node.data + b"".join(parts)
    node.committed_blocks = []
    # DFS-written files carry no MD5 unless the flush names one (recorded, README 5).
    node.content_md5 = decode_md5_header(req.headers.get("x-ms-content-md5"))
    if req.headers.get("x-ms-content-type"):
        node.content_type = req.headers["x-ms-content-type"]
    node.content_headers.update(content_headers(req, DFS_CONTENT_HEADERS))
    node.etag, node.modified_ns = ns.stamp()
    headers = _stamp_headers(node)
    headers["x-ms-request-server-encrypted"] = "false"  # recorded on all 34 flushes
    return Response(200, headers)


def _set_properties(ns: Namespace, req: Request, cont: Container) -> Response:
    node = _existing(req, cont)
    check_conditions(req.headers, node, read=False, exists_code=_EXISTS)
    if "x-ms-properties" in req.headers:
        node.metadata = parse_properties(req.headers["x-ms-properties"])
    node.etag, node.modified_ns = ns.stamp()
    return Response(200, _stamp_headers(node))


def _rename(ns: Namespace, req: Request, cont: Container) -> Response:
    """``PUT /{fs}/{dst}`` with ``x-ms-rename-source: /{fs}/{src}`` (legacy or posix).

    Recorded: an existing destination file is replaced; a destination whose
    parent is a file is 409 InvalidSourceOrDestinationResourceType; the moved
    path keeps ETag and Last-Modified. From the docs: a missing source is 404
    SourcePathNotFound, a missing destination parent 404
    RenameDestinationParentPathNotFound (the service does not create it).
    """
    source = req.headers["x-ms-rename-source"].partition("?")[0]
    src_fs, _, src_path = unquote(source).lstrip("/").partition("/")
    src_path = src_path.strip("/")
    src_c = ns.containers.get(src_fs)
    if src_c is None:
        raise StorageError("FilesystemNotFound")
    src, _ = src_c.lookup(src_path) if src_path else (None, False)
    if src is None:
        raise StorageError("SourcePathNotFound")
    check_conditions(req.headers, src, read=False, prefix="x-ms-source-")
    dst_path = req.name
    dst, blocked = cont.lookup(dst_path)
    if blocked:
        raise StorageError("InvalidSourceOrDestinationResourceType")  # recorded
    if src_c is cont and (dst_path == src_path or dst_path.startswith(src_path + "/")):
        if dst_path == src_path:
            return Response(201, _stamp_headers(src))
        raise StorageError("InvalidDestinationPath")
    if not cont.parent_exists(dst_path):
        raise StorageError("RenameDestinationParentPathNotFound")
    check_conditions(req.headers, dst, read=False, exists_code=_EXISTS)
    if dst is not None:
        if dst.is_dir != src.is_dir:
            raise StorageError("InvalidSourceOrDestinationResourceType")  # emulator choice
        if dst.is_dir and cont.has_children(dst_path):
            raise StorageError("DirectoryNotEmpty")  # emulator choice
        ns.delete_tree(cont, dst_path, None)
    moved = ns.move_tree(src_c, src_path, cont, dst_path)
    return Response(201, _stamp_headers(moved))


def _delete(ns: Namespace, req: Request, cont: Container) -> Response:
    """Path - Delete; ``recursive=true`` removes a subtree, paged by ``delete_page_size``.

    The service pages recursive deletes only in some cases (``paginated=true``
    under ACL authorization); the emulator pages whenever the configured page
    size is exceeded, so callers that follow ``x-ms-continuation`` get tested.
    """
    node, blocked = cont.lookup(req.name)
    if blocked:
        raise StorageError("PathConflict")  # recorded (README 6.1)
    if node is None:
        raise StorageError("PathNotFound")
    check_conditions(req.headers, node, read=False, exists_code=_EXISTS)
    headers = {"x-ms-delete-type-permanent": "true"}
    if not node.is_dir:
        ns.delete_tree(cont, req.name, None)
        return Response(200, headers)
    recursive = req.query.get("recursive", "").lower() == "true"
    if not recursive and cont.has_children(req.name):
        raise StorageError("DirectoryNotEmpty")
    limit = req.settings.get("delete_page_size")
    if not ns.delete_tree(cont, req.name, limit):
        headers["x-ms-continuation"] = listing.encode_token(req.name)
    return Response(200, headers)


def _filesystem_op(ns: Namespace, req: Request) -> Response:
    if req.query.get("resource") != "filesystem":
        raise StorageError("InvalidQueryParameterValue")
    m = req.method
    if m == "PUT":
        made = ns.create_container(
            req.container, parse_properties(req.headers.get("x-ms-properties")), dfs=True
        )
        return Response(
            201, {"ETag": quoted(made.etag), "Last-Modified": rfc1123(made.modified_ns)}
        )
    cont = ns.container(req.container, dfs=True)
    if m == "GET":
        return listing.list_paths(req, cont)
    if m == "HEAD":
        return Response(
            200,
            {
                "ETag": quoted(cont.etag),
                "Last-Modified": rfc1123(cont.modified_ns),
                "x-ms-namespace-enabled": "true",
            },
        )
    if m == "DELETE":
        del ns.containers[req.container]
        return Response(202)
    raise StorageError("UnsupportedHttpVerb")
