"""The S3 benchmark: this library's S3 backend against boto3 doing the fewest calls for the
same result, obstore and s3fs, on MiniStack started on a free loopback port (as the tests
do). s3fs runs in its own virtual environment (``benchmarks/s3fs_child.py``):

    python3 -m venv .venv-s3fs && .venv-s3fs/bin/pip install s3fs
    .venv/bin/python -m benchmarks.s3 --out benchmarks/results/s3.json          # ~15 min
    .venv/bin/python -m benchmarks.s3 --quick --out /tmp/s3.json                # ~2 min

Per operation: requests sent by each side (botocore's ``before-send`` event for ours, boto3
and s3fs, so retries would count; obstore's at a counting proxy, in one extra untimed run)
and the median time over interleaved repetitions (each repetition runs ours, boto3 and
obstore in a rotated order), with the ratio to boto3 per repetition; s3fs runs its
repetitions afterwards in its own process, so its ratio is of medians. Then listing
10,000 keys, deleting a folder of 2,000, and a streamed upload and download at concurrency
1/4/8 with each process's peak RSS growth. Timings are MiniStack's on this machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import obstore as obs

from benchmarks.s3_others import obstore_store, s3fs_small, transfers, versions
from remote_store.store import Store
from tests.fault_proxy import FaultProxy
from tests.s3_support import RequestCounter, S3Server, run_server

MiB = 1024 * 1024
Op = Callable[[int], object]


def _obstore_delete(store: Any, r: int) -> None:
    obs.head(store, f"del/{r}")  # raises FileNotFoundError for a missing key
    obs.delete(store, f"del/{r}")


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
        self.obs = obstore_store(server.endpoint, self.bucket)
        # obstore has no request hook: its requests are counted at a proxy, untimed.
        self.proxy = FaultProxy(server.endpoint).start()
        self.obs_counted = obstore_store(self.proxy.url, self.bucket)

    def compare(
        self,
        name: str,
        ours: Op,
        boto: Op,
        obstore: Callable[[Any, int], object],
        setup: Op | None = None,
        reps: int | None = None,
    ) -> dict[str, Any]:
        times: dict[str, list[float]] = {"ours": [], "boto3": [], "obstore": []}
        requests: dict[str, int] = {}
        sides: list[tuple[str, Op, RequestCounter | None]] = [
            ("ours", ours, self.ours),
            ("boto3", boto, self.raw),
            ("obstore", lambda r: obstore(self.obs, r), None),
        ]
        reps = reps or self.reps
        for rep in range(reps):
            for side, run, counter in sides[rep % 3 :] + sides[: rep % 3]:
                if setup is not None:
                    setup(rep)
                if counter is not None:
                    counter.clear()
                started = time.perf_counter()
                run(rep)
                times[side].append(time.perf_counter() - started)
                if counter is not None:
                    requests[side] = len(counter)
        if setup is not None:
            setup(reps)
        self.proxy.clear()
        obstore(self.obs_counted, reps)
        requests["obstore"] = self.proxy.stats().requests
        row = {
            "op": name,
            "requests": requests,
            "median_ms": {k: round(statistics.median(v) * 1000, 3) for k, v in times.items()},
            "ratio": round(_median_ratio(times["ours"], times["boto3"]), 3),
            "ratio_obstore": round(_median_ratio(times["obstore"], times["boto3"]), 3),
            "reps": reps,
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
                lambda o, r: obs.put(o, f"new/x{r}", payload, mode="create"),
            ),
            self.compare(
                "write 1 KiB, overwrite=True",
                lambda r: s.write("fixed.bin", payload, overwrite=True),
                lambda r: c.put_object(Bucket=b, Key="fixed.bin", Body=payload),
                lambda o, r: obs.put(o, "fixed.bin", payload),
            ),
            self.compare(
                "read_bytes 1 KiB",
                lambda r: s.read_bytes("fixed.bin"),
                lambda r: c.get_object(Bucket=b, Key="fixed.bin")["Body"].read(),
                lambda o, r: obs.get(o, "fixed.bin").bytes(),
            ),
            self.compare(
                "get_file_info",
                lambda r: s.get_file_info("fixed.bin"),
                lambda r: c.head_object(Bucket=b, Key="fixed.bin"),
                lambda o, r: obs.head(o, "fixed.bin"),
            ),
            self.compare(
                "exists (a file)",
                lambda r: s.exists("fixed.bin"),
                lambda r: c.head_object(Bucket=b, Key="fixed.bin"),
                lambda o, r: obs.head(o, "fixed.bin"),
            ),
            self.compare(
                "list one level (20 files)",
                lambda r: list(s.list_files("dir")),
                lambda r: c.list_objects_v2(Bucket=b, Prefix="dir/", Delimiter="/"),
                lambda o, r: obs.list_with_delimiter(o, "dir/"),
            ),
            self.compare(
                "delete (NotFound when missing)",
                lambda r: s.delete(f"del/{r}"),
                # The same result needs the HEAD: DeleteObject answers 204 for a missing key.
                lambda r: (
                    c.head_object(Bucket=b, Key=f"del/{r}"),
                    c.delete_object(Bucket=b, Key=f"del/{r}"),
                ),
                _obstore_delete,
                setup=lambda r: s.write(f"del/{r}", payload, overwrite=True),
            ),
            self.compare(
                "copy, overwrite=True",
                lambda r: s.copy("fixed.bin", "copy.bin", overwrite=True),
                lambda r: c.copy_object(
                    Bucket=b, Key="copy.bin", CopySource={"Bucket": b, "Key": "fixed.bin"}
                ),
                lambda o, r: obs.copy(o, "fixed.bin", "copy.bin"),
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
                lambda o, r: obs.rename(o, f"mv/{r}", f"mv/{r}.done"),
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
                lambda o, r: sum(len(batch) for batch in obs.list(o, "many/")),
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
                lambda o, r: obs.delete(o, [m["path"] for x in obs.list(o, "gone/") for m in x]),
                setup=fill,
                reps=reps,
            )
        )
        return rows


def _merge_s3fs(rows: list[dict[str, Any]], s3fs: dict[str, dict[str, Any]]) -> None:
    for row in rows:
        theirs = s3fs.get(row["op"])
        if theirs is None:
            continue
        median = statistics.median(theirs["seconds"]) * 1000
        row["requests"]["s3fs"] = theirs["requests"]
        row["median_ms"]["s3fs"] = round(median, 3)
        row["ratio_s3fs"] = round(median / row["median_ms"]["boto3"], 3)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.s3")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default="benchmarks/results/s3.json")
    parser.add_argument("--transfers-only", action="store_true")
    parser.add_argument("--skip-transfers", action="store_true")
    parser.add_argument("--size-mib", type=int, help="transfer size (default 1024; quick 64)")
    parser.add_argument("--impls", default="ours,boto3,obstore,s3fs", help="transfer sides")
    parser.add_argument("--concurrency", default="1,4,8", help="transfer concurrencies")
    parser.add_argument(
        "--env", action="append", default=[], help="KEY=VALUE for the transfer processes"
    )
    args = parser.parse_args()
    reps = 20 if args.quick else 100
    keys, deleted = (2000, 500) if args.quick else (10_000, 2_000)
    size = (args.size_mib or (64 if args.quick else 1024)) * MiB
    env = dict(item.split("=", 1) for item in args.env)
    started = time.time()
    with run_server("ministack") as server:
        result: dict[str, Any] = {"command": " ".join(["python -m benchmarks.s3", *sys.argv[1:]])}
        result["versions"] = versions()
        result["started"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started))
        if not args.transfers_only:
            bench = Bench(server, reps)
            result["small"] = bench.small_ops()
            bulk_reps = 3 if args.quick else 5
            result["bulk"] = bench.bulk(keys, deleted, bulk_reps)
            s3fs = s3fs_small(
                server, bench.bucket, reps=reps, bulk_reps=bulk_reps, keys=keys, deleted=deleted
            )
            _merge_s3fs(result["small"] + result["bulk"], s3fs)
            bench.backend.close()
            bench.proxy.close()
        if not args.skip_transfers:
            result["transfer_env"] = env
            result["transfers"] = transfers(
                server,
                size,
                args.impls.split(","),
                env,
                tuple(int(c) for c in args.concurrency.split(",")),
            )
    result["seconds"] = round(time.time() - started)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
