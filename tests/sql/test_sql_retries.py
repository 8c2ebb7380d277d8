"""SQL-011: a transaction the database undid is run again; one whose commit failed is not.

Against the session's PostgreSQL: sessions terminated between calls (the pool then holds
dead connections), and triggers that raise real SQLSTATEs from inside the transaction or
at its commit."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from remote_store.backends.sql import SQLBlobBackend
from remote_store.backends.sql.errors import is_transient
from remote_store.config import RetryPolicy
from remote_store.errors import BackendUnavailable
from remote_store.store import Store
from tests.sql_support import Postgres

pytestmark = pytest.mark.postgres

TABLE = "files"


@pytest.fixture
def database(postgres: Postgres) -> str:
    return postgres.new_database("retry")


@pytest.fixture
def store(postgres: Postgres, database: str) -> Iterator[Store]:
    backend = SQLBlobBackend(postgres.url(database), table_name=TABLE, chunk_size=4096)
    with Store(backend) as store:
        yield store


def _sql(postgres: Postgres, database: str, *statements: str) -> list[Any]:
    engine = sa.create_engine(postgres.url(database), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            results = [connection.exec_driver_sql(text) for text in statements]
            return [result.fetchall() if result.returns_rows else None for result in results]
    finally:
        engine.dispose()


OPERATIONS: dict[str, Callable[[Store], object]] = {
    "head": lambda s: s.head("a.txt"),
    "list": lambda s: list(s.list_files("", recursive=True)),
    "read": lambda s: s.read_bytes("big.bin"),
    "write": lambda s: s.write("new.txt", b"new", overwrite=True),
    "delete": lambda s: s.delete("a.txt"),
    "copy": lambda s: s.copy("a.txt", "copied.txt"),
    "move": lambda s: s.move("a.txt", "moved.txt"),
    "delete_folder": lambda s: s.delete_folder("d", recursive=True),
    "ping": lambda s: s.ping(),
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_an_operation_after_the_server_closed_its_connections_succeeds(
    postgres: Postgres, database: str, store: Store, operation: str
) -> None:
    """Every pooled connection was terminated by the server between two calls: the next
    call meets a dead connection, and runs its transaction again on a new one (before
    retries it failed with `BackendUnavailable`)."""
    store.write("a.txt", b"a")
    store.write("d/x.txt", b"x")
    store.write("big.bin", bytes(range(256)) * 64)
    assert postgres.kill_sessions(database) >= 1
    OPERATIONS[operation](store)
    assert store.exists("a.txt") == (operation not in ("delete", "move"))
    assert store.read_bytes("big.bin") == bytes(range(256)) * 64


def test_a_read_whose_connection_dies_between_chunks_resumes(
    postgres: Postgres, database: str, store: Store
) -> None:
    """Each chunk is its own statement on a version that never changes: fetched again on
    a new connection, the stream goes on and the bytes are whole."""
    data = bytes(range(256)) * 64
    store.write("f.bin", data)
    with store.read("f.bin") as stream:
        head = stream.read(4096)
        assert postgres.kill_sessions(database) >= 1
        rest = stream.read()
    assert head + rest == data


class KillingBytes(io.BytesIO):
    """A seekable source that terminates every session on *database* once, after *after*
    bytes were read from it."""

    def __init__(self, data: bytes, after: int, postgres: Postgres, database: str) -> None:
        super().__init__(data)
        self.after, self.postgres, self.database = after, postgres, database
        self.killed = 0

    def read(self, size: int | None = -1) -> bytes:
        if self.tell() >= self.after and not self.killed:
            self.killed = self.postgres.kill_sessions(self.database)
        return super().read(size)


def test_a_write_from_a_seekable_stream_is_rewound_and_sent_again(
    postgres: Postgres, database: str, store: Store
) -> None:
    """The connection dies after a quarter of the stream was sent: the stream is put back
    where it started and the write sent again; the file is whole, with no stray chunk. (A
    stream that cannot seek is not retried: test_sql_failures.py.)"""
    data = bytes(range(256)) * 256
    source = KillingBytes(data, len(data) // 4, postgres, database)
    store.write("f.bin", source)
    assert source.killed >= 1
    assert store.read_bytes("f.bin") == data
    rows = _sql(postgres, database, f"SELECT count(*) FROM {TABLE}_chunks")
    assert rows[0][0][0] == len(data) // 4096


def _raising_trigger(postgres: Postgres, database: str, sqlstate: str, *, deferred: bool) -> None:
    """A trigger on the objects table that raises *sqlstate* on its first firing only,
    inside the statement or at commit (*deferred*). Firings are counted by a sequence,
    which a rolled-back transaction does not undo."""
    timing = "DEFERRABLE INITIALLY DEFERRED" if deferred else "NOT DEFERRABLE"
    _sql(
        postgres,
        database,
        "CREATE SEQUENCE fired",
        f"""CREATE FUNCTION fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF nextval('fired') = 1 THEN
                RAISE EXCEPTION 'injected' USING ERRCODE = '{sqlstate}';
              END IF;
              RETURN NULL;
            END $$""",
        f"""CREATE CONSTRAINT TRIGGER fail_once AFTER INSERT OR UPDATE ON {TABLE}
            {timing} FOR EACH ROW EXECUTE FUNCTION fail_once()""",
    )


def _fired(postgres: Postgres, database: str) -> int:
    rows = _sql(
        postgres, database, "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM fired"
    )
    return int(rows[0][0][0])


@pytest.mark.parametrize("sqlstate", ["40001", "40P01"], ids=["serialization", "deadlock"])
def test_a_transaction_the_database_undid_is_run_again(
    postgres: Postgres, database: str, store: Store, sqlstate: str
) -> None:
    """A serialisation failure or a deadlock inside the transaction: the database rolled it
    back, so it is sent again and lands once."""
    _raising_trigger(postgres, database, sqlstate, deferred=False)
    store.write("f.txt", b"content")
    assert store.read_bytes("f.txt") == b"content"
    assert _fired(postgres, database) == 2  # the undone attempt, then the one that landed


def test_a_write_whose_commit_failed_is_not_repeated(
    postgres: Postgres, database: str, store: Store
) -> None:
    """The error arrives at COMMIT (a deferred trigger): for a client that is a write that
    may have landed, so it is not repeated; the caller gets `BackendUnavailable`, and a
    second write (the trigger now passes) lands."""
    _raising_trigger(postgres, database, "40001", deferred=True)
    with pytest.raises(BackendUnavailable):
        store.write("f.txt", b"content")
    assert _fired(postgres, database) == 1  # sent once
    assert not store.exists("f.txt")  # here the commit really failed
    store.write("f.txt", b"content")
    assert store.read_bytes("f.txt") == b"content"


def test_retries_follow_the_policy(postgres: Postgres, database: str) -> None:
    """``retry=RetryPolicy(attempts=1)``: the dead connection fails the call."""
    backend = SQLBlobBackend(
        postgres.url(database), table_name=TABLE, retry=RetryPolicy(attempts=1)
    )
    with Store(backend) as store:
        store.write("a.txt", b"a")
        assert postgres.kill_sessions(database) >= 1
        with pytest.raises(BackendUnavailable):
            store.read_bytes("a.txt")
        assert store.read_bytes("a.txt") == b"a"


@pytest.mark.parametrize(
    ("sqlstate", "transient"),
    [
        ("40001", True),
        ("40P01", True),
        ("57P01", True),
        ("53300", True),
        ("08006", True),
        ("23505", False),
        ("42501", False),
        ("22001", False),
        ("55P03", False),
    ],
)
def test_which_sqlstates_are_transient(
    postgres: Postgres, database: str, sqlstate: str, transient: bool
) -> None:
    """The classification, on real driver errors raised by the server."""
    engine = sa.create_engine(postgres.url(database))
    try:
        with engine.connect() as connection, pytest.raises(sa.exc.DBAPIError) as caught:
            connection.exec_driver_sql(
                f"DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '{sqlstate}'; END $$"
            )
    finally:
        engine.dispose()
    assert is_transient(caught.value) is transient
