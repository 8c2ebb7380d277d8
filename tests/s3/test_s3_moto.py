"""S3-040: the second rig. moto honours If-None-Match on PutObject and Complete and
If-Match on PutObject and DeleteObject, but ignores If-Match on CompleteMultipartUpload
and CopySourceIfMatch (CopyObject and UploadPartCopy), and is ~1 s per conformance test
here: the full suite runs on MiniStack; on moto, what holds there (sdd/specs/017)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from remote_store.errors import AlreadyExists, IsAFolder, NotFound, PreconditionFailed
from remote_store.store import Store
from tests.s3_support import S3Server

pytestmark = pytest.mark.s3

MiB = 1024 * 1024


@pytest.fixture
def moto_store(moto: S3Server) -> Iterator[Store]:
    bucket = moto.new_bucket()
    backend = moto.backend(bucket, part_size=5 * MiB, single_put_size=5 * MiB)
    with backend:
        yield Store(backend)


def test_round_trips_and_conditions(moto_store: Store) -> None:
    store = moto_store
    data = (hashlib.sha256(b"m").digest() * (11 * MiB // 32 + 1))[: 11 * MiB]
    first = store.write("dir/big.bin", data, metadata={"k": "v"})
    assert store.read_bytes("dir/big.bin") == data
    assert dict(store.get_file_info("dir/big.bin").metadata or {}) == {"k": "v"}
    with pytest.raises(AlreadyExists):
        store.write("dir/big.bin", b"again")  # If-None-Match on Complete and on PutObject
    with pytest.raises(AlreadyExists):
        store.write("dir/big.bin", data)
    second = store.write("dir/big.bin", b"small", overwrite=True, if_match=first.etag)
    with pytest.raises(PreconditionFailed):
        store.write("dir/big.bin", b"stale", overwrite=True, if_match=first.etag)
    with pytest.raises(PreconditionFailed):
        store.delete("dir/big.bin", if_match=first.etag)
    with pytest.raises(IsAFolder):
        store.read_bytes("dir")
    store.copy("dir/big.bin", "dir/copy.bin")
    assert store.read_bytes("dir/copy.bin") == b"small"
    store.move("dir/copy.bin", "moved.bin")
    assert not store.exists("dir/copy.bin") and store.read_bytes("moved.bin") == b"small"
    store.delete("dir/big.bin", if_match=second.etag)
    with pytest.raises(NotFound):
        store.delete("dir/big.bin")
    store.delete_folder("dir", recursive=True, missing_ok=True)
    assert [f.path for f in store.list_files("", recursive=True)] == ["moved.bin"]


def test_one_winner_of_eight_create_only_writers(moto_store: Store) -> None:
    barrier = threading.Barrier(8)

    def attempt(n: int) -> bool:
        barrier.wait()
        try:
            moto_store.write("race.txt", f"{n}".encode())
        except AlreadyExists:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        assert sum(pool.map(attempt, range(8))) == 1
