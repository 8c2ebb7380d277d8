"""The local backend never follows a symlink out of its root, whatever the method."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from remote_store.backends import LocalBackend
from remote_store.errors import InvalidPath, NotFound
from remote_store.store import Store


def _calls(store: Store, p: str) -> dict[str, Callable[[], object]]:
    def atomic() -> None:
        with store.open_atomic(p, overwrite=True) as out:
            out.write(b"evil")

    return {
        "write": lambda: store.write(p, b"evil", overwrite=True),
        "write_atomic": lambda: store.write_atomic(p, b"evil", overwrite=True),
        "open_atomic": atomic,
        "read_bytes": lambda: store.read_bytes(p),
        "read": lambda: store.read(p).close(),
        "read_seekable": lambda: store.read_seekable(p).close(),
        "get_file_info": lambda: store.get_file_info(p),
        "head": lambda: store.head(p),
        "get_folder_info": lambda: store.get_folder_info(p),
        "list_files": lambda: list(store.list_files(p, recursive=True)),
        "iter_children": lambda: list(store.iter_children(p)),
        "delete": lambda: store.delete(p),
        "delete_folder": lambda: store.delete_folder(p, recursive=True),
        "copy from": lambda: store.copy(p, "copied.txt"),
        "copy to": lambda: store.copy("inside.txt", p, overwrite=True),
        "move from": lambda: store.move(p, "moved.txt"),
        "move to": lambda: store.move("inside.txt", p, overwrite=True),
    }


@pytest.mark.parametrize("target", ["link", "link/secret.txt", "link/new.txt", "filelink"])
def test_no_method_follows_a_symlink_out(tmp_path: Path, target: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    base = tmp_path / "base"
    base.mkdir()
    os.symlink(outside, base / "link")
    os.symlink(outside / "secret.txt", base / "filelink")
    store = Store(LocalBackend(base))
    for name, call in _calls(store, target).items():
        store.write("inside.txt", b"inside", overwrite=True)
        with pytest.raises(InvalidPath):
            call()
        assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"], name
        assert (outside / "secret.txt").read_bytes() == b"secret", name
    # Queries answer as for nothing there: they reveal nothing about the outside.
    assert not store.is_file(target)
    for query in (store.exists, store.is_folder):
        with contextlib.suppress(InvalidPath):
            assert not query(target)
    assert "secret.txt" not in [i.name for i in store.list_files("", recursive=True)]
    with pytest.raises((InvalidPath, NotFound)):
        store.read_bytes(target)
