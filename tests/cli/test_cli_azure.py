"""The installed command against Azurite: az:// URLs and a configured azure store."""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.azure_support import Azurite
from tests.cli.interrupting import Interrupter, default_sigint
from tests.cli.support import BIN, Result, clean_env, run_cli

pytestmark = pytest.mark.azure

CONFIG = """
[backends.cloud]
type = "azure"
container = "{container}"
connection_string = "${{AZURE_STORAGE_CONNECTION_STRING}}"

[stores.lake]
backend = "cloud"
root_path = "lake"
"""


@pytest.fixture
def cloud(azurite: Azurite, tmp_path: Path) -> tuple[str, Path]:
    """A fresh container, a config naming it, and a local tree to upload."""
    container = azurite.new_container("cli")
    (tmp_path / "remote-store.toml").write_text(CONFIG.format(container=container))
    for rel, body in {
        "src/a.csv": b"a,b\n1,2\n",
        "src/sub/b.csv": b"b\n" * 1000,
        "src/sub/c.txt": b"text",
    }.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(body)
    return container, tmp_path


def _run(azurite: Azurite, cwd: Path, *args: str) -> Result:
    env = {"AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string}
    return run_cli(*args, cwd=cwd, env=env)


def test_copy_list_stat_sync_move_remove_over_az_urls(
    azurite: Azurite, cloud: tuple[str, Path]
) -> None:
    container, cwd = cloud
    url = f"az://{container}/up"

    copied = _run(azurite, cwd, "cp", "-r", "--json", "src/", url)
    assert copied.code == 0, copied.err
    assert len(copied.json()["copied"]) == 3

    listing = _run(azurite, cwd, "ls", "-R", "--json", url)
    assert listing.code == 0, listing.err
    assert sorted(r["path"].rsplit("/up/", 1)[1] for r in listing.json()) == [
        "a.csv",
        "sub/b.csv",
        "sub/c.txt",
    ]

    stat = _run(azurite, cwd, "stat", "--json", f"{url}/sub/b.csv").json()
    assert stat["size"] == 2000 and stat["type"] == "file"

    again = _run(azurite, cwd, "sync", "--json", "src/", url).json()
    assert (len(again["copied"]), len(again["skipped"])) == (0, 3)

    moved = _run(azurite, cwd, "mv", f"{url}/a.csv", f"{url}/moved/a.csv")
    assert moved.code == 0, moved.err
    assert _run(azurite, cwd, "cat", f"{url}/moved/a.csv").out == "a,b\n1,2\n"

    removed = _run(azurite, cwd, "rm", "-r", url)
    assert removed.code == 0, removed.err
    gone = _run(azurite, cwd, "ls", "--json", url)
    assert gone.code == 1 and "does not exist" in gone.err


def test_configured_azure_store_and_resolve(azurite: Azurite, cloud: tuple[str, Path]) -> None:
    container, cwd = cloud
    put = _run(azurite, cwd, "put", "src/a.csv", "lake:in/a.csv")
    assert put.code == 0, put.err
    got = _run(azurite, cwd, "get", "lake:in/a.csv", "downloaded.csv")
    assert got.code == 0, got.err
    assert (cwd / "downloaded.csv").read_bytes() == b"a,b\n1,2\n"
    resolved = _run(azurite, cwd, "resolve", "lake:in/a.csv")
    assert resolved.out.strip() == f"{azurite.endpoint}/{container}/lake/in/a.csv"


def test_missing_blob_is_one_line_without_secret(azurite: Azurite, cloud: tuple[str, Path]) -> None:
    container, cwd = cloud
    result = _run(azurite, cwd, "cat", f"az://{container}/nope.txt")
    assert result.code == 1
    assert len(result.err.strip().splitlines()) == 1
    assert "nope.txt" in result.err
    assert "AccountKey" not in result.err and "Eby8vdM02" not in result.err


def test_ctrl_c_commits_nothing_to_azure(azurite: Azurite, tmp_path: Path) -> None:
    """A copy from a FIFO is interrupted once a block is staged; the blob must not appear.

    17 MiB are fed because buffered 8 MiB reads block until full, and a block is staged
    only once more than the 8 MiB single-put size is buffered."""
    from azure.core.exceptions import ResourceNotFoundError
    from azure.storage.blob import BlobClient

    container = azurite.new_container("cli")
    source = tmp_path / "source.bin"
    os.mkfifo(source)
    fd = os.open(source, os.O_RDWR)  # holding both ends: opening never blocks
    env = clean_env({"AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string})
    process = subprocess.Popen(
        [str(BIN), "cp", "-", f"az://{container}/dest.bin"],
        stdin=fd,  # a FIFO given as a path is never read: the local backend refuses it
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        preexec_fn=default_sigint,
    )
    ctrl_c = Interrupter(process)
    writer = threading.Thread(target=os.write, args=(fd, b"x" * (17 * 1024 * 1024)))
    writer.start()
    blob = BlobClient.from_connection_string(azurite.connection_string, container, "dest.bin")
    deadline = time.monotonic() + 60
    while True:  # the first block is staged: the upload is under way
        with contextlib.suppress(ResourceNotFoundError):
            if blob.get_block_list("uncommitted")[1]:
                break
        assert time.monotonic() < deadline, "the upload never staged a block"
        time.sleep(0.05)
    writer.join()
    ctrl_c.interrupt()
    os.close(fd)  # end of input: without Ctrl-C the upload would now commit
    err = ctrl_c.finish()
    assert process.returncode == 130, err
    assert not blob.exists()


def test_mb_creates_a_container_once(azurite: Azurite, tmp_path: Path) -> None:
    """`mb` creates the container an address names; a second time it says it exists."""
    name = f"mb-{os.getpid()}-{int(time.time() * 1000) % 100000}"
    first = _run(azurite, tmp_path, "mb", f"az://{name}")
    assert (first.code, first.out) == (0, f"created az://{name}/\n"), first.err
    again = _run(azurite, tmp_path, "mb", "--json", f"az://{name}")
    assert again.code == 0, again.err
    assert again.json() == [{"address": f"az://{name}/", "created": False}]
    put = _run(azurite, tmp_path, "cp", "-", f"az://{name}/x.txt")
    assert put.code == 0, put.err
    local = _run(azurite, tmp_path, "mb", str(tmp_path))
    assert local.code != 0 and "no container or bucket" in local.err


def test_a_missing_container_is_named_as_the_container(azurite: Azurite, tmp_path: Path) -> None:
    for args in (("ls", "az://no-such-container/"), ("cat", "az://no-such-container/a.txt")):
        result = _run(azurite, tmp_path, *args)
        assert result.code == 1
        assert "container 'no-such-container' does not exist" in result.err, result.err
        assert len(result.err.strip().splitlines()) == 1
