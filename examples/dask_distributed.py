"""dask.distributed on any store: CSV files read over a glob, a Hive-partitioned Parquet
dataset written and read back with a filter, and a function run on the workers with a
store, all by worker processes that receive the store as its configuration.

    pip install "fsspec>=2024.6" pandas pyarrow "dask[dataframe]" distributed
    python examples/dask_distributed.py

Starts a two-process cluster on this machine (set DASK_SCHEDULER to a scheduler's
address, ``tcp://host:8786``, to use yours). Uses the store ``demo`` of
examples/remote-store.toml (local disk); set REMOTE_STORE_CONFIG to a configuration
whose ``demo`` store is elsewhere (Azure, S3, SFTP, SQL) and the same code runs there:
credentials written as ``${VAR}`` are read by each worker from its own environment.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from pathlib import Path

import dask.dataframe as dd
import pandas as pd
from distributed import Client, LocalCluster

from remote_store import Registry, RegistryConfig, Store

DEFAULT_CONFIG = Path(__file__).with_name("remote-store.toml")
ROOT = "rstore://demo/dask-example"


def rows_in(store: Store, path: str) -> int:
    """Runs on a worker: the store arrived pickled, as its configuration."""
    with store.read_seekable(path) as stream:
        return len(pd.read_parquet(stream))


def main() -> None:
    config_path = os.environ.get("REMOTE_STORE_CONFIG") or str(DEFAULT_CONFIG)
    options = {"config": config_path}
    sales = pd.DataFrame(
        {
            "year": [2024, 2024, 2025, 2025, 2025, 2026],
            "region": ["north", "south", "north", "south", "east", "north"],
            "sales": [10, 7, 12, 9, 4, 6],
        }
    )
    with Registry(RegistryConfig.from_toml(config_path)) as registry:
        store = registry.get_store("demo").child("dask-example")
        if store.exists(""):
            store.delete_folder("", recursive=True)
        for year, part in sales.groupby("year"):
            part.to_csv(f"{ROOT}/csv/{year}.csv", index=False, storage_options=options)

        with ExitStack() as stack:
            address = os.environ.get("DASK_SCHEDULER")
            if address is None:
                cluster = stack.enter_context(
                    LocalCluster(
                        n_workers=2,
                        threads_per_worker=1,
                        processes=True,
                        host="127.0.0.1",
                        dashboard_address=None,
                    )
                )
                address = cluster.scheduler_address
            client = stack.enter_context(Client(address))

            frame = dd.read_csv(f"{ROOT}/csv/*.csv", storage_options=options)
            total = frame.sales.sum().compute()
            print(f"read_csv: {frame.npartitions} files, sales {total}")

            frame.to_parquet(f"{ROOT}/hive", partition_on=["year"], storage_options=options)
            recent = dd.read_parquet(
                f"{ROOT}/hive", storage_options=options, filters=[("year", ">=", 2025)]
            ).compute()
            print(f"read_parquet 2025+: {len(recent)} rows, sales {recent.sales.sum()}")

            files = sorted(f.path for f in store.list_files("hive", recursive=True))
            counts = client.gather(client.map(rows_in, [store] * len(files), files))
            print(f"workers counted {sum(counts)} rows in {len(files)} files")


if __name__ == "__main__":
    main()
