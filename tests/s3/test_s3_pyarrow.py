"""S3-050..S3-054: S3PyArrowBackend on MiniStack: PyArrow serves the streams and datasets,
the boto3 client everything else; PyArrow's S3 subsystem outlives any one store."""

from __future__ import annotations

import io
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyarrow import fs as pafs

from remote_store.backends import S3PyArrowBackend
from remote_store.errors import IsAFolder, NotFound
from remote_store.store import Store
from tests.s3_support import ACCESS_KEY, REGION, SECRET_KEY, RequestCounter, S3Server

pytestmark = pytest.mark.s3


@pytest.fixture
def arrow_backend(ministack: S3Server, bucket: str) -> Iterator[S3PyArrowBackend]:
    backend = ministack.backend(bucket, arrow=True)
    assert isinstance(backend, S3PyArrowBackend)
    with backend:
        yield backend


def test_streams_come_from_pyarrow(arrow_backend: S3PyArrowBackend) -> None:
    """S3-050: ``read``/``read_seekable`` are PyArrow streams (no boto3 GetObject), with
    the library's errors; a folder is IsAFolder, a miss NotFound."""
    counter = RequestCounter().attach(arrow_backend.unwrap(object))
    store = Store(arrow_backend)
    data = bytes(range(256)) * 4096
    store.write("dir/f.bin", data)
    counter.clear()
    with store.read_seekable("dir/f.bin") as stream:
        stream.seek(1000)
        assert stream.read(10) == data[1000:1010]
        stream.seek(-6, io.SEEK_END)
        assert stream.read() == data[-6:]
    with store.read("dir/f.bin") as stream:
        assert stream.read() == data
    assert "GetObject" not in counter.sent
    with pytest.raises(IsAFolder):
        store.read("dir")
    with pytest.raises(NotFound):
        store.read_seekable("nothing")


def test_read_bytes_is_one_pinned_get(arrow_backend: S3PyArrowBackend) -> None:
    """S3-051: ``read_bytes`` is the S3 backend's one GetObject (one version, never mixed)."""
    counter = RequestCounter().attach(arrow_backend.unwrap(object))
    store = Store(arrow_backend)
    store.write("f.bin", b"abc")
    counter.clear()
    assert store.read_bytes("f.bin") == b"abc"
    assert dict(Counter(counter.sent)) == {"GetObject": 1}


def test_writes_keep_metadata_and_datasets_read(
    arrow_backend: S3PyArrowBackend, bucket: str
) -> None:
    """S3-052: writes go through boto3 (metadata kept); ``unwrap(S3FileSystem)`` reads a
    Parquet dataset written through the store."""
    store = Store(arrow_backend)
    table = pa.table({"x": [1, 2, 3], "y": ["a", "b", "c"]})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    store.write("ds/part-0.parquet", sink.getvalue(), metadata={"schema": "v1"})
    assert dict(store.get_file_info("ds/part-0.parquet").metadata or {}) == {"schema": "v1"}
    filesystem = arrow_backend.unwrap(pafs.S3FileSystem)
    assert pq.read_table(f"{bucket}/ds", filesystem=filesystem).equals(table)
    with store.read_seekable("ds/part-0.parquet") as stream:
        assert pq.read_table(stream).equals(table)


def test_closing_one_store_leaves_pyarrow_usable(ministack: S3Server, bucket: str) -> None:
    """S3-053: close never finalises PyArrow's S3 subsystem: a store opened after another
    closed still reads, and the interpreter exits cleanly (PyArrow finalises at exit)."""
    code = f"""
from remote_store.backends import S3PyArrowBackend
from remote_store.store import Store
opts = dict(endpoint_url={ministack.endpoint!r}, key={ACCESS_KEY!r}, secret={SECRET_KEY!r},
            region_name={REGION!r})
first = Store(S3PyArrowBackend({bucket!r}, **opts))
first.write("a.txt", b"a")
with first.read("a.txt") as s:
    assert s.read() == b"a"
first.close()
second = Store(S3PyArrowBackend({bucket!r}, **opts))
with second.read("a.txt") as s:
    assert s.read() == b"a"
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"
