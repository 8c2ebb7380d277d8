"""A folder swapped for a symlink to the outside while the local backend works through it
never leads a read, write, listing, delete or move outside the root (spec LOC-SEC-2)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from remote_store.backends import LocalBackend
from remote_store.errors import RemoteStoreError

ROUNDS = 1000

# Another process keeps exchanging base/d (a real folder) with a symlink to the outside,
# atomically (RENAME_EXCHANGE), so there always is one or the other at base/d.
RACER = """
import ctypes, os, sys
base, outside = sys.argv[1], sys.argv[2]
d, link = os.path.join(base, "d").encode(), os.path.join(base, "lnk").encode()
os.symlink(outside, link)
exchange = ctypes.CDLL(None, use_errno=True).renameat2
print("ready", flush=True)
while True:
    exchange(-100, d, -100, link, 2)
"""


OUTSIDE = {
    "f.txt": b"OUTSIDE",
    "only-outside.txt": b"outside only",
    "victim.txt": b"must survive",
    "mvsrc.txt": b"must stay put",
}


def _outside_intact(outside: Path) -> bool:
    names = {p.name for p in outside.iterdir()}
    return names == set(OUTSIDE) | {"sub"} and all(
        (outside / n).read_bytes() == v for n, v in OUTSIDE.items()
    )


@pytest.mark.slow
def test_a_folder_swapped_for_a_symlink_never_leads_outside(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    for name, value in OUTSIDE.items():
        (outside / name).write_bytes(value)
    (outside / "sub").mkdir()
    (outside / "sub" / "keep.txt").write_bytes(b"keep")
    base = tmp_path / "base"
    (base / "d").mkdir(parents=True)
    (base / "d" / "f.txt").write_bytes(b"inside")
    backend = LocalBackend(base)

    escapes: list[str] = []

    def attempt(action: Callable[[], object]) -> object:
        try:
            return action()
        except RemoteStoreError:
            return None  # refused or not found mid-swap: fine, nothing escaped

    racer = subprocess.Popen(
        [sys.executable, "-c", RACER, str(base), str(outside)], stdout=subprocess.PIPE
    )
    try:
        assert racer.stdout is not None and racer.stdout.readline() == b"ready\n"
        for i in range(ROUNDS):
            if attempt(lambda: backend.read_bytes("d/f.txt")) == b"OUTSIDE":
                escapes.append(f"read {i}")
            info = attempt(lambda: backend.get_file_info("d/only-outside.txt"))
            if info is not None:
                escapes.append(f"info {i}")
            listed = attempt(lambda: [e.path for e in backend.iter_children("d")])
            if isinstance(listed, list) and "d/only-outside.txt" in listed:
                escapes.append(f"list {i}")
            attempt(lambda: backend.write("d/w.txt", b"w", overwrite=True))
            attempt(lambda: _atomic(backend, "d/a.txt"))
            attempt(lambda: backend.delete("d/victim.txt", missing_ok=True))
            attempt(lambda: backend.move("d/mvsrc.txt", "moved.txt", overwrite=True))
            attempt(lambda: backend.move("d/w.txt", "d/m.txt", overwrite=True))
            attempt(lambda: backend.delete_folder("d/sub", recursive=True))
            if not _outside_intact(outside):
                escapes.append(f"mutation {i}: {sorted(p.name for p in outside.iterdir())}")
                break
    finally:
        racer.kill()
        racer.wait()
    assert escapes == []
    assert (outside / "sub" / "keep.txt").read_bytes() == b"keep"
    assert not (base / "moved.txt").exists()


def _atomic(backend: LocalBackend, key: str) -> None:
    with backend.open_atomic(key, overwrite=True) as out:
        out.write(b"atomic")
