"""Read a CSV and a Parquet file into pandas through `Store.read`, on any backend.

    pip install "remote-store[examples]"     # pandas and pyarrow
    python examples/pandas_csv_parquet.py

Uses the store ``demo`` of examples/remote-store.toml (local disk); set REMOTE_STORE_CONFIG
to a configuration whose ``demo`` store is on Azure and the same code reads from there.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pandas as pd

from remote_store import Capability, Registry, RegistryConfig, Store

DEFAULT_CONFIG = Path(__file__).with_name("remote-store.toml")


def write_samples(store: Store) -> None:
    """Monthly sales as CSV files, and the whole year as one Parquet file."""
    months = []
    for month in (1, 2, 3):
        frame = pd.DataFrame(
            {"month": month, "region": ["north", "south"], "sales": [10 * month, 7 * month]}
        )
        months.append(frame)
        with store.open_atomic(f"sales/2026/{month:02d}.csv", overwrite=True) as out:
            out.write(frame.to_csv(index=False).encode())
    with store.open_atomic("sales/2026.parquet", overwrite=True) as out:
        pd.concat(months, ignore_index=True).to_parquet(out, index=False)


def read_csv(store: Store, path: str) -> pd.DataFrame:
    """CSV parses front to back: the forward-only stream of `read` is enough."""
    with store.read(path) as stream:
        return pd.read_csv(stream)


def read_parquet(store: Store, path: str) -> pd.DataFrame:
    """Parquet starts at its footer, so it needs a seekable file."""
    if store.supports(Capability.SEEKABLE_READ):
        with store.read_seekable(path) as stream:
            return pd.read_parquet(stream)
    return pd.read_parquet(io.BytesIO(store.read_bytes(path)))


def main() -> int:
    config = RegistryConfig.from_toml(os.environ.get("REMOTE_STORE_CONFIG", DEFAULT_CONFIG))
    with Registry(config) as registry:
        store = registry.get_store("demo").child("pandas-example")
        write_samples(store)

        march = read_csv(store, "sales/2026/03.csv")
        print("one CSV:", march.to_dict("records"))

        # A folder of CSVs, found by glob, into one frame.
        paths = sorted(info.path for info in store.glob("sales/2026/*.csv"))
        quarter = pd.concat([read_csv(store, p) for p in paths], ignore_index=True)
        print(f"{len(paths)} CSVs by glob: {len(quarter)} rows, sales {quarter['sales'].sum()}")

        year = read_parquet(store, "sales/2026.parquet")
        print(f"Parquet: {len(year)} rows, columns {list(year.columns)}")
        assert year.equals(quarter), "the Parquet file holds the same rows as the CSVs"
    return 0


if __name__ == "__main__":
    sys.exit(main())
