"""The SFTP section of docs/performance.md, rendered from the SFTP benchmarks' results
(`benchmarks.sftp`, `benchmarks.sftp_asyncssh`) by `benchmarks.report.write`."""

from __future__ import annotations

import json
from pathlib import Path

FILES = (
    ("sftp.json", "Small operations and 256 MiB transfers"),
    ("sftp-small.json", "Small operations, a second run"),
    ("sftp-asyncssh.json", "paramiko (this backend) or asyncssh?"),
)


def markdown(results: Path) -> list[str]:
    """Markdown lines for the SFTP results in *results*; none when there are none."""
    found = [(results / name, title) for name, title in FILES if (results / name).exists()]
    if not found:
        return []
    lines = [
        "",
        "## SFTP (OpenSSH `sshd` on loopback)",
        "",
        "**ours** is a `Store` on `SFTPBackend` with default options; **paramiko** one raw "
        "`SFTPClient`; **fsspec** its `sftp` filesystem. Requests are SFTP requests. The "
        "methods and what the numbers mean are on the [SFTP page](backends/sftp.md#performance).",
    ]
    for path, title in found:
        run = json.loads(path.read_text())
        seconds = f" ({run['seconds']:.0f} s)" if "seconds" in run else ""
        lines += ["", f"### {title}", "", f"`{run['command']}`{seconds}", ""]
        table = run["table"]
        if "large" in run and not run["large"]:
            # A --small-only run has a transfer table with a header and no rows.
            table = table.split("\n| transfer |")[0]
        lines += table.rstrip().splitlines()
    return lines
