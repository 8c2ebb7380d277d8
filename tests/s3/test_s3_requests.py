"""S3-010..S3-016: each operation in the fewest requests, counted through botocore's
``before-send`` event (retries included) on a real MiniStack."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from remote_store.store import Store
from tests.s3.conftest import MakeBackend
from tests.s3_support import RequestCounter, S3Server

pytestmark = pytest.mark.s3

MiB = 1024 * 1024

Budget = tuple[str, Callable[[Store], object], dict[str, int]]

BUDGETS: list[Budget] = [
    # S3-010: create-only is one PutObject carrying If-None-Match: *, no HEAD before it.
    ("write_new", lambda s: s.write("new.bin", b"x"), {"PutObject": 1}),
    ("write_overwrite", lambda s: s.write("a.bin", b"y", overwrite=True), {"PutObject": 1}),
    (
        "write_if_match",
        lambda s: s.write("a.bin", b"z", overwrite=True, if_match=s.get_file_info("a.bin").etag),
        {"HeadObject": 1, "PutObject": 1},  # the HEAD is the caller's get_file_info
    ),
    ("read_bytes", lambda s: s.read_bytes("a.bin"), {"GetObject": 1}),
    ("get_file_info", lambda s: s.get_file_info("a.bin"), {"HeadObject": 1}),
    ("exists_file", lambda s: s.exists("a.bin"), {"HeadObject": 1}),
    ("is_folder", lambda s: s.is_folder("d"), {"ListObjectsV2": 1}),
    ("list_files", lambda s: list(s.list_files("d")), {"ListObjectsV2": 1}),
    ("list_recursive", lambda s: list(s.list_files("", recursive=True)), {"ListObjectsV2": 1}),
    # S3-013: S3 answers 204 whether or not the key was there: one HEAD says which.
    ("delete", lambda s: s.delete("a.bin"), {"HeadObject": 1, "DeleteObject": 1}),
    (
        "copy_overwrite",
        lambda s: s.copy("a.bin", "c.bin", overwrite=True),
        {"CopyObject": 1},
    ),
    (
        "copy_create_only",
        lambda s: s.copy("a.bin", "c.bin"),
        {
            "HeadObject": 1,
            "CreateMultipartUpload": 1,
            "UploadPartCopy": 1,
            "CompleteMultipartUpload": 1,
        },
    ),
    (
        "move_overwrite",
        lambda s: s.move("a.bin", "m.bin", overwrite=True),
        # S3-016: HEAD (the version to pin), CopyObject pinned to it, DeleteObject with
        # If-Match on it: the delete needs no HEAD of its own.
        {"HeadObject": 1, "CopyObject": 1, "DeleteObject": 1},
    ),
]


@pytest.mark.parametrize(("name", "call", "expected"), BUDGETS, ids=[b[0] for b in BUDGETS])
def test_request_budget(
    make_backend: MakeBackend,
    counter: RequestCounter,
    name: str,
    call: Callable[[Store], object],
    expected: dict[str, int],
) -> None:
    store = Store(make_backend())
    store.write("a.bin", b"content", metadata={"k": "v"})
    store.write("d/f.bin", b"f")
    counter.clear()
    call(store)
    assert dict(Counter(counter.sent)) == expected


def test_multipart_write_budget(make_backend: MakeBackend, counter: RequestCounter) -> None:
    """S3-014: past single_put_size, one Create, one UploadPart per part, one Complete."""
    store = Store(make_backend(part_size=5 * MiB, single_put_size=5 * MiB))
    data = bytes(range(256)) * (11 * MiB // 256)
    counter.clear()
    result = store.write("big.bin", data)
    assert dict(Counter(counter.sent)) == {
        "CreateMultipartUpload": 1,
        "UploadPart": 3,
        "CompleteMultipartUpload": 1,
    }
    assert result.etag is not None and result.etag.endswith("-3")
    assert store.read_bytes("big.bin") == data


def test_recursive_delete_batches_a_thousand_keys(
    ministack: S3Server, bucket: str, make_backend: MakeBackend, counter: RequestCounter
) -> None:
    """S3-015: 1,001 files go in two DeleteObjects requests (1,000 keys, then 1)."""
    client = ministack.client()
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                lambda i: client.put_object(Bucket=bucket, Key=f"big/{i:04d}", Body=b""),
                range(1001),
            )
        )
    store = Store(make_backend())
    counter.clear()
    store.delete_folder("big", recursive=True)
    sent = Counter(counter.sent)
    assert sent["DeleteObjects"] == 2
    assert sent["ListObjectsV2"] == 2  # pages of 1,000 keys, listed lazily
    assert client.list_objects_v2(Bucket=bucket, Prefix="big/").get("KeyCount", 0) == 0
