"""Compare-and-swap with ``if_match`` (BC-032 to BC-036)."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar

import pytest

from remote_store.capabilities import Capability
from remote_store.errors import (
    InvalidArgument,
    NotFound,
    PreconditionFailed,
)
from remote_store.store import Store
from remote_store.testing._base import SuiteBase

_WRITERS = ["write", "write_text", "write_atomic", "open_atomic"]


def _conditional_write(store: Store, method: str, path: str, data: bytes, etag: str) -> None:
    """Replace *path* with *data* through *method*, conditional on *etag*."""
    if method == "open_atomic":
        with store.open_atomic(path, overwrite=True, if_match=etag) as out:
            out.write(data)
    elif method == "write_text":
        store.write_text(path, data.decode(), overwrite=True, if_match=etag)
    else:
        getattr(store, method)(path, data, overwrite=True, if_match=etag)


def _current_etag(store: Store, path: str) -> str:
    """The etag get_file_info reports for *path*."""
    etag = store.get_file_info(path).etag
    assert etag, "CONDITIONAL_WRITE needs an etag from get_file_info"
    return etag


class Counter:
    """One thread's view of an integer file, changed by read-modify-write with ``if_match``.

    The last version this thread wrote is remembered: the next increment first tries it
    (one request when nobody else wrote meanwhile); on a conflict it backs off with jitter
    and re-reads, etag *before* content, so a content newer than its etag can only make the
    conditional write fail, never lose an update."""

    def __init__(self, store: Store, path: str, *, seed: int = 0) -> None:
        self.store, self.path = store, path
        self.known: tuple[str, int] | None = None
        self.attempts = 0
        self._random = random.Random(seed)

    def _read(self) -> tuple[str, int]:
        etag = _current_etag(self.store, self.path)
        return etag, int(self.store.read_bytes(self.path))

    def increment(self) -> None:
        conflicts = 0
        while True:
            self.attempts += 1
            started = time.monotonic()
            etag, value = self.known or self._read()
            data = str(value + 1).encode()
            try:
                result = self.store.write(self.path, data, overwrite=True, if_match=etag)
            except PreconditionFailed as error:
                if error.retryable:
                    raise AssertionError("PreconditionFailed must not be retryable") from error
                self.known = None
                conflicts += 1
                # Back off in units of what an attempt costs here (microseconds in memory,
                # milliseconds on a service), doubling per conflict, with full jitter.
                unit = time.monotonic() - started
                time.sleep(self._random.uniform(0, min(0.25, unit * 2 ** min(conflicts, 6))))
                continue
            self.known = (result.etag, value + 1) if result.etag else None
            return


def soak(store: Store, path: str, threads: int, increments: int) -> tuple[int, int, float]:
    """*threads* threads each add *increments* to the counter at *path*, starting at 0.

    Returns (final value, attempts in all, seconds)."""
    store.write(path, b"0", overwrite=True)
    barrier = threading.Barrier(threads)
    started = time.monotonic()

    def work(index: int) -> int:
        counter = Counter(store, path, seed=index)
        barrier.wait()
        for _ in range(increments):
            counter.increment()
        return counter.attempts

    with ThreadPoolExecutor(max_workers=threads) as pool:
        attempts = sum(pool.map(work, range(threads)))
    return int(store.read_bytes(path)), attempts, time.monotonic() - started


class ConditionalTests(SuiteBase):
    """``if_match``: a stale etag is refused and changes nothing; a fresh one succeeds."""

    #: Threads and increments of the counter soak (BC-036); the full 8 x 200 runs in
    #: ``tests/concurrency`` on every backend.
    soak_threads: ClassVar[int] = 8
    soak_increments: ClassVar[int] = 25

    def _cas_ready(self, store: Store, *more: Capability) -> bool:
        return self.gate(store, Capability.WRITE, Capability.CONDITIONAL_WRITE, *more)

    def _capabilities(self, method: str) -> tuple[Capability, ...]:
        atomic = (Capability.ATOMIC_WRITE,) if "atomic" in method else ()
        return (Capability.READ, Capability.METADATA, *atomic)

    def _seeded_etag(self, store: Store, method: str, data: bytes) -> str | None:
        """The etag of c.txt, created with *data*, when *method* can replace it conditionally;
        None when the store lacks a capability for that (the gate checked the refusal)."""
        if not self._cas_ready(store, *self._capabilities(method)):
            return None
        store.write("c.txt", data)
        return _current_etag(store, "c.txt")

    @staticmethod
    def _stale_etag(store: Store, path: str, *, now: bytes) -> str:
        """Create *path*, then overwrite it with *now*: the etag it had before, now stale."""
        store.write(path, b"one")
        stale = _current_etag(store, path)
        store.write(path, now, overwrite=True)
        return stale

    @pytest.mark.parametrize("method", _WRITERS)
    def test_fresh_etag_replaces(self, store: Store, method: str) -> None:
        """BC-032: the etag get_file_info reports lets exactly that version be replaced."""
        if (etag := self._seeded_etag(store, method, b"old")) is None:
            return
        _conditional_write(store, method, "c.txt", b"new", etag)
        assert store.read_bytes("c.txt") == b"new"
        assert store.get_file_info("c.txt").etag != etag

    @pytest.mark.parametrize("method", _WRITERS)
    def test_stale_etag_is_refused_and_changes_nothing(self, store: Store, method: str) -> None:
        """BC-033: PreconditionFailed (store-relative path, not retryable); content stays."""
        if not self._cas_ready(store, *self._capabilities(method)):
            return
        first = store.write("c.txt", b"one")
        stale = first.etag or store.get_file_info("c.txt").etag
        assert stale
        store.write("c.txt", b"two", overwrite=True)
        with pytest.raises(PreconditionFailed) as caught:
            _conditional_write(store, method, "c.txt", b"three", stale)
        assert caught.value.path == "c.txt"
        assert caught.value.retryable is False
        assert store.read_bytes("c.txt") == b"two"
        self.assert_files(store, {"c.txt": b"two"})

    def test_write_result_etag_chains(self, store: Store) -> None:
        """BC-032: the etag a WriteResult reports is the one to pass next time."""
        if not self._cas_ready(store, Capability.READ, Capability.WRITE_RESULT_NATIVE):
            return
        result = store.write("c.txt", b"1")
        for value in (b"2", b"3"):
            assert result.etag
            result = store.write("c.txt", value, overwrite=True, if_match=result.etag)
        assert store.read_bytes("c.txt") == b"3"

    @pytest.mark.parametrize("method", _WRITERS)
    def test_if_match_needs_overwrite(self, store: Store, method: str) -> None:
        """BC-034: if_match with overwrite=False is contradictory: InvalidArgument, no I/O."""
        if (etag := self._seeded_etag(store, method, b"one")) is None:
            return
        with pytest.raises(InvalidArgument):
            if method == "open_atomic":
                store.open_atomic("c.txt", if_match=etag)
            else:
                getattr(store, method)(
                    "c.txt", "x" if method == "write_text" else b"x", if_match=etag
                )
        with pytest.raises(InvalidArgument):
            store.write("c.txt", b"x", overwrite=True, if_match="")
        assert store.read_bytes("c.txt") == b"one"

    @pytest.mark.parametrize("method", [*_WRITERS, "delete", "move"])
    def test_if_match_on_a_missing_file_is_not_found(self, store: Store, method: str) -> None:
        """BC-035: the file the etag named is gone: NotFound (a FileNotFoundError)."""
        needs = (Capability.DELETE,) if method == "delete" else self._capabilities(method)
        if method == "move":
            needs = (Capability.MOVE,)
        if not self._cas_ready(store, *needs):
            return
        store.write("c.txt", b"one")
        etag = store.get_file_info("c.txt").etag if store.supports(Capability.METADATA) else "x"
        assert etag
        store.delete("c.txt")
        with pytest.raises(NotFound):
            if method == "delete":
                store.delete("c.txt", if_match=etag)
            elif method == "move":
                store.move("c.txt", "d.txt", if_match=etag)
            else:
                _conditional_write(store, method, "c.txt", b"new", etag)
        assert not store.exists("c.txt")
        assert not store.exists("d.txt")
        if method == "delete":
            store.delete("c.txt", missing_ok=True, if_match=etag)  # absence is the goal

    def test_delete_if_match(self, store: Store) -> None:
        """BC-033: delete with a stale etag keeps the file; with the current one removes it."""
        if not self._cas_ready(store, Capability.DELETE, Capability.METADATA, Capability.READ):
            return
        stale = self._stale_etag(store, "c.txt", now=b"two")
        with pytest.raises(PreconditionFailed):
            store.delete("c.txt", if_match=stale)
        assert store.read_bytes("c.txt") == b"two"
        store.delete("c.txt", if_match=store.get_file_info("c.txt").etag)
        assert not store.exists("c.txt")

    def test_move_if_match_is_on_the_source(self, store: Store) -> None:
        """BC-033: move with a stale source etag moves nothing; with the current one moves."""
        if not self._cas_ready(store, Capability.MOVE, Capability.METADATA, Capability.READ):
            return
        stale = self._stale_etag(store, "src.txt", now=b"two")
        store.write("dst.txt", b"keep")
        with pytest.raises(PreconditionFailed):
            store.move("src.txt", "dst.txt", overwrite=True, if_match=stale)
        self.assert_files(store, {"src.txt": b"two", "dst.txt": b"keep"})
        with pytest.raises(PreconditionFailed):
            store.move("src.txt", "src.txt", if_match=stale)  # onto itself: still checked
        store.move(
            "src.txt", "dst.txt", overwrite=True, if_match=store.get_file_info("src.txt").etag
        )
        self.assert_files(store, {"dst.txt": b"two"})

    def test_counter_soak(self, store: Store) -> None:
        """BC-036: threads doing read-modify-write with if_match retry loops lose nothing."""
        if not self._cas_ready(store, Capability.READ, Capability.METADATA):
            return
        threads, increments = self.soak_threads, self.soak_increments
        final, attempts, _ = soak(store, "counter.txt", threads, increments)
        assert final == threads * increments
        assert attempts >= final


__all__ = ["ConditionalTests", "Counter", "soak"]
