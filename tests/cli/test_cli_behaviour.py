"""Exit codes, error lines, config discovery, sync, Ctrl-C and progress of ``remote-store``."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.cli.conftest import Workspace
from tests.cli.interrupting import Interrupter, default_sigint
from tests.cli.support import BIN, clean_env, run_cli

# ---------------------------------------------------------------- exit codes and errors


def test_missing_file_is_one_line_exit_1(ws: Workspace) -> None:
    result = ws("cat", "data:nope.csv")
    assert result.code == 1
    assert result.err.count("\n") == 1
    assert result.err.startswith("remote-store: error: ")
    assert "nope.csv" in result.err and "Traceback" not in result.err


def test_debug_shows_the_traceback(ws: Workspace) -> None:
    result = ws("--debug", "cat", "data:nope.csv")
    assert result.code == 1
    assert "Traceback (most recent call last)" in result.err
    assert result.err.rstrip().splitlines()[-1].startswith("remote-store: error: ")
    after = ws("cat", "data:nope.csv", "--debug")  # also after the sub-command
    assert "Traceback" in after.err


@pytest.mark.parametrize(
    "args",
    [
        ["frobnicate"],  # unknown command
        ["cp", "data:readme.txt"],  # missing operand
        ["ls", "nostore:x"],  # unknown store
        ["ls", "data:../etc"],  # path leaving the store
        ["ls", "ftp://host/x"],  # unsupported URL
        ["--config", "missing.toml", "ls", "data:"],  # configuration error
    ],
)
def test_usage_errors_exit_2(ws: Workspace, args: list[str]) -> None:
    result = ws(*args)
    assert result.code == 2, result.err
    assert "Traceback" not in result.err


def test_unknown_store_says_what_to_write(ws: Workspace) -> None:
    result = ws("ls", "nostore:x")
    assert "no store named 'nostore' (defined stores: data, other)" in result.err
    assert "./nostore:x" in result.err


def test_az_url_without_account_is_a_usage_error(ws: Workspace) -> None:
    result = ws("ls", "az://container/path")
    assert result.code == 2
    assert "AZURE_STORAGE_ACCOUNT_NAME" in result.err


def test_missing_cli_libraries_print_the_install_hint(tmp_path: Path) -> None:
    code = "import sys; sys.modules['click'] = None; from remote_store.cli import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", code, "ls"], capture_output=True, text=True, env=clean_env()
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert 'pip install "click>=8.1" "rich>=13.7"' in done.stderr


def test_without_the_azure_sdk_only_azure_urls_need_it(tmp_path: Path) -> None:
    # Azure URLs are parsed by the azure package, which imports its SDK: the command line
    # must import it only when an Azure URL is given.
    code = (
        "import sys; sys.modules['azure'] = None; sys.modules['azure.storage.blob'] = None; "
        "from remote_store.cli import main; main()"
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", code, *args]
        return subprocess.run(
            command, capture_output=True, text=True, env=clean_env(), cwd=tmp_path
        )

    (tmp_path / "a.txt").write_text("a")
    assert run("ls", ".").returncode == 0
    done = run("ls", "abfss://c@acct.dfs.core.windows.net/x")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert 'pip install "azure-core>=1.32"' in done.stderr


# ---------------------------------------------------------------- config discovery

STORE = '[backends.b]\ntype = "local"\nbase_path = "{base}"\n[stores.{name}]\nbackend = "b"\n'


def _stores(cwd: Path, *args: str, env: dict[str, str] | None = None) -> list[str]:
    result = run_cli(*args, "stores", "--json", cwd=cwd, env=env)
    assert result.code == 0, result.err
    return [s["store"] for s in result.json()["stores"]]


def test_config_discovery_order(tmp_path: Path) -> None:
    base = (tmp_path / "files").as_posix()
    for name in ("explicit", "from_env", "local_file"):
        (tmp_path / f"{name}.toml").write_text(STORE.format(base=base, name=name))
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n'
        + STORE.format(base=base, name="from_pyproject").replace("[", "[tool.remote-store.")
    )
    env = {"REMOTE_STORE_CONFIG": str(tmp_path / "from_env.toml")}
    assert _stores(tmp_path) == ["from_pyproject"]
    (tmp_path / "local_file.toml").rename(tmp_path / "remote-store.toml")
    assert _stores(tmp_path) == ["local_file"]
    assert _stores(tmp_path, env=env) == ["from_env"]
    assert _stores(tmp_path, "--config", "explicit.toml", env=env) == ["explicit"]


def test_without_config_a_local_store_on_the_current_folder(tmp_path: Path) -> None:
    (tmp_path / "hello.txt").write_text("hi\n")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "no-table-here"\n')
    assert _stores(tmp_path) == ["local"]
    assert run_cli("cat", "local:hello.txt", cwd=tmp_path).out == "hi\n"


def test_broken_config_is_reported_not_skipped(tmp_path: Path) -> None:
    (tmp_path / "remote-store.toml").write_text("[stores.x\n")
    result = run_cli("ls", cwd=tmp_path)
    assert result.code == 2
    assert "remote-store.toml" in result.err and "invalid TOML" in result.err


# ---------------------------------------------------------------- sync


def test_sync_copies_then_skips_unchanged(ws: Workspace) -> None:
    first = ws("sync", "--json", "data:raw", "mirror")
    assert first.code == 0, first.err
    assert len(first.json()["copied"]) == 3
    again = ws("sync", "--json", "data:raw", "mirror").json()
    assert (len(again["copied"]), len(again["skipped"])) == (0, 3)
    # Same size, different content: the digest tells them apart.
    ws.write("data/raw/2026/q1.csv", b"region,sales\nnorth,99\n")
    (ws.root / "mirror" / "stale.txt").write_text("old")
    dry = ws("sync", "--dry-run", "--delete", "data:raw", "mirror")
    assert dry.out.splitlines() == [
        "would copy data:raw/2026/q1.csv -> mirror/2026/q1.csv",
        "would delete mirror/stale.txt",
    ]
    assert (ws.root / "mirror" / "2026" / "q1.csv").read_bytes().endswith(b"10\n")
    done = ws("sync", "--delete", "--json", "data:raw", "mirror").json()
    assert [c["dest"] for c in done["copied"]] == ["mirror/2026/q1.csv"]
    assert [d["dest"] for d in done["deleted"]] == ["mirror/stale.txt"]
    assert (ws.root / "mirror" / "2026" / "q1.csv").read_bytes().endswith(b"99\n")
    assert not (ws.root / "mirror" / "stale.txt").exists()


def test_sync_size_only_skips_same_size(ws: Workspace) -> None:
    ws("sync", "data:raw", "mirror")
    ws.write("data/raw/2026/q1.csv", b"region,sales\nnorth,99\n")
    report = ws("sync", "--size-only", "--json", "data:raw", "mirror").json()
    assert report["copied"] == []


def test_sync_refuses_overlapping_folders(ws: Workspace) -> None:
    result = ws("sync", "data:", "data:raw/inner")
    assert result.code == 2 and "overlap" in result.err


# ---------------------------------------------------------------- progress


def test_no_progress_when_stderr_is_not_a_terminal(ws: Workspace) -> None:
    ws.write("data/big.bin", os.urandom(4 * 1024 * 1024))
    result = ws("cp", "data:big.bin", "big.bin")
    assert result.code == 0
    # No progress bar in a log: one summary line, and nothing on stdout.
    assert result.out == ""
    assert re.fullmatch(r"copy: 1 file \(4\.0 MiB\) in \d+\.\d s\n", result.err), result.err
    quiet = ws("cp", "-q", "data:big.bin", "quiet.bin")
    assert (quiet.code, quiet.out, quiet.err) == (0, "", "")


def _run_on_tty(ws: Workspace, *args: str) -> str:
    """Run with stderr on a pseudo-terminal; return what the terminal showed."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [str(BIN), *args],
        cwd=ws.root,
        env=clean_env({"COLUMNS": "120", "TERM": "xterm"}),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=follower,
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert process.wait(30) == 0
    return shown.decode(errors="replace")


