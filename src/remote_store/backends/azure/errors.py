"""Azure SDK errors -> the library's error model, in one place.

Keyed on the service's ``x-ms-error-code`` first and the HTTP status second; message text
is never inspected. Messages we build never contain the service's text either (it can
echo request details), only the operation, the path, the code and the status.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)

from remote_store.backends.azure import retry
from remote_store.errors import (
    AlreadyExists,
    BackendUnavailable,
    ContainerNotFound,
    DirectoryNotEmpty,
    InvalidArgument,
    InvalidPath,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    RemoteStoreError,
    ResourceLocked,
)
from remote_store.transfer.retrying import with_attempts

BACKEND = "azure"

_NOT_FOUND = frozenset(
    {
        "BlobNotFound",
        "PathNotFound",
        "ResourceNotFound",
        "SourcePathNotFound",
        "CopySourceNotFound",
    }
)
#: The service's codes for a missing container (Blob) or filesystem (DFS).
CONTAINER_MISSING = frozenset({"ContainerNotFound", "FilesystemNotFound"})
_ALREADY_EXISTS = frozenset(
    {"BlobAlreadyExists", "PathAlreadyExists", "ResourceAlreadyExists", "ContainerAlreadyExists"}
)
_NOT_EMPTY = frozenset({"DirectoryNotEmpty", "DirectoryIsNotEmpty"})
# 409s that say "the path names the wrong kind of entry", e.g. an ancestor is a file on HNS.
_WRONG_KIND = frozenset(
    {
        "PathConflict",
        "InvalidSourceOrDestinationResourceType",
        "OperationNotAllowedInCurrentState",
        "InvalidDestinationPath",
        "InvalidRenameSourcePath",
    }
)
_PRECONDITION = frozenset(
    {
        "ConditionNotMet",
        "TargetConditionNotMet",
        "SourceConditionNotMet",
        "SequenceNumberConditionNotMet",
        "AppendPositionConditionNotMet",
        "MaxBlobSizeConditionNotMet",
    }
)
_DENIED = frozenset(
    {
        "AuthorizationFailure",
        "AuthorizationPermissionMismatch",
        "AuthenticationFailed",
        "AuthorizationProtocolMismatch",
        "AuthorizationResourceTypeMismatch",
        "AuthorizationServiceMismatch",
        "AuthorizationSourceIPMismatch",
        "InsufficientAccountPermissions",
        "KeyBasedAuthenticationNotPermitted",
        "NoAuthenticationInformation",
        "InvalidAuthenticationInfo",
        "AccountIsDisabled",
    }
)
_TRANSIENT = frozenset(
    {
        "ServerBusy",
        "InternalError",
        "OperationTimedOut",
        "ContainerBeingDeleted",
        "ContainerBeingDisabled",
        "AccountBeingCreated",
        "Md5Mismatch",
        "Crc64Mismatch",
    }
)
_BAD_NAME = frozenset({"InvalidResourceName", "OutOfRangeInput", "InvalidUri"})

_HINTS = {
    "AuthorizationPermissionMismatch": (
        "the identity is signed in but lacks a data role on the container: assign "
        "'Storage Blob Data Reader' (read) or 'Storage Blob Data Contributor' (write)"
    ),
    "AuthenticationFailed": "the request signature was refused: check the key, SAS or clock",
    "KeyBasedAuthenticationNotPermitted": "the account disallows shared keys: use a credential",
}


def error_code(exc: BaseException) -> str | None:
    """The service's error code of *exc* (``x-ms-error-code``), if it has one."""
    code = getattr(exc, "error_code", None)
    if isinstance(code, Enum):
        code = code.value
    if not code:
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", None)
        if headers is not None:
            code = headers.get("x-ms-error-code")
    return str(code) if code else None


