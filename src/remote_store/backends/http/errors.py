"""urllib3 failures and HTTP statuses -> `remote_store.errors`, decided on exception types
and status codes only (never on message text)."""

from __future__ import annotations

from urllib3.exceptions import HTTPError, ProtocolError, ReadTimeoutError, SSLError

from remote_store.errors import (
    BackendUnavailable,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    RemoteStoreError,
)
from remote_store.transfer import deadline
from remote_store.transfer.retrying import retryable_status

NAME = "http"

#: What urllib3 raises for a body cut mid-way: a reset, an early close, a silent socket.
CUT: tuple[type[Exception], ...] = (ProtocolError, ReadTimeoutError)

#: Statuses that mean "the file is not there".
MISSING = frozenset({404, 410})


def _after() -> str:
    call = deadline.current()
    return f" ({call.describe()})" if call is not None else ""


def for_status(status: int, action: str, key: str | None) -> RemoteStoreError:
    """The error for an answer with *status* to *action* on *key*."""
    where = f"{action} {key!r}" if key else action
    if status in MISSING:
        return NotFound(f"{where}: no such file (HTTP {status})", path=key, backend=NAME)
    if status in (401, 403):
        return PermissionDenied(f"{where}: HTTP {status}", path=key, backend=NAME)
    if status == 412:
        return PreconditionFailed(f"{where}: the file changed (HTTP 412)", path=key, backend=NAME)
    if retryable_status(status):
        return BackendUnavailable(
            f"{where}: the server answered HTTP {status}{_after()}", path=key, backend=NAME
        )
    return RemoteStoreError(
        f"{where}: unexpected HTTP {status}", path=key, backend=NAME, retryable=False
    )


def for_exception(error: Exception, action: str, key: str | None) -> RemoteStoreError:
    """The error for a transport failure (urllib3's, or a deadline that passed)."""
    where = f"{action} {key!r}" if key else action
    if isinstance(error, RemoteStoreError):
        return error
    if isinstance(error, SSLError):
        return BackendUnavailable(
            f"{where}: TLS failed ({type(error).__name__}); check the certificate or verify_ssl",
            path=key,
            backend=NAME,
            retryable=False,
        )
    if isinstance(error, deadline.DeadlineExceeded):
        return BackendUnavailable(f"{where}: {error}{_after()}", path=key, backend=NAME)
    if isinstance(error, HTTPError | OSError):
        return BackendUnavailable(
            f"{where}: connection failed ({type(error).__name__}){_after()}",
            path=key,
            backend=NAME,
        )
    return RemoteStoreError(f"{where}: {type(error).__name__}", path=key, backend=NAME)


def is_transient(error: Exception) -> bool:
    """Whether a request that raised *error* may succeed if sent again."""
    return isinstance(error, HTTPError | OSError) and not isinstance(error, SSLError)
