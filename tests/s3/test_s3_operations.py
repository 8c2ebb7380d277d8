"""S3-001..S3-009: what the S3 backend does on a real MiniStack: markers, multipart
uploads and their abort, conditions on the committing request, pinned copies, errors."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from remote_store.errors import (
    AlreadyExists,
    ContainerNotFound,
    InvalidArgument,
    IsAFolder,
    NotFound,
    PreconditionFailed,
)
from remote_store.models import FileInfo, FolderEntry
from remote_store.store import Store
from tests.s3.conftest import MakeBackend
from tests.s3_support import S3Server

pytestmark = pytest.mark.s3

MiB = 1024 * 1024
SMALL_PARTS = {"part_size": 5 * MiB, "single_put_size": 5 * MiB}


def _uploads(server: S3Server, bucket: str) -> list[Any]:
    return list(server.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []))


def _data(size: int) -> bytes:
    return (hashlib.sha256(b"seed").digest() * (size // 32 + 1))[:size]


def test_folder_markers_are_never_files(ministack: S3Server, bucket: str, store: Store) -> None:
    """S3-001: zero-byte ``dir/`` objects made by consoles and other tools are folders."""
    client = ministack.client()
    for key in ("docs/", "docs/sub/", "empty/"):
        client.put_object(Bucket=bucket, Key=key, Body=b"")
    client.put_object(Bucket=bucket, Key="docs/a.txt", Body=b"a")
    assert [f.path for f in store.list_files("", recursive=True)] == ["docs/a.txt"]
    children = list(store.iter_children("docs"))
    assert [c.path for c in children if isinstance(c, FileInfo)] == ["docs/a.txt"]
    assert [c.path for c in children if isinstance(c, FolderEntry)] == ["docs/sub"]
    assert not store.is_file("docs")
    with pytest.raises(IsAFolder):
        store.get_file_info("docs")
    with pytest.raises(IsAFolder):
        store.read_bytes("docs")
    store.delete_folder("docs", recursive=True)
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["empty/"]


def test_multipart_round_trip_and_digest(make_backend: MakeBackend) -> None:
    """S3-002: content past single_put_size goes up in parts and reads back intact; the
    write reports the content's MD5 and the multipart ETag HEAD reports."""
    store = Store(make_backend(**SMALL_PARTS))
    data = _data(12 * MiB + 5)
    result = store.write("big.bin", data, metadata={"origin": "test"})
    assert result.digest is not None and result.digest.value == hashlib.md5(data).hexdigest()
    info = store.get_file_info("big.bin")
    assert info.etag == result.etag and info.size == len(data)
    assert dict(info.metadata or {}) == {"origin": "test"}
    assert store.read_bytes("big.bin") == data
    with store.read_seekable("big.bin") as stream:
        stream.seek(7 * MiB)
        assert stream.read(100) == data[7 * MiB : 7 * MiB + 100]


def test_create_only_multipart_conflict_aborts(
    ministack: S3Server, bucket: str, make_backend: MakeBackend
) -> None:
    """S3-003: a create-only multipart upload that loses leaves no upload behind."""
    store = Store(make_backend(**SMALL_PARTS))
    store.write("k.bin", b"first")
    with pytest.raises(AlreadyExists):
        store.write("k.bin", _data(11 * MiB))
    assert store.read_bytes("k.bin") == b"first"
    assert _uploads(ministack, bucket) == []


def test_if_match_on_complete(ministack: S3Server, bucket: str, make_backend: MakeBackend) -> None:
    """S3-004: ``if_match`` rides on CompleteMultipartUpload: a stale etag fails, aborted."""
    store = Store(make_backend(**SMALL_PARTS))
    stale = store.write("k.bin", b"v1").etag
    current = store.write("k.bin", b"v2", overwrite=True).etag
    with pytest.raises(PreconditionFailed):
        store.write("k.bin", _data(11 * MiB), overwrite=True, if_match=stale)
    assert _uploads(ministack, bucket) == []
    data = _data(11 * MiB)
    store.write("k.bin", data, overwrite=True, if_match=current)
    assert store.read_bytes("k.bin") == data


