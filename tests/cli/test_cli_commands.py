"""Every sub-command, run through the installed ``remote-store`` script on local stores."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.cli.conftest import Workspace
from tests.cli.support import run_cli


def test_ls_lists_children_with_folders_marked(ws: Workspace) -> None:
    result = ws("ls", "data:")
    assert result.code == 0, result.err
    assert result.out.split() == ["raw/", "readme.txt"]


def test_ls_long_shows_human_sizes(ws: Workspace) -> None:
    ws.write("data/big.bin", b"x" * 3 * 1024 * 1024)
    result = ws("ls", "-l", "data:")
    assert result.code == 0, result.err
    line = next(line for line in result.out.splitlines() if line.endswith("big.bin"))
    assert "3.0 MiB" in line


def test_ls_recursive_json(ws: Workspace) -> None:
    result = ws("ls", "-R", "--json", "data:raw")
    assert result.code == 0, result.err
    records = result.json()
    assert sorted(r["path"] for r in records) == [
        "data:raw/2026/q1.csv",
        "data:raw/2026/q2.csv",
        "data:raw/events.jsonl",
    ]
    assert all(r["type"] == "file" and isinstance(r["size"], int) for r in records)


def test_ls_glob_and_local_path(ws: Workspace) -> None:
    assert ws("ls", "data:raw/**/*.csv").out.split() == ["raw/2026/q1.csv", "raw/2026/q2.csv"]
    local = ws("ls", "disk/data")
    assert local.code == 0, local.err
    assert local.out.split() == ["raw/", "readme.txt"]


def test_ls_without_address_lists_stores(ws: Workspace) -> None:
    result = ws("ls")
    assert result.code == 0
    assert "data:" in result.out and "other:" in result.out


def test_tree(ws: Workspace) -> None:
    result = ws("tree", "data:")
    assert result.code == 0, result.err
    assert "├── raw/" in result.out and "q1.csv" in result.out
    nested = ws("tree", "--json", "data:").json()
    raw = next(c for c in nested["children"] if c["name"] == "raw")
    assert {c["name"] for c in raw["children"]} == {"2026", "events.jsonl"}
    shallow = ws("tree", "-d", "1", "--json", "data:").json()
    raw = next(c for c in shallow["children"] if c["name"] == "raw")
    assert raw["children"] == []


def test_stat_file_and_folder(ws: Workspace) -> None:
    file = ws("stat", "--json", "data:readme.txt").json()
    assert file["size"] == 6 and file["type"] == "file"
    assert file["native_path"] == str(ws.data / "readme.txt")
    folder = ws("stat", "--json", "data:raw").json()
    assert folder["file_count"] == 3
    human = ws("stat", "data:readme.txt")
    assert "6 B (6 bytes)" in human.out


def test_du(ws: Workspace) -> None:
    rows = ws("du", "--json", "data:").json()
    assert rows[-1] == {
        "path": "data:",
        "file_count": 4,
        "total_size": sum(p.stat().st_size for p in ws.data.rglob("*") if p.is_file()),
    }
    assert rows[0]["path"] == "data:raw"
    assert len(ws("du", "-s", "--json", "data:").json()) == 1


def test_cat_streams_to_stdout(ws: Workspace) -> None:
    result = ws("cat", "data:readme.txt", "data:raw/2026/q1.csv")
    assert result.out == "hello\nregion,sales\nnorth,10\n"


def test_get_downloads_to_current_folder(ws: Workspace) -> None:
    result = ws("get", "data:readme.txt")
    assert result.code == 0, result.err
    assert (ws.root / "readme.txt").read_bytes() == b"hello\n"
    assert ws("get", "-r", "data:raw", "downloaded").code == 0
    assert (ws.root / "downloaded" / "2026" / "q2.csv").exists()


def test_put_uploads_and_refuses_wrong_direction(ws: Workspace) -> None:
    (ws.root / "local.txt").write_bytes(b"up\n")
    assert ws("put", "local.txt", "data:uploads/").code == 0
    assert (ws.data / "uploads" / "local.txt").read_bytes() == b"up\n"
    wrong = ws("put", "data:readme.txt", "data:x/")
    assert wrong.code == 2 and "put uploads local files" in wrong.err


def test_put_from_stdin(ws: Workspace) -> None:
    result = ws("put", "-", "data:piped.txt", stdin=b"from a pipe\n")
    assert result.code == 0, result.err
    assert (ws.data / "piped.txt").read_bytes() == b"from a pipe\n"


def test_cp_between_stores_and_local(ws: Workspace) -> None:
    assert ws("cp", "-r", "data:raw", "other:copy").code == 0
    assert (ws.disk / "other" / "copy" / "2026" / "q1.csv").exists()
    # Onto an existing folder, a folder lands inside it (like cp -r).
    assert ws("cp", "-r", "data:raw", "other:copy").code == 0
    assert (ws.disk / "other" / "copy" / "raw" / "events.jsonl").exists()
    # A trailing slash on the source copies only its contents.
    assert ws("cp", "-r", "data:raw/", "flat").code == 0
    assert (ws.root / "flat" / "events.jsonl").exists()


def test_cp_folder_without_r_is_refused(ws: Workspace) -> None:
    result = ws("cp", "data:raw", "out")
    assert result.code == 1
    assert result.err.strip() == "remote-store: error: 'data:raw' is a folder; use -r to copy it"


def test_cp_by_glob_keeps_sub_paths(ws: Workspace) -> None:
    result = ws("cp", "--json", "data:**/*.csv", "csv/")
    assert result.code == 0, result.err
    assert sorted(c["dest"] for c in result.json()["copied"]) == [
        "csv/raw/2026/q1.csv",
        "csv/raw/2026/q2.csv",
    ]
    assert (ws.root / "csv" / "raw" / "2026" / "q2.csv").read_bytes().endswith(b"12\n")


def test_cp_many_files_in_parallel(ws: Workspace) -> None:
    for i in range(120):
        ws.write(f"data/many/{i:03}.bin", hashlib.sha256(str(i).encode()).digest() * 100)
    result = ws("cp", "-r", "-j", "8", "--json", "data:many", "copied")
    assert result.code == 0, result.err
    assert len(result.json()["copied"]) == 120
    for i in range(120):
        expected = (ws.data / "many" / f"{i:03}.bin").read_bytes()
        assert (ws.root / "copied" / f"{i:03}.bin").read_bytes() == expected


def test_cp_no_clobber_skips_existing(ws: Workspace) -> None:
    (ws.root / "readme.txt").write_bytes(b"mine\n")
    report = ws("cp", "-n", "--json", "data:readme.txt", ".").json()
    assert len(report["skipped"]) == 1
    assert (ws.root / "readme.txt").read_bytes() == b"mine\n"
    assert ws("cp", "data:readme.txt", ".").code == 0
    assert (ws.root / "readme.txt").read_bytes() == b"hello\n"


def test_cp_to_dash_writes_stdout(ws: Workspace) -> None:
    assert ws("cp", "data:readme.txt", "-").out == "hello\n"


def test_mv_file_and_folder(ws: Workspace) -> None:
    assert ws("mv", "data:readme.txt", "other:").code == 0
    assert not (ws.data / "readme.txt").exists()
    assert (ws.disk / "other" / "readme.txt").exists()
    assert ws("mv", "data:raw", "moved").code == 0
    assert not (ws.data / "raw").exists()
    assert (ws.root / "moved" / "2026" / "q1.csv").exists()


def test_rm_file_glob_and_folder(ws: Workspace) -> None:
    assert ws("rm", "data:readme.txt").code == 0
    assert not (ws.data / "readme.txt").exists()
    dry = ws("rm", "--dry-run", "data:raw/2026/*.csv")
    assert dry.out.splitlines() == [
        "would remove data:raw/2026/q1.csv",
        "would remove data:raw/2026/q2.csv",
    ]
    assert (ws.data / "raw" / "2026" / "q1.csv").exists()
    assert ws("rm", "data:raw/2026/*.csv").code == 0
    assert not (ws.data / "raw" / "2026" / "q1.csv").exists()
    refused = ws("rm", "data:raw")
    assert refused.code == 1 and "use -r" in refused.err
    assert ws("rm", "-r", "data:raw").code == 0
    assert not (ws.data / "raw").exists()
    assert ws("rm", "-f", "data:gone.txt").code == 0


def test_resolve(ws: Workspace) -> None:
    result = ws("resolve", "data:raw/events.jsonl")
    assert result.out.strip() == str(ws.data / "raw" / "events.jsonl")
    plan = ws("resolve", "--json", "data:raw").json()
    assert plan["backend"] == "local" and plan["native_path"] == str(ws.data / "raw")


def test_stores_names_the_config_in_force(ws: Workspace) -> None:
    report = ws("stores", "--json").json()
    assert report["config"] == "./remote-store.toml"
    assert [s["store"] for s in report["stores"]] == ["data", "other"]


def test_python_dash_m_runs_the_same_command(ws: Workspace) -> None:
    result = run_cli("ls", "data:", cwd=ws.root, module=True)
    assert result.code == 0, result.err
    assert result.out.split() == ["raw/", "readme.txt"]


@pytest.mark.parametrize(
    "command",
    ["ls", "tree", "stat", "du", "cat", "get", "put", "cp", "mv", "rm", "sync", "resolve"],
)
def test_every_help_is_short_with_examples(tmp_path: Path, command: str) -> None:
    result = run_cli(command, "--help", cwd=tmp_path)
    assert result.code == 0
    assert "Examples:" in result.out and f"remote-store {command}" in result.out
    assert len(result.out.splitlines()) < 40
