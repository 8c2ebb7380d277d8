"""One Parquet export of a generated query in this fresh process: its time and how far the
resident set grew (``VmHWM`` minus the RSS before), as JSON. Used by benchmarks.sql.

    python -m benchmarks.sql_export_child sql-query-adbc|sql-query-sqlalchemy|pandas URL ROWS
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from tests.perf.rss_child import _peak, _rss
from tests.sql.rss_query_child import query

MiB = 1024 * 1024


def main() -> None:
    tool, url, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "out.parquet"
        if tool.startswith("sql-query"):
            from remote_store.backends.sql.query import SQLQueryBackend
            from remote_store.store import Store

            driver = tool.removeprefix("sql-query-")
            queries = {"out.parquet": query(rows)}
            store = Store(SQLQueryBackend(url, queries=queries, driver=driver))

            def export() -> None:
                with store.read("out.parquet") as stream, target.open("wb") as sink:
                    while block := stream.read(MiB):
                        sink.write(block)

        else:
            import pandas as pd
            import sqlalchemy as sa

            engine = sa.create_engine(url)

            def export() -> None:
                frame = pd.read_sql(sa.text(query(rows)), engine)
                frame.to_parquet(target)

        before = _rss()
        started = time.perf_counter()
        export()
        seconds = time.perf_counter() - started
        growth = _peak() - before
        size = target.stat().st_size
    print(json.dumps({"seconds": seconds, "growth": growth, "size": size}))


if __name__ == "__main__":
    main()
