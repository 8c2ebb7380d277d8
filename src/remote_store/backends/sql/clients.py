"""The SQLAlchemy engine an SQLBlob store runs on, and how its transactions are opened.

SQLite allows one writer per database: a write transaction begins ``IMMEDIATE`` (it takes
the write lock first, so two writers never deadlock upgrading a read lock), and writers in
this process queue on a lock of their own rather than in SQLite's sleeping busy handler.
A file database runs in WAL mode, so readers never wait for the writer. An in-memory
database lives in one connection, so every transaction takes the lock.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from remote_store.backends.sql.schema import DIALECTS
from remote_store.config import Secret
from remote_store.errors import ConfigError, InvalidArgument

_BUSY_TIMEOUT_S = 30.0
_WRITE = "remote_store_write"
_locks: dict[str, OwnedLock] = {}
_locks_guard = threading.Lock()


def build_engine(
    url: str | Secret | None, engine: sa.Engine | None, password: str | Secret | None = None
) -> tuple[sa.Engine, bool]:
    """The engine for *url* (built here: owned, disposed on close) or the caller's *engine*."""
    if (url is None) == (engine is None):
        raise ConfigError("give exactly one of url= (an SQLAlchemy URL) or engine=")
    if password is not None and not isinstance(password, str | Secret):
        raise InvalidArgument(f"password must be a str or Secret, got {type(password).__name__}")
    if engine is not None:
        if password is not None:
            raise ConfigError("password= goes with url=, not with engine=")
        if not isinstance(engine, sa.Engine):
            raise InvalidArgument(
                f"engine must be an sqlalchemy.Engine, got {type(engine).__name__}"
            )
        _check_dialect(engine.dialect.name)
        return engine, False
    if isinstance(url, Secret):
        text = url.reveal()
    elif isinstance(url, str):
        text = url
    else:
        raise InvalidArgument(f"url must be a str or Secret, got {type(url).__name__}")
    try:
        parsed = make_url(text)
    except Exception:
        # The text may hold a password: it is not repeated.
        raise ConfigError("url is not an SQLAlchemy URL (dialect+driver://...)") from None
    _check_dialect(parsed.get_backend_name())
    # No pre-ping (a round trip per checkout): a connection found dead fails its operation
    # with `BackendUnavailable`, and SQLAlchemy then drops every pooled connection as old.
    options: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        options["connect_args"] = {"timeout": _BUSY_TIMEOUT_S, "check_same_thread": False}
        if _in_memory(parsed.database):
            options["poolclass"] = StaticPool
    try:
        built = sa.create_engine(parsed, **options)
    except Exception as error:
        name = type(error).__name__
        raise ConfigError(f"cannot build an engine for this url ({name})") from None
    return built, True


def portable_url(engine: sa.Engine, owned: bool, backend: str) -> Secret:
    """The URL that builds *engine* again in another process (DS-031), password included
    (a `Secret`: by value in a pickle, never printed); an SQLite file as an absolute path.
    Raise `InvalidArgument` for a caller's engine (it cannot be rebuilt) and an in-memory
    SQLite database (another process would get an empty one)."""
    if not owned:
        raise InvalidArgument(
            f"a {backend} store built with engine= cannot be pickled: an engine object does "
            "not travel; build it with url= (and password=) instead",
            backend=backend,
        )
    url = engine.url
    if url.get_backend_name() == "sqlite":
        database = url.database
        if _in_memory(database):
            raise InvalidArgument(
                f"a {backend} store on an in-memory SQLite database cannot be pickled: its "
                "data lives in this process only; use an SQLite file or PostgreSQL",
                backend=backend,
            )
        if database and not database.startswith("file:"):
            url = url.set(database=os.path.abspath(database))
    return Secret(url.render_as_string(hide_password=False))


def _check_dialect(name: str) -> None:
    if name not in DIALECTS:
        raise ConfigError(f"sql-blob supports sqlite and postgresql, not {name!r}")


def _in_memory(database: str | None) -> bool:
    return not database or database == ":memory:" or "mode=memory" in database


def prepare(engine: sa.Engine) -> None:
    """Open SQLite transactions as this module's docstring says (PostgreSQL needs nothing)."""
    if engine.dialect.name != "sqlite" or getattr(engine, "_remote_store_ready", False):
        return
    memory = _in_memory(engine.url.database)

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, record: Any) -> None:
        # Let BEGIN be ours (below), not the driver's implicit one.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(_BUSY_TIMEOUT_S * 1000)}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        write = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    engine._remote_store_ready = True  # type: ignore[attr-defined]


class OwnedLock:
    """A lock that knows its holder: a thread asking again for the lock it holds (a write
    whose source stream reads or writes the same SQLite database) is refused at once
    rather than waiting for itself forever."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None

    def acquire(self) -> None:
        if self._owner == threading.get_ident():
            raise InvalidArgument(
                "this thread already holds this SQLite database's write lock: a write's "
                "source cannot write to the same database (nor, for an in-memory database, "
                "read from it); use a file database, or read the source first"
            )
        self._lock.acquire()
        self._owner = threading.get_ident()

    def release(self) -> None:
        self._owner = None
        self._lock.release()


def _lock_for(engine: sa.Engine) -> OwnedLock | None:
    if engine.dialect.name != "sqlite":
        return None
    name = f"{id(engine)}" if _in_memory(engine.url.database) else str(engine.url.database)
    with _locks_guard:
        return _locks.setdefault(name, OwnedLock())


class Transaction:
    """One open transaction: its connection, then `commit` or `rollback` (either releases it)."""

    def __init__(self, engine: sa.Engine, *, write: bool, lock: OwnedLock | None) -> None:
        self._lock = lock
        self._transaction: sa.RootTransaction | None = None
        if lock is not None:
            lock.acquire()
        try:
            self.connection = engine.connect()
            if write:
                self.connection.execution_options(**{_WRITE: True})
            elif engine.dialect.name == "postgresql":
                # A read is one statement: autocommit spares the BEGIN and COMMIT round trips.
                self.connection.execution_options(isolation_level="AUTOCOMMIT")
            if write or engine.dialect.name != "postgresql":
                self._transaction = self.connection.begin()
        except BaseException:
            self._release()
            raise

    def commit(self) -> None:
        try:
            if self._transaction is not None:
                self._transaction.commit()
        finally:
            self._release()

    def rollback(self) -> None:
        try:
            # A connection already lost has nothing to roll back: the server did it.
            if self._transaction is not None:
                with suppress(Exception):
                    self._transaction.rollback()
        finally:
            self._release()

    def _release(self) -> None:
        try:
            connection = getattr(self, "connection", None)
            if connection is not None:
                with suppress(Exception):
                    connection.close()
        finally:
            lock, self._lock = self._lock, None
            if lock is not None:
                lock.release()


class Transactions:
    """Short transactions on *engine*: ``write`` ones are serialised on SQLite."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._lock = _lock_for(engine)
        self._all = self._lock is not None and _in_memory(engine.url.database)

    def open(self, *, write: bool) -> Transaction:
        lock = self._lock if (write or self._all) else None
        return Transaction(self.engine, write=write, lock=lock)

    @contextmanager
    def begin(self, *, write: bool) -> Iterator[sa.Connection]:
        """A transaction committed when the block exits cleanly, else rolled back."""
        transaction = self.open(write=write)
        try:
            yield transaction.connection
        except BaseException:
            transaction.rollback()
            raise
        transaction.commit()
