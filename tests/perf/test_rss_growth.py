"""Peak RSS growth of a streamed 128 MiB transfer through `Store`, in a fresh process:
at most 16 MiB + block (or chunk) size x max_concurrency, the issue-5 target. No timing.

tracemalloc (test_bounded_memory.py) counts Python allocations only; this counts what the
OS sees: mapped read buffers, allocator arenas of the worker threads, the SDK's sockets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from remote_store.backends.azure.strategy import DEFAULT_BLOCK_SIZE, DEFAULT_CHUNK_GET_SIZE
from tests.azure_support import Azurite

MiB = 1024 * 1024
SIZE = 128 * MiB
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def container(azurite: Azurite) -> str:
    return azurite.new_container("perf-rss")


def _growth(azurite: Azurite, container: str, direction: str, concurrency: int) -> int:
    args = [azurite.connection_string, container, direction, str(SIZE), str(concurrency)]
    done = subprocess.run(
        [sys.executable, "-m", "tests.perf.rss_child", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
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
