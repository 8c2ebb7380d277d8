"""Which files a `list_files` call keeps: a depth limit and a file-name pattern, applied
to what the backend lists."""

from __future__ import annotations

import re
from collections.abc import Callable

from remote_store import globbing
from remote_store.errors import InvalidArgument
from remote_store.models import FileInfo


def check_max_depth(max_depth: object) -> None:
    if max_depth is not None and (
        isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 1
    ):
        raise InvalidArgument(f"max_depth must be a positive int, got {max_depth!r}")


def file_filter(key: str, max_depth: int | None, pattern: str | None) -> Callable[[FileInfo], bool]:
    """A predicate: whether a file listed below *key* is within *max_depth* and its name
    matches *pattern*."""
    matcher: re.Pattern[str] | None = None
    if pattern is not None:
        if not isinstance(pattern, str) or "/" in pattern:
            raise InvalidArgument("pattern must be a file-name glob without '/'")
        matcher = globbing.compile_pattern(pattern)
    base_depth = key.count("/") + 1 if key else 0

    def keep(info: FileInfo) -> bool:
        if max_depth is not None and info.path.count("/") + 1 - base_depth > max_depth:
            return False
        return matcher is None or bool(matcher.match(info.name))

    return keep
