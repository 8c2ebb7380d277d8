"""How to install an optional part of the package (an extra such as ``azure``).

The name ``remote-store`` on the package index belongs to another project, so a hint never
says ``pip install "remote-store[azure]"``: it names the extra's own requirements, read
from this package's metadata, which install the same way however this package was.
"""

from __future__ import annotations

import importlib.metadata
import re
from functools import cache

DISTRIBUTION = "remote-store"
_EXTRA = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


@cache
def install_hint(extra: str) -> str:
    """The command that installs what the extra *extra* needs."""
    try:
        required = importlib.metadata.requires(DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:
        required = []
    wanted = []
    for line in required:
        requirement, _, marker = line.partition(";")
        found = _EXTRA.search(marker)
        if found is not None and found.group(1) == extra:
            wanted.append(f'"{requirement.strip()}"')
    if not wanted:
        return f'pip install -e ".[{extra}]" in the remote-store source folder'
    return "pip install " + " ".join(wanted)
