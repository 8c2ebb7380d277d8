"""File metadata from a HEAD: size, ETag, Last-Modified, Content-Type, and what a missing
``Content-Length`` or a server refusing HEAD falls back to."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime

from remote_store.backends.http import errors
from remote_store.backends.http.reader import body, content_range
from remote_store.backends.http.retry import Answer, Http
from remote_store.errors import IsAFolder
from remote_store.models import FileInfo

#: Statuses a server sends when it does not answer HEAD at all.
_NO_HEAD = frozenset({405, 501})


def http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def probe(http: Http, key: str, url: str) -> Answer:
    """One HEAD of *url*, its body-less answer (the connection already freed)."""
    answer = http.request("HEAD", url, key=key, action="get_file_info")
    answer.discard()
    return answer


def file_info(http: Http, key: str, url: str) -> FileInfo:
    """What the server says about the file at *key*: one HEAD, more only when the answer
    lacks ``Content-Length`` (a ranged GET of one byte; failing that, the body counted)."""
    answer = probe(http, key, url)
    if answer.is_folder():
        raise IsAFolder(f"get_file_info {key!r}: is a folder", path=key, backend=errors.NAME)
    if answer.status in _NO_HEAD:
        answer = _first_byte(http, key, url)
    if answer.status not in (200, 206):
        raise errors.for_status(answer.status, "get_file_info", key)
    length = answer.header("Content-Length")
    size = int(length) if answer.status == 200 and length and length.isdigit() else None
    if size is None:
        size = _size_by_get(http, key, url)
    return FileInfo(
        path=key,
        size=size,
        modified=http_date(answer.header("Last-Modified")),
        etag=answer.header("ETag"),
        content_type=answer.header("Content-Type"),
    )


def _first_byte(http: Http, key: str, url: str) -> Answer:
    answer = http.request(
        "GET", url, key=key, action="get_file_info", headers={"Range": "bytes=0-0"}
    )
    answer.discard()
    return answer


def _size_by_get(http: Http, key: str, url: str) -> int:
    """The size of a file whose HEAD did not say: the total of a one-byte range, or the
    length of the whole body, read and counted (never held)."""
    answer = http.request(
        "GET", url, key=key, action="get_file_info", headers={"Range": "bytes=0-0"}
    )
    got = content_range(answer.header("Content-Range")) if answer.status == 206 else None
    if got is not None:
        answer.discard()
        return got[2]
    if answer.status == 416:
        answer.discard()
        return 0
    if answer.status != 200:
        answer.discard()
        raise errors.for_status(answer.status, "get_file_info", key)
    try:
        return sum(len(piece) for piece in body(answer.response))
    except Exception as error:
        raise errors.for_exception(error, "get_file_info", key) from None
