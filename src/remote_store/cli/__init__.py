"""The ``remote-store`` command line (needs ``pip install "remote-store[cli]"``).

This module imports nothing beyond the standard library until `main` runs, so a missing
extra is reported as one line with the install command instead of a traceback.
"""

from __future__ import annotations

import sys

INSTALL_HINT = 'pip install "remote-store[cli]"'
_CLI_PACKAGES = {"click", "rich"}


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``remote-store`` console script and ``python -m remote_store``."""
    try:
        from remote_store.cli.app import run
    except ImportError as error:
        missing = (error.name or "").partition(".")[0]
        if missing not in _CLI_PACKAGES:
            raise
        sys.stderr.write(
            f"remote-store: the command line needs {missing!r}, which is not installed; "
            f"install it with: {INSTALL_HINT}\n"
        )
        sys.exit(2)
    sys.exit(run(argv))
