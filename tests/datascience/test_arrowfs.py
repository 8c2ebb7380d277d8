"""DS-020..DS-022: the pyarrow.fs filesystem over every writable backend (local, memory,
Azurite, the HNS emulator, MiniStack S3, sshd, an SQLite file, PostgreSQL), and reading
over HTTP (nginx) and SQL query exports (sql-query): Hive-partitioned datasets,
pq.read_table and pq.ParquetFile."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from remote_store.arrowfs import arrow_filesystem
from remote_store.backends.local import LocalBackend
from remote_store.backends.memory import MemoryBackend
from remote_store.config import RegistryConfig
from remote_store.errors import CapabilityNotSupported
from remote_store.registry import Registry
from remote_store.store import Store
from tests.datascience.rigs import QUERY_KINDS, WRITABLE, query_rig, read_sql, rig
from tests.http_support import WebServer

TABLE = pa.table(
    {
        "year": [2023, 2023, 2024, 2024, 2024],
        "city": ["Oslo", "Lima", "Oslo", "Pune", "Lima"],
        "value": [1.0, 2.0, 3.0, 4.0, 5.0],
    }
)


@pytest.fixture(params=WRITABLE)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "local":
        yield Store(LocalBackend(tmp_path))
        return
    if request.param == "memory":
        yield Store(MemoryBackend())
        return
    rigged = rig(request.param, request, tmp_path)
    config = RegistryConfig.from_dict(
        {
            "backends": {"b": rigged.options},
            "stores": {"lake": {"backend": "b", "root_path": "root"}},
        },
        env=rigged.env,
    )
    with Registry(config) as registry:
        yield registry.get_store("lake")


def test_ds_020_hive_dataset_round_trip_with_a_filter(store: Store) -> None:
    fs = arrow_filesystem(store)
    ds.write_dataset(
        TABLE,
        "sales",
        filesystem=fs,
        format="parquet",
        partitioning=["year"],
        partitioning_flavor="hive",
    )
    assert sorted(f.path for f in store.list_files("sales", recursive=True)) == [
        "sales/year=2023/part-0.parquet",
        "sales/year=2024/part-0.parquet",
    ]
    dataset = ds.dataset("sales", filesystem=fs, format="parquet", partitioning="hive")
    got = dataset.to_table(filter=ds.field("year") == 2024).sort_by("value")
    assert got.column("city").to_pylist() == ["Oslo", "Pune", "Lima"]
    assert dataset.count_rows() == 5


def test_ds_021_read_table_and_parquet_file(store: Store) -> None:
    fs = arrow_filesystem(store)
    pq.write_table(TABLE, "t/one.parquet", filesystem=fs, row_group_size=2)
    assert pq.read_table("t/one.parquet", filesystem=fs, columns=["city"]).num_rows == 5
    with fs.open_input_file("t/one.parquet") as handle:
        parquet = pq.ParquetFile(handle)
        assert parquet.metadata.num_row_groups == 3
        assert parquet.read_row_group(1, columns=["value"]).column(0).to_pylist() == [3.0, 4.0]
    info = fs.get_file_info("t/one.parquet")
    assert (
        info.type == pafs.FileType.File and info.size == store.get_file_info("t/one.parquet").size
    )
    assert fs.get_file_info("t").type == pafs.FileType.Directory
    assert fs.get_file_info("nope").type == pafs.FileType.NotFound


def test_ds_022_selectors_moves_deletes_and_refusals(store: Store) -> None:
    fs = arrow_filesystem(store)
    for name in ("a/x.bin", "a/b/y.bin", "a/b/c/z.bin"):
        with fs.open_output_stream(name) as out:
            out.write(name.encode())
    flat = fs.get_file_info(pafs.FileSelector("a", recursive=True))
    assert sorted((i.path, i.type.name) for i in flat) == [
        ("a/b", "Directory"),
        ("a/b/c", "Directory"),
        ("a/b/c/z.bin", "File"),
        ("a/b/y.bin", "File"),
        ("a/x.bin", "File"),
    ]
    shallow = fs.get_file_info(pafs.FileSelector("a"))
    assert sorted(i.path for i in shallow) == ["a/b", "a/x.bin"]
    assert fs.get_file_info(pafs.FileSelector("zz", allow_not_found=True)) == []
    with pytest.raises(FileNotFoundError):
        fs.get_file_info(pafs.FileSelector("zz"))
    fs.move("a/x.bin", "m/x.bin")
    fs.copy_file("m/x.bin", "m/copy.bin")
    with fs.open_input_stream("m/copy.bin") as stream:
        assert stream.read() == b"a/x.bin"
    fs.delete_dir("a/b")
    fs.delete_file("m/x.bin")
    assert sorted(f.path for f in store.list_files("", recursive=True)) == ["m/copy.bin"]
    with pytest.raises(CapabilityNotSupported):
        fs.open_append_stream("m/copy.bin")


def test_ds_022_filesystem_pickles_by_its_store(tmp_path: Path) -> None:
    fs = arrow_filesystem(Store(LocalBackend(tmp_path)))
    pq.write_table(TABLE, "p.parquet", filesystem=fs)
    clone = pickle.loads(pickle.dumps(fs))
    assert pq.read_table("p.parquet", filesystem=clone).num_rows == 5


@pytest.mark.http
def test_ds_020_reads_a_hive_dataset_over_http(nginx: WebServer, tmp_path: Path) -> None:
    """HTTP is read-only: a Hive dataset placed on nginx is discovered through its JSON
    index and read with a partition filter; a write is refused."""
    from remote_store.backends.http import HttpBackend

    folder = f"ds-{tmp_path.name}"
    written = tmp_path / "out"
    ds.write_dataset(
        TABLE, str(written), format="parquet", partitioning=["year"], partitioning_flavor="hive"
    )
    for file in written.rglob("*.parquet"):
        nginx.put(f"{folder}/sales/{file.relative_to(written).as_posix()}", file.read_bytes())
    with Store(HttpBackend(nginx.url(f"listed/{folder}"), listing="nginx-json")) as store:
        fs = arrow_filesystem(store)
        dataset = ds.dataset("sales", filesystem=fs, format="parquet", partitioning="hive")
        got = dataset.to_table(filter=ds.field("year") == 2024).sort_by("value")
        assert got.column("city").to_pylist() == ["Oslo", "Pune", "Lima"]
        with fs.open_input_file("sales/year=2023/part-0.parquet") as handle:
            assert pq.ParquetFile(handle).metadata.num_rows == 2
        with pytest.raises(CapabilityNotSupported):
            pq.write_table(TABLE, "t.parquet", filesystem=fs)


@pytest.mark.parametrize("kind", QUERY_KINDS)
def test_ds_021_sql_query_files_through_pyarrow(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """SQLQuery is read-only: pq.read_table, pq.ParquetFile's row groups and a dataset over
    a folder of query files give the rows of the SQL read directly; sizes are unknown
    (None, not 0); a write is refused."""
    queried = query_rig(kind, request, tmp_path)
    queried.options["batch_rows"] = 2  # one row group per batch (SQLAlchemy path)
    config = RegistryConfig.from_dict(
        {"backends": {"q": queried.options}, "stores": {"db": {"backend": "q"}}}
    )
    expected = read_sql(queried, "reports/sales.parquet")
    with Registry(config) as registry:
        fs = arrow_filesystem(registry.get_store("db"))
        table = pq.read_table("reports/sales.parquet", filesystem=fs, columns=["city", "value"])
        assert table.to_pydict() == {
            "city": expected["city"].tolist(),
            "value": expected["value"].tolist(),
        }
        with fs.open_input_file("reports/sales.parquet") as handle:
            parquet = pq.ParquetFile(handle)
            groups = parquet.metadata.num_row_groups
            assert groups == (3 if kind == "sqlite" else 1)  # ADBC batches by bytes
            last = parquet.read_row_group(groups - 1, columns=["value"]).column(0).to_pylist()
            assert last == expected["value"].tolist()[-len(last) :]
        info = fs.get_file_info("reports/sales.parquet")
        assert info.type == pafs.FileType.File and info.size is None
        dataset = ds.dataset("reports/by_year", filesystem=fs, format="parquet")
        assert len(dataset.files) == 3 and dataset.count_rows() == len(expected)
        got = dataset.to_table(filter=ds.field("value") > 2.5).to_pandas()
        wanted = expected[expected.value > 2.5].reset_index(drop=True)
        pd.testing.assert_frame_equal(
            got.sort_values("value").reset_index(drop=True), wanted, check_dtype=False
        )
        with pytest.raises(CapabilityNotSupported):
            pq.write_table(TABLE, "reports/new.parquet", filesystem=fs)
