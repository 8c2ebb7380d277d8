"""Run one streamed transfer through `Store` in this fresh process and print how far its
resident set grew (``VmHWM`` at the end minus the RSS just before): used by
test_rss_growth.py, since tracemalloc does not see mapped buffers or allocator arenas.

    python -m tests.perf.rss_child CONN_STRING CONTAINER upload|download|read_to SIZE CONCURRENCY
"""

from __future__ import annotations

import hashlib
import json
import resource
import sys
from typing import Any, BinaryIO, cast

from remote_store.backends.azure import AzureBackend
from remote_store.store import Store
from tests.perf.streams import CountingStream

MiB = 1024 * 1024


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def _peak() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


class _Hashing:
    def __init__(self, digest: Any) -> None:
        self.write = digest.update


def main(connection_string: str, container: str, direction: str, size: int, c: int) -> None:
    backend = AzureBackend(
        container, connection_string=connection_string, max_concurrency=c, hns=False
    )
    with Store(backend) as store:
        store.exists("warm-up")  # clients, pools and imports exist before the baseline
        digest = hashlib.md5()
        before = _rss()
        if direction == "upload":
            store.write("rss.bin", cast(BinaryIO, CountingStream(size)), overwrite=True)
        elif direction == "read_to":
            store.read_to("rss.bin", _Hashing(digest))
        else:
            buffer = bytearray(MiB)
            with store.read("rss.bin") as stream:
                while n := stream.readinto(buffer):  # type: ignore[attr-defined]
                    digest.update(memoryview(buffer)[:n])
        growth = _peak() - before
        expected = CountingStream(size)
        while expected.read(MiB):
            pass
        ok = direction == "upload" or digest.hexdigest() == expected.md5.hexdigest()
    print(json.dumps({"growth": growth, "verified": ok}))


if __name__ == "__main__":
    conn, cont, way, size, conc = sys.argv[1:6]
    main(conn, cont, way, int(size), int(conc))
