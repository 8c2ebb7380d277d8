"""Large uploads on HNS: staged blocks + Put Block List vs DFS append at positions + flush.

Same chunk size and parallelism for both (so the same memory: chunk x (concurrency + 1)),
against the in-process HNS emulator. Run from the repository root:

    .venv/bin/python -m tests.azure_hns.bench_upload 64

Not a test (no ``test_`` prefix); the numbers are in docs/backends/azure.md.
"""

from __future__ import annotations

import hashlib
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from azure.storage.blob import BlobServiceClient
from azure.storage.filedatalake import ContentSettings, DataLakeServiceClient

from remote_store.backends.azure import AzureBackend
from tests.hns_emulator import HnsEmulator

MiB = 1024 * 1024


def md5(data: bytes) -> bytearray:
    return bytearray(hashlib.md5(data).digest())


def staged(emu: HnsEmulator, data: bytes, chunk: int, concurrency: int) -> tuple[float, int]:
    options = {"max_single_put_size": chunk, "max_block_size": chunk}
    with AzureBackend(
        "bench",
        connection_string=emu.connection_string,
        hns=True,
        client_options=options,
        max_concurrency=concurrency,
    ) as backend:
        emu.clear_requests()
        start = time.perf_counter()
        backend.write("staged.bin", data, overwrite=True)
        return time.perf_counter() - start, len(emu.requests)


def appended(emu: HnsEmulator, data: bytes, chunk: int, concurrency: int) -> tuple[float, int]:
    with DataLakeServiceClient.from_connection_string(emu.connection_string) as service:
        file: Any = service.get_file_system_client("bench").get_file_client("appended.bin")
        emu.clear_requests()
        start = time.perf_counter()
        file.create_file()
        view = memoryview(data)

        def append(offset: int) -> None:
            piece = view[offset : offset + chunk]
            file.append_data(bytes(piece), offset=offset, length=len(piece))

        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(append, range(0, len(data), chunk)))
        # Equal work: our staged path stores an MD5 computed while streaming; DFS stores
        # none unless the flush names one.
        file.flush_data(len(data), content_settings=ContentSettings(content_md5=md5(data)))
        return time.perf_counter() - start, len(emu.requests)


def main(size_mib: int) -> None:
    data = bytes(range(256)) * (size_mib * MiB // 256)
    with HnsEmulator() as emu:
        with BlobServiceClient.from_connection_string(emu.connection_string) as service:
            service.create_container("bench")
        print(f"{size_mib} MiB  chunk MiB  conc  staged s  reqs  append+flush s  reqs")
        for chunk_mib, concurrency in [(4, 1), (8, 1), (8, 4), (16, 4)]:
            chunk = chunk_mib * MiB
            best_s = best_a = float("inf")
            for _ in range(3):
                s, s_reqs = staged(emu, data, chunk, concurrency)
                a, a_reqs = appended(emu, data, chunk, concurrency)
                best_s, best_a = min(best_s, s), min(best_a, a)
            print(
                f"{'':8}{chunk_mib:9}  {concurrency:4}  {best_s:8.2f}  {s_reqs:4}"
                f"  {best_a:14.2f}  {a_reqs:4}"
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 64)
