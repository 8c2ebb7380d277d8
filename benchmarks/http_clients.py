"""urllib3 against httpx on nginx over loopback (sdd/decisions.md, 13): 4,000 GETs of
1 KiB from 4 threads sharing one client, then one 64 MiB body streamed.

    bash scripts/install-debian.sh                     # nginx-light
    .venv/bin/pip install httpx
    .venv/bin/python -m benchmarks.http_clients
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from pathlib import Path

import urllib3

from benchmarks.targets import ROOT  # noqa: F401  (puts the repository on sys.path)
from tests.http_support import run_nginx

SMALL, BIG, REQUESTS, THREADS = 1024, 64 << 20, 4000, 4


def bench(name: str, get_small: Callable[[], int], stream_big: Callable[[], int]) -> None:
    started, cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(THREADS) as pool:
        sizes = list(pool.map(lambda _: get_small(), range(REQUESTS)))
    small, small_cpu = time.perf_counter() - started, time.process_time() - cpu
    assert all(size == SMALL for size in sizes)
    started, cpu = time.perf_counter(), time.process_time()
    assert stream_big() == BIG
    big, big_cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"{name}: {REQUESTS} GETs x 1 KiB, {THREADS} threads: {small:.2f} s "
        f"({REQUESTS / small:.0f}/s, cpu {small_cpu:.2f} s); 64 MiB streamed: {big:.3f} s "
        f"({64 / big:.0f} MiB/s, cpu {big_cpu:.2f} s)"
    )


def one_round(small: str, big: str) -> None:
    import httpx

    pool = urllib3.PoolManager(maxsize=8, retries=False)

    def u_small() -> int:
        return len(pool.request("GET", small).data)

    def u_big() -> int:
        response = pool.request("GET", big, preload_content=False)
        total = sum(len(piece) for piece in response.stream(1 << 20))
        response.release_conn()
        return total

    bench(f"urllib3 {version('urllib3')}", u_small, u_big)
    client = httpx.Client(limits=httpx.Limits(max_connections=8))

    def h_small() -> int:
        return len(client.get(small).content)

    def h_big() -> int:
        with client.stream("GET", big) as response:
            return sum(len(piece) for piece in response.iter_bytes(1 << 20))

    bench(f"httpx {version('httpx')}", h_small, h_big)
    client.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, run_nginx(Path(folder)) as server:
        server.put("small.bin", os.urandom(SMALL))
        server.put("big.bin", os.urandom(BIG))
        for _ in range(2):
            one_round(server.url("files/small.bin"), server.url("files/big.bin"))


if __name__ == "__main__":
    main()
