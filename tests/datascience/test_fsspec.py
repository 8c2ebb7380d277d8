"""DS-010..DS-016: the rstore:// fsspec filesystem, through pandas and directly, on every
writable backend (local, memory in-process, Azurite, the HNS emulator, MiniStack S3, sshd,
an SQLite file, PostgreSQL), read-only on nginx (HTTP), and on SQL query exports (sql-query
on an SQLite file and on PostgreSQL)."""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import fsspec
import pandas as pd
import pytest

from remote_store.backends.memory import MemoryBackend
from remote_store.errors import (
    AlreadyExists,
    CapabilityNotSupported,
    InvalidArgument,
    NotFound,
)
from remote_store.fsspec import RemoteStoreFileSystem
from remote_store.proxy import ProxyStore
from remote_store.store import Store
from tests.datascience import workers
from tests.datascience.rigs import (
    QUERY_KINDS,
    VARIABLES,
    WRITABLE,
    YEARS,
    QueryRig,
    Rig,
    query_rig,
    read_sql,
    rig,
    write_config,
)
from tests.http_support import WebServer


@pytest.fixture(params=WRITABLE)
def config(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The path of a configuration with a store ``lake`` over the backend kind."""
    rigged = rig(request.param, request, tmp_path)
    for name, value in rigged.env.items():
        monkeypatch.setenv(name, value)
    # A root of its own per test: in-process, one memory backend serves an equal configuration.
    return write_config(tmp_path / "remote-store.toml", rigged, root=f"r/{tmp_path.name}")


@pytest.fixture
def fs(config: str) -> RemoteStoreFileSystem:
    return RemoteStoreFileSystem(config=config)


FRAME = pd.DataFrame({"city": ["Oslo", "Lima", "Pune"], "temp": [3.5, 19.0, 31.25]})


def test_ds_015_pandas_csv_and_parquet_through_rstore_urls(config: str) -> None:
    options = {"config": config}
    FRAME.to_csv("rstore://lake/out/t.csv", index=False, storage_options=options)
    FRAME.to_parquet("rstore://lake/out/t.parquet", storage_options=options)
    csv = pd.read_csv("rstore://lake/out/t.csv", storage_options=options)
    parquet = pd.read_parquet("rstore://lake/out/t.parquet", storage_options=options)
    pd.testing.assert_frame_equal(csv, FRAME)
    pd.testing.assert_frame_equal(parquet, FRAME)


def test_ds_010_entry_point_and_discovery(
    config: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert fsspec.get_filesystem_class("rstore") is RemoteStoreFileSystem
    monkeypatch.setenv("REMOTE_STORE_CONFIG", config)
    discovered = fsspec.filesystem("rstore")  # no options: found as the CLI finds it
    discovered.pipe_file("lake/k.txt", b"v")
    assert RemoteStoreFileSystem(config=config).cat_file("rstore://lake/k.txt") == b"v"
    assert discovered.ls("", detail=False) == ["lake"]


def _populate(fs: RemoteStoreFileSystem) -> None:
    for name in ("a.csv", "d/b.csv", "d/e/c.csv", "d/e/x.txt"):
        fs.pipe_file(f"lake/{name}", name.encode())


def test_ds_011_ls_info_find_glob(fs: RemoteStoreFileSystem) -> None:
    _populate(fs)
    listed = {e["name"]: e["type"] for e in fs.ls("rstore://lake")}
    assert listed == {"lake/a.csv": "file", "lake/d": "directory"}
    assert fs.info("lake/d/b.csv")["size"] == len(b"d/b.csv")
    assert fs.info("lake/d/e")["type"] == "directory"
    assert fs.ls("lake/a.csv", detail=False) == ["lake/a.csv"]
    with pytest.raises(FileNotFoundError):
        fs.info("lake/nope")
    with pytest.raises(FileNotFoundError):
        fs.ls("lake/nope")
    assert fs.find("lake/d") == ["lake/d/b.csv", "lake/d/e/c.csv", "lake/d/e/x.txt"]
    assert fs.find("lake", maxdepth=1) == ["lake/a.csv"]
    assert "lake/d/e" in fs.find("lake", withdirs=True)
    assert fs.glob("rstore://lake/**/*.csv") == ["lake/a.csv", "lake/d/b.csv", "lake/d/e/c.csv"]
    assert fs.glob("lake/*.csv") == ["lake/a.csv"]
    assert fs.glob("lake/d/e/?.txt") == ["lake/d/e/x.txt"]
    assert fs.isdir("lake/d") and fs.isfile("lake/a.csv") and not fs.exists("lake/zz")


def test_ds_012_cat_file_ranges_and_pipe_file(fs: RemoteStoreFileSystem) -> None:
    fs.pipe_file("lake/r.bin", bytes(range(100)))
    assert fs.cat_file("lake/r.bin", start=10, end=20) == bytes(range(10, 20))
    assert fs.cat_file("lake/r.bin", start=-5) == bytes(range(95, 100))
    assert fs.cat_file("lake/r.bin", start=90, end=-5) == bytes(range(90, 95))
    assert fs.cat_file("lake/r.bin", start=98, end=500) == bytes([98, 99])
    assert fs.cat_file("lake/r.bin", start=50, end=50) == b""
    fs.pipe_file("lake/r.bin", b"new")
    assert fs.cat("lake/r.bin") == b"new"


def test_ds_013_open_reads_seekably_and_writes_atomically(fs: RemoteStoreFileSystem) -> None:
    with fs.open("lake/w.bin", "wb") as out:
        out.write(b"0123456789")
        assert not fs.exists("lake/w.bin")  # nothing lands before close
    with fs.open("lake/w.bin", "rb") as stream:
        assert stream.seekable()
        stream.seek(7)
        assert stream.read(2) == b"78"
        stream.seek(1)
        assert stream.read(3) == b"123"
    with pytest.raises(RuntimeError, match="boom"), fs.open("lake/w.bin", "wb") as out:
        out.write(b"half")
        raise RuntimeError("boom")
    assert fs.cat("lake/w.bin") == b"0123456789"  # discarded: the old content stays
    with fs.open("lake/t.txt", "w") as text:
        text.write("héllo\n")
    assert fs.cat("lake/t.txt") == "héllo\n".encode()
    # Text mode discards on error too (fsspec's own wrapper would commit on its exit).
    with pytest.raises(RuntimeError, match="boom"), fs.open("lake/t.txt", "w") as text:
        text.write("partial")
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError, match="boom"), fs.open("lake/new.txt", "wt") as text:
        text.write("partial")
        raise RuntimeError("boom")
    assert fs.cat("lake/t.txt") == "héllo\n".encode() and not fs.exists("lake/new.txt")
    with pytest.raises(AlreadyExists), fs.open("lake/w.bin", "xb") as out:
        out.write(b"x")
    with pytest.raises(CapabilityNotSupported):
        fs.open("lake/w.bin", "ab")


def test_ds_014_mv_rm_ukey(fs: RemoteStoreFileSystem) -> None:
    _populate(fs)
    fs.mv("lake/a.csv", "lake/moved/a.csv")
    assert fs.cat("lake/moved/a.csv") == b"a.csv" and not fs.exists("lake/a.csv")
    fs.mv("lake/d", "lake/d2", recursive=True)
    assert fs.find("lake/d2") == ["lake/d2/b.csv", "lake/d2/e/c.csv", "lake/d2/e/x.txt"]
    with pytest.raises(InvalidArgument, match="recursive"):
        fs.mv("lake/d2", "lake/d3")
    before = fs.ukey("lake/moved/a.csv")
    fs.pipe_file("lake/moved/a.csv", b"changed")
    assert fs.ukey("lake/moved/a.csv") not in ("", before)
    fs.rm("lake/d2", recursive=True)
    assert not fs.exists("lake/d2")
    fs.rm_file("lake/moved/a.csv")
    with pytest.raises(FileNotFoundError):
        fs.rm("lake/moved/a.csv")


def test_ds_010_bad_addresses_raise_typed_errors(fs: RemoteStoreFileSystem) -> None:
    with pytest.raises(NotFound, match="no store 'nostore'"):
        fs.cat("rstore://nostore/x")
    with pytest.raises(InvalidArgument, match="names a store first"):
        fs.cat_file("rstore:///")
    with pytest.raises(InvalidArgument, match="store names"):
        fs.glob("la*/x.csv")
    with pytest.raises(InvalidArgument, match="one of"):
        RemoteStoreFileSystem(config="x.toml", store=Store(MemoryBackend()))


def test_ds_016_filesystem_pickles_by_configuration(
    config: str, tmp_path: Path, spawned: ProcessPoolExecutor
) -> None:
    fs = RemoteStoreFileSystem(config=config)
    fs.pipe_file("lake/p.txt", b"p")
    if "memory" in Path(config).read_text():
        with pytest.raises(InvalidArgument, match="memory store cannot be pickled"):
            pickle.dumps(fs)
        return
    payload = pickle.dumps(fs)
    env = {name: os.environ[name] for name in VARIABLES if name in os.environ}
    for name, value in env.items():  # the template travels, the worker resolves it
        assert f"${{{name}}}".encode() in payload
        assert len(value) < 8 or value.encode() not in payload  # (MiniStack's key: "test")
    assert pickle.loads(payload).cat("lake/p.txt") == b"p"
    assert spawned.submit(workers.fs_cat, payload, "lake/p.txt", env).result() == b"p"


class Counting(ProxyStore):
    calls: list[str]

    def list_files(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        self.calls.append("list_files")
        return super().list_files(*args, **kwargs)

    def iter_children(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        self.calls.append("iter_children")
        return super().iter_children(*args, **kwargs)

    def move(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append("move")
        super().move(*args, **kwargs)

    def copy(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append("copy")
        super().copy(*args, **kwargs)


def test_ds_011_find_is_one_flat_listing_and_mv_is_native() -> None:
    store = Counting(Store(MemoryBackend()))
    store.calls = []
    fs = RemoteStoreFileSystem(store=store)
    for i in range(30):
        fs.pipe_file(f"p/{i % 3}/q/{i}.bin", b"x")
    store.calls.clear()
    assert len(fs.find("p")) == 30
    assert store.calls == ["list_files"]
    store.calls.clear()
    fs.mv("p/0/q/0.bin", "p/0/q/zero.bin")
    assert store.calls == ["move"]
    assert fs.glob("p/1/q/1*.bin") == [
        "p/1/q/1.bin",
        "p/1/q/10.bin",
        "p/1/q/13.bin",
        "p/1/q/16.bin",
        "p/1/q/19.bin",
    ]


@pytest.mark.http
def test_ds_015_pandas_reads_and_fsspec_lists_over_http(
    nginx: WebServer, tmp_path: Path, spawned: ProcessPoolExecutor
) -> None:
    """HTTP is read-only: pandas and fsspec read (ranged) and list through nginx's JSON
    index; a write is refused with CapabilityNotSupported; the filesystem pickles."""
    folder = f"ds-{tmp_path.name}"
    nginx.put(f"{folder}/t.csv", FRAME.to_csv(index=False).encode())
    nginx.put(f"{folder}/sub/t.parquet", FRAME.to_parquet())
    options = {"type": "http", "base_url": nginx.url(f"listed/{folder}"), "listing": "nginx-json"}
    config = write_config(tmp_path / "remote-store.toml", Rig("http", options), store="web")
    storage = {"config": config}
    pd.testing.assert_frame_equal(pd.read_csv("rstore://web/t.csv", storage_options=storage), FRAME)
    got = pd.read_parquet("rstore://web/sub/t.parquet", storage_options=storage)
    pd.testing.assert_frame_equal(got, FRAME)
    fs = RemoteStoreFileSystem(config=config)
    assert fs.find("web") == ["web/sub/t.parquet", "web/t.csv"]
    assert fs.glob("web/**/*.parquet") == ["web/sub/t.parquet"]
    assert fs.cat_file("web/t.csv", start=0, end=9) == b"city,temp"
    with pytest.raises(CapabilityNotSupported):
        fs.pipe_file("web/new.csv", b"x")
    payload = pickle.dumps(fs)
    assert spawned.submit(workers.fs_cat, payload, "web/t.csv", {}).result().startswith(b"city")


@pytest.fixture(params=QUERY_KINDS)
def queried(request: pytest.FixtureRequest, tmp_path: Path) -> QueryRig:
    return query_rig(request.param, request, tmp_path)


def test_ds_015_sql_query_files_through_pandas_and_fsspec(
    queried: QueryRig, tmp_path: Path, spawned: ProcessPoolExecutor
) -> None:
    """SQLQuery is read-only: pandas reads its query files through a configuration and
    through backend options (DS-017), the same rows as the SQL read directly; fsspec lists,
    globs, reads ranges (from the end too: its size is unknown, not 0) and seeks; every
    write is refused with CapabilityNotSupported; the filesystem pickles."""
    config = write_config(tmp_path / "remote-store.toml", Rig("sql-query", queried.options))
    storage: dict[str, Any] = {"config": config}
    expected = read_sql(queried, "reports/sales.parquet")
    workers.record_statements()  # SQLAlchemy's statements (PostgreSQL reads through ADBC)
    try:
        got = pd.read_parquet("rstore://lake/reports/sales.parquet", storage_options=storage)
        runs = workers.recorded_statements().count(queried.queries["reports/sales.parquet"])
    finally:
        workers.stop_recording()
    assert runs <= 2 and (runs > 0 or "postgresql" in queried.url)  # schema, then data
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)  # PostgreSQL: int32
    got = pd.read_csv("rstore://lake/reports/sales.csv", storage_options=storage)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    options = {name: value for name, value in queried.options.items() if name != "type"}
    by_options = {"backend": "sql-query", "options": options}
    got = pd.read_parquet("rstore://reports/by_year/2024.parquet", storage_options=by_options)
    expected_2024 = read_sql(queried, "reports/by_year/2024.parquet")
    pd.testing.assert_frame_equal(got, expected_2024, check_dtype=False)

    fs = RemoteStoreFileSystem(config=config)
    assert fs.ls("rstore://lake/reports", detail=False) == [
        "lake/reports/by_year",
        "lake/reports/sales.csv",
        "lake/reports/sales.parquet",
    ]
    assert fs.info("lake/reports/sales.csv") | {"size": None} == fs.info("lake/reports/sales.csv")
    assert fs.info("lake/reports/by_year")["type"] == "directory"
    years = [f"lake/reports/by_year/{year}.parquet" for year in YEARS]
    assert fs.find("lake/reports/by_year") == years
    assert fs.glob("lake/reports/**/*.parquet") == [*years, "lake/reports/sales.parquet"]
    assert fs.glob("lake/reports/by_year/202[45].parquet") == years[1:]
    whole = fs.cat_file("lake/reports/sales.csv")
    assert whole.startswith(b'"year","city","value"\n') and whole.count(b"\n") == 7
    assert fs.cat_file("lake/reports/sales.csv", start=6, end=12) == whole[6:12]
    assert fs.cat_file("lake/reports/sales.csv", start=-9) == whole[-9:]
    assert fs.cat_file("lake/reports/sales.csv", start=3, end=-4) == whole[3:-4]
    with fs.open("lake/reports/sales.parquet", "rb") as stream:
        assert stream.seekable()
        stream.seek(-4, os.SEEK_END)
        assert stream.read(4) == b"PAR1"
        stream.seek(0)
        assert stream.read(4) == b"PAR1"
    with pytest.raises(FileNotFoundError):
        fs.cat("lake/reports/nope.parquet")
    for write in (
        lambda: fs.pipe_file("lake/reports/new.csv", b"x"),
        lambda: fs.open("lake/reports/new.csv", "wb"),
        lambda: fs.rm_file("lake/reports/sales.csv"),
        lambda: fs.mv("lake/reports/sales.csv", "lake/reports/moved.csv"),
        lambda: expected.to_parquet("rstore://lake/reports/new.parquet", storage_options=storage),
    ):
        with pytest.raises(CapabilityNotSupported):
            write()
    assert fs.cat("lake/reports/sales.csv") == whole
    payload = pickle.dumps(fs)
    assert spawned.submit(workers.fs_cat, payload, "lake/reports/sales.csv", {}).result() == whole
