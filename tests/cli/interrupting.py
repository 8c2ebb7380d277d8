"""Ctrl-C for the CLI tests: send SIGINT and wait until the command has taken it in."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time


def default_sigint() -> None:
    """``preexec_fn`` for the command: SIGINT back to its default, as in a terminal. A test
    run started in the background (``cmd &`` in a script) ignores SIGINT, children inherit
    that, and Python then never turns Ctrl-C into KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Interrupter:
    """Collects a running command's stderr; `interrupt` sends SIGINT and returns once the
    command has said it is interrupted (it has set its cancel flag by then), however long
    a loaded machine takes to get there."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stderr is not None
        self._process = process
        self._err = bytearray()
        self._reader = threading.Thread(target=self._collect, daemon=True)
        self._reader.start()

    def _collect(self) -> None:
        assert self._process.stderr is not None
        fd = self._process.stderr.fileno()
        while chunk := os.read(fd, 4096):
            self._err += chunk

    def interrupt(self, timeout: float = 60) -> None:
        self._process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + timeout
        while b"interrupted" not in self._err:
            assert time.monotonic() < deadline, f"Ctrl-C not taken in: {bytes(self._err)!r}"
            assert self._process.poll() is None, f"exited first: {bytes(self._err)!r}"
            time.sleep(0.02)

    def finish(self, timeout: float = 60) -> bytes:
        """Wait for the command to end; all it wrote to stderr."""
        self._process.wait(timeout=timeout)
        self._reader.join(timeout=timeout)
        return bytes(self._err)
