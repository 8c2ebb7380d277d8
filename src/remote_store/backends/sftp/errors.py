"""SFTP failures -> the library's error model, in one place.

Keyed on the SFTP status code (`pool.StatusError.code`), never on the server's text.
OpenSSH's server (protocol 3) reports ENOENT and ENOTDIR as NO_SUCH_FILE and EACCES/EPERM as
PERMISSION_DENIED, but EEXIST, EISDIR and ENOTEMPTY all as plain FAILURE: for those the
operation looks at the path (`files`) and says what it found. A failure of the connection
itself (EOF, a reset, a dead transport) is `BackendUnavailable`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from remote_store.backends.sftp.pool import (
    SFTP_BAD_MESSAGE,
    SFTP_NO_SUCH_FILE,
    SFTP_OP_UNSUPPORTED,
    SFTP_PERMISSION_DENIED,
    StatusError,
    connection_failed,
)
from remote_store.errors import (
    BackendUnavailable,
    CapabilityNotSupported,
    InvalidPath,
    NotFound,
    PermissionDenied,
    RemoteStoreError,
)
from remote_store.transfer import deadline
from remote_store.transfer.deadline import DeadlineExceeded

BACKEND = "sftp"


def is_connection_error(error: BaseException) -> bool:
    """The connection failed, not the request: worth a new session and another attempt."""
    return connection_failed(error)


def status_error(error: StatusError, operation: str, key: str | None) -> RemoteStoreError:
    """The typed error for a status the caller did not handle itself."""
    where = f" {key!r}" if key else ""
    if error.code == SFTP_NO_SUCH_FILE:
        return NotFound(f"{operation}{where}: no such file or folder", path=key, backend=BACKEND)
    if error.code == SFTP_PERMISSION_DENIED:
        return PermissionDenied(f"{operation}{where}: permission denied", path=key, backend=BACKEND)
    if error.code == SFTP_BAD_MESSAGE:
        return InvalidPath(f"{operation}{where}: the server rejected the name", path=key)
    if error.code == SFTP_OP_UNSUPPORTED:
        return CapabilityNotSupported(operation, backend=BACKEND, path=key)
    return RemoteStoreError(
        f"{operation}{where}: the SFTP server failed (status {error.code})",
        path=key,
        backend=BACKEND,
    )


def unavailable(error: BaseException, operation: str, key: str | None) -> BackendUnavailable:
    call = deadline.current()
    how = f"; {call.describe()}" if call is not None else ""
    where = f" {key!r}" if key else ""
    return BackendUnavailable(
        f"{operation}{where}: the SFTP connection failed ({type(error).__name__}){how}",
        path=key,
        backend=BACKEND,
    )


@contextmanager
def translate(operation: str, key: str | None) -> Iterator[None]:
    """Turn what paramiko and the pool raise into the library's errors."""
    try:
        yield
    except RemoteStoreError:
        raise
    except StatusError as error:
        raise status_error(error, operation, key) from error
    except DeadlineExceeded as error:
        raise unavailable(error, operation, key) from error
    except Exception as error:
        if is_connection_error(error):
            raise unavailable(error, operation, key) from error
        raise
