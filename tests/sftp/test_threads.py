"""SFTP-020..022: one backend shared by threads stays correct and never hangs."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from remote_store.errors import BackendUnavailable
from remote_store.models import FileInfo
from tests.sftp.conftest import Make, race_create_only

pytestmark = pytest.mark.sftp

THREADS = 8


@pytest.mark.timeout(120)
def test_eight_threads_of_mixed_operations_finish_and_agree(make_backend: Make) -> None:
    """SFTP-020: writes, reads, listings, copies, moves and deletes from 8 threads on one
    backend (and its 8-channel pool) all finish, and each thread sees its own data."""
    backend = make_backend()
    barrier = threading.Barrier(THREADS)

    def work(worker: int) -> list[str]:
        barrier.wait()
        folder = f"w{worker}"
        for round_ in range(12):
            data = f"{worker}:{round_}".encode() * (1 + round_ * 500)
            backend.write(f"{folder}/f{round_}.bin", data)
            assert backend.read_bytes(f"{folder}/f{round_}.bin") == data
            with backend.read(f"{folder}/f{round_}.bin") as stream:
                assert stream.read() == data
            backend.copy(f"{folder}/f{round_}.bin", f"{folder}/c{round_}.bin")
            backend.move(f"{folder}/c{round_}.bin", f"{folder}/m/{round_}.bin")
            assert backend.get_file_info(f"{folder}/m/{round_}.bin").size == len(data)
            if round_ % 3 == 0:
                backend.delete(f"{folder}/f{round_}.bin")
            list(backend.list_files("", recursive=True))
        return sorted(info.path for info in backend.list_files(folder, recursive=True))

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(work, range(THREADS)))
    for worker, found in enumerate(results):
        expected = sorted(
            [f"w{worker}/f{r}.bin" for r in range(12) if r % 3]
            + [f"w{worker}/m/{r}.bin" for r in range(12)]
        )
        assert found == expected
    assert backend.get_folder_info("").file_count == THREADS * (8 + 12)


@pytest.mark.timeout(120)
def test_create_only_has_exactly_one_winner(make_backend: Make) -> None:
    """SFTP-021: 8 threads write the same new name with overwrite=False, 10 rounds: one
    wins each round, the other 7 get AlreadyExists, and the file holds the winner's data."""
    backend = make_backend()
    race_create_only(backend, "race", lambda worker: f"writer {worker}".encode() * 1000)
    names = [entry.name for entry in backend.iter_children("race")]
    assert names == [f"{r}.txt" for r in range(10)]  # no temporary file left behind


def test_sessions_are_bounded_and_a_waiter_gets_a_typed_error(make_backend: Make) -> None:
    """SFTP-022: open streams hold the pool's sessions; when all are held, another call
    waits up to `timeout` and then raises BackendUnavailable instead of hanging."""
    backend = make_backend(max_sessions=2, timeout=0.5)
    backend.write("a.bin", b"a" * 100)
    first, second = backend.read("a.bin"), backend.read("a.bin")
    try:
        with pytest.raises(BackendUnavailable, match="2 SFTP sessions"):
            backend.get_file_info("a.bin")
    finally:
        first.close()
    info = backend.get_file_info("a.bin")  # a session came back
    assert isinstance(info, FileInfo)
    assert second.read() == b"a" * 100
    second.close()
