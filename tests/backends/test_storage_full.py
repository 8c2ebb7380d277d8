"""A full disk while the caller writes into `open_atomic` is `StorageFull`, never a raw
OSError, and nothing is committed. The limit is real: RLIMIT_FSIZE in a child process makes
the kernel refuse the write with EFBIG."""

from __future__ import annotations

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
