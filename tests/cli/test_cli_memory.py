"""``remote-store`` on memory stores.

Memory lives as long as one process, so multi-step flows run in-process through click's
CliRunner with a memory backend type whose content outlives each command's Registry; a
subprocess checks a single command end to end.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner

from remote_store import register_backend
from remote_store.backends.memory import MemoryBackend
from remote_store.cli.app import cli
from tests.cli.support import run_cli

CONFIG = """
[backends.mem]
type = "{type}"

[stores.mem]
backend = "mem"
root_path = "bucket"
"""


class SharedMemory(MemoryBackend):
    """One MemoryBackend shared by every Registry in this process."""

    _instance: ClassVar[SharedMemory | None] = None

    def __new__(cls) -> SharedMemory:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
            MemoryBackend.__init__(cls._instance)
        return cls._instance

    def __init__(self) -> None:  # state survives: __new__ initialised it once
        pass


@pytest.fixture
def invoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    SharedMemory._instance = None
    register_backend("shared-memory", SharedMemory)
    (tmp_path / "remote-store.toml").write_text(CONFIG.format(type="shared-memory"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REMOTE_STORE_CONFIG", raising=False)
    return CliRunner()


def _ok(runner: CliRunner, *args: str, stdin: bytes | None = None) -> str:
    result = runner.invoke(cli, list(args), input=stdin)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def test_put_ls_cat_stat_on_memory(invoke: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_bytes(b"x,y\n1,2\n")
    _ok(invoke, "put", "a.csv", "mem:in/")
    _ok(invoke, "put", "-", "mem:in/b.txt", stdin=b"piped\n")
    assert _ok(invoke, "ls", "mem:in").split() == ["a.csv", "b.txt"]
    assert _ok(invoke, "cat", "mem:in/b.txt") == "piped\n"
    info = json.loads(_ok(invoke, "stat", "--json", "mem:in/a.csv"))
    assert info["digest"].startswith("md5:") and info["native_path"].startswith("memory://")


def test_sync_to_memory_skips_by_digest(invoke: CliRunner, tmp_path: Path) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    for i in range(5):
        (folder / f"{i}.txt").write_text(f"file {i}\n")
    first = json.loads(_ok(invoke, "sync", "--json", "src", "mem:mirror"))
    assert len(first["copied"]) == 5
    (folder / "3.txt").write_text("FILE 3\n")  # same size, other content
    second = json.loads(_ok(invoke, "sync", "--json", "src", "mem:mirror"))
    assert [c["dest"] for c in second["copied"]] == ["mem:mirror/3.txt"]
    assert len(second["skipped"]) == 4


def test_cp_mv_rm_tree_du_on_memory(invoke: CliRunner, tmp_path: Path) -> None:
    for i in range(30):
        (tmp_path / f"f{i:02}.bin").write_bytes(bytes([i]) * 1000)
    _ok(invoke, "cp", "-j", "6", "f*.bin", "mem:many/")
    assert len(_ok(invoke, "ls", "mem:many").split()) == 30
    _ok(invoke, "cp", "-r", "mem:many", "mem:copy")
    _ok(invoke, "mv", "mem:copy", "mem:moved")
    assert "copy/" not in _ok(invoke, "ls", "mem:")
    rows = json.loads(_ok(invoke, "du", "-s", "--json", "mem:moved"))
    assert rows == [{"path": "mem:moved", "file_count": 30, "total_size": 30_000}]
    assert "f29.bin" in _ok(invoke, "tree", "mem:")
    _ok(invoke, "rm", "-r", "mem:moved")
    assert "moved/" not in _ok(invoke, "ls", "mem:")
    _ok(invoke, "get", "mem:many/f01.bin", "back/")
    assert (tmp_path / "back" / "f01.bin").read_bytes() == b"\x01" * 1000


def test_error_exit_codes_in_process(invoke: CliRunner) -> None:
    missing = invoke.invoke(cli, ["cat", "mem:nope"])
    assert missing.exit_code == 1
    assert missing.stderr.strip() == (
        "remote-store: error: 'mem:nope' does not exist "
        "(check the path, e.g. with 'remote-store ls' on its folder)"
    )
    assert invoke.invoke(cli, ["cp"]).exit_code == 2


def test_memory_store_in_a_subprocess(tmp_path: Path) -> None:
    (tmp_path / "remote-store.toml").write_text(CONFIG.format(type="memory"))
    (tmp_path / "big.bin").write_bytes(b"z" * 3_000_000)
    result = run_cli("cp", "--json", "big.bin", "mem:big.bin", cwd=tmp_path)
    assert result.code == 0, result.err
    assert result.json()["copied"] == [
        {"source": "big.bin", "dest": "mem:big.bin", "size": 3_000_000}
    ]
