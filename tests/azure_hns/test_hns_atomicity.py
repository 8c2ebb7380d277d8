"""Atomic rename, the create-only race, and writes killed half way (AZ-160..)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from remote_store.config import RetryPolicy
from remote_store.errors import AlreadyExists, BackendUnavailable, RemoteStoreError
from remote_store.store import Store
from remote_store.testing._streams import FailingStream, SourceFailed
from tests.azure_hns.conftest import BackendFactory
from tests.azure_hns.proxy import cutting_proxy
from tests.hns_emulator import HnsEmulator

SMALL_TRANSFERS = {"max_single_put_size": 4096, "max_block_size": 1024}


def test_rename_keeps_the_file_whole(store: Store) -> None:
    """AZ-160: a rename moves the file itself: ETag, MD5, metadata and content travel."""
    store.write("a/src.bin", b"payload", metadata={"k": "v"})
    before = store.get_file_info("a/src.bin")
    store.move("a/src.bin", "b/dst.bin")
    after = store.get_file_info("b/dst.bin")
    assert (after.etag, after.digest, dict(after.metadata or {})) == (
        before.etag,
        before.digest,
        {"k": "v"},
    )
    assert store.read_bytes("b/dst.bin") == b"payload"
    assert not store.exists("a/src.bin")


def test_rename_is_atomic_to_observers(store: Store) -> None:
    """AZ-160: while a file is moved back and forth, every listing shows it exactly once
    (never both names, never neither)."""
    store.write("ping/f.bin", b"x")
    store.write("pong/keep.bin", b"")
    stop = threading.Event()
    seen: list[int] = []

    def watch() -> None:
        while not stop.is_set():
            names = {i.name for i in store.list_files("", recursive=True)}
            seen.append(len(names & {"f.bin", "g.bin"}))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for _ in range(40):
            store.move("ping/f.bin", "pong/g.bin")
            store.move("pong/g.bin", "ping/f.bin")
    finally:
        stop.set()
        watcher.join()
    assert seen and set(seen) == {1}


def test_move_race_overwrite_false_has_one_winner(store: Store) -> None:
    """AZ-161: 8 threads move 8 files onto one new name with overwrite=False: exactly one
    rename wins (If-None-Match: * on the destination), the others get AlreadyExists and
    keep their source."""
    for i in range(8):
        store.write(f"src/{i}.bin", f"writer-{i}".encode())
    barrier = threading.Barrier(8)

    def mover(i: int) -> bool:
        barrier.wait()
        try:
            store.move(f"src/{i}.bin", "dst/winner.bin")
        except AlreadyExists:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(mover, range(8)))
    assert outcomes.count(True) == 1, outcomes
    winner = outcomes.index(True)
    assert store.read_bytes("dst/winner.bin") == f"writer-{winner}".encode()
    left = sorted(i.path for i in store.list_files("src"))
    assert left == sorted(f"src/{i}.bin" for i in range(8) if i != winner)


@pytest.mark.parametrize("existing", [None, b"old content"], ids=["new", "existing"])
@pytest.mark.parametrize("fail_after", [100, 9000], ids=["before-staging", "after-staging"])
def test_write_atomic_killed_half_way_leaves_nothing(
    make_backend: BackendFactory, existing: bytes | None, fail_after: int
) -> None:
    """AZ-162: the source raises after some bytes (after blocks were staged, or before any
    request): no partial file, no temporary file, the old content intact."""
    store = Store(make_backend(client_options=dict(SMALL_TRANSFERS)))
    if existing is not None:
        store.write("d/f.bin", existing)
    source = FailingStream(b"n" * 20_000, fail_after=fail_after)
    with pytest.raises(RemoteStoreError) as caught:  # the Store wraps the source's error
        store.write_atomic("d/f.bin", source.as_binary(), overwrite=True)
    assert isinstance(caught.value.__cause__, SourceFailed)
    expected = [] if existing is None else ["d/f.bin"]
    assert [i.path for i in store.list_files("", recursive=True)] == expected
    if existing is not None:
        assert store.read_bytes("d/f.bin") == existing


def test_open_atomic_killed_half_way_leaves_nothing(make_backend: BackendFactory) -> None:
    """AZ-162: blocks staged inside the block, then an exception: nothing committed."""
    store = Store(make_backend(client_options=dict(SMALL_TRANSFERS)))
    store.write("f.bin", b"old")
    with pytest.raises(SourceFailed), store.open_atomic("f.bin", overwrite=True) as out:
        out.write(b"z" * 10_000)
        raise SourceFailed("dies half way")
    assert store.read_bytes("f.bin") == b"old"
    assert [i.path for i in store.list_files("", recursive=True)] == ["f.bin"]


@pytest.mark.parametrize("staged", [False, True], ids=["put-blob", "put-block"])
def test_connection_cut_mid_body_leaves_the_old_content(
    emulator: HnsEmulator, container: str, staged: bool
) -> None:
    """AZ-162: the TCP connection dies in the middle of the request body (a loopback proxy
    cuts it). Without retries the write fails with BackendUnavailable and the old content
    is intact; with the default retries the next attempt lands the whole payload."""
    from remote_store.backends.azure import AzureBackend

    data = bytes(range(256)) * 800  # 200 KiB
    # Staged: 64 KiB blocks, so the cut falls inside the second Put Block.
    options = {"max_single_put_size": 64 * 1024, "max_block_size": 64 * 1024} if staged else {}
    with cutting_proxy(emulator.port) as proxy:
        connection = emulator.connection_string.replace(f":{emulator.port}/", f":{proxy.port}/")
        once = AzureBackend(
            container,
            connection_string=connection,
            hns=True,
            retry=RetryPolicy(attempts=1),
            client_options=options,
        )
        with once:
            store = Store(once)
            store.write("f.bin", b"old")
            proxy.cut_after(100_000)
            with pytest.raises(BackendUnavailable):
                store.write_atomic("f.bin", data, overwrite=True)
            assert proxy.cuts == 1
            assert store.read_bytes("f.bin") == b"old"
            assert [i.path for i in store.list_files("", recursive=True)] == ["f.bin"]
        with AzureBackend(
            container, connection_string=connection, hns=True, client_options=options
        ) as retrying:
            store = Store(retrying)
            proxy.cut_after(100_000)
            store.write_atomic("f.bin", data, overwrite=True)
            assert proxy.cuts == 2
            assert store.read_bytes("f.bin") == data
