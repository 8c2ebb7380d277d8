"""Export a 1,000,000-row query through `SQLQueryBackend` in this fresh process and print
how far its resident set grew (``VmHWM`` at the end minus the RSS after a warm-up export),
with the bytes exported: tracemalloc does not see Arrow's allocator.

    python -m tests.sql.rss_query_child URL FILE_NAME ROWS [DRIVER]
"""

from __future__ import annotations

import json
import sys

from remote_store.backends.sql.query import SQLQueryBackend
from remote_store.store import Store
from tests.perf.rss_child import _peak, _rss

MiB = 1024 * 1024


def query(rows: int) -> str:
    return (
        "SELECT i AS id, (i * 1.5)::numeric(14, 2) AS price, 'row ' || i AS name, "
        f"i % 7 = 0 AS flag FROM generate_series(1, {rows}) AS i"
    )


def _export(store: Store, name: str) -> int:
    total = 0
    with store.read(name) as stream:
        while block := stream.read(MiB):
            total += len(block)
    return total


def main() -> None:
    url, name, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
    driver = sys.argv[4] if len(sys.argv) > 4 else "auto"
    suffix = name.rsplit(".", 1)[1]
    queries = {name: query(rows), f"warm.{suffix}": query(1000)}
    with Store(SQLQueryBackend(url, queries=queries, driver=driver)) as store:
        _export(store, f"warm.{suffix}")  # imports, pools and the writer's code paged in
        before = _rss()
        size = _export(store, name)
        growth = _peak() - before
    print(json.dumps({"growth": growth, "size": size}))


if __name__ == "__main__":
    main()
