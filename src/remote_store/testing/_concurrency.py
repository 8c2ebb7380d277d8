"""Threads sharing one backend (BC-007, BC-012, BC-030)."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar, TypeVar

import pytest

from remote_store.capabilities import Capability
from remote_store.errors import AlreadyExists
from remote_store.models import WriteResult
from remote_store.store import Store
from remote_store.testing._base import SuiteBase, payload, write_capability

T = TypeVar("T")


def _race(threads: int, task: Callable[[int], T]) -> list[T | BaseException]:
    """Run task(0..threads-1) on as many threads, released together; outcomes in order."""
    barrier = threading.Barrier(threads)

    def run(index: int) -> T | BaseException:
        barrier.wait()
        try:
            return task(index)
        except Exception as error:
            return error

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(run, range(threads)))


def _create(writer: Callable[..., WriteResult], key: str, bodies: list[bytes], i: int) -> object:
    return writer(key, bodies[i])


class ConcurrencyTests(SuiteBase):
    """A backend instance may be shared by threads."""

    #: Threads racing in each test.
    threads: ClassVar[int] = 8

    @pytest.mark.parametrize("method", ["write", "write_atomic"])
    def test_concurrent_create_has_exactly_one_winner(self, store: Store, method: str) -> None:
        """BC-007: overwrite=False is decided atomically; the winner's content is whole."""
        if not self.gate(store, Capability.WRITE, write_capability(method), Capability.READ):
            return
        bodies = [payload(64 * 1024, seed=i) for i in range(self.threads)]
        writer: Callable[..., WriteResult] = getattr(store, method)
        for round_ in range(3):
            key = f"race-{round_}.bin"
            outcomes = _race(self.threads, functools.partial(_create, writer, key, bodies))
            winners = [i for i, o in enumerate(outcomes) if isinstance(o, WriteResult)]
            losers = [o for o in outcomes if isinstance(o, AlreadyExists)]
            assert len(winners) == 1, outcomes
            assert len(losers) == self.threads - 1, outcomes
            assert store.read_bytes(key) == bodies[winners[0]]

    def test_concurrent_writes_to_different_keys_all_land(self, store: Store) -> None:
        """BC-030: including into one new folder at once."""
        if not self.gate(store, Capability.WRITE, Capability.READ):
            return
        outcomes = _race(self.threads, lambda i: store.write(f"new/dir/{i}.bin", bytes([i]) * 999))
        assert all(isinstance(o, WriteResult) for o in outcomes), outcomes
        self.assert_files(
            store, {f"new/dir/{i}.bin": bytes([i]) * 999 for i in range(self.threads)}
        )

    def test_concurrent_reads_agree(self, store: Store) -> None:
        """BC-030"""
        if not self.gate(store, Capability.WRITE, Capability.READ):
            return
        data = payload(200_000, seed=3)
        store.write("shared.bin", data)
        outcomes = _race(self.threads, lambda _: store.read_bytes("shared.bin"))
        assert all(o == data for o in outcomes)

    def test_concurrent_atomic_overwrites_leave_one_whole_payload(self, store: Store) -> None:
        """BC-012: the last writer wins entirely; bytes of different writers never mix."""
        if not self.gate(store, Capability.WRITE, Capability.ATOMIC_WRITE, Capability.READ):
            return
        bodies = [payload(256 * 1024 + i, seed=i) for i in range(self.threads)]
        store.write("file.bin", b"initial")
        outcomes = _race(
            self.threads, lambda i: store.write_atomic("file.bin", bodies[i], overwrite=True)
        )
        assert all(isinstance(o, WriteResult) for o in outcomes), outcomes
        assert store.read_bytes("file.bin") in bodies
        self.assert_files(store, {"file.bin": store.read_bytes("file.bin")})

    def test_readers_never_see_a_partial_atomic_write(self, store: Store) -> None:
        """BC-012: while one thread replaces a file, others read the old or the new content."""
        if not self.gate(store, Capability.WRITE, Capability.ATOMIC_WRITE, Capability.READ):
            return
        versions = [payload(128 * 1024, seed=10), payload(96 * 1024, seed=11)]
        store.write("file.bin", versions[0])
        done = threading.Event()
        reading = threading.Barrier(3)
        seen: list[bytes] = []

        def replace() -> None:
            # Start replacing only once both readers are running, so they overlap the writes.
            reading.wait()
            try:
                for turn in range(20):
                    store.write_atomic("file.bin", versions[(turn + 1) % 2], overwrite=True)
            finally:
                done.set()

        def read() -> None:
            reading.wait()
            while not done.is_set():
                seen.append(store.read_bytes("file.bin"))

        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = [pool.submit(replace), pool.submit(read), pool.submit(read)]
            for future in futures:
                future.result()
        assert seen
        assert all(data in versions for data in seen)