def cause_code(error: BaseException) -> str | None:
    """The service's error code behind an already translated *error* (its ``__cause__``,
    or its ``__context__`` when it was raised ``from None`` to keep a SAS out of it)."""
    for inner in (error.__cause__, error.__context__):
        if inner is not None:
            code = error_code(inner)
            if code:
                return code
    return None


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of *exc*, or ``None`` when no response arrived."""
    status = getattr(exc, "status_code", None)
    if status is None:
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def is_missing(exc: BaseException) -> bool:
    """Whether *exc* says the blob itself is absent (not the container)."""
    code = error_code(exc)
    if code is not None:
        return code in _NOT_FOUND
    return status_of(exc) == 404


def map_error(
    exc: BaseException, op: str, path: str | None, *, create_only: bool = False
) -> RemoteStoreError:
    """The library error for *exc* raised while doing *op* on *path*.

    *create_only* says the request carried ``If-None-Match: *``, so a failed condition
    means the target exists."""
    if isinstance(exc, RemoteStoreError):
        return exc
    where = f"{op} {path!r}" if path is not None else op
    if isinstance(exc, HttpResponseError) and status_of(exc) is not None:
        return _from_response(exc, where, path, create_only)
    if isinstance(exc, retry.DeadlineExceeded):
        return BackendUnavailable(
            f"{where}: Azure Storage did not answer in time", path=path, backend=BACKEND
        )
    if isinstance(exc, ClientAuthenticationError):
        return PermissionDenied(
            f"{where}: could not authenticate ({type(exc).__name__}); check the credential",
            path=path,
            backend=BACKEND,
        )
    if isinstance(exc, ServiceRequestError | ServiceResponseError | HttpResponseError | OSError):
        # No response: connection refused or dropped, timeout, body cut short.
        return BackendUnavailable(
            f"{where}: Azure Storage did not answer ({type(exc).__name__})",
            path=path,
            backend=BACKEND,
        )
    return RemoteStoreError(
        f"{where} failed ({type(exc).__name__})", path=path, backend=BACKEND, retryable=False
    )


def _table() -> dict[str, tuple[type[RemoteStoreError], str]]:
    table: dict[str, tuple[type[RemoteStoreError], str]] = {}
    groups: list[tuple[frozenset[str], type[RemoteStoreError], str]] = [
        (_NOT_FOUND, NotFound, "not found"),
        (CONTAINER_MISSING, ContainerNotFound, "the container does not exist"),
        (_ALREADY_EXISTS, AlreadyExists, "already exists"),
        (_NOT_EMPTY, DirectoryNotEmpty, "folder is not empty"),
        (_WRONG_KIND, InvalidPath, "the path or an ancestor is the wrong kind of entry"),
        (_PRECONDITION, PreconditionFailed, "a condition did not hold"),
        (_DENIED, PermissionDenied, "permission denied"),
        (_TRANSIENT, BackendUnavailable, "Azure Storage is busy"),
        (_BAD_NAME, InvalidPath, "Azure refused the name"),
    ]
    for codes, cls, text in groups:
        table.update(dict.fromkeys(codes, (cls, text)))
    return table


_BY_CODE = _table()


def _from_response(
    exc: HttpResponseError, where: str, path: str | None, create_only: bool
) -> RemoteStoreError:
    code = error_code(exc)
    status = status_of(exc)
    said = f"{code or 'no error code'}, HTTP {status}"
    cls: type[RemoteStoreError] | None = None
    text = ""
    if code is not None:
        if code == "CannotVerifyCopySource":
            cls, text = (
                (NotFound, "copy source not found")
                if status == 404
                else (PermissionDenied, "copy source not readable")
            )
        elif code.startswith("Lease"):
            cls, text = ResourceLocked, "the blob is leased by another client"
        elif code in _BY_CODE:
            cls, text = _BY_CODE[code]
            if cls is PreconditionFailed and create_only and code != "SourceConditionNotMet":
                cls, text = AlreadyExists, "already exists"
            elif cls is PermissionDenied:
                text += ": " + _HINTS.get(code, "the credential may not do this")
    if cls is None:
        cls, text = _by_status(status, create_only)
    error = cls(f"{where}: {text} ({said})", path=path, backend=BACKEND)
    error.service_code = code
    return error


def _by_status(status: int | None, create_only: bool) -> tuple[type[RemoteStoreError], str]:
    if status in (401, 403):
        return PermissionDenied, "permission denied"
    if status == 404:
        return NotFound, "not found"
    if status == 412:
        if create_only:
            return AlreadyExists, "already exists"
        return PreconditionFailed, "a condition did not hold"
    if retry.retryable_status(status):
        # Exactly the statuses retry.ServiceRetry retries.
        return BackendUnavailable, "Azure Storage is unavailable"
    if status in (501, 505):
        return RemoteStoreError, "Azure Storage does not support the request"
    if status in (400, 411, 413, 414, 416):
        return InvalidArgument, "Azure refused the request"
    return RemoteStoreError, "failed"


def may_leak(exc: BaseException) -> bool:
    """Transport errors can quote the request URL, which carries a SAS signature."""
    return "sig=" in str(exc).lower()


@contextmanager
def translate(op: str, path: str | None, *, create_only: bool = False) -> Iterator[None]:
    """Re-raise any Azure SDK error inside the block as the library's error."""
    try:
        yield
    except (AzureError, OSError) as exc:
        if isinstance(exc, RemoteStoreError):
            raise
        mapped = with_attempts(map_error(exc, op, path, create_only=create_only))
        if may_leak(exc):
            raise mapped from None
        raise mapped from exc