def test_progress_on_a_terminal_and_quiet_silences_it(ws: Workspace) -> None:
    ws.write("data/big.bin", os.urandom(4 * 1024 * 1024))
    shown = _run_on_tty(ws, "cp", "data:big.bin", "a.bin")
    assert "copy 1/1" in shown and "MiB" in shown
    assert "copy: 1 file (4.0 MiB)" in shown  # the summary
    assert _run_on_tty(ws, "cp", "-q", "data:big.bin", "b.bin") == ""


# ---------------------------------------------------------------- Ctrl-C


def test_ctrl_c_leaves_no_partial_file(tmp_path: Path) -> None:
    """Copy from standard input, a FIFO we feed by hand, so the copy is mid-file for as long
    as we like (a FIFO given as a path is never read: the local backend refuses it)."""
    source = tmp_path / "source.bin"
    os.mkfifo(source)
    out = tmp_path / "out"
    out.mkdir()
    fd = os.open(source, os.O_RDWR)  # holding both ends: opening never blocks
    process = subprocess.Popen(
        [str(BIN), "cp", "-", str(out / "dest.bin")],
        stdin=fd,
        cwd=tmp_path,
        env=clean_env(),
        stderr=subprocess.PIPE,
        preexec_fn=default_sigint,
    )
    ctrl_c = Interrupter(process)
    writer = threading.Thread(target=os.write, args=(fd, b"x" * (3 * 1024 * 1024 // 2)))
    writer.start()
    deadline = time.monotonic() + 30
    # The first 1 MiB chunk is in the hidden staging file: the copy is under way.
    while not any(p.stat().st_size >= 1024 * 1024 for p in out.iterdir()):
        assert time.monotonic() < deadline, "the copy never started"
        time.sleep(0.02)
    writer.join()
    ctrl_c.interrupt()  # noted while the copy's read still waits on the pipe
    os.close(fd)  # end of input: without Ctrl-C the copy would now complete
    err = ctrl_c.finish()
    assert process.returncode == 130, err
    assert "interrupted" in err.decode()
    assert list(out.iterdir()) == []
