"""Files written by the local backend into the folder nginx serves read back the same
through the HTTP backend: content, size, folders, listings (HTTP-004..HTTP-006, HTTP-011).
The conformance suite seeds with ``store.write``, which a read-only backend refuses, so
this is where reads of real files meet the local backend's answers."""

from __future__ import annotations

import random

import pytest

from remote_store.backends import LocalBackend
from remote_store.store import Store
from tests.http.conftest import Site

pytestmark = pytest.mark.http

NAMES = [
    "plain.txt",
    "with space.bin",
    "grüße/日本.txt",
    "a/b/c/deep.csv",
    "a/b/sibling.json",
    "symbols/[x]+(y)&z=1;~.dat",
    "percent%41.txt",
    "empty.bin",
]


@pytest.fixture
def stores(site: Site) -> tuple[Store, Store]:
    local = Store(LocalBackend(base_path=site.server.root / site.folder))
    rng = random.Random(7)
    for name in NAMES:
        local.write(name, b"" if name == "empty.bin" else rng.randbytes(rng.randrange(1, 300_000)))
    site.location = "listed"
    return local, Store(site.backend(listing="nginx-json"))


def test_reads_agree(stores: tuple[Store, Store]) -> None:
    local, http = stores
    for name in NAMES:
        data = local.read_bytes(name)
        assert http.read_bytes(name) == data, name
        assert http.get_file_info(name).size == len(data), name
        with http.read_seekable(name) as stream:
            stream.seek(len(data) // 2)
            assert stream.read() == data[len(data) // 2 :], name


def test_names_and_listings_agree(stores: tuple[Store, Store]) -> None:
    local, http = stores
    for path in ["a", "a/b", "grüße", "symbols", "plain.txt", "nothing", "a/b/c/deep.csv"]:
        assert http.exists(path) == local.exists(path), path
        assert http.is_folder(path) == local.is_folder(path), path
        assert http.is_file(path) == local.is_file(path), path
    mine = sorted((i.path, i.size) for i in http.list_files("", recursive=True))
    theirs = sorted((i.path, i.size) for i in local.list_files("", recursive=True))
    assert mine == theirs
    assert sorted(f.path for f in http.list_folders("")) == sorted(
        f.path for f in local.list_folders("")
    )
    assert sorted(i.path for i in http.glob("**/*.txt")) == sorted(
        i.path for i in local.glob("**/*.txt")
    )
