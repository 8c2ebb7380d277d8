"""SQL-006, SQL-007: failures leave nothing half-written, and are classified by the
driver's codes: a session killed mid-write, an unreachable server, missing privileges, a
read-only SQLite file, the caller's own stream failing. (A read whose session is killed
resumes: test_sql_retries.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, cast

import pytest

from remote_store.backends.sql import SQLBlobBackend
from remote_store.config import Secret
from remote_store.errors import (
    BackendUnavailable,
    InvalidArgument,
    PermissionDenied,
    PreconditionFailed,
    RemoteStoreError,
)
from remote_store.store import Store
from tests.perf.streams import CountingStream
from tests.sql.conftest import Factory, chunk_rows
from tests.sql_support import Postgres

KiB = 1024


class SourceFailed(Exception):
    pass


class FailingSource(CountingStream):
    """Raises the caller's own error once *after* bytes have been handed out."""

    def __init__(self, size: int, after: int) -> None:
        super().__init__(size)
        self.after = after

    def read(self, n: int = -1) -> bytes:
        if self.pos >= self.after:
            raise SourceFailed("the caller's stream broke")
        return super().read(n)


@pytest.mark.parametrize("existing", [False, True], ids=["new", "overwrite"])
def test_source_failing_mid_write_leaves_nothing(make_backend: Factory, existing: bool) -> None:
    """SQL-006: the write fails (the kernel's boundary keeps the caller's error as the
    cause); the transaction rolls back."""
    backend = make_backend(chunk_size=16 * KiB)
    store = Store(backend)
    if existing:
        store.write("f.bin", b"old")
    source = FailingSource(1024 * KiB, after=256 * KiB)
    with pytest.raises(RemoteStoreError) as caught:
        store.write("f.bin", cast(BinaryIO, source), overwrite=True)
    assert isinstance(caught.value.__cause__, SourceFailed)
    assert store.read_bytes("f.bin") == b"old" if existing else not store.exists("f.bin")
    assert chunk_rows(backend) == (1 if existing else 0)


class KillingSource(CountingStream):
    """Terminates every session on *database* once *after* bytes were handed out."""

    def __init__(self, size: int, after: int, server: Postgres, database: str) -> None:
        super().__init__(size)
        self.after, self.server, self.database = after, server, database
        self.killed = 0

    def read(self, n: int = -1) -> bytes:
        if self.pos >= self.after and not self.killed:
            self.killed = self.server.kill_sessions(self.database)
        return super().read(n)


@pytest.mark.postgres
@pytest.mark.parametrize("existing", [False, True], ids=["new", "overwrite"])
def test_session_killed_mid_write(postgres: Postgres, existing: bool) -> None:
    """SQL-006: pg_terminate_backend during a write: `BackendUnavailable`, the old content
    (or nothing) stays, no chunk is left behind, and the next call works."""
    database = postgres.new_database("drop")
    backend = SQLBlobBackend(postgres.url(database), chunk_size=16 * KiB)
    with Store(backend) as store:
        if existing:
            store.write("f.bin", b"old")
        source = KillingSource(1024 * KiB, 256 * KiB, postgres, database)
        with pytest.raises(BackendUnavailable) as caught:
            store.write("f.bin", cast(BinaryIO, source), overwrite=True)
        assert source.killed >= 1
        assert caught.value.retryable
        assert store.read_bytes("f.bin") == b"old" if existing else not store.exists("f.bin")
        assert chunk_rows(backend) == (1 if existing else 0)


@pytest.mark.postgres
def test_unreachable_server_is_unavailable_and_keeps_the_password(postgres: Postgres) -> None:
    """SQL-007: no server on the port: `BackendUnavailable`; the password shows nowhere."""
    url = Secret(f"postgresql+psycopg://app:hunter2@127.0.0.1:{_closed_port()}/db")
    backend = SQLBlobBackend(url, create_table=False)
    assert "hunter2" not in repr(backend)
    with pytest.raises(BackendUnavailable) as caught:
        Store(backend).read_bytes("x")
    assert "hunter2" not in str(caught.value)
    assert "hunter2" not in repr(caught.value)
    backend.close()


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.postgres
def test_missing_privileges_are_permission_denied(postgres: Postgres) -> None:
    """SQL-007: SQLSTATE 42501 (insufficient_privilege) -> `PermissionDenied`."""
    database = postgres.new_database("priv")
    SQLBlobBackend(postgres.url(database)).close()  # the owner creates the tables
    with postgres.admin() as admin:
        admin.execute("DROP ROLE IF EXISTS nobody_rs")
        admin.execute("CREATE ROLE nobody_rs LOGIN")
    url = f"postgresql+psycopg://nobody_rs@{postgres.host}:{postgres.port}/{database}"
    with Store(SQLBlobBackend(url, create_table=False)) as store:
        with pytest.raises(PermissionDenied):
            store.write("f.txt", b"x")
        with pytest.raises(PermissionDenied):
            store.read_bytes("f.txt")


def test_read_only_sqlite_file_is_permission_denied(tmp_path: Path) -> None:
    """SQL-007: SQLITE_READONLY -> `PermissionDenied`; the file is unchanged."""
    path = tmp_path / "ro.db"
    with Store(SQLBlobBackend(f"sqlite:///{path}")) as store:
        store.write("f.txt", b"kept")
    readonly = SQLBlobBackend(f"sqlite:///file:{path}?mode=ro&uri=true", create_table=False)
    with Store(readonly) as store:
        with pytest.raises(PermissionDenied):
            store.write("g.txt", b"x")
        assert store.read_bytes("f.txt") == b"kept"
        assert not store.exists("g.txt")


def test_in_memory_sqlite_refuses_a_write_fed_by_its_own_read() -> None:
    """An in-memory database serialises every statement: a write whose source reads the
    same database is refused at once (`InvalidArgument`), not left waiting for itself."""
    with Store(SQLBlobBackend("sqlite://", chunk_size=4 * KiB)) as store:
        store.write("a.bin", b"a" * (12 * KiB))
        with store.read("a.bin") as source, pytest.raises(InvalidArgument):
            store.write("b.bin", source)
        assert not store.exists("b.bin")
        store.write("b.bin", store.read_bytes("a.bin"))
        assert store.read_bytes("b.bin") == b"a" * (12 * KiB)


def test_a_read_is_pinned_to_the_version_it_opened(make_backend: Factory) -> None:
    """SQL-005: a file replaced while streamed: the next chunk raises `PreconditionFailed`,
    never bytes of the new version."""
    store = Store(make_backend(chunk_size=4 * KiB))
    store.write("f.bin", b"1" * (12 * KiB))
    with store.read("f.bin") as stream:
        assert stream.read(4 * KiB) == b"1" * (4 * KiB)
        store.write("f.bin", b"2" * (12 * KiB), overwrite=True)
        with pytest.raises(PreconditionFailed):
            stream.read()
    assert store.read_bytes("f.bin") == b"2" * (12 * KiB)
