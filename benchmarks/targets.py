"""The emulators the suite runs against, each in its own process, and what ran where.

``flat``: Azurite (installed by ``scripts/install-azurite.sh``), Blob API, no hierarchical
namespace. ``hns``: the in-repo ADLS Gen2 emulator (``tests/hns_emulator``) in a child
process, so its Python threads never share the benchmark's interpreter lock.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@dataclass(frozen=True)
class Target:
    name: str  # "flat" or "hns"
    connection_string: str
    hns: bool

    def new_container(self, prefix: str = "bench") -> str:
        from azure.storage.blob import BlobServiceClient

        name = f"{prefix}-{uuid.uuid4().hex[:16]}"
        with BlobServiceClient.from_connection_string(self.connection_string) as service:
            service.create_container(name)
        return name

    def delete_container(self, name: str) -> None:
        from azure.storage.blob import BlobServiceClient

        with BlobServiceClient.from_connection_string(self.connection_string) as service:
            service.delete_container(name)


@contextmanager
def start(name: str) -> Iterator[Target]:
    if name == "flat":
        from tests.azure_support import run_azurite

        with (
            tempfile.TemporaryDirectory(prefix="bench-azurite-") as tmp,
            run_azurite(Path(tmp)) as azurite,
        ):
            yield Target("flat", azurite.connection_string, hns=False)
        return
    if name != "hns":
        raise ValueError(f"unknown target {name!r}")
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.hns_server"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("the HNS emulator process did not start")
        yield Target("hns", json.loads(line)["connection_string"], hns=True)
    finally:
        if process.stdin:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _command(*args: str) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return ""


def machine() -> dict[str, Any]:
    """What the numbers ran on: CPU, memory, load, Python and package versions."""
    from importlib.metadata import PackageNotFoundError, version

    def ver(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    azurite_pkg = ROOT / ".tools/azurite/node_modules/azurite/package.json"
    azurite = json.loads(azurite_pkg.read_text())["version"] if azurite_pkg.is_file() else "?"
    lscpu = _command("lscpu")
    keep = ("Architecture", "Model name", "CPU(s):", "Thread(s) per core", "L3 cache")
    return {
        "cpu": [line for line in lscpu.splitlines() if line.strip().startswith(keep)],
        "nproc": _command("nproc"),
        "memory": _command("free", "-m").splitlines()[:2],
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "node": _command("node", "--version"),
        "azurite": azurite,
        "packages": {
            name: ver(name)
            for name in (
                "remote-store",
                "azure-storage-blob",
                "azure-storage-file-datalake",
                "azure-core",
                "adlfs",
                "fsspec",
                "aiohttp",
                "requests",
            )
        },
        "cpu_count": os.cpu_count(),
    }
