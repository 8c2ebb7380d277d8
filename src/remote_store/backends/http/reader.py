"""Readers over a file on a web server: HTTP's adapter over `remote_store.transfer.reader`.

The first request asks for a range. A 206 with a strong ETag (or a Last-Modified date)
pins every later range: ``Range`` with ``If-Range`` on that validator (and ``If-Match`` on
the ETag), each answer checked (status, ``Content-Range``, ETag), so a file replaced
mid-read raises `PreconditionFailed` instead of mixing versions. A 200 to the ranged
request means the server ignores Range: its body is the whole file, read as one stream
(spooled when a seekable stream is wanted). Either way no byte comes from the wrong
place.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, cast

from urllib3.exceptions import ProtocolError
from urllib3.response import BaseHTTPResponse

from remote_store.backends.http import errors
from remote_store.backends.http.retry import Answer, Http, call_scope, discard
from remote_store.errors import IsAFolder, PreconditionFailed, RemoteStoreError
from remote_store.operations import SPOOL_LIMIT
from remote_store.streams import copy_stream
from remote_store.transfer.reader import (
    FIRST_SPAN,
    Buffer,
    Chunk,
    RangeReader,
    fill,
    new_buffer,
)

#: The name prefix of a reader's read-ahead threads.
THREAD_NAME = "http-read-ahead"
_PIECE = 256 * 1024


@dataclass(frozen=True)
class Pin:
    """The version every range is pinned to: the If-Range *validator* (a strong ETag, or
    the Last-Modified date), the ETag and date of the first answer, and the size."""

    validator: str
    etag: str | None
    modified: str | None
    size: int


def content_range(value: str | None) -> tuple[int, int, int] | None:
    """``bytes START-END/TOTAL`` -> (start, end, total); None when absent or malformed."""
    if not value or not value.startswith("bytes "):
        return None
    span, _, total = value[6:].partition("/")
    start, _, end = span.partition("-")
    if not (start.isdigit() and end.isdigit() and total.isdigit()):
        return None
    return int(start), int(end), int(total)


def strong_etag(value: str | None) -> str | None:
    return value if value and not value.startswith("W/") else None


def body(response: BaseHTTPResponse) -> Iterator[bytes]:
    """The body in pieces; the connection goes back to the pool once it is read to the
    end, and is closed if reading stops early."""
    finished = False
    try:
        # read1: what has arrived, so a body cut later keeps every byte received before.
        while piece := response.read1(_PIECE):
            yield piece
        finished = True
    finally:
        if not finished:
            response.close()
        response.release_conn()


class Ranges:
    """A file on the server as a `RangeSource`: ranged GETs pinned to one version."""

    def __init__(self, http: Http, key: str, url: str, pin: Pin) -> None:
        self._http = http
        self._key = key
        self._url = url
        self._pin = pin

    def fetch(
        self, offset: int, length: int, etag: str, allocate: Callable[[int], Buffer]
    ) -> Chunk:
        try:
            with call_scope(self._http.settings.retry):
                data = allocate(min(length, self._pin.size - offset))
                first = self.get(offset, offset + len(data) - 1)

                def rest(filled: int) -> Iterator[bytes]:
                    return self.get(offset + filled, offset + len(data) - 1)

                fill(data, first, rest, cut=errors.CUT, short=ProtocolError)
        except RemoteStoreError:
            raise
        except Exception as error:
            raise errors.for_exception(error, "read", self._key) from None
        return Chunk(offset, data, self._pin.size, self._pin.validator, None)

    def get(self, start: int, end: int) -> Iterator[bytes]:
        """The body of bytes ``start..end`` of the pinned version."""
        pin = self._pin
        headers = {"Range": f"bytes={start}-{end}", "If-Range": pin.validator}
        if pin.etag:
            headers["If-Match"] = pin.etag
        answer = self._http.request("GET", self._url, key=self._key, action="read", headers=headers)
        status = answer.status
        if status == 206:
            got = content_range(answer.header("Content-Range"))
            same = (
                got is not None
                and got[0] == start
                and got[2] == pin.size
                and (pin.etag is None or answer.header("ETag") in (None, pin.etag))
                and (pin.etag is not None or answer.header("Last-Modified") == pin.modified)
            )
            if same:
                return body(answer.response)
        elif status == 200 and pin.etag is not None and answer.header("ETag") == pin.etag:
            # The same version, but the server ignored Range: skip to the range wanted
            # (reading the bytes before it: a correct answer, if a costly one).
            return _slice(body(answer.response), start, end - start + 1)
        answer.discard()
        if status in (200, 206, 412, 416):
            raise PreconditionFailed(
                f"read {self._key!r}: the file changed on the server while it was being read",
                path=self._key,
                backend=errors.NAME,
            )
        raise errors.for_status(status, "read", self._key)


def _slice(pieces: Iterator[bytes], skip: int, length: int) -> Iterator[bytes]:
    """*length* bytes after the first *skip* of a whole body; the connection is closed
    once they are read (the rest of the file is not downloaded for nothing)."""
    try:
        for piece in pieces:
            if skip >= len(piece):
                skip -= len(piece)
                continue
            wanted = piece[skip : skip + length]
            skip = 0
            length -= len(wanted)
            yield wanted
            if length <= 0:
                return
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()


class BodyStream(io.RawIOBase):
    """A forward-only stream over one whole-file answer (a server without Range)."""

    def __init__(self, response: BaseHTTPResponse, key: str) -> None:
        super().__init__()
        self._response = response
        self._key = key
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        if self.closed:
            raise ValueError("I/O operation on closed file")
        try:
            n = self._response.readinto(buffer)
        except Exception as error:
            raise errors.for_exception(error, "read", self._key) from None
        if n == 0:
            self._done = True
        return n

    def close(self) -> None:
        if not self.closed:
            if not self._done:
                self._response.close()
            self._response.release_conn()
        super().close()


def open_stream(http: Http, key: str, url: str, *, seekable: bool) -> BinaryIO:
    """A stream over the file at *url*: ranged and pinned where the server allows it.
    Raises `NotFound`, `IsAFolder`, or the error for the server's answer."""
    settings = http.settings
    first = min(settings.chunk_size, FIRST_SPAN) if seekable else settings.chunk_size
    answer = http.request(
        "GET", url, key=key, action="read", headers={"Range": f"bytes=0-{first - 1}"}
    )
    if answer.is_folder():
        answer.discard()
        raise IsAFolder(f"read {key!r}: is a folder", path=key, backend=errors.NAME)
    if answer.status == 206:
        reader = _ranged(http, key, url, answer, seekable=seekable)
        if reader is not None:
            return reader
        answer = http.request("GET", url, key=key, action="read")  # cannot pin: read it whole
    if answer.status == 416:  # some servers: an empty file has no first byte
        answer.discard()
        return cast(BinaryIO, io.BytesIO(b""))
    if answer.status != 200:
        answer.discard()
        raise errors.for_status(answer.status, "read", key)
    stream = BodyStream(answer.response, key)
    if not seekable:
        return cast(BinaryIO, stream)
    return _spooled(stream)


