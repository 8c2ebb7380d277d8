"""DS-030: dask.distributed with worker processes reads and writes rstore:// on Azurite;
the workers resolve the configuration's ${VAR} from their own environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import dask.dataframe as dd
import distributed
import pandas as pd
import pytest

from tests.azure_support import Azurite

pytestmark = [pytest.mark.azure, pytest.mark.slow]


@pytest.fixture(scope="module")
def client(azurite: Azurite) -> Iterator[Any]:
    # Set before the workers start: they inherit it, and resolve the template with it.
    os.environ["DS_DASK_CONN"] = azurite.connection_string
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
    )
    with cluster, distributed.Client(cluster) as dask_client:
        yield dask_client
    os.environ.pop("DS_DASK_CONN", None)


@pytest.fixture(scope="module")
def options(azurite: Azurite, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    path = tmp_path_factory.mktemp("dask") / "remote-store.toml"
    container = azurite.new_container("dask")
    path.write_text(
        f'[backends.lake]\ntype = "azure"\ncontainer = "{container}"\n'
        'connection_string = "${DS_DASK_CONN}"\n\n[stores.lake]\nbackend = "lake"\n'
    )
    return {"config": str(path)}


FRAME = pd.DataFrame(
    {
        "year": [2023, 2023, 2024, 2024, 2024, 2025],
        "city": ["Oslo", "Lima", "Oslo", "Pune", "Lima", "Oslo"],
        "value": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    }
)


def test_ds_030_read_csv_over_a_glob(client: Any, options: dict[str, str]) -> None:
    for year, part in FRAME.groupby("year"):
        part.to_csv(f"rstore://lake/csv/{year}.csv", index=False, storage_options=options)
    frame = dd.read_csv("rstore://lake/csv/*.csv", storage_options=options)
    assert frame.npartitions == 3
    got = frame.compute(scheduler=client).sort_values("value").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, FRAME, check_dtype=False)  # dask: Arrow strings


def test_ds_030_to_parquet_and_read_parquet_with_a_partition_filter(
    client: Any, options: dict[str, str]
) -> None:
    frame = dd.from_pandas(FRAME, npartitions=2)
    frame.to_parquet(
        "rstore://lake/sales",
        partition_on=["year"],
        storage_options=options,
        compute_kwargs={"scheduler": client},
    )
    back = dd.read_parquet(
        "rstore://lake/sales", storage_options=options, filters=[("year", "==", 2024)]
    )
    got = back.compute(scheduler=client).sort_values("value").reset_index(drop=True)
    expected = FRAME[FRAME.year == 2024].reset_index(drop=True)
    assert got["city"].tolist() == expected["city"].tolist()
    assert got["value"].tolist() == expected["value"].tolist()
