"""Per-operation cost of LocalBackend (descriptor walk, fsync) on this machine's disk.

    .venv/bin/python -m benchmarks.local_ops [N]

Best of 3 runs of N operations each (default 500) on keys three folders deep.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable

from remote_store.backends import LocalBackend


def main(n: int) -> None:
    with tempfile.TemporaryDirectory(dir="/tmp") as where:
        backend = LocalBackend(where)
        keys = [f"a/b/c/f{i}.txt" for i in range(n)]

        def timed(name: str, action: Callable[[], object]) -> None:
            best = min(_seconds(action) for _ in range(3))
            print(f"{name:<30} {best / n * 1e6:9.1f} us/op", flush=True)

        timed(
            "write 64 B (fsync)",
            lambda: [backend.write(k, b"x" * 64, overwrite=True) for k in keys],
        )
        timed("read_bytes", lambda: [backend.read_bytes(k) for k in keys])
        timed("get_file_info", lambda: [backend.get_file_info(k) for k in keys])
        timed("list_files, per file listed", lambda: list(backend.list_files("a/b/c")))
        timed("delete", lambda: [backend.delete(k, missing_ok=True) for k in keys])


def _seconds(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
