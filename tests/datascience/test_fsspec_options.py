"""DS-017: a filesystem built from a backend type and its options, without a configuration
file: directly, through ``fsspec.filesystem`` and through pandas' ``storage_options``; it
pickles as that one-backend configuration; bad input is a typed error."""

from __future__ import annotations

import pickle
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import fsspec
import pandas as pd
import pytest

from remote_store.errors import ConfigError, InvalidArgument
from remote_store.fsspec import RemoteStoreFileSystem
from tests.datascience import workers
from tests.datascience.test_pickling import assert_no_live_objects, globals_named
from tests.s3_support import ACCESS_KEY, REGION, SECRET_KEY, S3Server

FRAME = pd.DataFrame({"city": ["Oslo", "Lima", "Pune"], "temp": [3.5, 19.0, 31.25]})


def test_ds_017_local_options_directly_through_fsspec_and_pandas(tmp_path: Path) -> None:
    options = {"base_path": str(tmp_path)}
    fs = fsspec.filesystem("rstore", backend="local", options=options, root_path="lake")
    assert isinstance(fs, RemoteStoreFileSystem)
    fs.pipe_file("raw/a.txt", b"a")  # paths are the store's keys: no store name
    assert (tmp_path / "lake/raw/a.txt").read_bytes() == b"a"
    assert fs.find("") == ["raw/a.txt"]
    storage = {"backend": "local", "options": options}
    FRAME.to_csv("rstore://lake/t.csv", index=False, storage_options=storage)
    assert (tmp_path / "lake/t.csv").is_file()
    pd.testing.assert_frame_equal(
        pd.read_csv("rstore://lake/t.csv", storage_options=storage), FRAME
    )


@pytest.mark.s3
def test_ds_017_s3_options_pickle_as_their_configuration(
    ministack: S3Server,
    spawned: ProcessPoolExecutor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The ``${VAR}`` placeholders in *options* travel unresolved (the worker resolves
    them from its environment); the filesystem works in a spawned process."""
    env = {"DS_S3_KEY": ACCESS_KEY, "DS_S3_SECRET": SECRET_KEY}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    options = {
        "bucket": ministack.new_bucket("ds"),
        "endpoint_url": ministack.endpoint,
        "region_name": REGION,
        "key": "${DS_S3_KEY}",
        "secret": "${DS_S3_SECRET}",
    }
    storage = {"backend": "s3", "options": options}
    FRAME.to_parquet("rstore://sales/t.parquet", storage_options=storage)
    pd.testing.assert_frame_equal(
        pd.read_parquet("rstore://sales/t.parquet", storage_options=storage), FRAME
    )
    fs = RemoteStoreFileSystem(backend="s3", options=options)
    payload = pickle.dumps(fs)
    assert b"${DS_S3_SECRET}" in payload
    assert_no_live_objects(payload)
    data = spawned.submit(workers.fs_cat, payload, "sales/t.parquet", env).result()
    assert data == fs.cat("sales/t.parquet")


def test_ds_017_literal_credentials_travel_as_secrets(tmp_path: Path) -> None:
    fs = RemoteStoreFileSystem(
        backend="sql-blob", options={"url": f"sqlite:///{tmp_path / 'f.db'}", "password": "pw"}
    )
    assert "remote_store.secret.Secret" in globals_named(pickle.dumps(fs))
    assert "pw" not in repr(fs)


def test_ds_017_a_placeholder_travels_even_after_an_equal_literal_configuration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A process's configurations share a registry when equal; one whose password came
    from ``${VAR}`` must still pickle as its template, not as an earlier literal twin."""
    monkeypatch.setenv("DS_PG_PASSWORD", "pw-from-env-7f3a")
    queries = {"q.csv": "SELECT 1 AS one"}
    url = "postgresql+psycopg://u:{}@127.0.0.1:9/db"  # never reached: nothing runs here
    literal = RemoteStoreFileSystem(
        backend="sql-query", options={"url": url.format("pw-from-env-7f3a"), "queries": queries}
    )
    templated = RemoteStoreFileSystem(
        backend="sql-query", options={"url": url.format("${DS_PG_PASSWORD}"), "queries": queries}
    )
    for payload in (pickle.dumps(templated), pickle.dumps(templated._store)):
        assert b"${DS_PG_PASSWORD}" in payload and b"pw-from-env-7f3a" not in payload
    assert b"pw-from-env-7f3a" in pickle.dumps(literal)  # by value: it was given literally


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"backend": 5}, InvalidArgument, "backend must be a backend type name"),
        ({"backend": ""}, InvalidArgument, "backend must be a backend type name"),
        ({"backend": "local", "options": "base_path=/x"}, InvalidArgument, "options must be"),
        ({"backend": "local", "options": {"type": "s3"}}, InvalidArgument, "must not hold 'type'"),
        ({"backend": "local", "root_path": 3}, InvalidArgument, "root_path must be a str"),
        ({"options": {"base_path": "/x"}}, InvalidArgument, "go with backend="),
        ({"backend": "local", "config": "x.toml"}, InvalidArgument, "pass one of"),
        ({"backend": "nope"}, ConfigError, "unknown type 'nope'; known types"),
        ({"backend": "s3", "options": {}}, ConfigError, "missing required option"),
        ({"backend": "local", "options": {"bogus": 1}}, ConfigError, "unknown option 'bogus'"),
    ],
)
def test_ds_017_bad_input_is_a_typed_error(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        RemoteStoreFileSystem(**kwargs)


def test_ds_017_a_memory_backend_works_in_process_and_refuses_to_pickle() -> None:
    fs = RemoteStoreFileSystem(backend="memory")
    fs.pipe_file("a", b"a")
    assert fs.cat("a") == b"a"
    with pytest.raises(InvalidArgument, match="memory store cannot be pickled"):
        pickle.dumps(fs)
