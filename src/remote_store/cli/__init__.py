"""The ``remote-store`` command line (needs the ``cli`` extra: click and rich).

This module imports nothing beyond the standard library until `main` runs, so a missing
extra is reported as one line with the install command instead of a traceback.
"""

from __future__ import annotations

import sys

from remote_store.extras import install_hint

INSTALL_HINT = install_hint("cli")
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
