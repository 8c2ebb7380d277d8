"""SFTP benchmark: this library vs raw paramiko vs fsspec's ``sftp`` filesystem, on one
OpenSSH ``sshd`` started on loopback for the run (as the tests start it).

    .venv/bin/python -m benchmarks.sftp --out benchmarks/results/sftp.json   # ~10 min
    .venv/bin/python -m benchmarks.sftp --quick                              # ~1 min
    .venv/bin/python -m benchmarks.sftp --small-only --out benchmarks/results/sftp-small.json

Small operations are interleaved (each repetition runs every implementation once, in an
order rotated per repetition); each large transfer runs in a fresh process, so its peak RSS
growth (``VmHWM`` minus the RSS just before the transfer) means something. Requests are
SFTP requests, counted on paramiko's ``SFTPClient._async_request``, which all three send
through.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks.common import GeneratingStream, MiB, VerifyingSink, median, rss_now, rss_peak

ROOT = Path(__file__).resolve().parents[1]
IMPLS = ("ours", "paramiko", "fsspec")
COPY_CHUNK = MiB
#: Seconds after which a transfer is measured once only (fsspec's unpipelined upload).
SLOW = 60.0


class Requests:
    count = 0


def _count_requests() -> None:
    from paramiko.sftp_client import SFTPClient

    original = SFTPClient.__dict__["_async_request"]

    def counted(self: Any, fileobj: Any, t: int, *args: Any) -> Any:
        Requests.count += 1
        return original(self, fileobj, t, *args)

    setattr(SFTPClient, "_async_request", counted)  # noqa: B010  # not in the stubs


class Impl:
    """One way of talking to the server, rooted at *base* (an absolute server path)."""

    def __init__(self, name: str, server: dict[str, Any]) -> None:
        self.name = name
        self.base = server["base"]
        if name == "ours":
            from remote_store import Store
            from remote_store.backends.sftp import SFTPBackend

            self.store = Store(
                SFTPBackend(
                    server["host"],
                    port=server["port"],
                    username=server["username"],
                    pkey=server["key"],
                    known_host_keys=[server["known"]],
                    base_path=server["base"],
                )
            )
        elif name == "paramiko":
            import paramiko

            self.client = paramiko.SSHClient()
            self.client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
            self.client.connect(
                server["host"],
                port=server["port"],
                username=server["username"],
                key_filename=server["key"],
                allow_agent=False,
                look_for_keys=False,
            )
            self.sftp = self.client.open_sftp()
        else:
            from fsspec.implementations.sftp import SFTPFileSystem

            self.fs = SFTPFileSystem(
                server["host"],
                port=server["port"],
                username=server["username"],
                key_filename=server["key"],
                allow_agent=False,
                look_for_keys=False,
                skip_instance_cache=True,
            )

    def path(self, key: str) -> str:
        return f"{self.base}/{self.name}/{key}"

    def key(self, key: str) -> str:
        return f"{self.name}/{key}"

    def mkdir(self, folder: str) -> None:
        if self.name == "ours":
            return  # writes make their folders
        if self.name == "paramiko":
            parts = [f"{self.base}/{self.name}"]
            for segment in folder.split("/"):
                parts.append(f"{parts[-1]}/{segment}")
            for level in parts:
                with contextlib.suppress(OSError):
                    self.sftp.mkdir(level)
        else:
            self.fs.makedirs(self.path(folder), exist_ok=True)

    def write(self, key: str, data: bytes) -> None:
        if self.name == "ours":
            self.store.write(self.key(key), data)
        elif self.name == "paramiko":
            with self.sftp.open(self.path(key), "wb") as out:
                out.write(data)
        else:
            self.fs.pipe_file(self.path(key), data)

    def read(self, key: str) -> bytes:
        if self.name == "ours":
            return self.store.read_bytes(self.key(key))
        if self.name == "paramiko":
            with self.sftp.open(self.path(key), "rb") as stream:
                return bytes(stream.read())
        return bytes(self.fs.cat_file(self.path(key)))

    def stat(self, key: str) -> int:
        if self.name == "ours":
            return self.store.get_file_info(self.key(key)).size
        if self.name == "paramiko":
            return int(self.sftp.stat(self.path(key)).st_size or 0)
        return int(self.fs.info(self.path(key))["size"])

    def exists(self, key: str) -> bool:
        if self.name == "ours":
            return self.store.exists(self.key(key))
        if self.name == "paramiko":
            try:
                self.sftp.stat(self.path(key))
            except FileNotFoundError:
                return False
            return True
        return bool(self.fs.exists(self.path(key)))

    def listing(self, folder: str) -> int:
        if self.name == "ours":
            return sum(1 for _ in self.store.list_files(self.key(folder)))
        if self.name == "paramiko":
            return len(self.sftp.listdir_attr(self.path(folder)))
        return len(self.fs.ls(self.path(folder), detail=True))

    def delete(self, key: str) -> None:
        if self.name == "ours":
            self.store.delete(self.key(key))
        elif self.name == "paramiko":
            self.sftp.remove(self.path(key))
        else:
            self.fs.rm_file(self.path(key))

    def upload(self, key: str, stream: Any, size: int) -> None:
        if self.name == "ours":
            self.store.write(self.key(key), stream, overwrite=True)
        elif self.name == "paramiko":
            self.sftp.putfo(stream, self.path(key), file_size=size, confirm=True)
        else:
            with self.fs.open(self.path(key), "wb") as out:
                shutil.copyfileobj(stream, out, COPY_CHUNK)

    def download(self, key: str, sink: Any) -> None:
        if self.name == "ours":
            self.store.read_to(self.key(key), sink)
        elif self.name == "paramiko":
            self.sftp.getfo(self.path(key), sink)  # prefetch on, its default
        else:
            with self.fs.open(self.path(key), "rb") as stream:
                shutil.copyfileobj(stream, sink, COPY_CHUNK)

    def close(self) -> None:
        if self.name == "ours":
            self.store.close()
        elif self.name == "paramiko":
            self.client.close()
        else:
            self.fs.client.close()


# ---------------------------------------------------------------------- small operations

Op = Callable[[Impl, int], Any]


def small_operations(server: dict[str, Any], reps: int, files: int, log: Any) -> list[Any]:
    impls = [Impl(name, server) for name in IMPLS]
    payload = b"k" * 1024
    for impl in impls:
        impl.mkdir("small")
        impl.mkdir("many")
        impl.write("small/existing.bin", payload)
    with ThreadPoolExecutor(8) as pool:  # seeding, not measured
        ours = impls[0]
        list(pool.map(lambda i: ours.write(f"many/f{i:04d}.bin", payload), range(files)))
    for impl in impls[1:]:
        source = f"{server['base']}/ours/many"
        subprocess.run(["cp", "-r", source, f"{server['base']}/{impl.name}/"], check=True)
    plan: list[tuple[str, Op, int]] = [
        ("write 1 KiB (new file)", lambda i, r: i.write(f"small/new-{r}.bin", payload), reps),
        ("read 1 KiB", lambda i, r: i.read("small/existing.bin"), reps),
        ("stat", lambda i, r: i.stat("small/existing.bin"), reps),
        ("exists (missing)", lambda i, r: i.exists("small/missing.bin"), reps),
        ("delete", lambda i, r: i.delete(f"small/new-{r}.bin"), reps),
        (f"list {files} files", lambda i, r: i.listing("many"), max(3, reps // 5)),
    ]
    rows = []
    for label, op, count in plan:
        samples: dict[str, list[tuple[float, int]]] = {i.name: [] for i in impls}
        for rep in range(count):
            shift = rep % len(impls)
            for impl in impls[shift:] + impls[:shift]:
                before = Requests.count
                t0 = time.perf_counter()
                op(impl, rep)
                samples[impl.name].append((time.perf_counter() - t0, Requests.count - before))
        rows.append({"op": label, "reps": count, "samples": samples})
        summary = ", ".join(
            f"{n} {median([s for s, _ in v]) * 1000:.2f} ms" for n, v in samples.items()
        )
        log(f"  {label}: {summary}")
    for impl in impls:
        impl.close()
    return rows


# ---------------------------------------------------------------------- large transfers


def child(spec: dict[str, Any]) -> dict[str, Any]:
    _count_requests()
    impl = Impl(spec["impl"], spec["server"])
    impl.mkdir("big")
    impl.exists("big/warm-up")  # connected and authenticated before the clock starts
    size = spec["size"]
    stream, sink = GeneratingStream(size), VerifyingSink(size)
    before = rss_now()
    Requests.count = 0
    t0 = time.perf_counter()
    if spec["direction"] == "upload":
        impl.upload("big/file.bin", stream, size)
    else:
        impl.download("big/file.bin", sink)
    seconds = time.perf_counter() - t0
    if spec["direction"] == "download":
        sink.check()
    result = {
        "seconds": seconds,
        "requests": Requests.count,
        "rss_growth": rss_peak() - before,
    }
    impl.close()
    return result


def transfers(server: dict[str, Any], size: int, reps: int, log: Any) -> list[Any]:
    log("large transfers")
    rows = []
    for direction in ("upload", "download"):
        samples: dict[str, list[dict[str, Any]]] = {name: [] for name in IMPLS}
        for rep in range(reps):
            shift = rep % len(IMPLS)
            for name in IMPLS[shift:] + IMPLS[:shift]:
                if samples[name] and samples[name][0]["seconds"] > SLOW:
                    continue  # one sample of a transfer this slow says enough
                spec = {"impl": name, "server": server, "size": size, "direction": direction}
                done = subprocess.run(
                    [sys.executable, "-m", "benchmarks.sftp", "--child", json.dumps(spec)],
                    cwd=ROOT,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                samples[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
                last = samples[name][-1]
                log(
                    f"  {direction} {size // MiB} MiB {name}: {last['seconds']:.2f} s, "
                    f"{last['requests']} requests, +{last['rss_growth'] / MiB:.1f} MiB RSS"
                )
        rows.append({"op": f"{direction} {size // MiB} MiB", "reps": reps, "samples": samples})
    return rows


# ---------------------------------------------------------------------- report


def table(small: list[Any], large: list[Any]) -> str:
    lines = [
        "| operation | " + " | ".join(f"{n} ms (requests)" for n in IMPLS) + " |",
        "|---|" + "---|" * len(IMPLS),
    ]
    for row in small:
        cells = []
        for name in IMPLS:
            values = row["samples"][name]
            ms = median([s for s, _ in values]) * 1000
            requests = median([float(c) for _, c in values])
            cells.append(f"{ms:.2f} ({requests:g})")
        lines.append(f"| {row['op']} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| transfer | " + " | ".join(f"{n} s / MiB/s / peak RSS +MiB" for n in IMPLS) + " |",
        "|---|" + "---|" * len(IMPLS),
    ]
    for row in large:
        size = int(row["op"].split()[1]) * MiB
        cells = []
        for name in IMPLS:
            values = row["samples"][name]
            seconds = median([v["seconds"] for v in values])
            rss = max(v["rss_growth"] for v in values) / MiB
            requests = median([float(v["requests"]) for v in values])
            cells.append(
                f"{seconds:.2f} / {size / MiB / seconds:.0f} / {rss:.1f} "
                f"({requests:g} req, n={len(values)})"
            )
        lines.append(f"| {row['op']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def server_options(sshd: Any) -> dict[str, Any]:
    """What the benchmark's workers need to reach the test *sshd* (a picklable dict)."""
    return {
        "host": sshd.host,
        "port": sshd.port,
        "username": sshd.username,
        "key": str(sshd.client_key_path),
        "known": sshd.known_hosts_line,
        "base": sshd.new_base("bench"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sftp", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default="")
    parser.add_argument("--child", default="")
    parser.add_argument("--small-only", action="store_true", help="skip the large transfers")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    sys.path.insert(0, str(ROOT))
    from tests.sftp_support import run_sshd

    _count_requests()
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {message}", flush=True)

    reps, files = (10, 1000) if args.quick else (40, 1000)
    size, transfer_reps = (32 * MiB, 1) if args.quick else (256 * MiB, 3)
    with tempfile.TemporaryDirectory(prefix="sftp-bench-") as tmp, run_sshd(Path(tmp)) as sshd:
        server = server_options(sshd)
        Path(server["base"]).mkdir()
        log("small operations")
        small = small_operations(server, reps, files, log)
        large = [] if args.small_only else transfers(server, size, transfer_reps, log)
    report = table(small, large)
    print(report)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        result = {
            "command": " ".join(["python -m benchmarks.sftp", *sys.argv[1:]]),
            "seconds": round(time.perf_counter() - started, 1),
            "small": small,
            "large": large,
            "table": report,
        }
        Path(args.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
