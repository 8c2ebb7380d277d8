"""DS-004, DS-031: every network backend built directly pickles as its options and is
rebuilt in a spawned process, which reads what this process wrote, on its real server."""

from __future__ import annotations

import pickle
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from remote_store.backend import Backend
from remote_store.config import Secret
from remote_store.errors import InvalidArgument
from remote_store.store import Store
from tests.datascience import workers
from tests.datascience.test_pickling import assert_no_live_objects, globals_named
from tests.http_support import WebServer
from tests.s3_support import ACCESS_KEY, REGION, SECRET_KEY, S3Server
from tests.sftp_support import Sshd
from tests.sql_support import Postgres

DATA = b"written by the parent process"


def _round_trip(
    backend: Backend,
    spawned: ProcessPoolExecutor,
    env: dict[str, str] | None = None,
    *,
    write: bool = True,
    name: str = "x.bin",
) -> bytes:
    """Write (unless *write* is false: the file is there) through a Store on *backend*,
    then read it in a spawned process from a pickled child Store and a pickled backend."""
    env = env or {}
    with Store(backend) as store:
        if write:
            store.write(f"in/{name}", DATA, overwrite=True)
        child = pickle.dumps(store.child("in"))
        bare = pickle.dumps(backend)
    for payload in (child, bare):
        assert_no_live_objects(payload)
    before, data = spawned.submit(workers.read_in_worker, child, name, env).result()
    assert before.startswith("Store(backend='(not built yet)'")  # rebuilt on first use
    assert spawned.submit(workers.backend_read, bare, f"in/{name}", env).result() == data
    return data


@pytest.mark.s3
def test_ds_031_s3_with_keys_carries_them_as_secrets(
    ministack: S3Server, spawned: ProcessPoolExecutor
) -> None:
    backend = ministack.backend(ministack.new_bucket("ds"))
    assert _round_trip(backend, spawned) == DATA
    assert "remote_store.secret.Secret" in globals_named(pickle.dumps(backend))


@pytest.mark.s3
def test_ds_031_s3_without_keys_resolves_them_in_the_receiving_process(
    ministack: S3Server, spawned: ProcessPoolExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from remote_store.backends.s3 import S3Backend

    env = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    bucket = ministack.new_bucket("ds")
    backend = S3Backend(bucket, endpoint_url=ministack.endpoint, region_name=REGION)
    assert _round_trip(backend, spawned, env) == DATA
    options = backend._rebuild_options()
    assert options["key"] is None and options["secret"] is None  # nothing secret travels
    assert "remote_store.secret.Secret" not in globals_named(pickle.dumps(backend))


@pytest.mark.s3
def test_ds_031_s3_pyarrow_backend_rebuilds_as_itself(
    ministack: S3Server, spawned: ProcessPoolExecutor
) -> None:
    backend = ministack.backend(ministack.new_bucket("ds"), arrow=True)
    assert _round_trip(backend, spawned) == DATA
    assert "remote_store.backends.s3.arrow.S3PyArrowBackend" in globals_named(pickle.dumps(backend))


@pytest.mark.sftp
def test_ds_031_sftp_with_a_key_file_or_key_text(sshd: Sshd, spawned: ProcessPoolExecutor) -> None:
    by_path = sshd.backend()
    assert by_path._rebuild_options()["pkey"] == str(sshd.client_key_path)  # a path, absolute
    assert _round_trip(by_path, spawned) == DATA  # the key file is read again there
    with_text = sshd.backend(pkey=Secret(sshd.client_key_text))
    payload = pickle.dumps(with_text)
    assert "remote_store.secret.Secret" in globals_named(payload)
    assert _round_trip(with_text, spawned) == DATA


@pytest.mark.http
def test_ds_031_http_reads_in_the_receiving_process(
    nginx: WebServer, spawned: ProcessPoolExecutor
) -> None:
    from remote_store.backends.http import HttpBackend

    folder = f"ds-{uuid.uuid4().hex[:8]}"
    nginx.put(f"{folder}/in/x.bin", DATA)
    backend = HttpBackend(nginx.url(folder), headers={"Authorization": "Bearer t-1"})
    assert _round_trip(backend, spawned, write=False) == DATA
    headers = backend._rebuild_options()["headers"]
    assert isinstance(headers["Authorization"], Secret)  # by value, by design, never printed


@pytest.mark.postgres
def test_ds_031_sql_blob_on_postgres(postgres: Postgres, spawned: ProcessPoolExecutor) -> None:
    from remote_store.backends.sql import SQLBlobBackend

    backend = SQLBlobBackend(postgres.url(postgres.new_database("ds")), table_name="ds_files")
    assert _round_trip(backend, spawned) == DATA
    options = backend._rebuild_options()
    assert isinstance(options["url"], Secret) and options["table_name"] == "ds_files"


def test_ds_031_sql_blob_on_an_sqlite_file_travels_as_an_absolute_path(
    tmp_path: Path, spawned: ProcessPoolExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from remote_store.backends.sql import SQLBlobBackend

    monkeypatch.chdir(tmp_path)
    backend = SQLBlobBackend("sqlite:///files.db")
    assert _round_trip(backend, spawned) == DATA  # the worker's directory is not tmp_path
    assert str(tmp_path / "files.db") in backend._rebuild_options()["url"].reveal()


@pytest.mark.postgres
def test_ds_031_sql_query_runs_in_the_receiving_process(
    postgres: Postgres, spawned: ProcessPoolExecutor
) -> None:
    from remote_store.backends.sql.query import SQLQueryBackend

    backend = SQLQueryBackend(
        postgres.url(), queries={"in/x.csv": "SELECT 1 AS a, 'b' AS b"}, driver="sqlalchemy"
    )
    assert _round_trip(backend, spawned, write=False, name="x.csv") == b'"a","b"\n1,"b"\n'


def test_ds_031_an_engine_object_or_an_in_memory_database_is_refused(tmp_path: Path) -> None:
    import sqlalchemy as sa

    from remote_store.backends.sql import SQLBlobBackend
    from remote_store.backends.sql.query import SQLQueryBackend

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'e.db'}")
    refused: list[tuple[Any, str]] = [
        (SQLBlobBackend(engine=engine), "engine= cannot be pickled"),
        (SQLBlobBackend("sqlite://"), "in-memory SQLite"),
        (SQLQueryBackend(engine=engine, queries={"q.csv": "SELECT 1"}), "engine="),
    ]
    for backend, message in refused:
        with backend, pytest.raises(InvalidArgument, match=message):
            pickle.dumps(Store(backend))
    engine.dispose()
