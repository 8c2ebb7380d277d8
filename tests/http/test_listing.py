"""Listing from nginx's JSON index, where declared (HTTP-011)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from remote_store.backends.http import HttpBackend
from remote_store.errors import BackendUnavailable, NotAFolder, NotFound
from remote_store.models import FileInfo, FolderEntry
from remote_store.store import Store
from tests.http.conftest import Site
from tests.http.scripted import Behaviour, scripted_server

pytestmark = pytest.mark.http

FILES = {
    "a.txt": b"a",
    "b.bin": b"bb",
    "sub/c.txt": b"ccc",
    "sub/deeper/d.txt": b"dddd",
    "other/e.csv": b"eeeee",
}


@pytest.fixture
def listed(site: Site) -> Store:
    for name, data in FILES.items():
        site.put(name, data)
    site.location = "listed"
    return Store(site.backend(listing="nginx-json"))


def test_one_level(listed: Store) -> None:
    """HTTP-011: files with size and mtime; folders as FolderEntry."""
    files = {info.path: info for info in listed.list_files("")}
    assert sorted(files) == ["a.txt", "b.bin"]
    assert files["b.bin"].size == 2 and files["b.bin"].modified is not None
    assert sorted(f.name for f in listed.list_folders("")) == ["other", "sub"]
    children = list(listed.iter_children("sub"))
    assert FolderEntry("sub/deeper") in children
    assert [c.path for c in children if isinstance(c, FileInfo)] == ["sub/c.txt"]


def test_recursive_glob_and_folder_info(listed: Store) -> None:
    """HTTP-011: recursion walks the index one folder at a time."""
    every = sorted(info.path for info in listed.list_files("", recursive=True))
    assert every == sorted(FILES)
    assert sorted(i.path for i in listed.glob("**/*.txt")) == [
        "a.txt",
        "sub/c.txt",
        "sub/deeper/d.txt",
    ]
    info = listed.get_folder_info("sub")
    assert (info.file_count, info.total_size) == (2, 7)
    for path in FILES:  # what the index lists is what a read returns
        assert listed.read_bytes(path) == FILES[path]


def test_a_missing_folder_lists_nothing(listed: Store) -> None:
    """HTTP-011: the contract's empty answer; get_folder_info says which."""
    assert list(listed.list_files("nowhere")) == []
    with pytest.raises(NotFound):
        listed.get_folder_info("nowhere")
    with pytest.raises(NotAFolder):
        listed.get_folder_info("a.txt")


@pytest.fixture
def scripted() -> Iterator[tuple[str, Behaviour]]:
    behaviour = Behaviour()
    with scripted_server(behaviour) as origin:
        yield origin, behaviour


def test_an_index_that_is_not_json_is_an_error(scripted: tuple[str, Behaviour]) -> None:
    """HTTP-011: listing declared where no JSON index is served fails loudly, not
    empty."""
    origin, behaviour = scripted
    behaviour.files["/d/"] = b"<html>index</html>"
    backend = HttpBackend(f"{origin}/d", listing="nginx-json")
    with backend, pytest.raises(BackendUnavailable, match="JSON") as caught:
        list(backend.list_files(""))
    assert caught.value.retryable is False
