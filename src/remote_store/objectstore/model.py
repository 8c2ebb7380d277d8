"""What the object-store primitives exchange: one object's description and one listing page."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from remote_store import paths
from remote_store.errors import AlreadyExists, InvalidPath, NotFound, PreconditionFailed
from remote_store.models import ContentDigest, FileInfo


@dataclass(frozen=True, slots=True)
class ObjectMeta:
    """One object as a HEAD or a listing describes it. ``etag`` is in the one form the
    backend reports everywhere (the same a caller passes back as ``if_match``). A *marker*
    is an object that stands for a folder (``dir/``, or an HNS directory seen as a blob):
    never a file. *native* is the service's own description, for the backend's use."""

    key: str
    size: int
    etag: str | None = None
    modified: datetime | None = None
    digest: ContentDigest | None = None
    content_type: str | None = None
    metadata: Mapping[str, str] | None = None
    marker: bool = False
    native: Any = field(default=None, compare=False, repr=False)

    def file_info(self) -> FileInfo:
        return FileInfo(
            path=self.key,
            size=self.size,
            modified=self.modified,
            etag=self.etag,
            digest=self.digest,
            content_type=self.content_type,
            metadata=self.metadata,
        )


@dataclass(frozen=True, slots=True)
class ListPage:
    """One page of a listing below a prefix: the objects, and with a delimiter the common
    prefixes (each ending in ``/``) that stand for deeper folders; *token* continues the
    listing, ``None`` on the last page."""

    objects: Sequence[ObjectMeta] = ()
    prefixes: Sequence[str] = ()
    token: str | None = None

    @classmethod
    def of(
        cls, prefix: str, objects: Iterable[ObjectMeta], *, delimiter: bool, limit: int | None
    ) -> ListPage:
        """The single page an in-process store answers: *objects* are every object whose
        key starts with *prefix*, in key order; with *delimiter*, those deeper than one
        level fold into prefixes."""
        found: list[ObjectMeta] = []
        prefixes: list[str] = []
        for meta in objects:
            if limit is not None and len(found) + len(prefixes) >= limit:
                break
            rest = meta.key[len(prefix) :]
            slash = rest.find("/") if delimiter else -1
            if slash == -1:
                found.append(meta)
            elif not prefixes or prefixes[-1] != prefix + rest[: slash + 1]:
                prefixes.append(prefix + rest[: slash + 1])
        return cls(found, prefixes)


def folder_prefix(key: str) -> str:
    """The key prefix of everything below the folder *key* (``""`` for the root)."""
    return f"{key}/" if key else ""


def check_precondition(
    key: str, current_etag: str | None, *, create_only: bool, if_match: str | None
) -> None:
    """Refuse a put or delete whose condition does not hold on the object now at *key*
    (*current_etag*, ``None`` when there is none): for stores that decide conditions
    themselves, under their own lock or transaction."""
    if create_only and current_etag is not None:
        raise AlreadyExists(f"{key!r} already exists", path=key)
    if if_match is not None:
        if current_etag is None:
            raise NotFound(f"file {key!r} does not exist", path=key)
        if current_etag != if_match:
            raise PreconditionFailed(
                f"{key!r} changed: etag {current_etag!r}, expected {if_match!r}", path=key
            )


log = logging.getLogger("remote_store.objectstore")


def addressable(page: ListPage, backend: str) -> ListPage:
    """*page* without the objects and prefixes whose names no path can reach (``a//b``, a
    leading ``/``, ``..``, a backslash: written by other tools). Listed, they would be names
    that then raise `NotFound` or `InvalidPath`; each skipped one is logged, with why."""
    objects = [meta for meta in page.objects if _reachable(meta.key, backend)]
    prefixes = [p for p in page.prefixes if _reachable(p, backend)]
    if len(objects) == len(page.objects) and len(prefixes) == len(page.prefixes):
        return page
    return ListPage(objects, prefixes, page.token)


# A key of plain segments (no control character, surrogate or backslash), the common case,
# is checked without `paths.normalize`, which looks at every character's category.
_SEGMENT = r"[^\x00-\x1f\x7f-\x9f\\/\ud800-\udfff]+"
_PLAIN = re.compile(f"{_SEGMENT}(?:/{_SEGMENT})*")


def _reachable(name: str, backend: str) -> bool:
    # A folder marker or a common prefix ends with one "/"; the rest must be canonical.
    key = name[:-1] if name.endswith("/") else name
    wrapped = f"/{key}/"
    if (
        key.isascii()
        and len(key) <= paths.MAX_KEY_LENGTH
        and _PLAIN.fullmatch(key)
        and "/./" not in wrapped
        and "/../" not in wrapped
        and max(map(len, key.split("/"))) <= paths.MAX_SEGMENT_BYTES
    ):
        return True
    try:
        if paths.normalize(key) == key and key:
            return True
        reason = "it is not in canonical form (empty, doubled or edge '/' segments)"
    except InvalidPath as error:
        reason = error.message
    log.warning("%s: skipping %r in a listing: %s", backend, name, reason)
    return False
