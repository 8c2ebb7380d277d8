"""Reading over HTTP from nginx on loopback: remote-store's HttpBackend against raw urllib3
and fsspec's HTTP filesystem, each with its defaults. Two workloads: one 256 MiB file read
start to end, and 1,000 random 4 KiB reads through one seekable stream (``read_seekable``,
``fs.open``; raw urllib3 sends one ranged GET per read). Requests and bytes moved are
counted from nginx's access log.

    bash scripts/install-debian.sh                          # nginx-light
    .venv/bin/pip install -e ".[bench]"                     # fsspec, aiohttp
    .venv/bin/python -m benchmarks.http_read [--size-mib 256] [--reads 1000] [--reps 3]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import urllib3

from benchmarks.targets import ROOT  # noqa: F401  (puts the repository on sys.path)
from remote_store import Store
from remote_store.backends.http import HttpBackend
from tests.http_support import WebServer, run_nginx

PIECE = 4096
MiB = 1024 * 1024


class Sink:
    """Takes bytes and counts them (a file opened for writing, without the disk)."""

    def __init__(self) -> None:
        self.received = 0

    def write(self, data: bytes | memoryview) -> int:
        self.received += len(data)
        return len(data)


def ours_sequential(url: str, name: str) -> int:
    with HttpBackend(url) as backend:
        return Store(backend).read_to(name, Sink())


def ours_random(url: str, name: str, offsets: list[int]) -> int:
    with HttpBackend(url) as backend, Store(backend).read_seekable(name) as stream:
        got = 0
        for offset in offsets:
            stream.seek(offset)
            got += len(stream.read(PIECE))
        return got


def raw_sequential(url: str, name: str) -> int:
    pool = urllib3.PoolManager()
    response = pool.request("GET", f"{url}/{name}", preload_content=False)
    buffer = bytearray(MiB)
    got = 0
    while n := response.readinto(buffer):
        got += n
    response.release_conn()
    return got


def raw_random(url: str, name: str, offsets: list[int]) -> int:
    pool = urllib3.PoolManager()
    got = 0
    for offset in offsets:
        headers = {"Range": f"bytes={offset}-{offset + PIECE - 1}"}
        got += len(pool.request("GET", f"{url}/{name}", headers=headers).data)
    return got


def fsspec_sequential(url: str, name: str) -> int:
    import fsspec

    fs = fsspec.filesystem("http", skip_instance_cache=True)
    got = 0
    with fs.open(f"{url}/{name}", "rb") as stream:
        while piece := stream.read(4 * MiB):
            got += len(piece)
    return got


def fsspec_random(url: str, name: str, offsets: list[int]) -> int:
    import fsspec

    fs = fsspec.filesystem("http", skip_instance_cache=True)
    got = 0
    with fs.open(f"{url}/{name}", "rb") as stream:
        for offset in offsets:
            stream.seek(offset)
            got += len(stream.read(PIECE))
    return got


def measure(
    server: WebServer, log: Path, label: str, run: Callable[[], int], expected: int, reps: int
) -> None:
    times, requests, moved = [], [], []
    for _ in range(reps):
        before = log.stat().st_size if log.exists() else 0
        started = time.perf_counter()
        got = run()
        times.append(time.perf_counter() - started)
        assert got == expected, (label, got, expected)
        time.sleep(0.05)  # nginx writes its log line after the answer
        with log.open("rb") as lines:
            lines.seek(before)
            entries = [line.split() for line in lines.read().decode().splitlines()]
        requests.append(len(entries))
        moved.append(sum(int(entry[2]) for entry in entries))
    print(
        f"{label:<34} median {statistics.median(times):7.3f} s  "
        f"(min {min(times):.3f}, max {max(times):.3f})  requests {max(requests):5d}  "
        f"moved {max(moved) / MiB:9.1f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--reads", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    size = args.size_mib * MiB
    rng = random.Random(20)
    offsets = [rng.randrange(size - PIECE) for _ in range(args.reads)]
    with (
        tempfile.TemporaryDirectory() as folder,
        run_nginx(Path(folder), access_log=True) as server,
    ):
        server.put("big.bin", os.urandom(size))
        url, log = server.url("files"), Path(folder) / "access.log"
        print(f"sequential read of {args.size_mib} MiB, {args.reps} runs each")
        for label, seq in (
            ("remote-store HttpBackend read_to", ours_sequential),
            ("raw urllib3, one GET", raw_sequential),
            ("fsspec HTTPFileSystem open/read", fsspec_sequential),
        ):
            measure(server, log, label, partial(seq, url, "big.bin"), size, args.reps)
        print(f"{args.reads} random reads of 4 KiB")
        for label, rand in (
            ("remote-store read_seekable", ours_random),
            ("raw urllib3, one ranged GET each", raw_random),
            ("fsspec HTTPFile seek/read", fsspec_random),
        ):
            run = partial(rand, url, "big.bin", offsets)
            measure(server, log, label, run, PIECE * args.reads, args.reps)


if __name__ == "__main__":
    main()
