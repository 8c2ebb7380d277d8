"""Measure upload/download throughput and request counts for transfer sizes, on Azurite.

    bash scripts/install-azurite.sh
    .venv/bin/python benchmarks/azure_transfer.py [SIZE_MIB]

Loopback Azurite has no network latency, so it shows per-request overhead and memory, not
the throughput of a real account; see docs/backends/azure.md for how the defaults follow.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from remote_store.backends.azure import AzureBackend
from remote_store.store import Store
from tests.azure_support import RequestLog, run_azurite

MiB = 1024 * 1024


def main() -> None:
    size = int(sys.argv[1]) * MiB if len(sys.argv) > 1 else 64 * MiB
    data = os.urandom(size)
    with tempfile.TemporaryDirectory() as tmp, run_azurite(Path(tmp)) as azurite:
        container = azurite.new_container("bench")
        print(f"payload {size // MiB} MiB")
        print("block MiB  chunk MiB  conc  write s  reqs  read_bytes s  read() s  reqs")
        for block, chunk, conc in [(4, 4, 1), (8, 4, 1), (8, 8, 1), (16, 8, 1), (8, 4, 4)]:
            log = RequestLog()
            options = {
                "raw_response_hook": log,
                "max_single_put_size": block * MiB,
                "max_block_size": block * MiB,
                "max_single_get_size": chunk * MiB,
                "max_chunk_get_size": chunk * MiB,
            }
            backend = AzureBackend(
                container,
                connection_string=azurite.connection_string,
                client_options=options,
                max_concurrency=conc,
                hns=False,
            )
            store = Store(backend)
            start = time.perf_counter()
            store.write("bench.bin", io.BytesIO(data), overwrite=True)
            write_s, write_n = time.perf_counter() - start, len(log)
            start = time.perf_counter()
            assert store.read_bytes("bench.bin") == data
            read_bytes_s = time.perf_counter() - start
            log.clear()
            start = time.perf_counter()
            with store.read("bench.bin") as stream:
                while stream.read(1024 * 1024):
                    pass
            read_s, read_n = time.perf_counter() - start, len(log)
            print(
                f"{block:9} {chunk:10} {conc:5} {write_s:8.2f} {write_n:5} "
                f"{read_bytes_s:13.2f} {read_s:9.2f} {read_n:5}"
            )
            backend.close()


if __name__ == "__main__":
    main()
