"""pandas through rstore:// URLs, a Hive-partitioned PyArrow dataset, and a store pickled
to worker processes, on any backend.

    pip install "fsspec>=2024.6" pandas pyarrow
    python examples/rstore_datasets.py

Uses the store ``demo`` of examples/remote-store.toml (local disk); set REMOTE_STORE_CONFIG
to a configuration whose ``demo`` store is on Azure and the same code runs there.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from remote_store import Registry, RegistryConfig, Store
from remote_store.arrowfs import arrow_filesystem

DEFAULT_CONFIG = Path(__file__).with_name("remote-store.toml")


def rows_in(store: Store, path: str) -> int:
    """Runs in a worker process: the store arrived pickled, as its configuration."""
    with store.read_seekable(path) as stream:
        return len(pd.read_parquet(stream))


def main() -> None:
    config_path = os.environ.get("REMOTE_STORE_CONFIG") or str(DEFAULT_CONFIG)
    options = {"config": config_path}
    sales = pd.DataFrame(
        {
            "year": [2025, 2025, 2026, 2026, 2026],
            "region": ["north", "south", "north", "south", "east"],
            "sales": [10, 7, 12, 9, 4],
        }
    )
    # pandas: the URL names the store; the configuration is found as the CLI finds it.
    sales.to_csv("rstore://demo/rstore-example/sales.csv", index=False, storage_options=options)
    back = pd.read_csv("rstore://demo/rstore-example/sales.csv", storage_options=options)
    print(f"pandas CSV: {len(back)} rows, sales {back.sales.sum()}")

    with Registry(RegistryConfig.from_toml(config_path)) as registry:
        store = registry.get_store("demo").child("rstore-example")
        fs = arrow_filesystem(store)
        if store.exists("hive"):
            store.delete_folder("hive", recursive=True)
        ds.write_dataset(
            pa.Table.from_pandas(back, preserve_index=False),
            "hive",
            filesystem=fs,
            format="parquet",
            partitioning=["year"],
            partitioning_flavor="hive",
        )
        dataset = ds.dataset("hive", filesystem=fs, format="parquet", partitioning="hive")
        recent = dataset.to_table(filter=ds.field("year") == 2026)
        print(f"PyArrow dataset: {dataset.count_rows()} rows, 2026: {recent.num_rows} rows")

        files = sorted(f.path for f in store.list_files("hive", recursive=True))
        with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
            counts = list(pool.map(rows_in, [store] * len(files), files))
        print(f"workers counted {sum(counts)} rows in {len(files)} files")


if __name__ == "__main__":
    main()
