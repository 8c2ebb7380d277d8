"""botocore errors -> the library's error model, in one place.

Keyed on the service's error code (``Error.Code`` of the XML answer, or botocore's status
text for a HEAD, which has no body) and the HTTP status; message text is never inspected.
Messages we build never carry the service's text (it can echo request details), only the
operation, the path, the code and the status.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    IncompleteReadError,
    NoCredentialsError,
    PartialCredentialsError,
    ResponseStreamingError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from remote_store.errors import (
    AlreadyExists,
    BackendUnavailable,
    ContainerNotFound,
    InvalidArgument,
    InvalidPath,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    RemoteStoreError,
)
from remote_store.transfer import deadline
from remote_store.transfer.retrying import retryable_status, with_attempts

BACKEND = "s3"

#: The object is absent (a HEAD answers a bare 404, which botocore names "404").
MISSING = frozenset({"NoSuchKey", "404", "NotFound"})
_NO_BUCKET = frozenset({"NoSuchBucket"})
_PRECONDITION = frozenset({"PreconditionFailed", "412"})
#: AWS under contention on a conditional write: another one is in flight; retried.
CONFLICT = "ConditionalRequestConflict"
_DENIED = frozenset(
    {
        "AccessDenied",
        "AllAccessDisabled",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
        "TokenRefreshRequired",
        "AccountProblem",
        "403",
    }
)
#: Codes that say "try again" whatever their status (RequestTimeout is a 400).
TRANSIENT = frozenset(
    {
        "SlowDown",
        "ServiceUnavailable",
        "InternalError",
        "RequestTimeout",
        "RequestTimeTooSkewed",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "BadDigest",
        "XAmzContentSHA256Mismatch",
        CONFLICT,
    }
)
_BAD_NAME = frozenset({"KeyTooLongError", "InvalidObjectName"})
_BAD_REQUEST = frozenset(
    {
        "InvalidArgument",
        "InvalidRequest",
        "EntityTooLarge",
        "EntityTooSmall",
        "InvalidPart",
        "InvalidPartOrder",
        "MetadataTooLarge",
        "InvalidRange",
        "InvalidDigest",
        "NotImplemented",
    }
)

#: botocore's errors for an answer that never came, or a body cut mid-way.
TRANSPORT = (BotoConnectionError, HTTPClientError, ResponseStreamingError, IncompleteReadError)


def error_code(exc: BaseException) -> str | None:
    """The service's error code of *exc*, if it is a `ClientError`."""
    if not isinstance(exc, ClientError):
        return None
    code = exc.response.get("Error", {}).get("Code")
    return str(code) if code else None


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of *exc*, or ``None`` when no answer arrived."""
    if not isinstance(exc, ClientError):
        return None
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status if isinstance(status, int) else None


def is_missing(exc: BaseException) -> bool:
    """Whether *exc* says the object itself is absent (not the bucket)."""
    code = error_code(exc)
    if code in _NO_BUCKET:
        return False
    return code in MISSING or status_of(exc) == 404


def is_transient(exc: BaseException) -> bool:
    """An answer (or a missing answer) worth another attempt."""
    if isinstance(exc, TRANSPORT):
        return True
    return error_code(exc) in TRANSIENT or retryable_status(status_of(exc))


def map_error(
    exc: BaseException, op: str, path: str | None, *, create_only: bool = False
) -> RemoteStoreError:
    """The library error for *exc* raised while doing *op* on *path*. *create_only* says
    the request carried ``If-None-Match: *``, so a failed condition means the key exists."""
    if isinstance(exc, RemoteStoreError):
        return exc
    where = f"{op} {path!r}" if path is not None else op
    if isinstance(exc, ClientError):
        return _from_response(exc, where, path, create_only)
    if isinstance(exc, deadline.DeadlineExceeded):
        return BackendUnavailable(f"{where}: S3 did not answer in time", path=path, backend=BACKEND)
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return PermissionDenied(
            f"{where}: no usable credentials ({type(exc).__name__}); pass key and secret, a "
            "profile, or set the standard AWS environment variables",
            path=path,
            backend=BACKEND,
        )
    if isinstance(exc, (*TRANSPORT, OSError)):
        return BackendUnavailable(
            f"{where}: S3 did not answer ({type(exc).__name__})", path=path, backend=BACKEND
        )
    return RemoteStoreError(
        f"{where} failed ({type(exc).__name__})", path=path, backend=BACKEND, retryable=False
    )


def _from_response(
    exc: ClientError, where: str, path: str | None, create_only: bool
) -> RemoteStoreError:
    return for_code(error_code(exc), status_of(exc), where, path, create_only=create_only)


def for_code(
    code: str | None, status: int | None, where: str, path: str | None, *, create_only: bool = False
) -> RemoteStoreError:
    """The library error for an S3 error *code* and HTTP *status* (either may be unknown:
    a per-key error of DeleteObjects has a code and no status)."""
    said = f"{code or 'no error code'}, HTTP {status}"
    cls: type[RemoteStoreError]
    if code in _NO_BUCKET:
        cls, text = ContainerNotFound, "the bucket does not exist"
    elif code in MISSING:
        cls, text = NotFound, "not found"
    elif code in _PRECONDITION or status == 412:
        cls, text = (
            (AlreadyExists, "already exists")
            if create_only
            else (PreconditionFailed, "a condition did not hold")
        )
    elif code in _DENIED or status in (401, 403):
        cls, text = PermissionDenied, "permission denied: check the credentials and the policy"
    elif code in TRANSIENT or retryable_status(status):
        cls, text = BackendUnavailable, "S3 is busy or unavailable"
    elif code in _BAD_NAME:
        cls, text = InvalidPath, "S3 refused the key"
    elif code in _BAD_REQUEST or status in (400, 411, 413, 416):
        cls, text = InvalidArgument, "S3 refused the request"
    elif status == 404:
        cls, text = NotFound, "not found"
    else:
        cls, text = RemoteStoreError, "failed"
    error = cls(f"{where}: {text} ({said})", path=path, backend=BACKEND)
    error.service_code = code
    return error


@contextmanager
def translate(op: str, path: str | None, *, create_only: bool = False) -> Iterator[None]:
    """Re-raise any botocore error inside the block as the library's error."""
    try:
        yield
    except (ClientError, BotoCoreError, OSError, deadline.DeadlineExceeded) as exc:
        if isinstance(exc, RemoteStoreError):
            raise
        raise with_attempts(map_error(exc, op, path, create_only=create_only)) from exc
