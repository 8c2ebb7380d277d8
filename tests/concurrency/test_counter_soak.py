"""The full compare-and-swap soak (BC-036): 8 threads x 200 read-modify-write increments of
one counter file with ``if_match`` retry loops end at exactly 1,600, on every backend; and
on local disk the same between processes."""

from __future__ import annotations

import multiprocessing
import uuid
from pathlib import Path

import pytest

from remote_store.backends import LocalBackend
from remote_store.capabilities import Capability
from remote_store.errors import CapabilityNotSupported
from remote_store.store import Store
from remote_store.testing._conditional import Counter, soak
from tests.backend_factories import FACTORIES
from tests.conformance.conftest import MARKS

THREADS, INCREMENTS = 8, 200


@pytest.mark.timeout(400)
@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=MARKS.get(n, [pytest.mark.azure] if n.startswith("azure") else []))
        for n in FACTORIES
    ],
)
def test_eight_threads_two_hundred_increments(request: pytest.FixtureRequest, name: str) -> None:
    backend = FACTORIES[name](request)
    store = Store(backend, root_path=f"soak-{uuid.uuid4().hex[:8]}")
    if not store.supports(Capability.CONDITIONAL_WRITE):  # read-only (http): refused, as
        with backend, pytest.raises(CapabilityNotSupported):  # the conformance gate checks
            store.write("counter.txt", b"0", overwrite=True, if_match='"e"')
        return
    try:
        final, attempts, seconds = soak(store, "counter.txt", THREADS, INCREMENTS)
        print(f"\nsoak {name}: {final} after {attempts} attempts in {seconds:.1f} s")
        assert final == THREADS * INCREMENTS
        store.delete("counter.txt")
    finally:
        backend.close()


def _process_worker(root: str, increments: int) -> int:
    counter = Counter(Store(LocalBackend(root)), "counter.txt")
    for _ in range(increments):
        counter.increment()
    return counter.attempts


def test_local_processes_do_not_lose_updates(tmp_path: Path) -> None:
    """The directory ``flock`` makes the etag check and the rename one step across
    processes too."""
    processes, increments = 4, 100
    Store(LocalBackend(tmp_path)).write("counter.txt", b"0")
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes) as pool:
        attempts = sum(pool.starmap(_process_worker, [(str(tmp_path), increments)] * processes))
    assert (tmp_path / "counter.txt").read_bytes() == str(processes * increments).encode()
    assert attempts >= processes * increments
