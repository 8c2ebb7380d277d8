"""SQL-010..SQL-014: SQLQueryBackend on real tables (SQLite files and the session's
PostgreSQL): database types kept, NULLs, empty results with their schema, the three
formats, listing without running queries, read-only refusals, and a 1,000,000-row export
whose memory does not grow with the rows."""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from remote_store.backends.sql.query import SQLQueryBackend
from remote_store.errors import (
    BackendUnavailable,
    CapabilityNotSupported,
    ConfigError,
    IsAFolder,
    NotFound,
)
from remote_store.store import Store
from tests.sql.conftest import StatementLog
from tests.sql_support import Postgres

ROOT = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024


def _table(store: Store, key: str) -> pa.Table:
    data = store.read_bytes(key)
    if key.endswith(".parquet"):
        return pq.read_table(io.BytesIO(data))
    if key.endswith(".arrow"):
        return pa.ipc.open_file(io.BytesIO(data)).read_all()
    return pa_csv.read_csv(io.BytesIO(data))


@pytest.fixture(params=["sqlalchemy", "adbc"])
def pg_store(request: pytest.FixtureRequest, postgres: Postgres) -> Store:
    """The same queries through either driver: both must give the same files."""
    table = f"sales_{uuid.uuid4().hex[:8]}"
    with postgres.admin() as admin:
        admin.execute(
            f"CREATE TABLE {table} (id int, qty bigint, price numeric(12, 2), ratio numeric, "
            "name text, at timestamptz, day date, ok bool, doc jsonb, raw bytea, f float8)"
        )
        admin.execute(
            f"INSERT INTO {table} VALUES (1, 10, 1.25, 3.5, 'north', "
            "'2026-01-02 03:04:05+00', '2026-01-02', true, '{\"a\": 1}', '\\x0102', 0.5), "
            "(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"
        )
    queries = {
        f"{kind}/all.{ext}": f"SELECT * FROM {table} ORDER BY id"
        for kind, ext in (("p", "parquet"), ("c", "csv"), ("a", "arrow"))
    }
    queries["p/empty.parquet"] = f"SELECT * FROM {table} WHERE false"
    queries["p/percent.parquet"] = f"SELECT id % 2 AS odd FROM {table} ORDER BY id ;\n"
    return Store(SQLQueryBackend(postgres.url(), queries=queries, driver=request.param))


@pytest.mark.postgres
def test_postgres_types_and_nulls_are_kept(pg_store: Store) -> None:
    """SQL-011: types come from the database; NULL is null in every column."""
    table = _table(pg_store, "p/all.parquet")
    expected = {
        "id": pa.int32(),
        "qty": pa.int64(),
        "price": pa.decimal128(12, 2),
        "ratio": pa.decimal128(38, 18),
        "name": pa.string(),
        "at": pa.timestamp("us", tz="UTC"),
        "day": pa.date32(),
        "ok": pa.bool_(),
        "doc": pa.string(),
        "raw": pa.binary(),
        "f": pa.float64(),
    }
    assert dict(zip(table.schema.names, table.schema.types, strict=True)) == expected
    first, second = table.to_pylist()
    assert first["price"] == Decimal("1.25")
    assert first["ratio"] == Decimal("3.5")
    assert json.loads(first["doc"]) == {"a": 1}
    assert first["raw"] == b"\x01\x02"
    assert second == {name: (2 if name == "id" else None) for name in expected}
    assert _table(pg_store, "p/percent.parquet").column("odd").to_pylist() == [1, 0]


@pytest.mark.postgres
def test_postgres_empty_result_keeps_its_schema(pg_store: Store) -> None:
    """SQL-011: no rows, the same columns and types (0.33 made every column a string)."""
    empty = _table(pg_store, "p/empty.parquet")
    assert empty.num_rows == 0
    assert empty.schema == _table(pg_store, "p/all.parquet").schema


@pytest.mark.postgres
def test_the_three_formats_hold_the_same_rows(pg_store: Store) -> None:
    """SQL-010: the extension picks the format."""
    parquet = _table(pg_store, "p/all.parquet")
    assert _table(pg_store, "a/all.arrow").equals(parquet)
    csv = _table(pg_store, "c/all.csv")
    assert csv.column("id").to_pylist() == [1, 2]
    # CSV has no NULL: an empty field, as Arrow's writer and reader agree.
    assert csv.column("name").to_pylist() == ["north", ""]
    assert pg_store.read_bytes("c/all.csv").splitlines()[2] == b"2" + b"," * 10


