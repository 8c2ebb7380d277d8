"""Peak RSS growth of a streamed 128 MiB transfer through `Store`, in a fresh process:
at most 16 MiB + block (or chunk) size x max_concurrency, the issue-5 target. No timing.

tracemalloc (test_bounded_memory.py) counts Python allocations only; this counts what the
OS sees: mapped read buffers, allocator arenas of the worker threads, the SDK's sockets."""

from __future__ import annotations

import pytest

from remote_store.backends.azure.strategy import DEFAULT_BLOCK_SIZE, DEFAULT_CHUNK_GET_SIZE
from tests.azure_support import Azurite
from tests.perf.children import run_child

MiB = 1024 * 1024
SIZE = 128 * MiB


@pytest.fixture(scope="module")
def container(azurite: Azurite) -> str:
    return azurite.new_container("perf-rss")


def _growth(azurite: Azurite, container: str, direction: str, concurrency: int) -> int:
    args = [azurite.connection_string, container, direction, str(SIZE), str(concurrency)]
    result = run_child("tests.perf.rss_child", *args)
    assert result["verified"], "the downloaded bytes differ from the uploaded ones"
    return int(result["growth"])


@pytest.mark.parametrize("concurrency", [1, 4])
def test_streamed_transfer_rss_growth_is_bounded(
    azurite: Azurite, container: str, concurrency: int
) -> None:
    up = _growth(azurite, container, "upload", concurrency)
    down = _growth(azurite, container, "download", concurrency)
    read_to = _growth(azurite, container, "read_to", concurrency)
    up_bound = 16 * MiB + DEFAULT_BLOCK_SIZE * concurrency
    down_bound = 16 * MiB + DEFAULT_CHUNK_GET_SIZE * concurrency
    assert up <= up_bound, f"upload grew {up / MiB:.1f} MiB (bound {up_bound / MiB:.0f})"
    assert down <= down_bound, f"download grew {down / MiB:.1f} MiB (bound {down_bound / MiB:.0f})"
    assert read_to <= down_bound, (
        f"read_to grew {read_to / MiB:.1f} MiB (bound {down_bound / MiB:.0f})"
    )
