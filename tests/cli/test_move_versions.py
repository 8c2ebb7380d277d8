"""A move between two stores deletes only the version it copied (the CLI's `mv`)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from remote_store.backends import LocalBackend, MemoryBackend
from remote_store.cli.addresses import Address
from remote_store.cli.session import Location
from remote_store.cli.transfer import Job, copy_file
from remote_store.errors import PreconditionFailed
from remote_store.operations import runs_natively
from remote_store.store import Store


def _location(store: Store, key: str) -> Location:
    return Location(store, key, Address("store", f"s:{key}", key, store="s"), "s:")


@pytest.mark.parametrize("source_kind", ["memory", "local"])
def test_a_version_written_during_the_copy_is_kept(tmp_path: Path, source_kind: str) -> None:
    source = Store(MemoryBackend() if source_kind == "memory" else LocalBackend(tmp_path / "s"))
    target = Store(LocalBackend(tmp_path / "t"))
    old = b"old version " * 100_000
    source.write("data.bin", old)
    job = Job(
        _location(source, "data.bin"),
        source.get_file_info("data.bin"),
        _location(target, "data.bin"),
    )
    rewritten: list[object] = []

    def write_newer(nbytes: int) -> None:  # another writer updates the source mid-copy
        if not rewritten:
            rewritten.append(source.write("data.bin", b"new version", overwrite=True))

    with pytest.raises(PreconditionFailed, match="changed while it was being moved"):
        copy_file(job, overwrite=False, cancel=threading.Event(), on_bytes=write_newer, move=True)
    assert source.read_bytes("data.bin") == b"new version"
    assert target.read_bytes("data.bin") in (old, b"new version")


def test_an_unchanged_source_is_deleted(tmp_path: Path) -> None:
    source, target = Store(MemoryBackend()), Store(LocalBackend(tmp_path / "t"))
    source.write("a.txt", b"a")
    job = Job(_location(source, "a.txt"), source.get_file_info("a.txt"), _location(target, "a.txt"))
    copy_file(job, overwrite=False, cancel=threading.Event(), on_bytes=lambda n: None, move=True)
    assert not source.exists("a.txt")
    assert target.read_bytes("a.txt") == b"a"


def test_only_service_side_copies_count_as_native(tmp_path: Path) -> None:
    """The CLI copies through the backend only where the service does the work; a copy that
    would stream through the client goes through the CLI's own cancellable copy."""
    from tests.docs.test_doc_backend import DOCUMENTED

    memory, local, streamed = MemoryBackend(), LocalBackend(tmp_path), DOCUMENTED.DictBackend()
    assert runs_natively(memory, "copy") and runs_natively(memory, "move")
    assert not runs_natively(local, "copy") and runs_natively(local, "move")  # a rename
    assert not runs_natively(streamed, "copy") and not runs_natively(streamed, "move")
