"""Listings of a hierarchical namespace through DFS List Paths (``FileSystemClient.get_paths``).

One request per page (up to 5,000 entries), consumed lazily as the caller iterates. Every
entry carries name, size, ETag, last-modified time and ``isDirectory``, so a `FileInfo`
is built without a HEAD per file; List Paths returns no metadata, MD5 or content type
(recordings README 4.8), which is why listed `FileInfo`s have none (``get_file_info`` has
them).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from azure.core.exceptions import HttpResponseError

from remote_store.backends.azure import errors as azerr
from remote_store.backends.azure.errors import translate
from remote_store.backends.azure.strategy import AzureContext, normalize_etag
from remote_store.models import FileInfo, FolderEntry
from remote_store.objectstore import folder_prefix

#: A listed directory that is missing (404) or below a file (409): no folder, no entries.
_NOT_A_DIRECTORY = frozenset({"PathNotFound", "PathConflict"})


def walk(ctx: AzureContext, op: str, directory: str, *, recursive: bool) -> Iterator[Any]:
    """The ``PathProperties`` strictly below *directory* ("" = the container's root).

    A missing directory, or one below a file, yields nothing. The service is asked for the
    next page only when the caller has consumed the previous one."""
    if ctx.filesystem is None:  # pragma: no cover - the backend always supplies it
        raise RuntimeError("the hierarchical strategy needs a Data Lake FileSystemClient")
    pager = ctx.filesystem().get_paths(path=directory or None, recursive=recursive)
    prefix = folder_prefix(directory)
    with translate(op, directory):
        try:
            for item in pager:
                # Only what is strictly below: where *directory* names a file, the service
                # may list that file itself.
                if item.name.startswith(prefix) and item.name != directory:
                    yield item
        except HttpResponseError as exc:
            if azerr.error_code(exc) not in _NOT_A_DIRECTORY:
                raise


def path_info(item: Any) -> FileInfo:
    """`FileInfo` of a listed file (List Paths' unquoted ETag gets the one form we use)."""
    modified: datetime | None = item.last_modified
    if modified is not None and modified.tzinfo is None:
        # The SDK parses List Paths' RFC 1123 time without a zone; it is GMT, and a HEAD
        # of the same file gives an aware time, which listings must equal.
        modified = modified.replace(tzinfo=UTC)
    return FileInfo(
        path=item.name,
        size=int(item.content_length or 0),
        modified=modified,
        etag=normalize_etag(item.etag),
    )


def children(ctx: AzureContext, directory: str) -> Iterator[FileInfo | FolderEntry]:
    """One level below *directory*: files as `FileInfo`, directories as `FolderEntry`."""
    for item in walk(ctx, "iter_children", directory, recursive=False):
        yield FolderEntry(item.name) if item.is_directory else path_info(item)


def files(ctx: AzureContext, directory: str, *, recursive: bool) -> Iterator[FileInfo]:
    """Files below *directory*, one level or every level; directories are skipped."""
    for item in walk(ctx, "list_files", directory, recursive=recursive):
        if not item.is_directory:
            yield path_info(item)
