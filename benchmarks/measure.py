"""Interleaved measurement: every repetition runs each implementation once, in rotating
order, so machine noise (other processes, the emulator's garbage collection) hits all of
them alike; ratios are taken per repetition against the raw SDK of that repetition."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from benchmarks.common import COUNTER
from benchmarks.impls import Impl

Setup = Callable[[Impl, int], None]
Operation = Callable[[Impl, int], Any]
Check = Callable[[Impl, Any], None]


def interleave(
    group: str,
    op: str,
    impls: list[Impl],
    reps: int,
    run: Operation,
    *,
    setup: Setup | None = None,
    check: Check | None = None,
    params: dict[str, Any] | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run *run* ``reps`` times per implementation; return the samples and any error."""
    results: dict[str, dict[str, Any]] = {
        impl.name: {"samples": [], "error": None, "prefixes": None} for impl in impls
    }
    started = time.perf_counter()
    for rep in range(reps):
        shift = rep % len(impls)
        for impl in impls[shift:] + impls[:shift]:
            slot = results[impl.name]
            if slot["error"]:
                continue
            try:
                if setup is not None:
                    setup(impl, rep)
                COUNTER.reset(keep_urls=rep == 0)
                t0 = time.perf_counter()
                value = run(impl, rep)
                seconds = time.perf_counter() - t0
                counts = COUNTER.snapshot()
                if rep == 0:
                    slot["prefixes"] = COUNTER.listed_prefixes()
                if check is not None:
                    check(impl, value)
            except Exception as exc:
                slot["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
                log(f"    {impl.name} {op}: {slot['error']}")
                log("".join(traceback.format_exception(exc, limit=-3))[-1500:])
                continue
            slot["samples"].append({"seconds": seconds, **counts})
    log(f"  {group}/{op}: {reps} reps in {time.perf_counter() - started:.1f}s")
    return {"group": group, "op": op, "params": params or {}, "impls": results}


def expect(value: Any) -> Check:
    def check(impl: Impl, got: Any) -> None:
        if got != value:
            raise AssertionError(f"{impl.name}: expected {value!r}, got {got!r}")

    return check


def seed(container: Any, names: list[str], data: bytes, workers: int = 8) -> None:
    """Create blobs quickly (not measured)."""

    def put(name: str) -> None:
        container.get_blob_client(name).upload_blob(data, overwrite=True)

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(put, names))
