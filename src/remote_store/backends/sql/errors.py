"""Database errors -> the library's error model, in one place.

Keyed on the driver's structured codes: PostgreSQL's SQLSTATE (psycopg ``sqlstate``),
SQLite's extended result code (``sqlite_errorcode``), and SQLAlchemy's own
disconnect detection. Message text is never inspected, nor echoed: it can carry the
statement and its parameters. Messages we build name the operation, the path and the code.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy.exc as sa_exc

from remote_store.errors import (
    AlreadyExists,
    BackendUnavailable,
    ConfigError,
    InvalidArgument,
    PermissionDenied,
    RemoteStoreError,
)

BACKEND = "sql-blob"

# SQLite primary result codes (the low byte of the extended code).
_SQLITE_PERM, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY = 3, 5, 6, 8
_SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN = 10, 11, 13, 14
_SQLITE_CONSTRAINT, _SQLITE_TOOBIG, _SQLITE_AUTH, _SQLITE_NOTADB = 19, 18, 23, 26
_SQLITE_CONSTRAINT_PRIMARYKEY, _SQLITE_CONSTRAINT_UNIQUE = 1555, 2067
_SQLITE_UNAVAILABLE = frozenset(
    {_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_IOERR, _SQLITE_FULL, _SQLITE_CANTOPEN}
)
_SQLITE_DENIED = frozenset({_SQLITE_PERM, _SQLITE_READONLY, _SQLITE_AUTH})

# PostgreSQL SQLSTATE classes and codes.
_PG_UNAVAILABLE_CLASSES = frozenset({"08", "53", "57", "58", "40", "HV"})
_PG_DENIED_CLASSES = frozenset({"28", "42501", "25006"})
# Of those, what a new attempt may get past: connection exceptions, serialisation
# failures and deadlocks, too many connections, and the server shutting a session down.
_PG_TRANSIENT_CLASSES = frozenset({"08", "40"})
_PG_TRANSIENT = frozenset({"53300", "57P01", "57P02", "57P03"})
_PG_UNIQUE = "23505"
_PG_MISSING_TABLE = "42P01"


def code_of(error: BaseException) -> str | None:
    """The structured code of a driver error: SQLSTATE, or ``sqlite:<extended code>``."""
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str):
        return sqlstate
    if isinstance(error, sqlite3.Error):
        code = getattr(error, "sqlite_errorcode", None)
        if isinstance(code, int):
            return f"sqlite:{code}"
    return None


def classify(error: BaseException, operation: str, path: str | None) -> RemoteStoreError:
    """The library error for a database *error* raised while running *operation*."""
    where = f"{operation} {path!r}" if path else operation
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return _unavailable(f"{where}: the database connection was lost", path)
    if isinstance(error, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return _unavailable(f"{where}: no database connection available", path)
    original: BaseException = error
    if isinstance(error, sa_exc.DBAPIError) and error.orig is not None:
        original = error.orig
    code = code_of(original)
    if isinstance(original, sqlite3.Error) and code is not None:
        return _from_sqlite(int(code.split(":")[1]), where, path)
    if code is not None:
        return _from_sqlstate(code, where, path)
    if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
        # A driver failure with no SQLSTATE: the connection could not be made or broke.
        return _unavailable(f"{where}: the database could not be reached", path)
    return RemoteStoreError(
        f"{where}: database error {type(original).__name__}", path=path, backend=BACKEND
    )


def is_transient(error: BaseException) -> bool:
    """Whether *error* means the database undid the transaction and the same one may
    succeed when sent again: a lost or unavailable connection, a serialisation failure
    or deadlock, too many connections, a busy or locked SQLite database."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return True
    original = error.orig if isinstance(error, sa_exc.DBAPIError) else error
    code = code_of(original) if original is not None else None
    if code is None:
        return isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError)
    if code.startswith("sqlite:"):
        return int(code.split(":")[1]) & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    return code[:2] in _PG_TRANSIENT_CLASSES or code in _PG_TRANSIENT


def _from_sqlite(code: int, where: str, path: str | None) -> RemoteStoreError:
    primary = code & 0xFF
    if code in (_SQLITE_CONSTRAINT_PRIMARYKEY, _SQLITE_CONSTRAINT_UNIQUE):
        return AlreadyExists(f"{where}: already exists", path=path, backend=BACKEND)
    if primary in _SQLITE_UNAVAILABLE:
        return _unavailable(f"{where}: SQLite error {code}", path)
    if primary in _SQLITE_DENIED:
        return PermissionDenied(f"{where}: SQLite error {code}", path=path, backend=BACKEND)
    if primary == _SQLITE_TOOBIG:
        return InvalidArgument(f"{where}: too big for SQLite (error {code})", path=path)
    if primary in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return ConfigError(f"{where}: not a usable SQLite database (error {code})", path=path)
    return RemoteStoreError(f"{where}: SQLite error {code}", path=path, backend=BACKEND)


def _from_sqlstate(code: str, where: str, path: str | None) -> RemoteStoreError:
    if code == _PG_UNIQUE:
        return AlreadyExists(f"{where}: already exists", path=path, backend=BACKEND)
    if code[:2] in _PG_UNAVAILABLE_CLASSES:
        return _unavailable(f"{where}: SQLSTATE {code}", path)
    if code[:2] in _PG_DENIED_CLASSES or code in _PG_DENIED_CLASSES:
        return PermissionDenied(f"{where}: SQLSTATE {code}", path=path, backend=BACKEND)
    if code == _PG_MISSING_TABLE:
        return ConfigError(f"{where}: the table is missing (SQLSTATE {code})", path=path)
    if code[:2] in ("22", "54"):
        return InvalidArgument(f"{where}: refused by the database (SQLSTATE {code})", path=path)
    return RemoteStoreError(f"{where}: SQLSTATE {code}", path=path, backend=BACKEND)


def _unavailable(message: str, path: str | None) -> BackendUnavailable:
    return BackendUnavailable(message, path=path, backend=BACKEND)


@contextmanager
def translate(operation: str, path: str | None = None) -> Iterator[None]:
    """Turn a database error raised inside into the library's error."""
    try:
        yield
    except RemoteStoreError:
        raise
    except (sa_exc.SQLAlchemyError, sqlite3.Error) as error:
        raise classify(error, operation, path) from None
