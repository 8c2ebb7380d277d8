"""SQL-003, SQL-004: the database decides write conditions, atomically, under real
concurrency (8 threads on one key), on SQLite and on PostgreSQL. The 8 x 200 ``if_match``
counter soak runs on both through tests/concurrency (FACTORIES)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from remote_store.backends.sql import SQLBlobBackend
from remote_store.errors import AlreadyExists
from remote_store.store import Store
from tests.sql.conftest import Factory, chunk_rows

THREADS = 8


def _together(action: Callable[[int], object]) -> list[object]:
    """Run *action(i)* on THREADS threads released at once; each result or exception."""
    barrier = threading.Barrier(THREADS)

    def run(i: int) -> object:
        barrier.wait()
        try:
            return action(i)
        except Exception as error:
            return error

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(run, range(THREADS)))


def test_create_only_has_exactly_one_winner(make_backend: Factory) -> None:
    """SQL-003: ``overwrite=False`` is one INSERT ... ON CONFLICT DO NOTHING: one writer wins,
    every other gets `AlreadyExists`, and the content is the winner's, whole."""
    backend = make_backend()
    store = Store(backend)
    for round_ in range(5):
        key = f"once-{round_}.txt"

        def create(i: int, key: str = key) -> object:
            return store.write(key, f"writer {i} ".encode() * 1000)

        results = _together(create)
        winners = [i for i, r in enumerate(results) if not isinstance(r, Exception)]
        losers = [r for r in results if isinstance(r, Exception)]
        assert len(winners) == 1, results
        assert all(isinstance(r, AlreadyExists) for r in losers), losers
        assert store.read_bytes(key) == f"writer {winners[0]} ".encode() * 1000
    # The losers' chunks were rolled back with their transactions.
    assert chunk_rows(backend) == 5


def test_concurrent_first_writes_with_overwrite_never_raise(make_backend: Factory) -> None:
    """SQL-004: ``overwrite=True`` on a key nobody has written yet is an upsert: two first
    writes both land, one after the other; never `AlreadyExists` (0.33 raised it)."""
    backend = make_backend(chunk_size=4096)
    store = Store(backend)
    payloads = [bytes([i]) * 10_000 for i in range(THREADS)]
    for round_ in range(10):
        key = f"first-{round_}.bin"

        def upsert(i: int, key: str = key) -> object:
            return store.write(key, payloads[i], overwrite=True)

        results = _together(upsert)
        assert not [r for r in results if isinstance(r, Exception)], results
        assert store.read_bytes(key) in payloads
    # One version per key survives, three 4 KiB chunks each; the replaced ones are gone.
    assert chunk_rows(backend) == 10 * 3


def test_stores_built_at_once_on_fresh_tables_all_succeed(make_backend: Factory) -> None:
    """SQL-001, DS-030: processes (here threads, each with its own engine) that build the
    store at once on tables nobody has created yet (a dask cluster's workers on first use)
    all succeed: the losers of the creation race check again."""
    for _ in range(3):
        probe = make_backend(create_table=False)  # names fresh tables, creates nothing
        options = probe._rebuild_options()
        url, table = options["url"].reveal(), options["table_name"]

        def build(i: int, url: str = url, table: str = table) -> object:
            with SQLBlobBackend(url, table_name=table) as backend:
                return Store(backend).write(f"by-{i}.txt", b"x")

        results = _together(build)
        assert not [r for r in results if isinstance(r, Exception)], results
        assert len(list(Store(probe).list_files(""))) == THREADS
