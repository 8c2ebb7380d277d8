"""DS-030: dask.distributed with worker processes reads and writes rstore:// on every
backend that can be shared between processes (Azurite, the HNS emulator, MiniStack S3,
sshd, an SQLite file, PostgreSQL; nginx HTTP read-only); the workers resolve the
configuration's ${VAR} from their own environment. One cluster serves the whole module."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask.dataframe as dd
import distributed
import pandas as pd
import pytest

from remote_store.fsspec import RemoteStoreFileSystem
from tests.datascience.rigs import rig, write_config
from tests.http_support import WebServer
from tests.s3_support import ACCESS_KEY, REGION, SECRET_KEY, S3Server

pytestmark = pytest.mark.slow

KINDS = [
    pytest.param("azure", marks=pytest.mark.azure),
    pytest.param("azure-hns", marks=pytest.mark.azure),
    pytest.param("s3", marks=pytest.mark.s3),
    pytest.param("sftp", marks=pytest.mark.sftp),
    "sqlite",
    pytest.param("postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
    )
    with cluster, distributed.Client(cluster) as dask_client:
        yield dask_client


def _set_environment(env: dict[str, str]) -> None:
    os.environ.update(env)


@pytest.fixture(params=KINDS)
def options(
    request: pytest.FixtureRequest,
    client: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    """``storage_options`` naming a configuration with a store ``lake`` on the kind; its
    credentials are ``${VAR}`` placeholders set here and in each worker's environment
    (never in the tasks)."""
    rigged = rig(request.param, request, tmp_path)
    for name, value in rigged.env.items():
        monkeypatch.setenv(name, value)
    client.run(_set_environment, rigged.env)
    return {"config": write_config(tmp_path / "remote-store.toml", rigged)}


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


@pytest.mark.s3
def test_ds_017_workers_rebuild_a_filesystem_built_from_backend_options(
    client: Any, ministack: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No configuration file: ``storage_options`` name the backend type and its options;
    the workers receive that one-backend configuration, placeholders unresolved."""
    env = {"DS_S3_KEY": ACCESS_KEY, "DS_S3_SECRET": SECRET_KEY}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    client.run(_set_environment, env)
    options = {
        "bucket": ministack.new_bucket("dask"),
        "endpoint_url": ministack.endpoint,
        "region_name": REGION,
        "key": "${DS_S3_KEY}",
        "secret": "${DS_S3_SECRET}",
    }
    storage = {"backend": "s3", "options": options, "root_path": "lake"}
    frame = dd.from_pandas(FRAME, npartitions=2)
    frame.to_parquet(
        "rstore://sales", storage_options=storage, compute_kwargs={"scheduler": client}
    )
    back = dd.read_parquet("rstore://sales", storage_options=storage)
    got = back.compute(scheduler=client).sort_values("value").reset_index(drop=True)
    assert got["value"].tolist() == FRAME["value"].tolist()
    listed = RemoteStoreFileSystem(backend="s3", options=options).find("lake/sales")
    assert listed and all(path.endswith(".parquet") for path in listed)


@pytest.mark.http
def test_ds_030_read_csv_over_a_glob_on_http(client: Any, nginx: WebServer, tmp_path: Path) -> None:
    """HTTP is read-only: the workers read CSV files found through nginx's JSON index."""
    folder = f"dask-{tmp_path.name}"
    for year, part in FRAME.groupby("year"):
        nginx.put(f"{folder}/csv/{year}.csv", part.to_csv(index=False).encode())
    options = {"base_url": nginx.url(f"listed/{folder}"), "listing": "nginx-json"}
    frame = dd.read_csv(
        "rstore://csv/*.csv", storage_options={"backend": "http", "options": options}
    )
    assert frame.npartitions == 3
    got = frame.compute(scheduler=client).sort_values("value").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, FRAME, check_dtype=False)
