"""The S3 benchmark: this library's S3 backend against boto3 doing the fewest calls for the
same result, on MiniStack started on a free loopback port (as the tests do).

    .venv/bin/python -m benchmarks.s3 --out benchmarks/results/s3.json          # ~5 min
    .venv/bin/python -m benchmarks.s3 --quick --out /tmp/s3.json                # ~1 min

Per operation: requests sent by each side (botocore's ``before-send`` event, so retries
would count) and the median time over interleaved repetitions (each repetition runs both,
in alternating order), with the ratio ours / boto3 per repetition. Then listing 10,000
keys, deleting a folder of 2,000, and a streamed upload and download at concurrency 1/4/8
with the process's peak RSS growth. Timings are MiniStack's on this machine, not AWS's.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from remote_store.store import Store
from tests.s3_support import RequestCounter, S3Server, run_server

MiB = 1024 * 1024
Op = Callable[[int], object]


def _median_ratio(ours: list[float], theirs: list[float]) -> float:
    return statistics.median(o / t for o, t in zip(ours, theirs, strict=True) if t > 0)


class Bench:
    def __init__(self, server: S3Server, reps: int) -> None:
        self.server = server
        self.reps = reps
        self.bucket = server.new_bucket("bench")
        self.backend = server.backend(self.bucket)
        self.store = Store(self.backend)
        self.ours = RequestCounter().attach(self.backend.unwrap(object))
        self.client = server.client()
        self.raw = RequestCounter().attach(self.client)

    def compare(
        self, name: str, ours: Op, boto: Op, setup: Op | None = None, reps: int | None = None
    ) -> dict[str, Any]:
        times: dict[str, list[float]] = {"ours": [], "boto3": []}
        requests: dict[str, int] = {}
        for rep in range(reps or self.reps):
            order = [("ours", ours, self.ours), ("boto3", boto, self.raw)]
            if rep % 2:
                order.reverse()
            for side, run, counter in order:
                if setup is not None:
                    setup(rep)
                counter.clear()
                started = time.perf_counter()
                run(rep)
                times[side].append(time.perf_counter() - started)
                requests[side] = len(counter)
        row = {
            "op": name,
            "requests": requests,
            "median_ms": {k: round(statistics.median(v) * 1000, 3) for k, v in times.items()},
            "ratio": round(_median_ratio(times["ours"], times["boto3"]), 3),
            "reps": reps or self.reps,
        }
        print(json.dumps(row), flush=True)
        return row

    def small_ops(self) -> list[dict[str, Any]]:
        s, c, b = self.store, self.client, self.bucket
        payload = b"x" * 1024
        s.write("fixed.bin", payload, metadata={"k": "v"})
        for i in range(20):
            s.write(f"dir/f{i:02d}.bin", payload)
        return [
            self.compare(
                "write 1 KiB, overwrite=False",
                lambda r: s.write(f"new/o{r}", payload),
                lambda r: c.put_object(Bucket=b, Key=f"new/b{r}", Body=payload, IfNoneMatch="*"),
            ),
            self.compare(
                "write 1 KiB, overwrite=True",
                lambda r: s.write("fixed.bin", payload, overwrite=True),
                lambda r: c.put_object(Bucket=b, Key="fixed.bin", Body=payload),
            ),
            self.compare(
                "read_bytes 1 KiB",
                lambda r: s.read_bytes("fixed.bin"),
                lambda r: c.get_object(Bucket=b, Key="fixed.bin")["Body"].read(),
            ),
            self.compare(
                "get_file_info",
                lambda r: s.get_file_info("fixed.bin"),
                lambda r: c.head_object(Bucket=b, Key="fixed.bin"),
            ),
            self.compare(
                "exists (a file)",
                lambda r: s.exists("fixed.bin"),
                lambda r: c.head_object(Bucket=b, Key="fixed.bin"),
            ),
            self.compare(
                "list one level (20 files)",
                lambda r: list(s.list_files("dir")),
                lambda r: c.list_objects_v2(Bucket=b, Prefix="dir/", Delimiter="/"),
            ),
            self.compare(
                "delete (NotFound when missing)",
                lambda r: s.delete(f"del/{r}"),
                # The same result needs the HEAD: DeleteObject answers 204 for a missing key.
                lambda r: (
                    c.head_object(Bucket=b, Key=f"del/{r}"),
                    c.delete_object(Bucket=b, Key=f"del/{r}"),
                ),
                setup=lambda r: s.write(f"del/{r}", payload, overwrite=True),
            ),
            self.compare(
                "copy, overwrite=True",
                lambda r: s.copy("fixed.bin", "copy.bin", overwrite=True),
                lambda r: c.copy_object(
                    Bucket=b, Key="copy.bin", CopySource={"Bucket": b, "Key": "fixed.bin"}
                ),
            ),
            self.compare(
                "move, overwrite=True",
                lambda r: s.move(f"mv/{r}", f"mv/{r}.done", overwrite=True),
                lambda r: (
                    c.copy_object(
                        Bucket=b, Key=f"mv/{r}.done", CopySource={"Bucket": b, "Key": f"mv/{r}"}
                    ),
                    c.delete_object(Bucket=b, Key=f"mv/{r}"),
                ),
                setup=lambda r: s.write(f"mv/{r}", payload, overwrite=True),
            ),
        ]

    def bulk(self, keys: int, deleted: int, reps: int) -> list[dict[str, Any]]:
        s, c, b = self.store, self.client, self.bucket
        with ThreadPoolExecutor(16) as pool:
            list(
                pool.map(
                    lambda i: c.put_object(Bucket=b, Key=f"many/{i:05d}", Body=b""), range(keys)
                )
            )

        def boto_list(r: int) -> int:
            pages = c.get_paginator("list_objects_v2").paginate(Bucket=b, Prefix="many/")
            return sum(len(p.get("Contents", [])) for p in pages)

        rows = [
            self.compare(
                f"list {keys:,} keys (recursive)",
                lambda r: sum(1 for _ in s.list_files("many", recursive=True)),
                boto_list,
                reps=reps,
            )
        ]

        def fill(r: int) -> None:
            with ThreadPoolExecutor(16) as pool:
                list(
                    pool.map(
                        lambda i: c.put_object(Bucket=b, Key=f"gone/{i:05d}", Body=b""),
                        range(deleted),
                    )
                )

        def boto_delete(r: int) -> None:
            pages = c.get_paginator("list_objects_v2").paginate(Bucket=b, Prefix="gone/")
            for page in pages:
                objects = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                if objects:
                    c.delete_objects(Bucket=b, Delete={"Objects": objects, "Quiet": True})

        rows.append(
            self.compare(
                f"delete_folder of {deleted:,} keys",
                lambda r: s.delete_folder("gone", recursive=True),
                boto_delete,
                setup=fill,
                reps=reps,
            )
        )
        return rows


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / MiB


def transfers(server: S3Server, size: int) -> list[dict[str, Any]]:
    """A streamed upload and download of *size* bytes at concurrency 1, 4, 8. Peak RSS is
    the process's high-water mark (it only grows), so each point runs in its own process."""
    rows = []
    for concurrency in (1, 4, 8):
        root = str(Path(__file__).resolve().parents[1])
        code = (
            f"import sys; sys.path.insert(0, {root!r})\n"
            "from benchmarks.s3 import _transfer_point\n"
            "from tests.s3_support import S3Server\n"
            f"_transfer_point(S3Server({server.endpoint!r}, 'ministack'), {size}, {concurrency})\n"
        )

        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-2000:])
        row = json.loads(done.stdout.strip().splitlines()[-1])
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


