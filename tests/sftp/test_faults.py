"""SFTP-030..034: a dropped connection or a dead server mid-transfer leaves no partial file
and raises BackendUnavailable; after a drop, the pool reconnects for what is safe to repeat."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import BinaryIO, cast

import pytest

from remote_store.errors import BackendUnavailable
from tests.sftp.conftest import through
from tests.sftp.relay import Relay
from tests.sftp_support import Sshd

pytestmark = pytest.mark.sftp

MIB = 1024 * 1024


def _slow(size: int, at: int, hook: object) -> BinaryIO:
    return cast(BinaryIO, _Slow(size, at, hook))


class _Slow(io.RawIOBase):
    """A source stream of *size* bytes that runs *hook* once *at* bytes were read."""

    def __init__(self, size: int, at: int, hook: object) -> None:
        self._left, self._at, self._hook, self._done = size, at, hook, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._done >= self._at and self._hook is not None:
            hook, self._hook = self._hook, None
            hook()  # type: ignore[operator]
        size = min(len(buffer), self._left, 256 * 1024)
        buffer[:size] = b"x" * size
        self._left -= size
        self._done += size
        return size


def _files(folder: Path) -> list[str]:
    return (
        sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        if folder.exists()
        else []
    )


@pytest.mark.parametrize("method", ["write", "write_atomic"])
def test_connection_cut_mid_upload(sshd: Sshd, relay: Relay, method: str) -> None:
    """SFTP-030: the link drops after 2 MiB of an 8 MiB upload: BackendUnavailable, no
    file at the destination, and the temporary file is removed over a new connection."""
    backend = sshd.backend(**through(sshd, relay))
    base = Path(backend.resolve("").details["path"])
    try:
        backend.write("keep.txt", b"old")
        relay.cut_after(2 * MIB)
        with pytest.raises(BackendUnavailable) as caught:
            getattr(backend, method)("dir/big.bin", _slow(8 * MIB, MIB, None))
        assert caught.value.retryable
        assert _files(base) == ["keep.txt"]  # no destination, no temporary file
        # The next call reconnects by itself.
        assert backend.read_bytes("keep.txt") == b"old"
        assert relay.accepted >= 2
    finally:
        backend.close()


def test_connection_cut_mid_replace_keeps_the_old_file(sshd: Sshd, relay: Relay) -> None:
    """SFTP-030: replacing an existing file: the old content stays whole."""
    backend = sshd.backend(**through(sshd, relay))
    try:
        backend.write("f.bin", b"old" * 1000)
        relay.cut_after(MIB)
        with pytest.raises(BackendUnavailable):
            backend.write("f.bin", _slow(4 * MIB, 0, None), overwrite=True)
        assert backend.read_bytes("f.bin") == b"old" * 1000
        assert [e.name for e in backend.iter_children("")] == ["f.bin"]
    finally:
        backend.close()


def test_connection_cut_mid_download(sshd: Sshd, relay: Relay) -> None:
    """SFTP-031: a read stream whose connection drops raises BackendUnavailable."""
    backend = sshd.backend(**through(sshd, relay))
    try:
        backend.write("big.bin", b"y" * (8 * MIB))
        with backend.read("big.bin") as stream:
            assert stream.read(MIB) == b"y" * MIB
            relay.cut()
            with pytest.raises(BackendUnavailable):
                while stream.read(MIB):
                    pass
        assert backend.get_file_info("big.bin").size == 8 * MIB  # reconnected
    finally:
        backend.close()


def test_idempotent_calls_reconnect_transparently(sshd: Sshd, relay: Relay) -> None:
    """SFTP-032: after the connection drops between calls, stat, list, read and delete
    succeed on a new connection without the caller seeing the drop."""
    backend = sshd.backend(**through(sshd, relay))
    try:
        backend.write("a.txt", b"a")
        backend.write("b.txt", b"b")
        for call in (
            lambda: backend.get_file_info("a.txt"),
            lambda: list(backend.iter_children("")),
            lambda: backend.read_bytes("a.txt"),
            lambda: backend.delete("b.txt"),
        ):
            relay.cut()
            call()
        assert not backend.exists("b.txt")
        assert relay.accepted >= 5
    finally:
        backend.close()


def test_sshd_killed_mid_upload(own_sshd: Sshd) -> None:
    """SFTP-033: sshd and its session processes are killed during an upload:
    BackendUnavailable, and no content at the destination (at most the empty claim);
    later calls fail fast. When sshd is back, the next call removes the claim and the
    temporary file, and the name is free again."""
    backend = own_sshd.backend(timeout=2, retry={"attempts": 2, "timeout": 5})
    base = Path(backend.resolve("").details["path"])
    try:
        backend.write("keep.txt", b"old")
        with pytest.raises(BackendUnavailable):
            backend.write("big.bin", _slow(16 * MIB, 2 * MIB, own_sshd.kill))
        claim = base / "big.bin"
        assert not claim.exists() or claim.stat().st_size == 0
        assert [a.key for a in backend._pool.leftovers] == ["big.bin"]
        with pytest.raises(BackendUnavailable):
            backend.get_file_info("keep.txt")  # and later calls say so, quickly
        own_sshd.start()
        assert backend.read_bytes("keep.txt") == b"old"  # reconnects, and tidies first
        assert _files(base) == ["keep.txt"]
        backend.write("big.bin", b"now")
    finally:
        backend.close()


def test_sshd_killed_mid_download(own_sshd: Sshd) -> None:
    """SFTP-034: a read in progress when sshd dies raises BackendUnavailable."""
    backend = own_sshd.backend(timeout=2, retry={"attempts": 2, "timeout": 5})
    try:
        backend.write("big.bin", b"z" * (8 * MIB))
        with pytest.raises(BackendUnavailable), backend.read("big.bin") as stream:
            stream.read(MIB)
            own_sshd.kill()
            while stream.read(MIB):
                pass
    finally:
        backend.close()


@pytest.mark.slow
def test_keepalive_carries_an_idle_connection_through_a_forgetful_proxy(sshd: Sshd) -> None:
    """SFTP-038: a proxy that resets connections idle for 2 s: with keepalive=1 the
    transport's keepalive packets keep the one connection open through 3.5 s of idleness;
    with keepalive=30 the proxy cuts it, and the next call reconnects by itself."""
    with Relay((sshd.host, sshd.port), idle_cut=2.0) as proxy:
        kept = sshd.backend(**through(sshd, proxy), keepalive=1)
        try:
            kept.write("a.txt", b"a")
            time.sleep(3.5)
            assert kept.read_bytes("a.txt") == b"a"
            assert (proxy.accepted, proxy.idle_cuts) == (1, 0)
        finally:
            kept.close()
    # paramiko counts whole seconds and takes 0 as "off": a fraction rounds up, never off.
    assert sshd.backend(keepalive=0.5)._settings.keepalive == 1
    with Relay((sshd.host, sshd.port), idle_cut=2.0) as proxy:
        idle = sshd.backend(**through(sshd, proxy), keepalive=30)
        try:
            idle.write("b.txt", b"b")
            time.sleep(3.5)
            assert proxy.idle_cuts == 1
            assert idle.read_bytes("b.txt") == b"b"
            assert proxy.accepted == 2
        finally:
            idle.close()
