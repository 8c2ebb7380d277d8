"""S3-060: peak RSS growth of a streamed upload, in a fresh process, stays within 16 MiB +
part size x max_concurrency. Measured by the OS (``VmHWM``), so it sees what tracemalloc
does not: the sender threads' malloc arenas. 128 MiB at concurrency 8 grew 90.6 and 90.7
MiB with a new `bytes` per part (this test failed), 65.1, 73.2 and 65.2 MiB with reused
part buffers, against 80. No timing."""

from __future__ import annotations

import pytest

from remote_store.backends.s3.model import DEFAULT_PART_SIZE
from tests.perf.children import run_child
from tests.s3_support import S3Server

pytestmark = pytest.mark.s3

MiB = 1024 * 1024


def test_streamed_upload_rss_growth_is_bounded_at_concurrency_8(
    ministack: S3Server, bucket: str
) -> None:
    size, concurrency = 128 * MiB, 8
    result = run_child(
        "tests.s3.rss_child", ministack.endpoint, bucket, str(size), str(concurrency)
    )
    assert result["size"] == size
    bound = 16 * MiB + DEFAULT_PART_SIZE * concurrency
    growth = result["growth"]
    assert growth <= bound, f"upload grew {growth / MiB:.1f} MiB (bound {bound / MiB:.0f})"
    assert ministack.client().head_object(Bucket=bucket, Key="big.bin")["ContentLength"] == size
