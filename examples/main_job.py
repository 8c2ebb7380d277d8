"""The main job: an end-to-end tour of remote-store on the embedded local default.

Run from anywhere: ``python examples/main_job.py``. Set REMOTE_STORE_CONFIG to run the same
job against another configuration (memory, Azure) with a store named ``demo``.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

from remote_store import AlreadyExists, NotFound, Registry, RegistryConfig, Store

DEFAULT_CONFIG = Path(__file__).with_name("remote-store.toml")


def main() -> int:
    config_path = os.environ.get("REMOTE_STORE_CONFIG", str(DEFAULT_CONFIG))
    config = RegistryConfig.from_toml(config_path)
    with Registry(config) as registry:
        store = registry.get_store("demo")
        print(f"store: {store!r} -> {store.native_path('')}")
        _start_clean(store)

        result = store.write("reports/2026/q1.csv", b"region,sales\nnorth,10\nsouth,7\n")
        print(f"wrote   {result.path} ({result.size} bytes, etag {result.etag})")
        store.write_text("reports/2026/q2.csv", "region,sales\nnorth,12\nsouth,9\n")
        store.write("raw/events.jsonl", io.BytesIO(b'{"event": "start"}\n' * 1000))
        with store.open_atomic("reports/summary.txt") as out:
            out.write(b"two quarters, two regions\n")
        print("wrote   reports/2026/q2.csv, raw/events.jsonl, reports/summary.txt (atomic)")

        try:
            store.write("reports/2026/q1.csv", b"clobber?")
        except AlreadyExists as error:
            print(f"refused {error.path}: exists and overwrite=False")

        print(f"read    reports/2026/q1.csv -> {store.read_text('reports/2026/q1.csv')!r}")
        with store.read("raw/events.jsonl") as stream:
            first_line = stream.readline()
        print(f"stream  raw/events.jsonl first line -> {first_line!r}")

        for info in sorted(store.list_files("", recursive=True), key=lambda i: i.path):
            print(f"list    {info.path:<28} {info.size:>6} bytes")
        print(f"folders {sorted(f.name for f in store.list_folders('reports'))}")
        print(f"glob    **/*.csv -> {sorted(i.path for i in store.glob('**/*.csv'))}")

        store.copy("reports/2026/q1.csv", "archive/q1.csv")
        store.move("reports/2026/q2.csv", "archive/q2.csv")
        print(f"copied+moved -> {sorted(i.path for i in store.list_files('archive'))}")

        store.delete("raw/events.jsonl")
        try:
            store.read_bytes("raw/events.jsonl")
        except NotFound as error:
            print(f"deleted {error.path}: reading it now raises NotFound")
        totals = store.get_folder_info("")
        print(f"total   {totals.file_count} files, {totals.total_size} bytes")
    return 0


def _start_clean(store: Store) -> None:
    """Remove what an earlier run left, so the tour prints the same every time."""
    for folder in list(store.list_folders("")):
        store.delete_folder(folder.path, recursive=True)
    for info in list(store.list_files("")):
        store.delete(info.path)


if __name__ == "__main__":
    sys.exit(main())
