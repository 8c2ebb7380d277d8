"""Large streamed transfers, one fresh process per measurement.

A fresh process makes the RSS high-water mark (``ru_maxrss``) mean something: the growth is
the peak during the transfer minus the resident size just before it (after imports, client
construction and the data generator). Upload data comes from a generating stream; every
downloaded byte is compared with the generator, so nothing of the file is held by the
harness.

Run by the suite as ``python -m benchmarks.transfer '<json>'``; prints one JSON line.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from benchmarks.common import (
    COUNTER,
    GeneratingStream,
    MiB,
    VerifyingSink,
    install_counter,
    rss_now,
    rss_peak,
)
from benchmarks.impls import build
from benchmarks.targets import ROOT, Target


@dataclass(frozen=True)
class Plan:
    size: int
    upload_reps: int
    download_reps: int  # downloads are quick and, on 2 cores shared with the server, noisy
    concurrencies: tuple[int, ...]
    sweep_size: int  # 0: no sweep

    def reps(self, direction: str) -> int:
        return self.upload_reps if direction == "upload" else self.download_reps


def narrowed(plan: Plan, concurrencies: str, reps: str) -> Plan:
    """*plan* at some concurrencies only (``"4,8"``) and/or other repetition counts
    (``"upload,download"``), without the size sweep: more samples of a few points."""
    if concurrencies:
        plan = replace(plan, concurrencies=tuple(int(c) for c in concurrencies.split(",")))
    if reps:
        upload, download = (int(n) for n in reps.split(","))
        plan = replace(plan, upload_reps=upload, download_reps=download)
    return replace(plan, sweep_size=0)


FULL = Plan(1024 * MiB, 3, 9, (1, 4, 8), 256 * MiB)
QUICK = Plan(64 * MiB, 1, 1, (1, 4), 32 * MiB)
HNS_FULL = Plan(1024 * MiB, 5, 9, (1, 4, 8), 0)


def child(spec: dict[str, Any]) -> dict[str, Any]:
    install_counter()
    target = Target(spec["target"], spec["connection_string"], spec["hns"])
    impl = build(
        spec["impl"],
        target,
        spec["container"],
        concurrency=spec["concurrency"],
        **spec.get("options", {}),
    )
    size = spec["size"]
    stream, sink = GeneratingStream(size), VerifyingSink(size)
    before = rss_now()
    COUNTER.reset()
    t0 = time.perf_counter()
    if spec["direction"] == "upload":
        impl.upload(spec["key"], stream, size)
    else:
        impl.download(spec["key"], sink)
    seconds = time.perf_counter() - t0
    counts = COUNTER.snapshot()
    peak = rss_peak()
    if spec["direction"] == "upload":
        from azure.storage.blob import BlobServiceClient

        with BlobServiceClient.from_connection_string(target.connection_string) as service:
            props = service.get_blob_client(spec["container"], spec["key"]).get_blob_properties()
        if props.size != size or stream.pos != size:
            raise AssertionError(f"uploaded {props.size} bytes, read {stream.pos}, of {size}")
    else:
        sink.check()
    impl.close()
    return {
        "seconds": seconds,
        **counts,
        "rss_before": before,
        "rss_growth": max(peak - before, 0),
        "largest_read": stream.largest_read,
        "largest_write": sink.largest_write,
    }


def _spawn(spec: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.transfer", json.dumps(spec)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["?"]
        return {"error": tail[0][:300]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_all(
    target: Target, container: str, plan: Plan, log: Callable[[str], None] = print
) -> list[dict[str, Any]]:
    from azure.storage.blob import BlobServiceClient

    base = {
        "target": target.name,
        "connection_string": target.connection_string,
        "hns": target.hns,
        "container": container,
    }
    records: dict[tuple[str, int], dict[str, Any]] = {}
    with BlobServiceClient.from_connection_string(target.connection_string) as service:
        service.get_blob_client(container, "big/src").upload_blob(
            GeneratingStream(plan.size),  # type: ignore[arg-type]
            length=plan.size,
            overwrite=True,
            max_concurrency=4,
        )
    runs: list[tuple[str, int]] = []
    for c in plan.concurrencies:
        runs += [("ours", c), ("sdk", c)]
    if 1 in plan.concurrencies:  # both run at their default concurrency, 1
        runs += [("sdk-defaults", 1), ("adlfs", 1)]
    label = f"{plan.size // MiB} MiB" if plan.size < 1024 * MiB else f"{plan.size // 1024**3} GiB"
    for rep in range(max(plan.upload_reps, plan.download_reps)):
        for direction in ("upload", "download"):
            if rep >= plan.reps(direction):
                continue
            order = list(runs)
            if direction == "upload":  # a download has nothing to hash: same as sdk
                order += [("sdk+md5", c) for c in plan.concurrencies]
            # Shuffled, not rotated: in a rotation each run always follows the same one,
            # and a run right after the SDK's 1 GiB download at c=1 was slowed by it.
            random.Random(f"{direction}-{rep}").shuffle(order)
            for impl, c in order:
                key = "big/src" if direction == "download" else f"big/up-{impl}"
                spec = {**base, "impl": impl, "direction": direction, "size": plan.size}
                spec.update(concurrency=c, key=key)
                result = _spawn(spec)
                record = records.setdefault(
                    (direction, c),
                    {
                        "group": "transfer",
                        "op": f"{direction} {label}, max_concurrency {c}",
                        "params": {"bytes": plan.size, "concurrency": c, "direction": direction},
                        "impls": {},
                    },
                )
                slot = record["impls"].setdefault(impl, {"samples": [], "error": None})
                if "error" in result:
                    slot["error"] = result["error"]
                else:
                    slot["samples"].append(result)
                seconds = result.get("seconds")
                shown = f"{plan.size / MiB / seconds:7.1f} MiB/s" if seconds else result["error"]
                growth = result.get("rss_growth", 0) / MiB
                log(f"  {direction:8} {impl:12} c={c}: {shown}  rss +{growth:.0f} MiB")
    out = list(records.values())
    if plan.sweep_size:
        out += sweep(base, plan.sweep_size, log)
    return out


def sweep(base: dict[str, Any], size: int, log: Callable[[str], None]) -> list[dict[str, Any]]:
    """Our upload block size and download chunk size, to choose the defaults."""
    from azure.storage.blob import BlobServiceClient

    with BlobServiceClient.from_connection_string(base["connection_string"]) as service:
        service.get_blob_client(base["container"], "sweep/src").upload_blob(
            GeneratingStream(size),  # type: ignore[arg-type]
            length=size,
            overwrite=True,
            max_concurrency=4,
        )
    out = []
    for direction, option in (("upload", "max_block_size"), ("download", "max_chunk_get_size")):
        for c in (1, 4):
            impls: dict[str, Any] = {}
            for mib in (4, 8, 16):
                options = {option: mib * MiB}
                if direction == "upload":
                    options["max_single_put_size"] = mib * MiB
                key = "sweep/src" if direction == "download" else "sweep/up"
                spec = {**base, "impl": "ours", "direction": direction, "size": size}
                spec.update(concurrency=c, key=key, options=options)
                result = _spawn(spec)
                name = f"{mib} MiB"
                impls[name] = {"samples": [] if "error" in result else [result]}
                impls[name]["error"] = result.get("error")
                log(f"  sweep {direction} {option}={mib} MiB c={c}: {result.get('seconds')}")
            out.append(
                {
                    "group": "sweep",
                    "op": f"{direction} {size // MiB} MiB, {option}, max_concurrency {c}",
                    "params": {"bytes": size, "concurrency": c, "direction": direction},
                    "impls": impls,
                }
            )
    return out


if __name__ == "__main__":
    print(json.dumps(child(json.loads(sys.argv[1]))))
