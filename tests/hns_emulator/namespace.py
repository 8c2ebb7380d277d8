"""The in-memory hierarchical namespace shared by the Blob and DFS endpoints.

One ``Namespace`` holds containers (= filesystems); each container maps a
slash-separated path (no leading slash) to a ``Node`` that is a file or a
directory. HNS rules enforced here (recordings README section 5):

* writing a file creates every missing ancestor as a real directory;
* a directory survives the deletion of its last child;
* a path below a file never exists (callers pick the endpoint's error code);
* rename keeps ETag, Last-Modified, creation time, metadata and MD5.

All state changes happen under ``Namespace.lock`` (the API layers hold it for
the whole request, which makes every request atomic, as the service is).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime

from .errors import NotModified, StorageError

# 100 ns ticks between 1601-01-01 (FILETIME epoch) and 1970-01-01.
_FILETIME_EPOCH = 116_444_736_000_000_000

FILE_PERMISSIONS = "rw-r-----"  # umask 027 under SharedKey, as recorded
DIR_PERMISSIONS = "rwxr-x---"
FILE_ACL = "user::rw-,group::r--,other::---"
DIR_ACL = "user::rwx,group::r-x,other::---"
OWNER = "$superuser"
MAX_UNCOMMITTED_BLOCKS = 100_000  # the service's limit (BlockCountExceedsLimit)


def rfc1123(ns: int) -> str:
    """Format nanoseconds since the epoch like the service (``Thu, 18 Jun 2026 ... GMT``)."""
    return formatdate(ns / 1e9, usegmt=True)


def filetime(ns: int) -> str:
    """Windows FILETIME (decimal 100 ns ticks since 1601), as ListPaths' creationTime."""
    return str(ns // 100 + _FILETIME_EPOCH)


@dataclass
class Node:
    """A file or directory. ``etag`` is stored unquoted."""

    is_dir: bool
    etag: str
    modified_ns: int
    created_ns: int
    data: bytes = b""
    metadata: dict[str, str] = field(default_factory=dict)
    content_md5: bytes | None = None
    content_type: str | None = None
    content_headers: dict[str, str] = field(default_factory=dict)  # Content-Encoding, ...
    copy: dict[str, str] = field(default_factory=dict)  # x-ms-copy-* headers after a copy
    committed_blocks: list[tuple[str, int]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return 0 if self.is_dir else len(self.data)


@dataclass
class Container:
    """A container / filesystem."""

    etag: str
    modified_ns: int
    metadata: dict[str, str] = field(default_factory=dict)
    nodes: dict[str, Node] = field(default_factory=dict)
    blocks: dict[str, dict[str, bytes]] = field(default_factory=dict)  # uncommitted
    # DFS appends not yet flushed, by path and position. Kept per path rather
    # than per node because the SDK appends to a path that does not exist yet
    # when ``upload_data(overwrite=False)`` (the flush then creates the file).
    pending: dict[str, dict[int, bytes]] = field(default_factory=dict)

    def lookup(self, path: str) -> tuple[Node | None, bool]:
        """Return (node, blocked): blocked means an ancestor of ``path`` is a file."""
        parts = path.split("/")
        for i in range(1, len(parts)):
            anc = self.nodes.get("/".join(parts[:i]))
            if anc is not None and not anc.is_dir:
                return None, True
        return self.nodes.get(path), False

    def parent_exists(self, path: str) -> bool:
        parent = path.rpartition("/")[0]
        return parent == "" or (parent in self.nodes and self.nodes[parent].is_dir)

    def descendants(self, path: str) -> Iterator[str]:
        """Every node path strictly below ``path`` ("" = root), unordered."""
        prefix = path + "/" if path else ""
        return (p for p in self.nodes if p.startswith(prefix) and p != path)

    def has_children(self, path: str) -> bool:
        return next(self.descendants(path), None) is not None


def tree_key(path: str) -> tuple[str, ...]:
    """Sort key listing a directory right before its descendants (ListPaths order)."""
    return tuple(path.split("/"))


class Namespace:
    """All containers of the emulated account plus the clock that mints ETags."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.containers: dict[str, Container] = {}
        self._last_tick = 0

    # -- clock -----------------------------------------------------------
    def stamp(self) -> tuple[str, int]:
        """A fresh unique ETag (unquoted ``0x8D`` + 13 hex digits) and the time in ns.

        Real ETags derive from a FILETIME-like clock; a strictly increasing
        counter keeps ours unique even for writes within the same tick.
        """
        now = time.time_ns()
        self._last_tick = max(now // 100, self._last_tick + 1)
        return f"0x8D{self._last_tick & 0xFFFFFFFFFFFFF:013X}", now

    # -- containers --------------------------------------------------------
    def container(self, name: str, *, dfs: bool) -> Container:
        found = self.containers.get(name)
        if found is None:
            raise StorageError("FilesystemNotFound" if dfs else "ContainerNotFound")
        return found

    def create_container(self, name: str, metadata: Mapping[str, str], *, dfs: bool) -> Container:
        if name in self.containers:
            raise StorageError("FilesystemAlreadyExists" if dfs else "ContainerAlreadyExists")
        etag, now = self.stamp()
        made = Container(etag=etag, modified_ns=now, metadata=dict(metadata))
        self.containers[name] = made
        return made

    # -- nodes -------------------------------------------------------------
    def ensure_parents(self, cont: Container, path: str) -> None:
        """Create missing ancestors as implicit directories (no Content-Type, as recorded)."""
        parts = path.split("/")
        for i in range(1, len(parts)):
            anc = "/".join(parts[:i])
            if anc not in cont.nodes:
                etag, now = self.stamp()
                cont.nodes[anc] = Node(True, etag, now, now, metadata={})

    def write_file(
        self,
        cont: Container,
        path: str,
        data: bytes,
        *,
        metadata: Mapping[str, str],
        content_md5: bytes | None,
        content_type: str | None,
        content_headers: Mapping[str, str] | None = None,
        keep_created: bool = True,
    ) -> Node:
        """Create or replace the file at ``path`` (callers have checked conflicts)."""
        self.ensure_parents(cont, path)
        etag, now = self.stamp()
        old = cont.nodes.get(path)
        created = old.created_ns if (old is not None and keep_created) else now
        node = Node(
            False,
            etag,
            now,
            created,
            data=data,
            metadata=dict(metadata),
            content_md5=content_md5,
            content_type=content_type,
            content_headers=dict(content_headers or {}),
        )
        cont.nodes[path] = node
        cont.blocks.pop(path, None)  # a new blob version discards uncommitted blocks
        return node

    def make_dir(self, cont: Container, path: str, metadata: Mapping[str, str]) -> Node:
        """Create (or re-create) an explicit directory: it has a Content-Type, as recorded."""
        self.ensure_parents(cont, path)
        etag, now = self.stamp()
        old = cont.nodes.get(path)
        node = Node(True, etag, now, old.created_ns if old else now, metadata=dict(metadata))
        node.content_type = "application/octet-stream"
        cont.nodes[path] = node
        return node

    def delete_tree(self, cont: Container, path: str, limit: int | None) -> bool:
        """Delete ``path`` and its subtree, deepest first, at most ``limit`` descendants.

        Returns True when everything (including ``path``) is gone, False when
        the call stopped at ``limit`` and a continuation is needed.
        """
        below = sorted(cont.descendants(path), key=lambda p: (-p.count("/"), p))
        if limit is not None and len(below) > limit:
            for p in below[:limit]:
                self._drop(cont, p)
            return False
        for p in below:
            self._drop(cont, p)
        self._drop(cont, path)
        return True

    @staticmethod
    def _drop(cont: Container, path: str) -> None:
        cont.nodes.pop(path, None)
        cont.blocks.pop(path, None)
        cont.pending.pop(path, None)

    @staticmethod
    def move_tree(src_c: Container, src: str, dst_c: Container, dst: str) -> Node:
        """Re-key ``src`` and its subtree to ``dst``; nodes keep all their properties."""
        moved = [(p, src_c.nodes.pop(p)) for p in [src, *list(src_c.descendants(src))]]
        for p, node in moved:
            dst_c.nodes[dst + p[len(src) :]] = node
            src_c.blocks.pop(p, None)
            src_c.pending.pop(p, None)
        return moved[0][1]


# -- conditional headers -------------------------------------------------------


def _etags(value: str) -> list[str]:
    return [v.strip().strip('"') for v in value.split(",") if v.strip()]


def _parse_date(value: str) -> float | None:
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None


def check_conditions(
    headers: Mapping[str, str],
    node: Node | None,
    *,
    read: bool,
    exists_code: str = "BlobAlreadyExists",
    prefix: str = "",
) -> None:
    """Evaluate If-Match / If-None-Match / If-(Un)Modified-Since against ``node``.

    Follows "Specifying conditional headers for Blob service operations": a
    failed condition is 412 ConditionNotMet, except that reads answer 304 for
    If-None-Match / If-Modified-Since, and a write with ``If-None-Match: *``
    on an existing resource is 409 (``exists_code``: BlobAlreadyExists on the
    Blob endpoint, PathAlreadyExists on DFS). ``prefix`` selects the
    ``x-ms-source-`` variants used for copy and rename sources.
    """
    if_match = headers.get(prefix + "if-match")
    if_none = headers.get(prefix + "if-none-match")
    since = headers.get(prefix + "if-modified-since")
    unmod = headers.get(prefix + "if-unmodified-since")
    etag = node.etag if node is not None else None
    modified = node.modified_ns // 1_000_000_000 if node is not None else None
    if if_match:
        wanted = _etags(if_match)
        if etag is None or ("*" not in wanted and etag not in wanted):
            raise StorageError("ConditionNotMet")
    if unmod and modified is not None:
        limit = _parse_date(unmod)
        if limit is not None and modified > limit:
            raise StorageError("ConditionNotMet")
    if if_none and etag is not None:
        wanted = _etags(if_none)
        if "*" in wanted or etag in wanted:
            if read:
                raise NotModified()
            raise StorageError(exists_code if "*" in wanted else "ConditionNotMet")
    if since and modified is not None:
        limit = _parse_date(since)
        if limit is not None and modified <= limit:
            if read:
                raise NotModified()
            raise StorageError("ConditionNotMet")
