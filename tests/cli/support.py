"""Running the installed ``remote-store`` command in a subprocess, and in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).with_name("remote-store")


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment without anything that would change which config or account is used."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "REMOTE_STORE_CONFIG" and not k.startswith("AZURE_")
    }
    env.update(extra or {})
    return env


def run_cli(
    *args: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    module: bool = False,
    timeout: float = 60,
) -> Result:
    """Run the installed console script (or ``python -m remote_store``) in *cwd*."""
    command = [sys.executable, "-m", "remote_store"] if module else [str(BIN)]
    done = subprocess.run(
        [*command, *args],
        cwd=cwd,
        env=clean_env(env),
        input=stdin if stdin is not None else b"",
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    return Result(done.returncode, done.stdout.decode(), done.stderr.decode())
