"""SQL backends against the raw tools, on SQLite and a throw-away PostgreSQL server.

    .venv/bin/python -m benchmarks.sql                 # ~2 min: both parts
    .venv/bin/python -m benchmarks.sql --rows 200000   # a smaller export

1. ``sql-blob`` through `Store` vs raw SQLAlchemy Core sending the same statements in the
   same transactions (what the library adds: path checks, the kernel, objects): statements
   per operation and the median time ratio, small file (1 KiB) operations.
2. ``sql-query`` (ADBC driver, and the SQLAlchemy path) vs ``pandas.read_sql`` +
   ``DataFrame.to_parquet`` exporting the same query of *rows* rows to Parquet: time and
   the child process's peak RSS growth.

Results: ``benchmarks/results/sql.json`` (``--out``) and a table on stdout.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from remote_store.backends.sql import SQLBlobBackend
from remote_store.backends.sql.schema import Tables, insert_if_absent, upper_bound
from remote_store.store import Store
from tests.sql_support import run_postgres

ROOT = Path(__file__).resolve().parents[1]
SMALL = b"x" * 1024


class Counter:
    def __init__(self, engine: sa.Engine) -> None:
        self.count = 0
        sa.event.listen(engine, "before_cursor_execute", self._one)

    def _one(self, *args: Any) -> None:
        statement = str(args[2]).split(None, 1)[0].upper()
        if statement not in {"BEGIN", "COMMIT", "ROLLBACK"}:
            self.count += 1


class Raw:
    """The statements `SQLBlobBackend` sends, written directly against SQLAlchemy Core."""

    def __init__(self, engine: sa.Engine, tables: Tables) -> None:
        self.engine, self.t = engine, tables
        self.write_begin = engine.begin

    def write_new(self, key: str) -> None:
        o, c = self.t.objects, self.t.chunks
        version = uuid.uuid4().hex
        with self.engine.begin() as conn:
            conn.execute(
                sa.select(o.c.key)
                .where(o.c.key > key + "/", o.c.key < upper_bound(key + "/"))
                .limit(1)
            ).first()
            conn.execute(sa.insert(c).values(version=version, seq=0, data=SMALL))
            row = {"key": key, "version": version, "size": len(SMALL), "md5": "0" * 32,
                   "chunk_size": 1 << 20, "modified_us": 0, "metadata": {}}  # fmt: skip
            conn.execute(insert_if_absent(conn.dialect.name, o, row)).first()

    def overwrite(self, key: str) -> None:
        o, c = self.t.objects, self.t.chunks
        version = uuid.uuid4().hex
        with self.engine.begin() as conn:
            conn.execute(
                sa.select(o.c.key)
                .where(o.c.key > key + "/", o.c.key < upper_bound(key + "/"))
                .limit(1)
            ).first()
            conn.execute(sa.insert(c).values(version=version, seq=0, data=SMALL))
            old = conn.execute(sa.select(o.c.version).where(o.c.key == key)).scalar_one()
            conn.execute(
                sa.update(o)
                .where(o.c.key == key, o.c.version == old)
                .values(version=version)
                .returning(o.c.key)
            ).first()
            conn.execute(sa.delete(c).where(c.c.version == old))

    def read_bytes(self, key: str) -> bytes:
        o, c = self.t.objects, self.t.chunks
        join = sa.outerjoin(o, c, sa.and_(c.c.version == o.c.version, c.c.seq == 0))
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(o.c.version, o.c.size, c.c.data).select_from(join).where(o.c.key == key)
            ).first()
        assert row is not None
        return bytes(row.data)

    def get_file_info(self, key: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(self.t.objects).where(self.t.objects.c.key == key)
            ).first()

    def delete(self, key: str) -> None:
        o, c = self.t.objects, self.t.chunks
        with self.engine.begin() as conn:
            version = conn.execute(
                sa.delete(o).where(o.c.key == key).returning(o.c.version)
            ).scalar_one()
            conn.execute(sa.delete(c).where(c.c.version == version))


def _median(action: Callable[[int], object], reps: int) -> float:
    times = []
    for i in range(reps):
        started = time.perf_counter()
        action(i)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def blob_part(url: str, reps: int) -> list[dict[str, Any]]:
    backend = SQLBlobBackend(url, table_name=f"bench_{uuid.uuid4().hex[:8]}")
    store = Store(backend)
    engine = backend.unwrap(sa.Engine)
    raw = Raw(engine, backend._tables)
    counter = Counter(engine)
    rows: list[dict[str, Any]] = []
    for i in range(reps):
        store.write(f"ours/{i}", SMALL)
        raw.write_new(f"raw/{i}")
    ops: list[tuple[str, Callable[[int], object], Callable[[int], object]]] = [
        ("write (new)", lambda i: store.write(f"ours-new/{i}", SMALL),
         lambda i: raw.write_new(f"raw-new/{i}")),
        ("write (overwrite)", lambda i: store.write(f"ours/{i}", SMALL, overwrite=True),
         lambda i: raw.overwrite(f"raw/{i}")),
        ("read_bytes", lambda i: store.read_bytes(f"ours/{i}"),
         lambda i: raw.read_bytes(f"raw/{i}")),
        ("get_file_info", lambda i: store.get_file_info(f"ours/{i}"),
         lambda i: raw.get_file_info(f"raw/{i}")),
        ("delete", lambda i: store.delete(f"ours/{i}"), lambda i: raw.delete(f"raw/{i}")),
    ]  # fmt: skip
    for name, ours, theirs in ops:
        counter.count = 0
        ours_s = _median(ours, reps)
        ours_n = counter.count / reps
        counter.count = 0
        raw_s = _median(theirs, reps)
        raw_n = counter.count / reps
        rows.append({"op": name, "ours_ms": ours_s * 1e3, "raw_ms": raw_s * 1e3,
                     "ratio": ours_s / raw_s, "ours_statements": ours_n,
                     "raw_statements": raw_n})  # fmt: skip
    backend.close()
    return rows


def query_part(url: str, rows: int) -> list[dict[str, Any]]:
    results = []
    for tool in ("sql-query-adbc", "sql-query-sqlalchemy", "pandas"):
        command = [sys.executable, "-m", "benchmarks.sql_export_child", tool, url, str(rows)]
        out = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=True)
        results.append({"tool": tool, **json.loads(out.stdout)})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sql")
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results"))
    args = parser.parse_args()
    report: dict[str, Any] = {"command": " ".join(["python -m benchmarks.sql", *sys.argv[1:]])}
    with run_postgres() as server:
        sqlite_path = Path(args.out) / f"bench-{uuid.uuid4().hex[:8]}.db"
        sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            report["blob"] = {
                "sqlite": blob_part(f"sqlite:///{sqlite_path}", args.reps),
                "postgres": blob_part(server.url(), args.reps),
            }
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
        report["query"] = {"rows": args.rows, "postgres": query_part(server.url(), args.rows)}
    path = Path(args.out) / "sql.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    for db, rows in report["blob"].items():
        print(f"\nsql-blob on {db}: op | ours ms | raw ms | ratio | statements ours/raw")
        for r in rows:
            print(f"  {r['op']:<18} {r['ours_ms']:7.3f} {r['raw_ms']:7.3f} {r['ratio']:5.2f}"
                  f"  {r['ours_statements']:.0f}/{r['raw_statements']:.0f}")  # fmt: skip
    print(f"\nexport of {args.rows:,} rows to Parquet (PostgreSQL): tool | s | RSS growth MiB")
    for r in report["query"]["postgres"]:
        print(f"  {r['tool']:<22} {r['seconds']:6.1f} {r['growth'] / 2**20:7.0f}")
    print(f"\nwritten {path}")


if __name__ == "__main__":
    main()
