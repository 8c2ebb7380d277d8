"""Folder listings from a server's machine-readable index: nginx's ``autoindex_format
json`` (``[{"name": ..., "type": "file"|"directory", "mtime": ..., "size": ...}]``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from remote_store.backends.http import errors
from remote_store.backends.http.metadata import http_date
from remote_store.backends.http.retry import Http
from remote_store.errors import BackendUnavailable
from remote_store.models import FileInfo, FolderEntry

#: The largest index read (an index is held whole to parse it).
MAX_INDEX = 64 * 1024 * 1024


def children(http: Http, key: str, url: str) -> Iterator[FileInfo | FolderEntry]:
    """The entries of the folder at *url* (ending in ``/``); none when it is missing."""
    answer = http.request("GET", url, key=key or None, action="list")
    if answer.status in errors.MISSING:
        answer.discard()
        return
    if answer.status != 200:
        answer.discard()
        raise errors.for_status(answer.status, "list", key or None)
    kind = (answer.header("Content-Type") or "").split(";", 1)[0].strip().lower()
    if kind != "application/json":
        answer.discard()
        raise _not_an_index(key, f"Content-Type {kind or 'none'!r}")
    try:
        raw = answer.response.read(MAX_INDEX + 1, decode_content=True)
    except Exception as error:
        raise errors.for_exception(error, "list", key or None) from None
    finally:
        answer.response.release_conn()
    if len(raw) > MAX_INDEX:
        raise _not_an_index(key, f"an index larger than {MAX_INDEX} bytes")
    try:
        entries = json.loads(raw)
    except ValueError:
        raise _not_an_index(key, "not JSON") from None
    if not isinstance(entries, list):
        raise _not_an_index(key, "not a JSON list")
    prefix = f"{key}/" if key else ""
    for entry in sorted(entries, key=_name):
        found = _entry(prefix, entry)
        if found is not None:
            yield found


def _name(entry: Any) -> str:
    return str(entry.get("name", "")) if isinstance(entry, dict) else ""


def _entry(prefix: str, entry: Any) -> FileInfo | FolderEntry | None:
    if not isinstance(entry, dict):
        return None
    name = entry.get("name")
    if not isinstance(name, str) or not name or name in (".", "..") or "/" in name:
        return None
    if entry.get("type") == "directory":
        return FolderEntry(path=prefix + name)
    size = entry.get("size")
    if entry.get("type") != "file" or isinstance(size, bool) or not isinstance(size, int):
        return None  # a link or device nginx lists as "other": not a file we can read
    mtime = entry.get("mtime")
    return FileInfo(
        path=prefix + name, size=size, modified=http_date(mtime if isinstance(mtime, str) else None)
    )


def _not_an_index(key: str, why: str) -> BackendUnavailable:
    return BackendUnavailable(
        f"list {key!r}: the server's answer is not an nginx JSON index ({why}); "
        "declare listing only where autoindex_format json is served",
        path=key or None,
        backend=errors.NAME,
        retryable=False,
    )
