"""SFTP-023, SFTP-035..037, SFTP-040..043: create-only writes claim the name before the
upload; writes from a replayable source survive a dropped connection; what a failed write
leaves is removed once a connection works; the paths taken without posix-rename."""

from __future__ import annotations

import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO, cast

import pytest
from paramiko.sftp import CMD_EXTENDED, CMD_OPEN, CMD_REMOVE, CMD_RENAME, CMD_WRITE

from remote_store.backends.sftp import SFTPBackend
from remote_store.backends.sftp.pool import Session
from remote_store.backends.sftp.upload import POSIX_RENAME, TEMP_PREFIX
from remote_store.capabilities import Capability
from remote_store.errors import (
    AlreadyExists,
    BackendUnavailable,
    CapabilityNotSupported,
    IsAFolder,
    NotFound,
)
from tests.sftp.conftest import Make, race_create_only, sent_since, sent_so_far, through
from tests.sftp.relay import Relay
from tests.sftp_support import Sshd

pytestmark = pytest.mark.sftp

MIB = 1024 * 1024
THREADS = 8


def _base(backend: SFTPBackend) -> Path:
    return Path(backend.resolve("").details["path"])


def _on_disk(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


class _Counted(io.RawIOBase):
    """*size* bytes of *fill*, counting what the writer read from it."""

    def __init__(self, size: int, fill: bytes) -> None:
        self._left, self._fill, self.read_bytes = size, fill, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        size = min(len(buffer), self._left)
        buffer[:size] = self._fill * size
        self._left -= size
        self.read_bytes += size
        return size


@pytest.mark.timeout(120)
def test_create_only_losers_fail_before_sending_content(make_backend: Make) -> None:
    """SFTP-023: 8 threads write one new 1 MiB name with overwrite=False, 10 rounds: one
    winner; the 7 losers get AlreadyExists having read nothing from their source (the
    exclusive OPEN of the name refused them first), so the server got exactly the
    winner's 32 WRITEs; a reader meanwhile sees no file, the empty claim, or the whole
    content, never part of it; nothing else is left in the folder."""
    backend = make_backend()
    stop = threading.Event()
    seen: set[int] = set()

    def watch(name: str) -> None:
        while not stop.is_set():
            try:
                data = backend.read_bytes(name)
            except NotFound:
                continue
            seen.add(len(data))
            assert data in (b"", data[:1] * MIB), len(data)

    for round_ in range(10):
        name = f"race/{round_}.bin"
        barrier = threading.Barrier(THREADS)
        sources = [_Counted(MIB, bytes([65 + w])) for w in range(THREADS)]

        def attempt(
            worker: int,
            name: str = name,
            barrier: threading.Barrier = barrier,
            sources: list[_Counted] = sources,
        ) -> bool:
            barrier.wait()
            try:
                backend.write(name, cast(BinaryIO, sources[worker]))
            except AlreadyExists:
                return False
            return True

        stop.clear()
        watcher = threading.Thread(target=watch, args=(name,))
        watcher.start()
        before = sent_so_far(backend)
        try:
            with ThreadPoolExecutor(THREADS) as pool:
                won = list(pool.map(attempt, range(THREADS)))
        finally:
            stop.set()
            watcher.join()
        assert won.count(True) == 1, won
        winner = won.index(True)
        assert [s.read_bytes for w, s in enumerate(sources) if w != winner] == [0] * 7
        assert sent_since(backend, before)[CMD_WRITE] == MIB // (32 * 1024)
        assert backend.read_bytes(name) == bytes([65 + winner]) * MIB
    assert seen <= {0, MIB}
    assert _on_disk(_base(backend)) == [f"race/{r}.bin" for r in range(10)]


@pytest.mark.parametrize("source", ["bytes", "seekable stream"])
def test_replayable_write_is_retried_after_a_cut(sshd: Sshd, relay: Relay, source: str) -> None:
    """SFTP-035: the link drops after 2 MiB of an 8 MiB create-only write from bytes or
    from a seekable stream (at a position): the first attempt's claim and temporary file
    are removed over a new connection, the write is sent again and succeeds, from the
    stream's original position; nothing else is left."""
    backend = sshd.backend(**through(sshd, relay))
    body = bytes(range(256)) * (8 * MIB // 256)
    try:
        backend.write("keep.txt", b"old")
        relay.cut_after(2 * MIB)
        if source == "bytes":
            backend.write("dir/big.bin", body)
        else:
            stream = io.BytesIO(b"skip" + body)
            stream.seek(4)
            backend.write("dir/big.bin", stream)
        assert relay.accepted >= 2
        assert backend.read_bytes("dir/big.bin") == body
        assert _on_disk(_base(backend)) == ["dir/big.bin", "keep.txt"]
    finally:
        backend.close()


def test_leftovers_are_removed_after_the_next_connection(sshd: Sshd, relay: Relay) -> None:
    """SFTP-036: the link drops mid-upload from a one-pass stream and the server cannot be
    reached for the cleanup: BackendUnavailable; the claim and the temporary file stay
    (never content at the name). The next call that connects removes both."""
    backend = sshd.backend(**through(sshd, relay), retry={"attempts": 1})
    base = _base(backend)
    try:
        backend.write("keep.txt", b"old")
        relay.cut_after(MIB)
        relay.refusing = True  # the server looks down: the cleanup cannot connect
        with pytest.raises(BackendUnavailable):
            backend.write("big.bin", cast(BinaryIO, _Counted(4 * MIB, b"z")))
        left = _on_disk(base)
        assert "big.bin" in left and (base / "big.bin").stat().st_size == 0  # the claim
        assert any(name.startswith(TEMP_PREFIX) for name in left)
        relay.refusing = False
        assert backend.read_bytes("keep.txt") == b"old"  # connects, and tidies first
        assert _on_disk(base) == ["keep.txt"]
        assert backend._pool.leftovers == []
        backend.write("big.bin", b"now")  # the name is free again
    finally:
        relay.refusing = False
        backend.close()


def test_one_pass_stream_is_not_retried(sshd: Sshd, relay: Relay) -> None:
    """SFTP-037: a stream that cannot be rewound is sent once: BackendUnavailable after
    the cut, and nothing left at the name or beside it."""
    backend = sshd.backend(**through(sshd, relay))
    try:
        relay.cut_after(MIB)
        source = _Counted(4 * MIB, b"q")
        with pytest.raises(BackendUnavailable):
            backend.write("one.bin", cast(BinaryIO, source))
        assert _on_disk(_base(backend)) == []
        assert relay.accepted == 2  # the first connection, and the cleanup's
    finally:
        backend.close()


# ---------------------------------------------------------------- without posix-rename


@pytest.fixture
def plain(make_backend: Make) -> SFTPBackend:
    """A backend on the real sshd that behaves as if it did not announce posix-rename."""
    backend = make_backend()
    backend._pool.withhold(POSIX_RENAME)
    return backend


def test_without_posix_rename_create_only_is_a_plain_rename(plain: SFTPBackend) -> None:
    """SFTP-040: no claim (it could not be replaced atomically): the temporary file is
    renamed with the create-only RENAME, which decides; ATOMIC_WRITE and ATOMIC_MOVE are
    not declared and write_atomic is refused before any request."""
    plain.write("warm.txt", b"w")
    assert not plain.capabilities.supports(Capability.ATOMIC_WRITE)
    assert not plain.capabilities.supports(Capability.ATOMIC_MOVE)
    before = sent_so_far(plain)
    plain.write("new.txt", b"x" * 1000)
    sent = sent_since(plain, before)
    assert sent[CMD_OPEN] == 1 and sent[CMD_RENAME] == 1 and sent[CMD_EXTENDED] == 0
    with pytest.raises(AlreadyExists):
        plain.write("new.txt", b"y")
    with pytest.raises(CapabilityNotSupported):
        plain.write_atomic("other.txt", b"z")
    assert plain.read_bytes("new.txt") == b"x" * 1000
    assert _on_disk(_base(plain)) == ["new.txt", "warm.txt"]


@pytest.mark.timeout(120)
def test_without_posix_rename_create_only_has_one_winner(plain: SFTPBackend) -> None:
    """SFTP-041: 8 threads, one new name, overwrite=False, 10 rounds: one winner each."""
    race_create_only(plain, "r", lambda worker: f"w{worker}".encode() * 100)
    assert _on_disk(_base(plain)) == [f"r/{r}.txt" for r in range(10)]


def test_without_posix_rename_replace_moves_the_old_file_aside(plain: SFTPBackend) -> None:
    """SFTP-042: overwrite=True: the create-only RENAME fails, the old file is RENAMEd
    aside, the new one RENAMEd in, the old one REMOVEd; a move replaces the same way; a
    folder at the name is IsAFolder and stays; nothing is left beside."""
    plain.write("f.txt", b"old")
    before = sent_so_far(plain)
    plain.write("f.txt", b"new", overwrite=True)
    sent = sent_since(plain, before)
    assert sent[CMD_RENAME] == 3 and sent[CMD_REMOVE] == 1 and sent[CMD_EXTENDED] == 0
    assert plain.read_bytes("f.txt") == b"new"
    plain.write("g.txt", b"g")
    plain.move("g.txt", "f.txt", overwrite=True)
    assert plain.read_bytes("f.txt") == b"g"
    plain.write("d/inner.txt", b"i")
    with pytest.raises(IsAFolder):
        plain.write("d", b"not a folder", overwrite=True)
    assert plain.read_bytes("d/inner.txt") == b"i"
    assert _on_disk(_base(plain)) == ["d/inner.txt", "f.txt"]


def test_without_posix_rename_a_failed_replace_keeps_the_old_file(sshd: Sshd, relay: Relay) -> None:
    """SFTP-043: the link drops while a replacing write uploads: the old file is whole at
    its name afterwards, and nothing is left beside it."""
    backend = sshd.backend(**through(sshd, relay), retry={"attempts": 1})
    backend._pool.withhold(POSIX_RENAME)
    try:
        backend.write("f.bin", b"old" * 1000)
        relay.cut_after(MIB)
        with pytest.raises(BackendUnavailable):
            backend.write("f.bin", cast(BinaryIO, _Counted(4 * MIB, b"n")), overwrite=True)
        assert backend.read_bytes("f.bin") == b"old" * 1000
        assert _on_disk(_base(backend)) == ["f.bin"]
    finally:
        backend.close()


def test_a_write_whose_rename_landed_before_the_drop_succeeds(
    sshd: Sshd, relay: Relay, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SFTP-035: the connection drops right after the server performed the posix-rename,
    before its answer arrived (simulated on the client: the real rename, then the link
    cut and the EOFError paramiko raises for a lost answer). On a new connection the
    temporary file is gone, so the write landed: it returns, without sending the content
    again, and the claim was not mistaken for a leftover."""
    backend = sshd.backend(**through(sshd, relay))
    real = Session.posix_rename
    dropped: list[bool] = []

    def rename_then_drop(self: Session, old: str, new: str) -> None:
        real(self, old, new)
        if not dropped:
            dropped.append(True)
            relay.cut()
            transport = self.get_channel().get_transport()  # type: ignore[union-attr]
            while transport.is_active():  # as when paramiko reports a lost answer
                time.sleep(0.01)
            raise EOFError("the connection closed before the answer")

    try:
        backend.write("warm.txt", b"w")
        monkeypatch.setattr(Session, "posix_rename", rename_then_drop)
        before = sent_so_far(backend)
        result = backend.write("landed.bin", b"L" * MIB)
        assert dropped and result.size == MIB
        assert sent_since(backend, before)[CMD_WRITE] == MIB // (32 * 1024)  # sent once
        assert backend.read_bytes("landed.bin") == b"L" * MIB
        assert _on_disk(_base(backend)) == ["landed.bin", "warm.txt"]
        assert relay.accepted == 2
    finally:
        backend.close()
