"""The installed command against the session's sshd: sftp:// URLs (SFTP-008)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.support import Result, run_cli
from tests.sftp_support import Sshd

pytestmark = pytest.mark.sftp


def _run(sshd: Sshd, cwd: Path, *args: str, **env: str) -> Result:
    base = {
        "SFTP_KEY_FILE": str(sshd.client_key_path),
        "SFTP_KNOWN_HOSTS": sshd.known_hosts_line,
        "HOME": str(cwd),  # no ~/.ssh of the machine running the tests
    }
    return run_cli(*args, cwd=cwd, env={**base, **env})


@pytest.mark.slow  # ~7 s: six CLI processes
def test_copy_list_stat_move_remove_over_sftp_urls(sshd: Sshd, tmp_path: Path) -> None:
    for rel, body in {"src/a.csv": b"a,b\n1,2\n", "src/sub/b.csv": b"b\n" * 1000}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(body)
    url = f"sftp://{sshd.username}@{sshd.host}:{sshd.port}{sshd.new_base('cli')}/up"

    copied = _run(sshd, tmp_path, "cp", "-r", "--json", "src/", url)
    assert copied.code == 0, copied.err
    assert len(copied.json()["copied"]) == 2

    listing = _run(sshd, tmp_path, "ls", "-R", "--json", url)
    assert listing.code == 0, listing.err
    assert sorted(r["path"].rsplit("/up/", 1)[1] for r in listing.json()) == [
        "a.csv",
        "sub/b.csv",
    ]
    stat = _run(sshd, tmp_path, "stat", "--json", f"{url}/sub/b.csv").json()
    assert stat["size"] == 2000 and stat["type"] == "file"
    moved = _run(sshd, tmp_path, "mv", f"{url}/a.csv", f"{url}/moved/a.csv")
    assert moved.code == 0, moved.err
    assert _run(sshd, tmp_path, "cat", f"{url}/moved/a.csv").out == "a,b\n1,2\n"
    removed = _run(sshd, tmp_path, "rm", "-r", url)
    assert removed.code == 0, removed.err


def test_untrusted_host_and_missing_credentials_are_refused(sshd: Sshd, tmp_path: Path) -> None:
    url = f"sftp://{sshd.username}@{sshd.host}:{sshd.port}/tmp"
    untrusted = _run(sshd, tmp_path, "ls", url, SFTP_KNOWN_HOSTS="")
    assert untrusted.code != 0
    assert "not trusted" in untrusted.err
    bare = run_cli("ls", url, cwd=tmp_path, env={"HOME": str(tmp_path)})
    assert bare.code != 0
    assert "SFTP_KEY_FILE" in bare.err
    with_password = _run(sshd, tmp_path, "ls", f"sftp://u:hunter2@{sshd.host}/x")
    assert with_password.code != 0
    assert "hunter2" not in with_password.err + with_password.out
