"""Lazy readers over an object: S3's adapter over `remote_store.transfer.reader`.

What is S3's: one ranged GetObject streamed into the reader's buffer (`S3Range.fetch`),
every range after the first carrying ``If-Match`` on the first answer's ETag, the botocore
errors that mean a body was cut, and the read-ahead threads' name. The reader itself
(read-ahead, seeks, buffer reuse, pinning) is `RangeReader`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    IncompleteReadError,
    ReadTimeoutError,
    ResponseStreamingError,
)
from urllib3.exceptions import ProtocolError

from remote_store.backends.s3.errors import translate
from remote_store.backends.s3.model import quoted
from remote_store.backends.s3.retry import Requests
from remote_store.errors import BackendUnavailable
from remote_store.transfer.reader import (
    Buffer,
    Chunk,
    RangeReader,
    fill,
    metadata_only,
    new_buffer,
    total_size,
)

#: The name prefix of a reader's read-ahead threads.
THREAD_NAME = "s3-read-ahead"

#: What botocore (and urllib3 under it) raise for a body cut, reset or timed out mid-way.
_CUT = (
    ResponseStreamingError,
    IncompleteReadError,
    ReadTimeoutError,
    ConnectionClosedError,
    ProtocolError,
    OSError,
)
_PIECE = 256 * 1024


def _short(message: str) -> Exception:
    error: Exception = IncompleteReadError(actual_bytes=0, expected_bytes=0)
    return error


class S3Range:
    """An S3 object as a `RangeSource`: a ranged GetObject, its errors translated."""

    def __init__(self, requests: Requests, bucket: str, key: str, op: str = "read") -> None:
        self._requests = requests
        self._bucket = bucket
        self._key = key
        self._op = op

    def _get(self, start: int, end: int, etag: str | None) -> dict[str, Any]:
        params: dict[str, Any] = {
            "Bucket": self._bucket,
            "Key": self._key,
            "Range": f"bytes={start}-{end}",
        }
        if etag:
            params["IfMatch"] = quoted(etag)
        answer: dict[str, Any] = self._requests.raw("get_object", **params)
        return answer

    def fetch(
        self, offset: int, length: int, etag: str | None, allocate: Callable[[int], Buffer]
    ) -> Chunk:
        """Up to *length* bytes from *offset*; a body cut mid-way is re-requested from where
        it stopped, pinned to the first answer's ETag."""
        with translate(self._op, self._key):
            answer = self._get(offset, offset + length - 1, etag)
            data = allocate(int(answer.get("ContentLength") or 0))
            pinned = str(answer.get("ETag") or etag or "")

            def rest(filled: int) -> Iterator[bytes]:
                more = self._get(offset + filled, offset + len(data) - 1, pinned)
                return _pieces(more)

            try:
                filled = fill(data, _pieces(answer), rest, cut=_CUT, short=_short)
            except _CUT as error:
                raise BackendUnavailable(
                    f"{self._op} {self._key!r}: the body was cut ({type(error).__name__})",
                    path=self._key,
                    backend="s3",
                ) from error
        size = total_size(answer.get("ContentRange"), offset + filled)
        return Chunk(offset, data, size, pinned, answer)

    def first(self, length: int) -> Chunk:
        """The first chunk; `NotFound` when there is no object. An empty object answers a
        ranged GET with 416: one HEAD then says it is there."""
        try:
            return self.fetch(0, length, None, new_buffer)
        except Exception as error:
            if not _invalid_range(error):
                raise
        return self.head()

    def head(self) -> Chunk:
        """The object's size and ETag from one HEAD, no bytes (`metadata_only`): what a
        seekable reader opens on. `NotFound` when there is no object."""
        with translate(self._op, self._key):
            head = self._requests.raw("head_object", Bucket=self._bucket, Key=self._key)
        size, etag = int(head.get("ContentLength") or 0), str(head.get("ETag") or "")
        return metadata_only(size, etag, head)


def _invalid_range(error: BaseException) -> bool:
    cause = error.__cause__
    return isinstance(cause, ClientError) and (
        cause.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 416
    )


def _pieces(answer: dict[str, Any]) -> Iterator[bytes]:
    body = answer["Body"]
    try:
        yield from body.iter_chunks(_PIECE)
    finally:
        body.close()


class S3Reader(RangeReader):
    """A read-only stream over one object version.

    Every range after the first is a GetObject with ``If-Match`` on the ETag seen first,
    so an object replaced mid-read raises `PreconditionFailed` instead of mixing two
    versions. Reading sequentially, up to ``max_concurrency - 1`` further chunks are
    fetched ahead; a seekable reader starts small after a seek and grows back."""

    def __init__(
        self,
        source: S3Range,
        *,
        chunk_size: int,
        seekable: bool,
        max_concurrency: int,
        requests: Requests,
    ) -> None:
        # Seekable: a HEAD, no bytes, so a random reader pays only for what it reads.
        first = source.head() if seekable else source.first(chunk_size)
        super().__init__(
            source,
            first,
            chunk_size=chunk_size,
            seekable=seekable,
            max_concurrency=max_concurrency,
            policy=requests.policy,
            thread_name=THREAD_NAME,
        )
