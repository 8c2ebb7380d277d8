"""S3PyArrowBackend: the S3 backend with PyArrow's C++ ``S3FileSystem`` serving reads.

Reads (``read``, ``read_seekable``, ``read_bytes``, and datasets through the unwrapped
filesystem) go through PyArrow; writes, deletes, listings and metadata through the S3
backend's boto3 client, because PyArrow's writes drop user metadata, cannot be aborted (an
exception inside ``with``, or an unclosed stream collected, commits a truncated object)
and its delete re-creates ``dir/`` markers. PyArrow finalises its S3 subsystem itself at
interpreter exit (``pyarrow.fs`` registers it with ``atexit``); a store never finalises it
on close, which would break every S3 filesystem opened after it.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO, ClassVar, TypeVar, cast
from urllib.parse import urlsplit

from remote_store.backends.s3.backend import S3Backend
from remote_store.errors import (
    BackendUnavailable,
    IsAFolder,
    NotFound,
    PermissionDenied,
    RemoteStoreError,
)

T = TypeVar("T")
BACKEND = "s3-pyarrow"


@contextmanager
def translate(op: str, key: str) -> Iterator[None]:
    """PyArrow's errors, by exception type (its messages are text only)."""
    try:
        yield
    except RemoteStoreError:
        raise
    except FileNotFoundError:
        raise NotFound(f"{op} {key!r}: no such file", path=key, backend=BACKEND) from None
    except IsADirectoryError:
        raise IsAFolder(f"{op} {key!r}: is a folder", path=key, backend=BACKEND) from None
    except PermissionError:
        raise PermissionDenied(
            f"{op} {key!r}: permission denied", path=key, backend=BACKEND
        ) from None
    except OSError as error:
        raise BackendUnavailable(
            f"{op} {key!r}: S3 (through PyArrow) failed ({type(error).__name__})",
            path=key,
            backend=BACKEND,
        ) from None


class ArrowStream(io.RawIOBase):
    """A PyArrow ``NativeFile`` whose errors are the library's."""

    def __init__(self, native: Any, key: str, *, seekable: bool) -> None:
        super().__init__()
        self._native = native
        self._key = key
        self._seekable = seekable

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._seekable

    def tell(self) -> int:
        self._check()
        with translate("read", self._key):
            return int(self._native.tell())

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._check()
        if not self._seekable:
            raise io.UnsupportedOperation("this stream is forward-only; use read_seekable()")
        if whence not in (io.SEEK_SET, io.SEEK_CUR, io.SEEK_END):
            raise ValueError(f"invalid whence {whence!r}")
        target = offset
        if whence == io.SEEK_CUR:
            target += self.tell()
        elif whence == io.SEEK_END:
            with translate("read", self._key):
                target += int(self._native.size())
        if target < 0:
            raise ValueError(f"negative seek position {target}")
        with translate("read", self._key):
            return int(self._native.seek(target))

    def readinto(self, buffer: Any) -> int:
        self._check()
        with translate("read", self._key):
            return int(self._native.readinto(buffer))

    def read(self, size: int | None = -1) -> bytes:
        self._check()
        with translate("read", self._key):
            if size is None or size < 0:
                return bytes(self._native.read())
            return bytes(self._native.read(size))

    def readall(self) -> bytes:
        return self.read()

    def close(self) -> None:
        if not self.closed:
            self._native.close()
        super().close()

    def _check(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file")


class S3PyArrowBackend(S3Backend):
    """`S3Backend` whose reads go through PyArrow's ``S3FileSystem`` (fast C++ reads, and
    datasets: ``unwrap(pyarrow.fs.S3FileSystem)`` with ``"bucket/key"`` paths). Takes the
    S3 backend's options; PyArrow gets the same endpoint, region and credentials.

    Streams from PyArrow are not pinned to one ETag: a file replaced while a stream reads
    it may mix versions (`S3Backend` raises `PreconditionFailed` instead). ``read_bytes``
    is S3Backend's single pinned GET."""

    name: ClassVar[str] = BACKEND

    def __init__(self, bucket: str, **options: Any) -> None:
        super().__init__(bucket, **options)
        self._arrow: Any = None
        self._arrow_lock = threading.Lock()

    def _filesystem(self) -> Any:
        """The ``S3FileSystem``, built on first use with the boto3 client's settings."""
        with self._arrow_lock:
            if self._arrow is None:
                self._arrow = self._build_filesystem()
            return self._arrow

    def _build_filesystem(self) -> Any:
        from pyarrow import fs

        options: dict[str, Any] = {
            "region": self._client.meta.region_name,
            "retry_strategy": fs.AwsStandardS3RetryStrategy(max_attempts=self._retry.attempts),
        }
        endpoint = urlsplit(self._client.meta.endpoint_url)
        if not (endpoint.hostname or "").endswith(".amazonaws.com"):
            options["endpoint_override"] = endpoint.netloc
            options["scheme"] = endpoint.scheme
        key, secret, token = self._credentials
        if key is not None and secret is not None:
            options.update(access_key=key.reveal(), secret_key=secret.reveal())
            if token is not None:
                options["session_token"] = token.reveal()
        else:  # the default chain or a profile, as boto3 resolved it
            credentials = self._session.get_credentials()
            if credentials is not None:
                frozen = credentials.get_frozen_credentials()
                options.update(
                    access_key=frozen.access_key,
                    secret_key=frozen.secret_key,
                    session_token=frozen.token,
                )
        return fs.S3FileSystem(**options)

    def _open_arrow(self, key: str, *, seekable: bool) -> BinaryIO:
        op = "read_seekable" if seekable else "read"
        # A miss is NotFound here; the core then lists once to tell a folder from nothing.
        with translate(op, key):
            native = self._filesystem().open_input_file(f"{self._bucket}/{key}")
        return cast(BinaryIO, ArrowStream(native, key, seekable=seekable))

    def _get_object(self, key: str, *, seekable: bool) -> BinaryIO:
        return self._open_arrow(key, seekable=seekable)

    def _get_bytes(self, key: str) -> bytes:
        # S3Backend's: one GetObject, one version (PyArrow's ranged reads are not pinned to
        # an ETag, so a whole-file read could mix two versions).
        with self._s3_reader(key, seekable=False) as stream:
            return stream.read()

    def _unwrap(self, type_hint: type[T]) -> T:
        """PyArrow's ``S3FileSystem``, or (as `S3Backend`) the boto3 client."""
        if getattr(type_hint, "__name__", "") in ("S3FileSystem", "FileSystem") and (
            type_hint.__module__.startswith("pyarrow")
        ):
            return cast(T, self._filesystem())
        return super()._unwrap(type_hint)

    def _close(self) -> None:
        # Never pyarrow.fs.finalize_s3() here: it ends S3 for the whole process.
        self._arrow = None
        super()._close()


__all__ = ["S3PyArrowBackend"]
