"""Listing costs pages only, and glob lists only below its literal prefix (issue 5).

Counted in the emulator's request log, with List Blobs / List Paths pages capped at 1,000,
for both strategies (``hns=False``: flat; ``hns=True``: hierarchical once it is available,
flat until then)."""

from __future__ import annotations

import pytest

from tests.hns_emulator import HnsEmulator, LoggedRequest
from tests.perf.conftest import StoreFactory, seed

FILES = 2_500
PAGE = 1_000
PAGES = -(-FILES // PAGE)  # 3


def _is_listing(request: LoggedRequest) -> bool:
    q = request.query
    return request.method == "GET" and (q.get("comp") == "list" or "resource" in q)


def _listed_under(request: LoggedRequest) -> str:
    q = request.query
    return q.get("prefix", q.get("directory", ""))


@pytest.fixture(params=[False, True], ids=["flat", "hns"])
def hns(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def tree(emulator: HnsEmulator, hns: bool) -> str:
    """``many/`` holds 2,500 files directly; ``prefix/`` a tree of 2,500 (25 ``.csv``);
    ``prefixed/`` and ``other/`` files that a glob of ``prefix/**`` must never list."""
    container = f"perf-list-{'hns' if hns else 'flat'}"
    names = [f"many/f{i:05d}.bin" for i in range(FILES)]
    names += [
        f"prefix/d{i % 10}/e{i % 3}/f{i:05d}.{'csv' if i % 100 == 0 else 'json'}"
        for i in range(FILES)
    ]
    names += [f"prefixed/f{i}.csv" for i in range(300)] + [f"other/f{i}.csv" for i in range(300)]
    if container not in emulator.namespace.containers:
        seed(emulator, container, names)
    emulator.set_page_sizes(list_blobs=PAGE, list_paths=PAGE)
    emulator.clear_requests()
    return container


def test_flat_listing_is_pages_only(
    emulator: HnsEmulator, emulator_store: StoreFactory, tree: str, hns: bool
) -> None:
    store = emulator_store(tree, hns=hns)
    assert sum(1 for _ in store.list_files("many")) == FILES
    requests = emulator.requests
    assert all(_is_listing(r) for r in requests), requests
    # Hierarchical listings may add one page for the directory entries themselves.
    assert len(requests) == PAGES, requests


def test_recursive_listing_is_pages_only(
    emulator: HnsEmulator, emulator_store: StoreFactory, tree: str, hns: bool
) -> None:
    store = emulator_store(tree, hns=hns)
    assert sum(1 for _ in store.list_files("prefix", recursive=True)) == FILES
    requests = emulator.requests
    assert all(_is_listing(r) for r in requests), requests
    # A recursive DFS listing also returns the 40 directories: still at most one more page.
    assert PAGES <= len(requests) <= PAGES + (1 if hns else 0), requests


def test_glob_lists_only_below_its_literal_prefix(
    emulator: HnsEmulator, emulator_store: StoreFactory, tree: str, hns: bool
) -> None:
    store = emulator_store(tree, hns=hns)
    found = sorted(info.path for info in store.glob("prefix/**/*.csv"))
    assert len(found) == 25 and all(p.startswith("prefix/") for p in found)
    requests = emulator.requests
    assert all(_is_listing(r) for r in requests), requests
    assert {_listed_under(r).rstrip("/") for r in requests} == {"prefix"}, requests
    assert len(requests) <= PAGES + (1 if hns else 0), requests


def test_get_folder_info_is_pages_only(
    emulator: HnsEmulator, emulator_store: StoreFactory, tree: str, hns: bool
) -> None:
    store = emulator_store(tree, hns=hns)
    assert store.get_folder_info("many").file_count == FILES
    requests = emulator.requests
    # One probe of the folder itself is allowed (HNS: is it a directory?), never per entry.
    listings = [r for r in requests if _is_listing(r)]
    assert len(requests) - len(listings) <= 1, requests
    assert len(listings) <= PAGES + 1, requests
