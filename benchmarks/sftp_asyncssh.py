"""Would asyncssh serve the SFTP backend better than paramiko? This library's `SFTPBackend`
(paramiko) against raw asyncssh driven from sync code (``asyncio.run`` per operation, as a
sync wrapper would), on one OpenSSH ``sshd`` on loopback: a 256 MiB upload and download
(each in a fresh process, for its peak RSS) and a listing of 1,000 files. Connecting is
not timed: the clock starts after the connection answered one request.

asyncssh is not a dependency: install it in a scratch venv and name its site-packages
(searched after this venv's own, so both sides use the same cryptography)::

    python3 -m venv /tmp/asyncssh-venv && /tmp/asyncssh-venv/bin/pip install asyncssh
    .venv/bin/python -m benchmarks.sftp_asyncssh \\
        --asyncssh-site /tmp/asyncssh-venv/lib/python3.11/site-packages
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import GeneratingStream, MiB, VerifyingSink, median, rss_now, rss_peak

ROOT = Path(__file__).resolve().parents[1]
CHUNK = MiB
#: Seconds the operation took, and the RSS just before it (after connecting).
Measured = tuple[float, int]


def _asyncssh_options(server: dict[str, Any]) -> dict[str, Any]:
    import asyncssh  # type: ignore[import-not-found,unused-ignore]  # a scratch venv's

    return {
        "port": server["port"],
        "username": server["username"],
        "client_keys": [server["key"]],
        "known_hosts": asyncssh.import_known_hosts(server["known"] + "\n"),
    }


async def _asyncssh(server: dict[str, Any], op: str, path: str, size: int) -> Measured:
    import asyncssh  # type: ignore[import-not-found,unused-ignore]  # a scratch venv's

    async with (
        asyncssh.connect(server["host"], **_asyncssh_options(server)) as conn,
        conn.start_sftp_client() as sftp,
    ):
        await sftp.realpath(".")
        before, started = rss_now(), time.perf_counter()
        await _asyncssh_op(sftp, op, path, size)
        return time.perf_counter() - started, before


async def _asyncssh_op(sftp: Any, op: str, path: str, size: int) -> int:
    if op == "upload":
        source = GeneratingStream(size)
        async with sftp.open(path, "wb") as out:
            while chunk := source.read(CHUNK):
                await out.write(chunk)
        return size
    if op == "download":
        sink = VerifyingSink(size)
        async with sftp.open(path, "rb") as stream:
            while chunk := await stream.read(CHUNK):
                sink.write(chunk)
        sink.check()
        return size
    return len([n for n in await sftp.readdir(path) if n.filename not in (".", "..")])


def _ours(server: dict[str, Any], op: str, key: str, size: int) -> Measured:
    from remote_store.backends.sftp import SFTPBackend

    with SFTPBackend(
        server["host"],
        port=server["port"],
        username=server["username"],
        pkey=server["key"],
        known_host_keys=[server["known"]],
        base_path=server["base"],
    ) as backend:
        backend.ping()
        before, started = rss_now(), time.perf_counter()
        _ours_op(backend, op, key, size)
        return time.perf_counter() - started, before


def _ours_op(backend: Any, op: str, key: str, size: int) -> int:
    if op == "upload":
        backend.write(key, GeneratingStream(size), overwrite=True)
        return size
    if op == "download":
        sink = VerifyingSink(size)
        backend.read_to(key, sink)
        sink.check()
        return size
    return sum(1 for _ in backend.iter_children(key))


def child(spec: dict[str, Any]) -> dict[str, Any]:
    if spec["site"]:
        sys.path.append(spec["site"])
    server, op, impl, size = spec["server"], spec["op"], spec["impl"], spec["size"]
    key = spec["key"]
    if impl == "ours":
        seconds, before = _ours(server, op, key, size)
    else:
        seconds, before = asyncio.run(_asyncssh(server, op, f"{server['base']}/{key}", size))
    return {"seconds": seconds, "rss_growth": max(rss_peak() - before, 0)}


def _run(spec: dict[str, Any]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.sftp_asyncssh", "--child", json.dumps(spec)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sftp_asyncssh")
    parser.add_argument("--asyncssh-site", default="")
    parser.add_argument("--child", default="")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    sys.path.insert(0, str(ROOT))
    from benchmarks.sftp import server_options
    from tests.sftp_support import run_sshd

    size = args.size_mib * MiB
    rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="sftp-async-") as tmp, run_sshd(Path(tmp)) as sshd:
        server = server_options(sshd)
        listing = Path(server["base"]) / "many"
        listing.mkdir(parents=True)
        for number in range(1000):
            (listing / f"f{number:04}.txt").write_bytes(b"x")
        for op, key in (
            ("upload", "big.bin"),
            ("download", "big.bin"),
            ("list", "many"),
        ):
            cells = []
            for impl in ("ours", "asyncssh"):
                spec = {
                    "server": server,
                    "op": op,
                    "impl": impl,
                    "size": size,
                    "key": key,
                    "site": args.asyncssh_site,
                }
                runs = [_run(spec) for _ in range(args.reps)]
                seconds = median([r["seconds"] for r in runs])
                rss = max(r["rss_growth"] for r in runs) / MiB
                rate = f" / {size / MiB / seconds:.0f} MiB/s" if op != "list" else ""
                cells.append(f"{seconds:.2f} s{rate} / +{rss:.1f} MiB")
                print(f"{op} {impl}: {cells[-1]}", flush=True)
            label = f"{op} {args.size_mib} MiB" if op != "list" else "list 1000 files"
            rows.append(f"| {label} | " + " | ".join(cells) + " |")
    report = "\n".join(
        [
            f"| operation (median of {args.reps}, fresh process each) "
            "| ours (paramiko): s / MiB/s / peak RSS | asyncssh: s / MiB/s / peak RSS |",
            "|---|---|---|",
            *rows,
        ]
    )
    print(report)
    if args.out:
        command = " ".join(["python -m benchmarks.sftp_asyncssh", *sys.argv[1:]])
        Path(args.out).write_text(json.dumps({"command": command, "table": report}, indent=1))


if __name__ == "__main__":
    main()
