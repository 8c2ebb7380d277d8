"""Run the in-repo HNS emulator in this process until stdin closes (used by targets.py).

Prints one JSON line with the connection string, then serves. Authentication is on, as a
real account's SharedKey would be.
"""

from __future__ import annotations

import json
import sys

from benchmarks.targets import ROOT  # noqa: F401  (puts the repository on sys.path)
from tests.hns_emulator import HnsEmulator


def main() -> None:
    with HnsEmulator() as emulator:
        print(json.dumps({"connection_string": emulator.connection_string}), flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
