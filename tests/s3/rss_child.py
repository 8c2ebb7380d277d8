"""Run by test_s3_rss.py in a fresh process: one streamed upload to S3, then print the
process's peak RSS growth over it (``VmHWM`` at the end minus ``VmRSS`` before)."""

from __future__ import annotations

import io
import json
import sys
from typing import Any

from remote_store.store import Store
from tests.s3_support import S3Server


def _status(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(field)


class Pattern(io.RawIOBase):
    """*size* bytes of a repeating pattern, made as read: the harness holds no copy."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.block = bytes(range(256)) * 4096

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.left, len(self.block))
        buffer[:n] = self.block[:n]
        self.left -= n
        return n


def main(endpoint: str, bucket: str, size: int, concurrency: int) -> None:
    store = Store(S3Server(endpoint, "ministack").backend(bucket, max_concurrency=concurrency))
    base = _status("VmRSS")
    result = store.write("big.bin", io.BufferedReader(Pattern(size), 4 * 1024 * 1024))
    print(json.dumps({"growth": _status("VmHWM") - base, "size": result.size}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
