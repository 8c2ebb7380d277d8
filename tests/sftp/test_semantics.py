"""SFTP-001..009: what each operation sends, and what it leaves on the server."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import paramiko
import pytest
from paramiko.sftp import (
    CMD_CLOSE,
    CMD_EXTENDED,
    CMD_FSETSTAT,
    CMD_FSTAT,
    CMD_LSTAT,
    CMD_OPEN,
    CMD_OPENDIR,
    CMD_READ,
    CMD_READDIR,
    CMD_REMOVE,
    CMD_RENAME,
    CMD_STAT,
    CMD_WRITE,
)

from remote_store.backends.sftp import SFTPBackend, parse_url, reader
from remote_store.backends.sftp.files import LATE_CLAIM_SIZE
from remote_store.backends.sftp.upload import TEMP_PREFIX
from remote_store.capabilities import Capability
from remote_store.config import BackendConfig, RegistryConfig, StoreProfile
from remote_store.errors import (
    AlreadyExists,
    BackendUnavailable,
    CapabilityNotSupported,
    ConfigError,
    InvalidPath,
    NotAFolder,
    RemoteStoreError,
)
from remote_store.registry import Registry
from tests.sftp.conftest import Make, sent_since, sent_so_far
from tests.sftp_support import Sshd

pytestmark = pytest.mark.sftp

MIB = 1024 * 1024


def _base(backend: SFTPBackend) -> Path:
    return Path(backend.resolve("").details["path"])


def test_create_only_write_sends_no_stat(backend: SFTPBackend) -> None:
    """SFTP-001: overwrite=False claims the name with no stat first: OPEN (a hidden file,
    CREAT|EXCL), FSETSTAT (its marker) + CLOSE, hardlink@openssh.com to the name (the
    decision) + REMOVE of the hidden name; then OPEN (temp), WRITEs, FSTAT, CLOSE,
    posix-rename over the claim. A loser (the name exists) sends no content: its refused
    link is followed by the STAT that says why."""
    backend.write("warm.txt", b"w")  # connected; the folder exists
    before = sent_so_far(backend)
    backend.write("new.txt", b"x" * 100_000)
    sent = sent_since(backend, before)
    assert sent[CMD_STAT] == sent[CMD_LSTAT] == 0
    assert sent[CMD_OPEN] == 2
    assert sent[CMD_WRITE] == 4  # 32 KiB each
    assert sent[CMD_EXTENDED] == 2 and sent[CMD_RENAME] == 0  # hardlink, posix-rename
    assert sent[CMD_FSETSTAT] == 1 and sent[CMD_CLOSE] == 2 and sent[CMD_FSTAT] == 1
    assert sent[CMD_REMOVE] == 1
    assert sum(sent.values()) == 13
    before = sent_so_far(backend)
    with pytest.raises(AlreadyExists):
        backend.write("new.txt", b"y" * 100_000)
    sent = sent_since(backend, before)
    assert sent == Counter(
        {CMD_OPEN: 1, CMD_FSETSTAT: 1, CMD_CLOSE: 1, CMD_EXTENDED: 1, CMD_REMOVE: 1, CMD_STAT: 1}
    )
    assert sorted(p.name for p in _base(backend).iterdir()) == ["new.txt", "warm.txt"]
    assert backend.read_bytes("new.txt") == b"x" * 100_000


def test_create_only_write_atomic_never_shows_an_empty_file(backend: SFTPBackend) -> None:
    """SFTP-001: write_atomic promises the old state or the new one, and a claim is neither:
    its create-only write takes no claim; the create-only RENAME of the temporary file
    decides (OPEN, WRITE, FSTAT, CLOSE, RENAME), and a loser learns it at the RENAME."""
    backend.write("warm.txt", b"w")
    before = sent_so_far(backend)
    backend.write_atomic("a.txt", b"x" * 1000)
    sent = sent_since(backend, before)
    assert sent == Counter({CMD_OPEN: 1, CMD_WRITE: 1, CMD_FSTAT: 1, CMD_CLOSE: 1, CMD_RENAME: 1})
    before = sent_so_far(backend)
    with pytest.raises(AlreadyExists):
        backend.write_atomic("a.txt", b"y" * 1000)
    sent = sent_since(backend, before)
    assert sent[CMD_WRITE] == 1 and sent[CMD_RENAME] == 1 and sent[CMD_REMOVE] == 1
    assert backend.read_bytes("a.txt") == b"x" * 1000
    assert sorted(p.name for p in _base(backend).iterdir()) == ["a.txt", "warm.txt"]


def test_a_small_create_only_write_takes_no_claim(backend: SFTPBackend) -> None:
    """SFTP-050: content of at most LATE_CLAIM_SIZE bytes, known before the write starts:
    no claim (a loser wastes at most that much upload); the create-only RENAME decides, as
    for write_atomic: 5 requests instead of 13, no empty file ever at the name."""
    backend.write("warm.txt", b"w")
    before = sent_so_far(backend)
    backend.write("a.txt", b"x" * LATE_CLAIM_SIZE)
    sent = sent_since(backend, before)
    assert sent == Counter({CMD_OPEN: 1, CMD_WRITE: 2, CMD_FSTAT: 1, CMD_CLOSE: 1, CMD_RENAME: 1})
    with pytest.raises(AlreadyExists):
        backend.write("a.txt", b"y" * 10)
    assert backend.read_bytes("a.txt") == b"x" * LATE_CLAIM_SIZE
    assert sorted(p.name for p in _base(backend).iterdir()) == ["a.txt", "warm.txt"]


def test_replacing_write_uses_posix_rename(backend: SFTPBackend) -> None:
    """SFTP-002: overwrite=True renames with posix-rename@openssh.com (atomic replace);
    readers see the old or the new content."""
    backend.write("f.txt", b"old")
    before = sent_so_far(backend)
    backend.write_atomic("f.txt", b"new", overwrite=True)
    sent = sent_since(backend, before)
    assert sent[CMD_EXTENDED] == 1 and sent[CMD_RENAME] == 0
    assert backend.read_bytes("f.txt") == b"new"
    assert backend.capabilities.supports(Capability.ATOMIC_WRITE)
    assert not backend.capabilities.supports(Capability.CONDITIONAL_WRITE)
    assert not backend.capabilities.supports(Capability.USER_METADATA)


def test_parents_are_created_and_a_file_in_the_way_is_not_a_folder(
    backend: SFTPBackend,
) -> None:
    """SFTP-003: a write creates missing folders (OpenSSH does not); a file where a
    folder must be is NotAFolder, and nothing is left behind."""
    backend.write("a/b/c/d.txt", b"deep")
    assert backend.is_folder("a/b/c")
    with pytest.raises(NotAFolder):
        backend.write("a/b/c/d.txt/e.txt", b"x")
    assert [p.name for p in (_base(backend) / "a/b/c").iterdir()] == ["d.txt"]


def test_failing_source_leaves_nothing(backend: SFTPBackend) -> None:
    """SFTP-004: the caller's stream failing mid-write fails the write (the kernel wraps
    it, keeping it as the cause); the destination is untouched, the temporary file (and a
    create-only write's claim) gone."""

    class Broken(io.RawIOBase):
        sent = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            if self.sent > MIB:
                raise ValueError("source broke")
            self.sent += len(buffer)
            buffer[:] = b"y" * len(buffer)
            return len(buffer)

    backend.write("f.txt", b"old")
    with pytest.raises(RemoteStoreError) as caught:
        backend.write_atomic("f.txt", Broken(), overwrite=True)  # type: ignore[arg-type]
    assert isinstance(caught.value.__cause__, ValueError)
    assert backend.read_bytes("f.txt") == b"old"
    assert sorted(p.name for p in _base(backend).iterdir()) == ["f.txt"]
    with pytest.raises(RemoteStoreError):  # create-only: its claim is removed too
        backend.write("g.txt", Broken())  # type: ignore[arg-type]
    assert sorted(p.name for p in _base(backend).iterdir()) == ["f.txt"]
    backend.write("g.txt", b"the name is free")


def test_copy_uses_copy_data_on_the_server(backend: SFTPBackend) -> None:
    """SFTP-005: OpenSSH offers copy-data, so a copy moves no file bytes over the wire."""
    backend.write("src.bin", b"s" * (4 * MIB))
    before = sent_so_far(backend)
    backend.copy("src.bin", "dir/dst.bin")
    sent = sent_since(backend, before)
    assert sent[CMD_READ] == sent[CMD_WRITE] == 0
    assert sent[CMD_EXTENDED] == 3  # the claim's hardlink, copy-data, posix-rename
    assert backend.read_bytes("dir/dst.bin") == b"s" * (4 * MIB)


def test_copy_streams_when_copy_data_is_not_offered(backend: SFTPBackend) -> None:
    """SFTP-005: without the extension the copy streams through one session."""
    backend.write("src.bin", b"t" * MIB)
    idle = backend._pool._idle
    assert len(idle) == 1  # one thread so far: one session
    idle[0].extensions.pop("copy-data")  # as a server without the extension announces
    before = sent_so_far(backend)
    backend.copy("src.bin", "dst.bin")
    sent = sent_since(backend, before)
    assert sent[CMD_EXTENDED] == 2  # the claim's hardlink, posix-rename; no copy-data
    assert sent[CMD_READ] == MIB // reader.CHUNK + 1
    assert sent[CMD_WRITE] == MIB // (32 * 1024)
    assert backend.read_bytes("dst.bin") == b"t" * MIB


def test_reads_are_pipelined(backend: SFTPBackend) -> None:
    """SFTP-006: a 4 MiB read sends its READs ahead (128 KiB each, up to 4 MiB in flight)
    plus one past the end, and reads back exactly."""
    data = bytes(range(256)) * (4 * 4096)
    backend.write("f.bin", data)
    before = sent_so_far(backend)
    assert backend.read_bytes("f.bin") == data
    sent = sent_since(backend, before)
    assert sent[CMD_READ] == 4 * MIB // reader.CHUNK + 1
    assert sent[CMD_OPEN] == 1 and sent[CMD_FSTAT] == 1
    with backend.read("f.bin") as stream:
        head = stream.read(10)
    assert head == data[:10]  # closed early: the session is clean for the next call
    assert backend.read_bytes("f.bin") == data
    backend.write("small.bin", b"s" * 1024)
    before = sent_so_far(backend)
    assert backend.read_bytes("small.bin") == b"s" * 1024
    sent = sent_since(backend, before)
    # OPEN, then FSTAT + READ in one flight; the short answer ends at the size: no probe.
    assert (sent[CMD_OPEN], sent[CMD_FSTAT], sent[CMD_READ], sum(sent.values())) == (1, 1, 1, 4)
    seekable = backend.read_seekable("f.bin")
    seekable.seek(-5, io.SEEK_END)
    assert seekable.read() == data[-5:]
    seekable.close()


def test_a_server_answering_less_teaches_the_read_its_size(
    backend: SFTPBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SFTP-006: asking for 1 MiB per READ, OpenSSH answers at most 255 KiB: the stream
    goes on from where each answer stopped, asks for that size from then on, and reads
    back exactly, with no more READs than the file needs plus one window."""
    monkeypatch.setattr(reader, "CHUNK", MIB)
    data = bytes(range(256)) * (8 * 4096)
    backend.write("f.bin", data)
    before = sent_so_far(backend)
    assert backend.read_bytes("f.bin") == data
    sent = sent_since(backend, before)
    assert sent[CMD_READ] <= len(data) // (255 * 1024) + 1 + reader.DEPTH * 2


def test_a_listing_keeps_readdirs_in_flight(backend: SFTPBackend) -> None:
    """SFTP-006: a folder of 1,000 files is listed with one OPENDIR, READDIRs kept in
    flight (OpenSSH answers up to 100 names each) and one CLOSE."""
    folder = _base(backend) / "many"
    folder.mkdir(parents=True)
    for number in range(1000):
        (folder / f"f{number:04d}.bin").write_bytes(b"x")
    before = sent_so_far(backend)
    names = [info.name for info in backend.list_files("many")]
    sent = sent_since(backend, before)
    assert names == [f"f{number:04d}.bin" for number in range(1000)]
    assert sent[CMD_OPENDIR] == 1 and sent[CMD_CLOSE] == 1
    assert sent[CMD_READDIR] <= 1000 // 100 + 1 + reader.LIST_DEPTH


def test_temporary_names_are_hidden_and_reserved(backend: SFTPBackend) -> None:
    """SFTP-007: a temporary file left by a crash is not listed, and its prefix is not a
    usable name."""
    backend.write("f.txt", b"f")
    (_base(backend) / f"{TEMP_PREFIX}crashed").write_bytes(b"partial")
    assert [e.name for e in backend.iter_children("")] == ["f.txt"]
    with pytest.raises(InvalidPath):
        backend.write(f"{TEMP_PREFIX}x", b"x")


def test_urls_registry_and_names(sshd: Sshd, make_backend: Make) -> None:
    """SFTP-008: sftp:// URLs, the registry's "sftp" type, native paths and back."""
    location = parse_url("sftp://alice@example.org:2222/srv/data/")
    assert (location.host, location.port, location.username, location.path) == (
        "example.org",
        2222,
        "alice",
        "/srv/data",
    )
    with pytest.raises(ConfigError, match="password"):
        parse_url("sftp://alice:secret@example.org/srv")
    base = sshd.new_base("url")
    store = SFTPBackend.from_url(
        f"sftp://{sshd.username}@{sshd.host}:{sshd.port}{base}",
        pkey=str(sshd.client_key_path),
        known_host_keys=sshd.known_hosts_line,
    )
    store.write("x/y.txt", b"y")
    assert (Path(base) / "x/y.txt").read_bytes() == b"y"
    store.close()
    backend = make_backend(base_path=base)
    native = backend.native_path("x/y.txt")
    assert native == f"sftp://{sshd.username}@{sshd.host}:{sshd.port}{base}/x/y.txt"
    assert backend.to_key(native) == "x/y.txt"
    assert backend.to_key(f"{base}/x") == "x"
    with pytest.raises(InvalidPath):
        backend.to_key("/elsewhere/x")
    config = RegistryConfig(
        backends={
            "files": BackendConfig(
                type="sftp",
                options={
                    "host": sshd.host,
                    "port": sshd.port,
                    "username": sshd.username,
                    "pkey": str(sshd.client_key_path),
                    "known_host_keys": [sshd.known_hosts_line],
                    "base_path": base,
                },
            )
        },
        stores={"main": StoreProfile(backend="files")},
    )
    with Registry(config) as registry:
        assert registry.get_store("main").read_bytes("x/y.txt") == b"y"


def test_close_with_open_streams_and_unwrap(make_backend: Make) -> None:
    """SFTP-022: closing the backend with a stream open: the stream's close does not
    raise, and the backend refuses further calls. `unwrap(Transport)` is the SSH
    connection; other types are CapabilityNotSupported."""
    backend = make_backend()
    backend.write("f.bin", b"f" * (2 * MIB))
    transport = backend.unwrap(paramiko.Transport)
    assert transport.is_active()
    with pytest.raises(CapabilityNotSupported):
        backend.unwrap(paramiko.SFTPClient)
    stream = backend.read("f.bin")
    assert stream.read(10) == b"f" * 10
    backend.close()
    stream.close()
    assert not transport.is_active()
    with pytest.raises(BackendUnavailable):
        backend.exists("f.bin")
