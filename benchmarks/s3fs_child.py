"""The s3fs side of the S3 benchmark, run by ``benchmarks/s3.py`` in s3fs's own virtual
environment (its aiobotocore pins a botocore older than ours, so the two cannot share one):

    python3 -m venv .venv-s3fs && .venv-s3fs/bin/pip install s3fs

Standalone (imports nothing from this repository). Reads one JSON job from argv[1] and
prints one JSON line per operation: the requests of the last repetition (botocore's
``before-send`` event, as for the other sides) and every repetition's seconds. A
``transfer`` job streams *size* bytes up (``open("wb")``) and down (``open("rb")``) and
reports the process's peak RSS growth (``VmHWM`` minus the resident size before).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import s3fs  # type: ignore[import-not-found]  # in .venv-s3fs only

MiB = 1024 * 1024


def _status(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(field)


def _fs(job: dict[str, Any]) -> tuple[s3fs.S3FileSystem, list[int]]:
    fs = s3fs.S3FileSystem(
        key="test",
        secret="test",
        endpoint_url=job["endpoint"],
        client_kwargs={"region_name": "us-east-1"},
        use_listings_cache=False,
        config_kwargs={"read_timeout": 900},
    )
    fs.connect()
    sent = [0]

    def count(**kwargs: Any) -> None:
        sent[0] += 1

    fs.s3.meta.events.register("before-send.s3", count)
    return fs, sent


def small(job: dict[str, Any]) -> None:
    fs, sent = _fs(job)
    b = job["bucket"]
    payload = b"x" * 1024

    def put(r: int) -> None:
        fs.pipe_file(f"{b}/del/{r}", payload)

    def put_mv(r: int) -> None:
        fs.pipe_file(f"{b}/mv/s{r}", payload)

    ops: dict[str, tuple[Any, Any]] = {
        "write 1 KiB, overwrite=False": (
            lambda r: fs.pipe_file(f"{b}/new/s{r}", payload, mode="create"),
            None,
        ),
        "write 1 KiB, overwrite=True": (lambda r: fs.pipe_file(f"{b}/fixed.bin", payload), None),
        "read_bytes 1 KiB": (lambda r: fs.cat_file(f"{b}/fixed.bin"), None),
        "get_file_info": (lambda r: fs.info(f"{b}/fixed.bin"), None),
        "exists (a file)": (lambda r: fs.exists(f"{b}/fixed.bin"), None),
        "list one level (20 files)": (lambda r: fs.ls(f"{b}/dir", detail=True), None),
        # rm raises FileNotFoundError for a missing path (it expands the path first).
        "delete (NotFound when missing)": (lambda r: fs.rm(f"{b}/del/{r}"), put),
        "copy, overwrite=True": (lambda r: fs.copy(f"{b}/fixed.bin", f"{b}/copy.bin"), None),
        "move, overwrite=True": (lambda r: fs.mv(f"{b}/mv/s{r}", f"{b}/mv/s{r}.done"), put_mv),
    }
    keys, deleted = job["keys"], job["deleted"]

    def fill(r: int) -> None:
        fs.pipe({f"{b}/gone-s3fs/{i:05d}": b"" for i in range(deleted)})

    bulk: dict[str, tuple[Any, Any]] = {
        f"list {keys:,} keys (recursive)": (lambda r: len(fs.find(f"{b}/many")), None),
        f"delete_folder of {deleted:,} keys": (
            lambda r: fs.rm(f"{b}/gone-s3fs", recursive=True),
            fill,
        ),
    }
    for name, (run, setup) in {**ops, **bulk}.items():
        reps = job["reps"] if name in ops else job["bulk_reps"]
        times = []
        for r in range(reps):
            if setup is not None:
                setup(r)
            sent[0] = 0
            started = time.perf_counter()
            run(r)
            times.append(time.perf_counter() - started)
        print(json.dumps({"op": name, "requests": sent[0], "seconds": times}), flush=True)


class _Pattern:
    def __init__(self, size: int) -> None:
        self.left = size
        self.block = bytes(range(256)) * 4096

    def read(self, n: int) -> bytes:
        n = min(n, self.left, len(self.block))
        self.left -= n
        return self.block[:n]


def transfer(job: dict[str, Any]) -> None:
    fs, sent = _fs(job)
    path = f"{job['bucket']}/big-s3fs.bin"
    size = job["size"]
    source = _Pattern(size)
    base = _status("VmRSS")
    started = time.perf_counter()
    with fs.open(path, "wb", block_size=8 * MiB) as out:
        while chunk := source.read(MiB):
            out.write(chunk)
    up = time.perf_counter() - started
    up_requests = sent[0]
    after_up = _status("VmHWM")
    sent[0] = 0
    total = 0
    started = time.perf_counter()
    with fs.open(path, "rb", block_size=8 * MiB) as stream:
        while chunk := stream.read(8 * MiB):
            total += len(chunk)
    down = time.perf_counter() - started
    assert total == size, total
    fs.rm(path)
    print(
        json.dumps(
            {
                "upload_s": up,
                "download_s": down,
                "upload_requests": up_requests,
                "download_requests": sent[0],
                "after_upload_MiB": round(after_up - base, 1),
                "peak_rss_growth_MiB": round(_status("VmHWM") - base, 1),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    job = json.loads(sys.argv[1])
    {"small": small, "transfer": transfer}[job["kind"]](job)
