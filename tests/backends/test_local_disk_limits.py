"""Local disk at its limits: a full disk inside `open_atomic` is `StorageFull`, never a raw
OSError, and nothing is committed. The limit is real: RLIMIT_FSIZE in a child process makes
the kernel refuse the write with EFBIG."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

CHILD = textwrap.dedent(
    """
    import resource, signal, sys
    from remote_store import Store, StorageFull
    from remote_store.backends import LocalBackend

    store = Store(LocalBackend(sys.argv[1]))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
    try:
        with store.open_atomic("big.bin") as out:
            for _ in range(4):
                out.write(b"x" * (1 << 20))
    except StorageFull as error:
        assert isinstance(error, OSError) and error.path == "big.bin", error
        assert not store.exists("big.bin")
        print("StorageFull:", error)
    """
)


def test_open_atomic_reports_a_full_disk_as_storage_full(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("StorageFull: "), done.stdout + done.stderr
    assert "larger than the filesystem allows" in done.stdout


def test_opening_a_folder_changes_nothing_in_it(tmp_path: Path) -> None:
    """What `remote-store ls` does to a local folder: nothing. The backend's probes (extended
    attributes, timestamp resolution) are asked of the folder and undone: no entry appears,
    not even for a moment (the folder's mtime would move), and no attribute is left."""
    from remote_store.backends import LocalBackend

    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.txt").write_bytes(b"a")
    before = folder.stat()
    entries = sorted(p.name for p in folder.iterdir())
    backend = LocalBackend(folder)
    assert [info.path for info in backend.list_files("")] == ["a.txt"]
    after = folder.stat()
    assert (after.st_mtime_ns, after.st_nlink) == (before.st_mtime_ns, before.st_nlink)
    assert sorted(p.name for p in folder.iterdir()) == entries
    assert [n for n in os.listxattr(folder) if n.startswith("user.")] == []
