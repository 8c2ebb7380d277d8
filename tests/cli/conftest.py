"""Fixtures for the command-line tests: a scratch folder with a small tree of files."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.support import Result, run_cli

CONFIG = """
[backends.disk]
type = "local"
base_path = "{base}"

[stores.data]
backend = "disk"
root_path = "data"

[stores.other]
backend = "disk"
root_path = "other"
"""


class Workspace:
    """A folder to run the command in, with a config naming stores ``data`` and ``other``
    (two roots on one local backend) and a few files in ``data``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.disk = root / "disk"
        (root / "remote-store.toml").write_text(CONFIG.format(base=self.disk.as_posix()))
        self.data = self.disk / "data"
        self.write("data/raw/2026/q1.csv", b"region,sales\nnorth,10\n")
        self.write("data/raw/2026/q2.csv", b"region,sales\nnorth,12\n")
        self.write("data/raw/events.jsonl", b'{"e": 1}\n' * 100)
        self.write("data/readme.txt", b"hello\n")

    def write(self, rel: str, content: bytes) -> Path:
        path = self.disk / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return path

    def __call__(self, *args: str, **kwargs: object) -> Result:
        return run_cli(*args, cwd=self.root, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    work = tmp_path / "work"
    work.mkdir()
    return Workspace(work)