def test_sqlite_declared_types_nulls_and_empty(tmp_path: Path) -> None:
    """SQL-011: SQLite's declared column types (read through a temporary view), also for
    an empty result; an expression without a declared type is text."""
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE t (id INTEGER, price NUMERIC(10, 2), name TEXT, raw BLOB, "
            "ok BOOLEAN, f REAL)"
        )
        db.execute(
            "INSERT INTO t VALUES (1, 1.5, 'a', x'01', 1, 0.25), (2, NULL, NULL, NULL, NULL, NULL)"
        )
    queries = {
        "t.parquet": "SELECT * FROM t ORDER BY id;",
        "none.parquet": "SELECT * FROM t WHERE 0",
    }
    queries["expr.csv"] = "SELECT id * 2 AS twice FROM t ORDER BY id"
    with Store(SQLQueryBackend(f"sqlite:///{path}", queries=queries)) as store:
        table = _table(store, "t.parquet")
        types = [
            pa.int64(),
            pa.decimal128(10, 2),
            pa.string(),
            pa.binary(),
            pa.bool_(),
            pa.float64(),
        ]
        assert table.schema.types == types
        assert table.to_pylist() == [
            {"id": 1, "price": Decimal("1.50"), "name": "a", "raw": b"\x01", "ok": True, "f": 0.25},
            {"id": 2, "price": None, "name": None, "raw": None, "ok": None, "f": None},
        ]
        empty = _table(store, "none.parquet")
        assert empty.num_rows == 0
        assert empty.schema.types == types
        assert store.read_bytes("expr.csv") == b'"twice"\n"2"\n"4"\n'


def test_listing_and_info_run_no_query(tmp_path: Path) -> None:
    """SQL-012: listings show the configured keys and folders; `get_file_info` sends no
    statement and reports size 0 (unknown until the query runs)."""
    backend = SQLQueryBackend(
        f"sqlite:///{tmp_path / 'x.db'}",
        queries={"sales/2026.parquet": "SELECT 1 AS one", "sales/eu/q1.csv": "SELECT 2 AS two"},
    )
    log = StatementLog(backend.unwrap(sa.Engine))
    with Store(backend) as store:
        assert [e.path for e in store.list_folders("")] == ["sales"]
        assert [f.path for f in store.list_files("sales")] == ["sales/2026.parquet"]
        assert sorted(f.path for f in store.list_files("", recursive=True)) == [
            "sales/2026.parquet",
            "sales/eu/q1.csv",
        ]
        info = store.get_file_info("sales/eu/q1.csv")
        assert (info.path, info.size) == ("sales/eu/q1.csv", 0)
        assert store.is_file("sales/2026.parquet") and store.is_folder("sales/eu")
        assert len(log) == 0, log.statements
        with pytest.raises(NotFound):
            store.read_bytes("sales/2027.parquet")
        with pytest.raises(IsAFolder):
            store.read_bytes("sales/eu")


def test_read_only_and_bad_configuration(tmp_path: Path) -> None:
    """SQL-013: nothing but reading; a key without a known extension is a `ConfigError`."""
    url = f"sqlite:///{tmp_path / 'x.db'}"
    with Store(SQLQueryBackend(url, queries={"a.csv": "SELECT 1 AS one"})) as store:
        with pytest.raises(CapabilityNotSupported):
            store.write("a.csv", b"x", overwrite=True)
        with pytest.raises(CapabilityNotSupported):
            store.delete("a.csv")
    for queries in ({}, {"a.json": "SELECT 1"}, {"a.csv": "  "}, {"../a.csv": "SELECT 1"}):
        with pytest.raises(ConfigError):
            SQLQueryBackend(url, queries=queries)
    for driver in ("odbc", "adbc"):  # unknown; ADBC serves PostgreSQL only
        with pytest.raises(ConfigError):
            SQLQueryBackend(url, queries={"a.csv": "SELECT 1"}, driver=driver)


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "driver"),
    [("big.parquet", "sqlalchemy"), ("big.csv", "sqlalchemy"), ("big.arrow", "sqlalchemy"),
     ("big.parquet", "adbc")],
)  # fmt: skip
def test_million_rows_export_holds_bounded_memory(
    postgres: Postgres, name: str, driver: str
) -> None:
    """SQL-014: 1,000,000 rows stream from a server-side cursor in batches of 65,536: the
    process grows by about one batch (measured ~75-95 MiB for 250,000, 1,000,000 and
    2,000,000 rows alike), never by the result."""
    child = [sys.executable, "-m", "tests.sql.rss_query_child", postgres.url(), name, "1000000"]
    child.append(driver)
    out = subprocess.run(child, capture_output=True, text=True, cwd=ROOT, check=True, timeout=240)
    measured = json.loads(out.stdout)
    size, growth = measured["size"] / MiB, measured["growth"] / MiB
    print(f"\n{name} ({driver}): {size:.1f} MiB exported, RSS +{growth:.0f} MiB")
    assert measured["size"] > 10 * MiB
    assert measured["growth"] <= 128 * MiB


@pytest.mark.postgres
@pytest.mark.parametrize("driver", ["sqlalchemy", "adbc"])
def test_unreachable_server_is_unavailable_on_both_drivers(driver: str) -> None:
    """SQL-007 for SQLQuery: no server on the port is `BackendUnavailable`, whichever
    driver runs the query; the password shows nowhere."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    url = f"postgresql+psycopg://etl:hunter2@127.0.0.1:{port}/db"
    backend = SQLQueryBackend(url, queries={"a.parquet": "SELECT 1 AS one"}, driver=driver)
    with Store(backend) as store, pytest.raises(BackendUnavailable) as caught:
        store.read_bytes("a.parquet")
    assert "hunter2" not in str(caught.value)
    assert "hunter2" not in repr(backend)
