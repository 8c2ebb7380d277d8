"""Quickstart: a store on local disk, then the same function on an in-memory store.

    python examples/quickstart.py [DIRECTORY]

Writes below DIRECTORY (default ``./.remote-store-data``), in a folder ``quickstart`` that
it empties first, and prints each step.
"""

from __future__ import annotations

import sys

from remote_store import AlreadyExists, NotFound, Store
from remote_store.backends import LocalBackend, MemoryBackend


def tour(store: Store) -> None:
    """The same calls whatever the backend."""
    store.write("reports/q1.csv", b"region,sales\nnorth,10\nsouth,7\n")
    store.write_text("reports/q2.csv", "region,sales\nnorth,12\nsouth,9\n")
    print("read   ", store.read_text("reports/q1.csv").splitlines())

    try:
        store.write("reports/q1.csv", b"clobbered?")
    except AlreadyExists as error:
        print("refused", error.path, "(exists; overwrite=False is the default)")

    with store.read("reports/q2.csv") as stream:  # streamed, not loaded whole
        print("header ", stream.readline())

    with store.open_atomic("reports/summary.txt") as out:  # lands whole, or not at all
        out.write(b"two quarters, two regions\n")

    print("glob   ", sorted(info.path for info in store.glob("**/*.csv")))
    store.copy("reports/q1.csv", "archive/q1.csv")
    store.move("reports/q2.csv", "archive/q2.csv")
    for info in sorted(store.list_files("", recursive=True), key=lambda i: i.path):
        print(f"list    {info.path:<20} {info.size:>4} bytes")

    store.delete_folder("archive", recursive=True)
    try:
        store.read_bytes("archive/q1.csv")
    except NotFound as error:
        print("gone   ", error.path)


def main(directory: str) -> int:
    disk = Store(LocalBackend(base_path=directory), root_path="quickstart")
    for entry in list(disk.iter_children("")):  # start clean: remove an earlier run's files
        if disk.is_folder(entry.path):
            disk.delete_folder(entry.path, recursive=True)
        else:
            disk.delete(entry.path)

    print(f"== local disk: {disk.native_path('')}")
    tour(disk)
    print("== memory")
    tour(Store(MemoryBackend()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ".remote-store-data"))