def test_open_atomic_failure_aborts(
    ministack: S3Server, bucket: str, make_backend: MakeBackend
) -> None:
    """S3-005: an exception inside ``open_atomic`` after parts went up: nothing visible,
    no upload left."""
    store = Store(make_backend(**SMALL_PARTS))
    with pytest.raises(RuntimeError), store.open_atomic("k.bin") as out:
        out.write(_data(11 * MiB))
        raise RuntimeError("producer failed")
    assert not store.exists("k.bin")
    assert _uploads(ministack, bucket) == []


def test_copy_keeps_metadata_and_create_only_copy_is_atomic(
    ministack: S3Server, bucket: str, store: Store
) -> None:
    """S3-006: copy keeps user metadata and content type; ``overwrite=False`` fails on an
    existing target and leaves no upload."""
    ministack.client().put_object(
        Bucket=bucket, Key="src.csv", Body=b"a,b", Metadata={"k": "v"}, ContentType="text/csv"
    )
    store.copy("src.csv", "dst.csv")
    info = store.get_file_info("dst.csv")
    assert dict(info.metadata or {}) == {"k": "v"} and info.content_type == "text/csv"
    store.write("other.csv", b"keep")
    with pytest.raises(AlreadyExists):
        store.copy("src.csv", "other.csv")
    assert store.read_bytes("other.csv") == b"keep"
    store.copy("src.csv", "other.csv", overwrite=True)
    assert store.read_bytes("other.csv") == b"a,b"
    assert _uploads(ministack, bucket) == []


def test_move_pinned_to_the_source_etag(store: Store) -> None:
    """S3-007: move with a stale ``if_match`` changes nothing."""
    stale = store.write("a.txt", b"1").etag
    store.write("a.txt", b"2", overwrite=True)
    with pytest.raises(PreconditionFailed):
        store.move("a.txt", "b.txt", if_match=stale)
    assert store.read_bytes("a.txt") == b"2" and not store.exists("b.txt")


def test_missing_bucket_and_metadata_errors(ministack: S3Server, make_backend: MakeBackend) -> None:
    """S3-008: a missing bucket is NotFound naming the bucket; metadata S3 would change is
    refused before any request."""
    store = Store(make_backend(bucket="no-such-bucket-here"))
    with pytest.raises(ContainerNotFound, match="bucket does not exist") as missing:
        store.read_bytes("x")
    assert missing.value.service_code == "NoSuchBucket"
    with pytest.raises(InvalidArgument):
        Store(make_backend()).write("x", b"", metadata={"Upper": "v"})


def test_empty_object_reads(store: Store) -> None:
    """S3-009: an empty object (a ranged GET answers 416) reads as empty."""
    store.write("e.bin", b"")
    assert store.read_bytes("e.bin") == b""
    with store.read_seekable("e.bin") as stream:
        assert stream.read() == b""


def test_one_request_copy_keeps_metadata_and_reports_misses(store: Store) -> None:
    """S3-006: ``copy(overwrite=True)`` is one CopyObject: metadata kept; a missing source
    is NotFound, a folder IsAFolder (found after the refused copy, on the failure path)."""
    store.write("src.txt", b"s", metadata={"k": "v"})
    store.copy("src.txt", "dst.txt", overwrite=True)
    assert dict(store.get_file_info("dst.txt").metadata or {}) == {"k": "v"}
    with pytest.raises(NotFound):
        store.copy("missing.txt", "x.txt", overwrite=True)
    store.write("dir/f.txt", b"f")
    with pytest.raises(IsAFolder):
        store.copy("dir", "x.txt", overwrite=True)
    assert not store.exists("x.txt")