class _Zeros(io.RawIOBase):
    """*size* bytes of a repeating pattern, produced as read: no copy of the whole held."""

    def __init__(self, size: int) -> None:
        self._left = size
        self._block = bytes(range(256)) * 4096

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self._left, len(self._block))
        buffer[:n] = self._block[:n]
        self._left -= n
        return n


class _Sink:
    def __init__(self) -> None:
        self.total = 0

    def write(self, data: Any) -> int:
        n = len(data)
        self.total += n
        return n


def _transfer_point(server: S3Server, size: int, concurrency: int) -> None:
    bucket = server.new_bucket("xfer")
    backend = server.backend(bucket, max_concurrency=concurrency)
    store = Store(backend)
    # Growth = the lifetime peak minus the resident size before the transfer: an upper
    # bound (an import-time peak above the baseline would count too).
    base = _current_rss_mib()
    started = time.perf_counter()
    store.write("big.bin", io.BufferedReader(_Zeros(size), 4 * MiB))
    up = time.perf_counter() - started
    after_up = _peak_rss_mib()
    sink = _Sink()
    started = time.perf_counter()
    store.read_to("big.bin", sink)
    down = time.perf_counter() - started
    assert sink.total == size
    row = {
        "op": f"stream {size // MiB} MiB, c={concurrency}",
        "upload_MiB_s": round(size / MiB / up, 1),
        "download_MiB_s": round(size / MiB / down, 1),
        "peak_rss_growth_MiB": round(max(after_up, _peak_rss_mib()) - base, 1),
        "after_upload_MiB": round(after_up - base, 1),
        "bound_MiB": 16 + 8 * concurrency,
    }
    print(json.dumps(row), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.s3")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default="benchmarks/results/s3.json")
    parser.add_argument("--transfers-only", action="store_true")
    args = parser.parse_args()
    reps = 20 if args.quick else 100
    keys, deleted = (2000, 500) if args.quick else (10_000, 2_000)
    size = (64 if args.quick else 256) * MiB
    with run_server("ministack") as server:
        result: dict[str, Any] = {"command": " ".join(["python -m benchmarks.s3", *sys.argv[1:]])}
        if not args.transfers_only:
            bench = Bench(server, reps)
            result["small"] = bench.small_ops()
            result["bulk"] = bench.bulk(keys, deleted, 3 if args.quick else 5)
            bench.backend.close()
        result["transfers"] = transfers(server, size)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
