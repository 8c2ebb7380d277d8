"""remote-store's fsspec and PyArrow filesystems against adlfs on one Azurite (issue 21):
the bytes moved to read one column of one row group of a ~100 MB Parquet file, then whole
pandas, PyArrow-dataset and dask workloads, timed (`benchmarks.datascience_workloads`).

    .venv/bin/pip install -e ".[dev,azure,bench]"
    .venv/bin/python -m benchmarks.datascience [--mb 100] [--csv-mb 32] [--files 8] \
        [--repeat 3] [--skip-workloads] [--out benchmarks/results/datascience.json]

Bytes are counted by the test suite's forwarding proxy (response bodies passed to the
client, request bodies passed upstream), so every client is measured the same way, on
the same files.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks import datascience_workloads as wl
from benchmarks.targets import Target, start
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


def column_read(target: Target, megabytes: int) -> dict[str, Any]:
    """Bytes moved to read column COLUMN of row group GROUP, per client."""
    from adlfs import AzureBlobFileSystem

    from remote_store.arrowfs import arrow_filesystem
    from remote_store.backends.azure import AzureBackend
    from remote_store.fsspec import RemoteStoreFileSystem
    from remote_store.store import Store

    container = target.new_container("ds")
    sink = pa.BufferOutputStream()
    table = _table(megabytes)
    pq.write_table(table, sink, row_group_size=-(-table.num_rows // ROW_GROUPS))
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
    return {
        "file_bytes": size,
        "column_chunk_bytes": chunk,
        "footer_bytes": footer,
        "target_bytes": int(1.5 * (chunk + footer)),
        "results": results,
    }


def workloads(target: Target, csv_mb: int, files: int, repeat: int) -> list[dict[str, Any]]:
    """The pandas, PyArrow-dataset and dask workloads, each client `repeat` times."""
    from adlfs import AzureBlobFileSystem

    from remote_store.arrowfs import arrow_filesystem
    from remote_store.backends.azure import AzureBackend
    from remote_store.store import Store

    container = target.new_container("work")
    df = wl.frame(csv_mb)
    table = pa.Table.from_pandas(df, preserve_index=False)
    with Store(AzureBackend(container, connection_string=target.connection_string)) as up:
        up.write("in/all.csv", wl.csv_bytes(df))
        step = -(-len(df) // files)
        for i in range(files):
            up.write(f"in/part-{i}.csv", wl.csv_bytes(df.iloc[i * step : (i + 1) * step]))
    rows: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-ds-") as tmp,
        FaultProxy.for_connection_string(target.connection_string) as proxy,
        wl.cluster() as _dask,
    ):
        config = wl.config_file(Path(tmp), container, proxy.connection_string)
        backend = AzureBackend(container, connection_string=proxy.connection_string)
        adlfs = AzureBlobFileSystem(connection_string=proxy.connection_string)
        with Store(backend) as store:
            clients = [
                wl.Client(
                    "remote-store",
                    lambda p: f"rstore://lake/{p}",
                    {"config": config},
                    arrow_filesystem(store),
                    lambda p: p,
                ),
                wl.Client(
                    "adlfs",
                    lambda p: f"abfs://{container}/{p}",
                    {"connection_string": proxy.connection_string},
                    adlfs,
                    lambda p: f"{container}/{p}",
                ),
            ]
            plans: list[tuple[str, Callable[[wl.Client, str], list[dict[str, Any]]]]] = [
                ("pandas", lambda c, p: wl.pandas_workload(c, proxy, p)),
                ("pyarrow dataset", lambda c, p: wl.dataset_workload(c, proxy, p, table)),
                ("dask", lambda c, p: wl.dask_workload(c, proxy, p)),
            ]
            for name, run in plans:
                for client in clients:
                    # Run 0 warms up (imports and first connections, in the dask workers
                    # too): not counted, so the client measured first pays nothing extra.
                    runs = [
                        run(client, f"out/{client.name}/{name.replace(' ', '-')}/{i}")
                        for i in range(repeat + 1)
                    ][1:]
                    rows += wl.summarize(name, client.name, runs)
                    print(f"{name} {client.name}: {rows[-1]}", file=sys.stderr)
    return rows


def markdown(result: dict[str, Any]) -> list[str]:
    """The results as markdown tables (docs/data-science.md, docs/performance.md)."""
    col = result["column"]
    lines = [
        f"Command: `{result['command']}` ({result['started']}, load average at start "
        f"{result['loadavg']}).",
        "",
        f"One column of one row group of a {col['file_bytes'] / 1e6:.0f} MB Parquet file: "
        f"column chunk {col['column_chunk_bytes'] / 1e6:.2f} MB, footer "
        f"{col['footer_bytes'] / 1e3:.1f} KB, target (1.5 x both) "
        f"{col['target_bytes'] / 1e6:.2f} MB.",
        "",
        "| client | bytes moved | requests | seconds |",
        "|---|---|---|---|",
    ]
    for r in col["results"]:
        lines.append(
            f"| {r['client']} | {r['bytes_down'] / 1e6:.2f} MB | {r['requests']} | "
            f"{r['seconds']:.3f} |"
        )
    if result.get("workloads"):
        lines += [
            "",
            f"Workloads on {result['csv_mb']} MB of CSV ({result['files']} files for dask), "
            f"median of {result['repeat']} runs after one warm-up run; MB down/up are "
            "response/request bodies, counted by the proxy:",
            "",
            "| workload | phase | client | seconds | MB down | MB up | requests |",
            "|---|---|---|---|---|---|---|",
        ]
        for w in result["workloads"]:
            lines.append(
                f"| {w['workload']} | {w['phase']} | {w['client']} | {w['seconds']:.2f} | "
                f"{w['bytes_down'] / 1e6:.1f} | {w['bytes_up'] / 1e6:.1f} | {w['requests']} |"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=100, help="size of the Parquet file")
    parser.add_argument("--csv-mb", type=int, default=32, help="CSV size of the workloads")
    parser.add_argument("--files", type=int, default=8, help="CSV files dask reads")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each workload")
    parser.add_argument("--skip-workloads", action="store_true")
    parser.add_argument("--out", type=Path, help="write the results JSON here")
    args = parser.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    loadavg = " ".join(f"{x:.2f}" for x in os.getloadavg())
    with start("flat") as target:
        result: dict[str, Any] = {
            "command": "python -m benchmarks.datascience " + " ".join(sys.argv[1:]),
            "started": started,
            "loadavg": loadavg,
            "csv_mb": args.csv_mb,
            "files": args.files,
            "repeat": args.repeat,
            "column": column_read(target, args.mb),
        }
        print(json.dumps(result["column"], indent=2))
        if not args.skip_workloads:
            result["workloads"] = workloads(target, args.csv_mb, args.files, args.repeat)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    print("\n".join(markdown(result)))


if __name__ == "__main__":
    main()
