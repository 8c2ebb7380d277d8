"""Whole data-science workloads through remote-store and through adlfs, on the same Azurite
behind the same counting proxy (issue 21, item 7): pandas, a PyArrow dataset, dask.

Each workload runs in phases; a phase's time is wall clock, its bytes the proxy's
response bodies (down) and request bodies (up), its requests the proxy's count. Every
repetition writes under a fresh prefix, so no run finds another's output.
"""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from tests.fault_proxy import FaultProxy

YEARS = list(range(2019, 2027))  # the partition column: 8 partitions
CITIES = ["Oslo", "Lima", "Pune", "Quito", "Accra", "Hanoi", "Perth", "Turin"]
FILTER_YEAR = 2024


@dataclass(frozen=True)
class Client:
    """One way to reach the container: URLs and options for pandas and dask, a filesystem
    and paths for PyArrow."""

    name: str
    url: Callable[[str], str]
    storage_options: dict[str, Any]
    arrow: pafs.FileSystem | Any
    arrow_path: Callable[[str], str]


def frame(megabytes: int, seed: int = 21) -> pd.DataFrame:
    """About *megabytes* of CSV: a year (the partition), a city, an id and three floats."""
    rows = megabytes * 1024 * 1024 // 80  # ~80 bytes a CSV row
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "year": rng.choice(YEARS, rows),
            "city": rng.choice(CITIES, rows),
            "id": np.arange(rows),
            "a": rng.random(rows),
            "b": rng.random(rows),
            "c": rng.random(rows),
        }
    )


def csv_bytes(df: pd.DataFrame) -> bytes:
    out = io.StringIO()
    df.to_csv(out, index=False)
    return out.getvalue().encode()


def _phase(proxy: FaultProxy, name: str, run: Callable[[], Any]) -> dict[str, Any]:
    proxy.clear()
    began = time.perf_counter()
    run()
    seconds = time.perf_counter() - began
    stats = proxy.stats()
    return {
        "phase": name,
        "seconds": seconds,
        "bytes_down": stats.bytes_down,
        "bytes_up": stats.bytes_up,
        "requests": stats.requests,
    }


def pandas_workload(client: Client, proxy: FaultProxy, prefix: str) -> list[dict[str, Any]]:
    """read_csv of one file, to_parquet, read_parquet."""
    held: dict[str, pd.DataFrame] = {}
    options = client.storage_options
    out = client.url(f"{prefix}/pandas.parquet")

    def read_csv() -> None:
        held["df"] = pd.read_csv(client.url("in/all.csv"), storage_options=options)

    def read_parquet() -> None:
        held["back"] = pd.read_parquet(out, storage_options=options)

    phases = [
        _phase(proxy, "read_csv", read_csv),
        _phase(proxy, "to_parquet", lambda: held["df"].to_parquet(out, storage_options=options)),
        _phase(proxy, "read_parquet", read_parquet),
    ]
    assert len(held["back"]) == len(held["df"])
    return phases


def dataset_workload(
    client: Client, proxy: FaultProxy, prefix: str, table: pa.Table
) -> list[dict[str, Any]]:
    """write_dataset with Hive partitioning on year, then a read filtered to one year."""
    base = client.arrow_path(f"{prefix}/sales")
    got: dict[str, pa.Table] = {}

    def write() -> None:
        ds.write_dataset(
            table,
            base,
            filesystem=client.arrow,
            format="parquet",
            partitioning=["year"],
            partitioning_flavor="hive",
        )

    def read() -> None:
        sales = ds.dataset(base, filesystem=client.arrow, format="parquet", partitioning="hive")
        got["t"] = sales.to_table(filter=ds.field("year") == FILTER_YEAR)

    phases = [
        _phase(proxy, "write_dataset", write),
        _phase(proxy, "filtered read", read),
    ]
    expected = int(pc.sum(pc.equal(table["year"], FILTER_YEAR)).as_py())
    assert got["t"].num_rows == expected, (got["t"].num_rows, expected)
    return phases


def dask_workload(client: Client, proxy: FaultProxy, prefix: str) -> list[dict[str, Any]]:
    """read_csv over a glob + to_parquet(partition_on=year), then read_parquet filtered."""
    import dask.dataframe as dd

    options = client.storage_options
    out = client.url(f"{prefix}/dask")
    got: dict[str, Any] = {}

    def convert() -> None:
        raw = dd.read_csv(client.url("in/part-*.csv"), storage_options=options)
        raw.to_parquet(out, partition_on=["year"], storage_options=options)

    def read() -> None:
        recent = dd.read_parquet(
            out, storage_options=options, filters=[("year", "==", FILTER_YEAR)]
        )
        got["n"] = len(recent.compute())

    phases = [
        _phase(proxy, "read_csv + to_parquet", convert),
        _phase(proxy, "read_parquet filtered", read),
    ]
    assert got["n"] > 0
    return phases


@contextmanager
def cluster(workers: int = 2) -> Iterator[Any]:
    """A LocalCluster of worker processes on loopback, and a client of it."""
    import distributed

    local = distributed.LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
    )
    with local, distributed.Client(local) as dask_client:  # type: ignore[no-untyped-call]
        yield dask_client


def summarize(workload: str, client: str, runs: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """One row per phase and one for the whole workload: the median time of the runs, the
    bytes and requests of the last (the same every run, give or take a retry)."""
    rows = []
    for i, last in enumerate(runs[-1]):
        rows.append(
            {
                "workload": workload,
                "client": client,
                "phase": last["phase"],
                "seconds": round(statistics.median(r[i]["seconds"] for r in runs), 3),
                "bytes_down": last["bytes_down"],
                "bytes_up": last["bytes_up"],
                "requests": last["requests"],
            }
        )
    rows.append(
        {
            "workload": workload,
            "client": client,
            "phase": "total",
            "seconds": round(statistics.median(sum(p["seconds"] for p in r) for r in runs), 3),
            "bytes_down": sum(p["bytes_down"] for p in runs[-1]),
            "bytes_up": sum(p["bytes_up"] for p in runs[-1]),
            "requests": sum(p["requests"] for p in runs[-1]),
        }
    )
    return rows


def config_file(directory: Path, container: str, connection_string: str) -> str:
    """A remote-store TOML naming store ``lake`` on *container*: the workers load it."""
    path = directory / "remote-store.toml"
    path.write_text(
        f'[backends.lake]\ntype = "azure"\ncontainer = "{container}"\n'
        f'connection_string = "{connection_string}"\n\n[stores.lake]\nbackend = "lake"\n'
    )
    return str(path)