def _ranged(http: Http, key: str, url: str, answer: Answer, *, seekable: bool) -> BinaryIO | None:
    got = content_range(answer.header("Content-Range"))
    etag = strong_etag(answer.header("ETag"))
    modified = answer.header("Last-Modified")
    validator = etag or (modified if answer.header("ETag") is None else None)
    if got is None or got[0] != 0 or validator is None:
        answer.discard()
        return None
    pin = Pin(validator, etag, modified, got[2])
    source = Ranges(http, key, url, pin)
    data = new_buffer(min(got[1] + 1, pin.size))
    try:
        with call_scope(http.settings.retry):
            fill(
                data,
                body(answer.response),
                lambda filled: source.get(filled, len(data) - 1),
                cut=errors.CUT,
                short=ProtocolError,
            )
    except RemoteStoreError:
        raise
    except Exception as error:
        raise errors.for_exception(error, "read", key) from None
    settings = http.settings
    return cast(
        BinaryIO,
        RangeReader(
            source,
            Chunk(0, data, pin.size, pin.validator, None),
            chunk_size=settings.chunk_size,
            seekable=seekable,
            max_concurrency=settings.max_concurrency,
            policy=settings.retry,
            thread_name=THREAD_NAME,
        ),
    )


def _spooled(stream: BodyStream) -> BinaryIO:
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_LIMIT)  # noqa: SIM115
    try:
        with stream:
            copy_stream(cast(BinaryIO, stream), spool)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return cast(BinaryIO, spool)


__all__ = ["THREAD_NAME", "BodyStream", "Pin", "Ranges", "content_range", "discard", "open_stream"]
