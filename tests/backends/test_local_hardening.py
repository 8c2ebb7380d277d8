"""LocalBackend under hostile conditions: coarse clocks, hard links, special files, symlink
loops, killed writers, writes racing a recursive delete (spec LOC-HARD-*)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from remote_store.backends.local import TEMP_PREFIX, LocalBackend
from remote_store.capabilities import Capability
from remote_store.errors import (
    AlreadyExists,
    CapabilityNotSupported,
    InvalidPath,
    NotFound,
    PreconditionFailed,
    RemoteStoreError,
)

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (mount, mknod, setuid)")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "root"


@pytest.fixture
def backend(root: Path) -> LocalBackend:
    return LocalBackend(root)


# ------------------------------------------------------------------ etags on coarse clocks


@pytest.fixture(scope="module")
def coarse_fs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An ext4 with 128-byte inodes: one-second timestamps, inodes reused at once."""
    if os.geteuid() != 0 or shutil.which("mkfs.ext4") is None:
        pytest.skip("mounting a coarse-clock filesystem needs root and mkfs.ext4")
    where = tmp_path_factory.mktemp("coarse")
    image, mount = where / "fs.img", where / "mnt"
    mount.mkdir()
    with open(image, "wb") as f:
        f.truncate(16 << 20)
    subprocess.run(["mkfs.ext4", "-q", "-I", "128", str(image)], check=True, capture_output=True)
    done = subprocess.run(["mount", "-o", "loop", str(image), str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"this sandbox refuses loop mounts: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


@pytest.mark.slow
def test_a_rewrite_on_a_coarse_clock_changes_the_etag(coarse_fs: Path) -> None:
    backend = LocalBackend(coarse_fs / "etags")
    assert Capability.CONDITIONAL_WRITE in backend.capabilities
    repeats = 0
    for _ in range(20):
        stale = backend.write("f", b"aaaa", overwrite=True).etag
        backend.write("f", b"bbbb", overwrite=True)
        current = backend.write("f", b"cccc", overwrite=True).etag
        assert stale is not None and current is not None
        # inode, mtime and size alone repeat: the hazard this test is about is real here
        repeats += stale.split("-")[:3] == current.split("-")[:3]
        assert current != stale
        assert backend.get_file_info("f").etag == current
        with pytest.raises(PreconditionFailed):
            backend.write("f", b"lost", overwrite=True, if_match=stale)
        with pytest.raises(PreconditionFailed):
            backend.delete("f", if_match=stale)
        assert backend.read_bytes("f") == b"cccc"
    assert repeats > 0


@pytest.mark.slow
def test_coarse_clock_without_xattrs_declares_no_conditional_writes(
    coarse_fs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unsupported(*args: object, **kwargs: object) -> None:
        raise OSError(95, "Operation not supported")

    monkeypatch.setattr(os, "setxattr", unsupported)  # a filesystem without user xattrs
    backend = LocalBackend(coarse_fs / "no-xattrs")
    assert Capability.CONDITIONAL_WRITE not in backend.capabilities
    etag = backend.write("f", b"1").etag
    with pytest.raises(CapabilityNotSupported):
        backend.write("f", b"2", overwrite=True, if_match=etag)
    assert backend.read_bytes("f") == b"1"


def test_a_new_version_is_always_newer_than_the_one_it_replaces(
    backend: LocalBackend, root: Path
) -> None:
    first = backend.write("f", b"1234")
    future = 4_000_000_000_000_000_000  # the old version's clock was ahead of ours
    os.utime(root / "f", ns=(future, future))
    stale = backend.get_file_info("f").etag
    second = backend.write("f", b"5678", overwrite=True)
    assert (root / "f").stat().st_mtime_ns > future
    assert second.etag not in (first.etag, stale)
    with pytest.raises(PreconditionFailed):
        backend.write("f", b"lost", overwrite=True, if_match=stale)


# ------------------------------------------------------------------ hard links and moves


def test_a_move_between_two_links_of_one_file_moves(backend: LocalBackend, root: Path) -> None:
    backend.write("a", b"one file")
    os.link(root / "a", root / "b")
    with pytest.raises(AlreadyExists):
        backend.move("a", "b")
    assert backend.exists("a")
    backend.move("a", "b", overwrite=True)
    assert not backend.exists("a")
    assert backend.read_bytes("b") == b"one file"


def test_a_move_of_a_symlink_onto_its_target_keeps_the_file(
    backend: LocalBackend, root: Path
) -> None:
    backend.write("target", b"content")
    os.symlink("target", root / "link")
    backend.move("link", "target", overwrite=True)
    assert sorted(p.name for p in root.iterdir()) == ["target"]
    assert backend.read_bytes("target") == b"content"


def test_a_create_only_move_never_makes_a_second_link(
    backend: LocalBackend, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # link() then unlink() leaves two names for one file if the process dies between them.
    def no_link(*args: object, **kwargs: object) -> None:
        raise AssertionError("a hard link was made")

    backend.write("a", b"x")
    monkeypatch.setattr(os, "link", no_link)
    backend.move("a", "b")
    backend.write("c", b"y")
    assert sorted(p.name for p in root.iterdir()) == ["b", "c"]
    with pytest.raises(AlreadyExists):
        backend.move("b", "c")


MOVE_AS_OTHER_USER = """
import os, sys
from remote_store.backends.local import LocalBackend  # imported as root: /root is private
os.setgroups([])
os.setresgid(1000, 1000, 1000)
os.setresuid(1000, 1000, 1000)
LocalBackend(sys.argv[1]).move("theirs.txt", "moved.txt")
"""


@ROOT_ONLY
def test_create_only_move_of_another_users_file_in_a_shared_sticky_folder() -> None:
    # protected_hardlinks refuses link() of a file you neither own nor may write.
    # Outside pytest's private temporary folder, which the other user cannot enter.
    public = Path(tempfile.mkdtemp(prefix="rs-sticky-", dir="/tmp"))
    os.chmod(public, 0o755)
    try:
        _move_as_other_user(public / "shared")
    finally:
        shutil.rmtree(public)


def _move_as_other_user(shared: Path) -> None:
    shared.mkdir()
    os.chown(shared, 1000, 1000)
    os.chmod(shared, 0o1777)
    (shared / "theirs.txt").write_bytes(b"theirs")
    os.chown(shared / "theirs.txt", 1001, 1001)
    os.chmod(shared / "theirs.txt", 0o644)
    done = subprocess.run(
        [sys.executable, "-c", MOVE_AS_OTHER_USER, str(shared)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in shared.iterdir()) == ["moved.txt"]
    assert (shared / "moved.txt").read_bytes() == b"theirs"


# ------------------------------------------------------------------ special files and loops


def _specials(root: Path) -> list[str]:
    root.mkdir(parents=True, exist_ok=True)
    os.mkfifo(root / "fifo")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(root / "sock"))
    sock.close()
    names = ["fifo", "sock"]
    if os.geteuid() == 0:
        os.mknod(root / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
        names.append("null")
    return names


def _within(seconds: float, action: Callable[[], object]) -> object:
    """*action*'s outcome (its result or exception), failing if it is still blocked."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(action())
        except BaseException as exc:  # handed to the test
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "blocked"
    return outcome[0]


def test_special_files_are_never_read_nor_listed(backend: LocalBackend, root: Path) -> None:
    names = _specials(root)
    for name in names:
        for action in (
            lambda n=name: backend.read_bytes(n),
            lambda n=name: backend.read(n),
            lambda n=name: backend.read_seekable(n),
            lambda n=name: backend.get_file_info(n),
            lambda n=name: backend.copy(n, "copy"),
        ):
            try:
                result = _within(10, action)
            finally:
                if name == "fifo":  # unblock an open() that waits for a writer, if any
                    with contextlib.suppress(OSError):  # ENXIO: no reader waits
                        os.close(os.open(root / "fifo", os.O_WRONLY | os.O_NONBLOCK))
            assert isinstance(result, NotFound), (name, result)
        assert not backend.is_file(name)
    assert list(backend.list_files("", recursive=True)) == []
    assert list(backend.iter_children("")) == []
    assert backend.get_folder_info("").file_count == 0


def test_a_symlink_loop_never_lists_a_file_twice(backend: LocalBackend, root: Path) -> None:
    backend.write("a/x.txt", b"x")
    os.symlink(".", root / "a" / "self")
    os.symlink("..", root / "a" / "up")
    os.symlink("../b", root / "a" / "tob")
    os.mkdir(root / "b")
    os.symlink("../a", root / "b" / "toa")
    os.symlink("l2", root / "l1")
    os.symlink("l1", root / "l2")
    keys = [info.path for info in backend.list_files("", recursive=True)]
    assert keys == ["a/x.txt"]  # under its own name, once: every link to it leads back
    assert backend.get_folder_info("").file_count == 1
    assert [info.path for info in backend.glob("**/*.txt")] == ["a/x.txt"]
    # One level at a time, a link to a folder the listed one is not inside of is a folder.
    assert [e.path for e in backend.iter_children("b")] == ["b/toa"]
    assert [e.path for e in backend.iter_children("b/toa")] == ["b/toa/x.txt"]  # not tob: b
    with pytest.raises(InvalidPath):
        backend.read_bytes("l1")
    with pytest.raises(InvalidPath):
        backend.get_file_info("l1/x")
    assert not backend.is_file("l1")
    assert not backend.is_folder("l1")


# ------------------------------------------------------------------ temporary files


KILLED_WRITER = """
import os, sys
from remote_store.backends import LocalBackend
writing = LocalBackend(sys.argv[1]).open_atomic("f/x.txt", overwrite=True)
stream = writing.__enter__()
stream.write(b"partial")
stream.flush()
os.kill(os.getpid(), 9)
"""


def _killed_writer(root: Path) -> None:
    done = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(root)], capture_output=True)
    assert done.returncode == -9, done.stderr
    assert [p.name[: len(TEMP_PREFIX)] for p in (root / "f").iterdir()] == [TEMP_PREFIX]


def test_a_killed_writers_temp_file_is_no_content_and_is_swept(
    backend: LocalBackend, root: Path
) -> None:
    _killed_writer(root)
    assert list(backend.list_files("f")) == []
    assert backend.get_folder_info("f").file_count == 0
    assert list((root / "f").iterdir()) == []  # the listing swept it
    _killed_writer(root)
    backend.delete_folder("f")  # empty as listed: deleted, temp file and all
    assert not (root / "f").exists()


def test_a_live_writers_temp_file_is_kept(backend: LocalBackend, root: Path) -> None:
    with backend.open_atomic("g/y.txt") as out:
        out.write(b"in flight")
        assert list(backend.list_files("g")) == []
        assert len(list((root / "g").iterdir())) == 1  # not swept: its writer is alive
    assert backend.read_bytes("g/y.txt") == b"in flight"


# ------------------------------------------------------------------ writes racing a delete


DELETER = """
import shutil, sys, time
print("ready", flush=True)
while True:
    shutil.rmtree(sys.argv[1], ignore_errors=True)
    time.sleep(0.0005)  # room for some writes to land: both outcomes get exercised
"""


@pytest.mark.slow
def test_writes_racing_a_recursive_delete_get_accurate_errors(
    backend: LocalBackend, root: Path
) -> None:
    deleter = subprocess.Popen(
        [sys.executable, "-c", DELETER, str(root / "d")], stdout=subprocess.PIPE
    )
    errors: Counter[str] = Counter()
    written = 0
    try:
        assert deleter.stdout is not None and deleter.stdout.readline() == b"ready\n"
        for i in range(400):
            try:
                backend.write(f"d/sub/deeper/f{i}", b"x" * 64)
                written += 1
            except RemoteStoreError as exc:
                errors[f"{type(exc).__name__}: {exc}".split(" (")[0].replace(str(i), "N")] += 1
    finally:
        deleter.kill()
        deleter.wait()
    # No parent of these keys is ever a file: never "a parent of it is a file".
    assert all(e.startswith("NotFound") and "deleted" in e for e in errors), errors
    assert written + sum(errors.values()) == 400
    # How many writes won the race depends on the machine's speed; with the deleter gone,
    # a write through the same folders always lands.
    backend.write("d/sub/deeper/after", b"x")
    assert backend.read_bytes("d/sub/deeper/after") == b"x"
