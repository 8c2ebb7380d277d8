"""DS-030: dask.distributed with worker processes reads and writes rstore:// on every
backend that can be shared between processes (Azurite, the HNS emulator, MiniStack S3,
sshd, an SQLite file, PostgreSQL; read-only: nginx HTTP and sql-query exports); the
workers resolve the configuration's ${VAR} from their own environment. One cluster serves
the whole module."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask.dataframe as dd
import distributed
import pandas as pd
import pytest

from remote_store.errors import CapabilityNotSupported
from remote_store.fsspec import RemoteStoreFileSystem
from tests.datascience import workers
from tests.datascience.rigs import (
    NETWORK_WRITABLE,
    QUERY_KINDS,
    YEARS,
    query_rig,
    read_sql,
    rig,
    write_config,
)
from tests.http_support import WebServer
from tests.s3_support import ACCESS_KEY, REGION, SECRET_KEY, S3Server

pytestmark = pytest.mark.slow

KINDS = NETWORK_WRITABLE


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


@pytest.mark.parametrize("kind", QUERY_KINDS)
def test_ds_030_read_parquet_over_sql_query_files(
    client: Any, kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """SQLQuery: the workers rebuild the store from backend options and read the query
    files; the rows are those of the SQL read directly. Every statement a worker sends is a
    query of a file it was asked to read (SQLite: with its type probe), each run once: no
    ping, no other query, nothing written; the client runs only the first file's query
    (dask reads its schema). CSV needs blocksize=None (the size is unknown: dask says so),
    and a write is refused on the workers with CapabilityNotSupported."""
    queried = query_rig(kind, request, tmp_path)
    options = {name: value for name, value in queried.options.items() if name != "type"}
    options["driver"] = "sqlalchemy"  # the statements are recorded through SQLAlchemy
    storage = {"backend": "sql-query", "options": options}
    client.run(workers.record_statements)
    workers.record_statements()  # and here: planning may read footers
    try:
        frame = dd.read_parquet("rstore://reports/by_year/*.parquet", storage_options=storage)
        assert frame.npartitions == len(YEARS)
        got = frame.compute(scheduler=client).sort_values("value").reset_index(drop=True)
        planned = workers.recorded_statements()
        on_workers = client.run(workers.recorded_statements)
    finally:
        workers.stop_recording()
        client.run(workers.stop_recording)
    expected = read_sql(queried, "reports/sales.parquet")
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)  # dask: Arrow strings

    queries = [queried.queries[f"reports/by_year/{year}.parquet"] for year in YEARS]
    # The client reads the first file's schema (dask opens it twice: two runs), no other.
    assert 1 <= planned.count(queries[0]) <= 2
    assert not set(planned) & set(queries[1:])
    assert len(on_workers) == 2
    sent = [statement for statements in on_workers.values() for statement in statements]
    assert sorted(s for s in sent if s in queries) == sorted(queries)  # once each
    probes = [s for s in sent if s not in queries]
    if kind == "sqlite":  # the declared types, through a temporary view of the query
        assert sorted(re.sub(r"_remote_store_\w+", "V", s) for s in probes) == sorted(
            [f'CREATE TEMP VIEW "V" AS {q}' for q in queries]
            + ['DROP VIEW "V"', 'PRAGMA table_info("V")'] * len(YEARS)
        )
    else:
        assert probes == []
    csv = dd.read_csv("rstore://reports/sales.csv", storage_options=storage, blocksize=None)
    got = csv.compute(scheduler=client)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    with pytest.raises(ValueError, match="blocksize=None"):
        dd.read_csv("rstore://reports/sales.csv", storage_options=storage)
    with pytest.raises(CapabilityNotSupported):
        dd.from_pandas(FRAME, npartitions=2).to_parquet(
            "rstore://reports/out", storage_options=storage, compute_kwargs={"scheduler": client}
        )
