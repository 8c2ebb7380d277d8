"""What a listing keeps: a depth limit and a name pattern, applied to what the backend
lists; and the walk that lists folders below the first level."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from remote_store import globbing
from remote_store.errors import InvalidArgument
from remote_store.models import FileInfo, FolderEntry


def known_size(backend: object, info: FileInfo) -> int | None:
    """*info*'s size for fsspec and PyArrow, None where *backend* cannot know a size before
    a read (sql-query reports 0 there): a 0 read as "empty" makes dask skip the file."""
    return info.size if getattr(backend, "file_sizes_known", True) else None


def check_max_depth(max_depth: object) -> None:
    if max_depth is not None and (
        isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 1
    ):
        raise InvalidArgument(f"max_depth must be a positive int, got {max_depth!r}")


def name_matcher(pattern: str | None) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    if not isinstance(pattern, str) or "/" in pattern:
        raise InvalidArgument("pattern must be a name glob without '/'")
    return globbing.compile_pattern(pattern)


def file_filter(key: str, max_depth: int | None, pattern: str | None) -> Callable[[FileInfo], bool]:
    """A predicate: whether a file listed below *key* is within *max_depth* and its name
    matches *pattern*."""
    matcher = name_matcher(pattern)
    base_depth = key.count("/") + 1 if key else 0

    def keep(info: FileInfo) -> bool:
        if max_depth is not None and info.path.count("/") + 1 - base_depth > max_depth:
            return False
        return matcher is None or bool(matcher.match(info.name))

    return keep


def walk_folders(
    children: Callable[[str], Iterator[FileInfo | FolderEntry]],
    key: str,
    max_depth: int,
    pattern: str | None,
) -> Iterator[FolderEntry]:
    """The folders below *key* down to *max_depth* levels (1 = its own subfolders), each
    level listed with *children*; those whose name matches *pattern*. Depth first, each
    folder before what is below it."""
    matcher = name_matcher(pattern)

    def below(folder: str, depth: int) -> Iterator[FolderEntry]:
        for entry in children(folder):
            if not isinstance(entry, FolderEntry):
                continue
            if matcher is None or matcher.match(entry.name):
                yield entry
            if depth < max_depth:
                yield from below(entry.path, depth + 1)

    return below(key, 1)
