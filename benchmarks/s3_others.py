"""The S3 benchmark's other sides: obstore (in this environment), s3fs (in its own, see
``benchmarks/s3fs_child.py``), and the large-transfer points of every side, each run in a
fresh process so that its peak RSS is its own."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.s3_support import ACCESS_KEY, REGION, SECRET_KEY, S3Server

MiB = 1024 * 1024
#: Read timeout of every side's large transfers: MiniStack's CompleteMultipartUpload of
#: 1 GiB joins the parts with ``bytes +=`` (quadratic) and answers after more than the
#: clients' default 60 s.
SLOW = 900
ROOT = Path(__file__).resolve().parents[1]
#: s3fs's own environment: ``python3 -m venv .venv-s3fs && .venv-s3fs/bin/pip install s3fs``.
S3FS_PYTHON = Path(os.environ.get("S3FS_PYTHON", ROOT / ".venv-s3fs" / "bin" / "python"))


def obstore_store(endpoint: str, bucket: str, **client_options: Any) -> Any:
    from obstore.store import S3Store

    options: Any = {"allow_http": True, **client_options}  # obstore's typed dict of options
    return S3Store(
        bucket,
        endpoint=endpoint,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
        region=REGION,
        virtual_hosted_style_request=False,
        client_options=options,
    )


def s3fs_small(server: S3Server, bucket: str, **job: Any) -> dict[str, dict[str, Any]]:
    """Every small and bulk operation through s3fs, in its environment: op -> row."""
    if not S3FS_PYTHON.exists():
        print(f"s3fs skipped: no {S3FS_PYTHON}", flush=True)
        return {}
    job.update(kind="small", endpoint=server.endpoint, bucket=bucket)
    done = subprocess.run(
        [str(S3FS_PYTHON), str(ROOT / "benchmarks" / "s3fs_child.py"), json.dumps(job)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return {row["op"]: row for row in rows}


def versions() -> dict[str, str]:
    from importlib.metadata import version

    found = {name: version(name) for name in ("boto3", "botocore", "obstore", "ministack")}
    if S3FS_PYTHON.exists():
        code = "import s3fs, aiobotocore as a, botocore as b\n"
        code += "print(s3fs.__version__, a.__version__, b.__version__)"
        out = subprocess.run([str(S3FS_PYTHON), "-c", code], capture_output=True, text=True)
        s3fs, aiobotocore, botocore = out.stdout.split()
        found["s3fs"] = f"{s3fs} (aiobotocore {aiobotocore}, botocore {botocore})"
    return found


def _status(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(field)


class Pattern(io.RawIOBase):
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


class Sink:
    def __init__(self) -> None:
        self.total = 0

    def write(self, data: Any) -> int:
        n = len(data)
        self.total += n
        return n


def transfer_point(endpoint: str, size: int, concurrency: int, impl: str) -> None:
    """In a fresh process: upload *size* bytes from a stream, download them to a sink, print
    one JSON row. Peak RSS growth is ``VmHWM`` at the end minus ``VmRSS`` just before."""
    server = S3Server(endpoint, "ministack")
    bucket = server.new_bucket("xfer")
    source = io.BufferedReader(Pattern(size), 4 * MiB)
    sink = Sink()
    up_call, down_call = _calls(impl, server, bucket, source, sink, concurrency)
    base = _status("VmRSS")
    started = time.perf_counter()
    up_call()
    up = time.perf_counter() - started
    after_up = _status("VmHWM")
    started = time.perf_counter()
    down_call()
    down = time.perf_counter() - started
    assert sink.total == size, sink.total
    server.client().delete_object(Bucket=bucket, Key="big.bin")
    print(
        json.dumps(
            _row(impl, size, concurrency, up, down, after_up - base, _status("VmHWM") - base)
        )
    )


def _calls(
    impl: str, server: S3Server, bucket: str, source: Any, sink: Sink, concurrency: int
) -> tuple[Callable[[], object], Callable[[], object]]:
    """The upload and the download of one side: same part size (8 MiB), same concurrency."""
    part = 8 * MiB
    if impl == "ours":
        from remote_store.config import RetryPolicy
        from remote_store.store import Store

        backend = server.backend(
            bucket,
            max_concurrency=concurrency,
            retry=RetryPolicy(timeout=None),
            client_options={"read_timeout": SLOW},
        )
        store = Store(backend)
        return (lambda: store.write("big.bin", source)), (lambda: store.read_to("big.bin", sink))
    if impl == "boto3":
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        client = boto3.client(
            "s3",
            endpoint_url=server.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
            config=Config(read_timeout=SLOW),
        )
        config = TransferConfig(
            multipart_threshold=part,
            multipart_chunksize=part,
            max_concurrency=concurrency,
            use_threads=concurrency > 1,
        )
        return (
            lambda: client.upload_fileobj(source, bucket, "big.bin", Config=config),
            lambda: client.download_fileobj(bucket, "big.bin", sink, Config=config),
        )
    import obstore as obs

    st = obstore_store(server.endpoint, bucket, timeout=f"{SLOW}s")

    def download() -> None:
        for chunk in obs.get(st, "big.bin").stream(min_chunk_size=part):
            sink.write(chunk)

    def upload() -> None:
        # obstore wants a seekable file; an iterator of chunks is its streamed upload.
        chunks = iter(lambda: source.read(part), b"")
        obs.put(st, "big.bin", chunks, chunk_size=part, max_concurrency=concurrency)

    return upload, download


def _row(
    impl: str, size: int, concurrency: int, up: float, down: float, after_up: float, peak: float
) -> dict[str, Any]:
    return {
        "op": f"stream {size // MiB} MiB, c={concurrency}",
        "impl": impl,
        "upload_MiB_s": round(size / MiB / up, 1),
        "download_MiB_s": round(size / MiB / down, 1),
        "after_upload_MiB": round(after_up, 1),
        "peak_rss_growth_MiB": round(max(after_up, peak), 1),
        "bound_MiB": 16 + 8 * concurrency,
    }


def transfers(
    server: S3Server,
    size: int,
    impls: list[str],
    env: dict[str, str],
    concurrencies: tuple[int, ...] = (1, 4, 8),
) -> list[dict[str, Any]]:
    """Every (concurrency, side) point in its own process; s3fs at concurrency 1 only (its
    file objects send and fetch one part at a time)."""
    rows = []
    for concurrency in concurrencies:
        for impl in impls:
            if impl == "s3fs":
                if concurrency != 1 or not S3FS_PYTHON.exists():
                    continue
                bucket = server.new_bucket("xfer")
                job: dict[str, Any] = {"kind": "transfer", "endpoint": server.endpoint}
                job["bucket"] = bucket
                job["size"] = size
                argv = [
                    str(S3FS_PYTHON),
                    str(ROOT / "benchmarks" / "s3fs_child.py"),
                    json.dumps(job),
                ]
            else:
                code = (
                    f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
                    "from benchmarks.s3_others import transfer_point\n"
                    f"transfer_point({server.endpoint!r}, {size}, {concurrency}, {impl!r})\n"
                )
                argv = [sys.executable, "-c", code]
            done = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **env})
            if done.returncode != 0:
                raise RuntimeError(done.stderr[-2000:])
            row = json.loads(done.stdout.strip().splitlines()[-1])
            if impl == "s3fs":
                row = {
                    **_row("s3fs", size, 1, row["upload_s"], row["download_s"], 0, 0),
                    "after_upload_MiB": row["after_upload_MiB"],
                    "peak_rss_growth_MiB": row["peak_rss_growth_MiB"],
                }
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows
