"""Bytes moved to read one column of one row group of a ~100 MB Parquet file on Azurite:
remote-store's PyArrow and fsspec filesystems against adlfs (issue 21).

    .venv/bin/pip install -e ".[dev,azure,bench]"
    .venv/bin/python -m benchmarks.datascience [--mb 100]

Bytes are counted by the test suite's forwarding proxy (response bodies passed to the
client), so every client is measured the same way, on the same file.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.targets import start
from tests.fault_proxy import FaultProxy

COLUMNS = 10
ROW_GROUPS = 10
GROUP, COLUMN = 4, "c3"


def _table(megabytes: int) -> pa.Table:
    rows = megabytes * 1024 * 1024 // (8 * COLUMNS)
    rng = np.random.default_rng(21)  # random floats: Parquet cannot shrink them
    return pa.table({f"c{i}": rng.random(rows) for i in range(COLUMNS)})


def _read(handle: Any) -> int:
    table = pq.ParquetFile(handle).read_row_group(GROUP, columns=[COLUMN])
    return int(table.num_rows)


def _measure(proxy: FaultProxy, name: str, read: Callable[[], int]) -> dict[str, Any]:
    proxy.clear()
    began = time.perf_counter()
    rows = read()
    seconds = time.perf_counter() - began
    stats = proxy.stats()
    return {
        "client": name,
        "rows": rows,
        "bytes_down": stats.bytes_down,
        "requests": stats.requests,
        "seconds": round(seconds, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=100, help="size of the Parquet file")
    args = parser.parse_args()

    from adlfs import AzureBlobFileSystem

    from remote_store.arrowfs import arrow_filesystem
    from remote_store.backends.azure import AzureBackend
    from remote_store.fsspec import RemoteStoreFileSystem
    from remote_store.store import Store

    with start("flat") as target:
        container = target.new_container("ds")
        sink = pa.BufferOutputStream()
        rows = _table(args.mb).num_rows
        pq.write_table(_table(args.mb), sink, row_group_size=-(-rows // ROW_GROUPS))
        with Store(AzureBackend(container, connection_string=target.connection_string)) as up:
            up.write("big.parquet", sink.getvalue().to_pybytes())
            size = up.get_file_info("big.parquet").size
        with FaultProxy.for_connection_string(target.connection_string) as proxy:
            backend = AzureBackend(container, connection_string=proxy.connection_string)
            with Store(backend) as store:
                meta = pq.ParquetFile(pa.BufferReader(sink.getvalue())).metadata
                chunk = meta.row_group(GROUP).column(int(COLUMN[1:])).total_compressed_size
                footer = meta.serialized_size + 8
                arrow = arrow_filesystem(store)
                fsspec_fs = RemoteStoreFileSystem(store=store)
                adlfs = AzureBlobFileSystem(connection_string=proxy.connection_string)
                results = [
                    _measure(
                        proxy,
                        "remote-store pyarrow.fs",
                        lambda: _read(arrow.open_input_file("big.parquet")),
                    ),
                    _measure(
                        proxy,
                        "remote-store fsspec",
                        lambda: _read(fsspec_fs.open("big.parquet", "rb")),
                    ),
                    _measure(
                        proxy, "adlfs", lambda: _read(adlfs.open(f"{container}/big.parquet", "rb"))
                    ),
                ]
        print(
            json.dumps(
                {
                    "file_bytes": size,
                    "column_chunk_bytes": chunk,
                    "footer_bytes": footer,
                    "target_bytes": int(1.5 * (chunk + footer)),
                    "results": results,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
