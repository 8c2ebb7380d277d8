"""LocalBackend-specific behaviour: confinement, temporary files, xattrs, the real disk."""

from __future__ import annotations

import errno
import io
import os
import stat
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO, cast

import pytest

from remote_store.backends.local import TEMP_PREFIX, LocalBackend, _map_os_error
from remote_store.capabilities import Capability
from remote_store.errors import (
    AlreadyExists,
    CapabilityNotSupported,
    DirectoryNotEmpty,
    InvalidArgument,
    InvalidPath,
    IsAFolder,
    NotAFolder,
    NotFound,
    PermissionDenied,
    RemoteStoreError,
)
from remote_store.models import FolderEntry, WriteSource

THREADS = 8


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "root"


@pytest.fixture
def backend(root: Path) -> LocalBackend:
    return LocalBackend(root)


def on_disk(root: Path) -> set[str]:
    """Every entry below *root*, temporary files included."""
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


class Failing(io.RawIOBase):
    """A stream that yields some bytes, then raises."""

    def __init__(self) -> None:
        self.sent = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.sent:
            raise ConnectionResetError("source went away")
        self.sent = True
        buffer[:4] = b"half"
        return 4


# ------------------------------------------------------------------ construction


def test_relative_base_path_resolves_against_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    backend = LocalBackend("./data")
    monkeypatch.chdir("/")
    backend.write("a.txt", b"1")
    assert (tmp_path / "data" / "a.txt").read_bytes() == b"1"


def test_create_false_refuses_a_missing_base(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        LocalBackend(tmp_path / "missing", create=False)
    assert not (tmp_path / "missing").exists()
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(NotAFolder):
        LocalBackend(tmp_path / "file")


@pytest.fixture
def xattr_backend(backend: LocalBackend) -> LocalBackend:
    if not backend.capabilities.supports(Capability.USER_METADATA):
        pytest.skip("this filesystem keeps no user extended attributes")
    return backend


def test_capabilities_are_all_with_xattrs(xattr_backend: LocalBackend) -> None:
    assert set(xattr_backend.capabilities) == set(Capability)


def test_without_xattrs_metadata_is_not_declared(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unsupported(*args: object) -> None:
        raise OSError(errno.ENOTSUP, os.strerror(errno.ENOTSUP))

    monkeypatch.setattr(os, "setxattr", unsupported)
    backend = LocalBackend(root)
    assert set(Capability) - backend.capabilities == {Capability.USER_METADATA}
    with pytest.raises(CapabilityNotSupported):
        backend.write("f", b"1", metadata={"k": "v"})
    backend.write("f", b"1")
    assert backend.get_file_info("f").metadata is None
    assert on_disk(root) == {"f"}


def test_construction_leaves_no_probe_file(backend: LocalBackend, root: Path) -> None:
    assert on_disk(root) == set()


# ------------------------------------------------------------------ confinement


def test_symlink_leading_outside_is_refused(
    backend: LocalBackend, root: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    (root / "escape").symlink_to(outside)
    (root / "secret-link").symlink_to(outside / "secret")
    for key in ("escape/secret", "secret-link"):
        with pytest.raises(InvalidPath, match="outside"):
            backend.read(key)
        with pytest.raises(InvalidPath):
            backend.write(key, b"overwritten", overwrite=True)
        with pytest.raises(InvalidPath):
            backend.delete(key)
    with pytest.raises(InvalidPath):
        backend.write("escape/new", b"planted")
    with pytest.raises(InvalidPath):
        backend.delete_folder("escape", recursive=True)
    assert [e.path for e in backend.iter_children("")] == []
    assert sorted(p.name for p in outside.iterdir()) == ["secret"]
    assert (outside / "secret").read_bytes() == b"secret"


def test_symlink_inside_the_root_is_followed(backend: LocalBackend, root: Path) -> None:
    backend.write("real/file", b"1")
    (root / "alias").symlink_to(root / "real")
    assert backend.read_bytes("alias/file") == b"1"
    assert [e.path for e in backend.iter_children("")] == ["alias", "real"]


def test_temp_prefix_is_reserved(backend: LocalBackend) -> None:
    with pytest.raises(InvalidPath, match="reserved"):
        backend.write(f"dir/{TEMP_PREFIX}x", b"1")


def test_native_path_and_to_key(backend: LocalBackend, root: Path, tmp_path: Path) -> None:
    native = backend.native_path("a/b.txt")
    assert native == str(root.resolve() / "a" / "b.txt")
    assert backend.to_key(native) == "a/b.txt"
    assert backend.to_key(str(root)) == ""
    with pytest.raises(InvalidPath, match="outside"):
        backend.to_key(str(tmp_path / "rootless"))


def test_to_key_accepts_the_base_path_as_given(tmp_path: Path) -> None:
    (tmp_path / "target").mkdir()
    (tmp_path / "via").symlink_to(tmp_path / "target")
    backend = LocalBackend(tmp_path / "via")
    assert backend.to_key(str(tmp_path / "via" / "x")) == "x"
    assert backend.to_key(backend.native_path("x")) == "x"


# ------------------------------------------------------------------ writing


def test_write_result_comes_from_the_filesystem(backend: LocalBackend, root: Path) -> None:
    result = backend.write("d/f.bin", b"hello")
    st = (root / "d" / "f.bin").stat()
    info = backend.get_file_info("d/f.bin")
    assert result.source is WriteSource.NATIVE
    assert result.etag == info.etag == f"{st.st_ino:x}-{st.st_mtime_ns:x}-{st.st_size:x}"
    assert result.last_modified == info.modified
    assert result.digest is info.digest is None  # nothing hashes on stat


def test_written_files_get_normal_permissions(backend: LocalBackend, root: Path) -> None:
    umask = os.umask(0o022)
    try:
        backend.write("f", b"1")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((root / "f").stat().st_mode) == 0o644


def test_failing_stream_leaves_no_trace(backend: LocalBackend, root: Path) -> None:
    backend.write("d/keep", b"old")
    # BC-012: the source's failure, wrapped by the kernel's error boundary with it as cause.
    with pytest.raises(RemoteStoreError) as replacing:
        backend.write("d/keep", cast(BinaryIO, Failing()), overwrite=True)
    assert isinstance(replacing.value.__cause__, ConnectionResetError)
    with pytest.raises(RemoteStoreError) as creating:
        backend.write("d/new", cast(BinaryIO, Failing()))
    assert isinstance(creating.value.__cause__, ConnectionResetError)
    assert on_disk(root) == {"d", "d/keep"}
    assert backend.read_bytes("d/keep") == b"old"


def test_temp_files_are_invisible_while_a_write_runs(backend: LocalBackend, root: Path) -> None:
    started, release = threading.Event(), threading.Event()

    class Paused(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            if release.is_set():
                return 0
            started.set()
            release.wait(timeout=10)
            buffer[:1] = b"x"
            return 1

    backend.write("d/other", b"1")
    writer = threading.Thread(target=backend.write, args=("d/f", Paused()))
    writer.start()
    try:
        assert started.wait(timeout=10)
        assert any(name.startswith(TEMP_PREFIX) for name in os.listdir(root / "d"))
        assert [e.path for e in backend.iter_children("d")] == ["d/other"]
        assert [i.path for i in backend.list_files("", recursive=True)] == ["d/other"]
        assert [i.path for i in backend.glob("d/*")] == ["d/other"]
    finally:
        release.set()
        writer.join(timeout=10)
    assert on_disk(root) == {"d", "d/other", "d/f"}


def test_open_atomic_writes_in_place_and_cleans_up(backend: LocalBackend, root: Path) -> None:
    with backend.open_atomic("d/f") as out:
        out.write(b"streamed")
        staged = [n for n in os.listdir(root / "d") if n.startswith(TEMP_PREFIX)]
        assert len(staged) == 1  # written straight beside the target, not spooled
        assert not (root / "d" / "f").exists()
    assert backend.read_bytes("d/f") == b"streamed"
    with pytest.raises(ZeroDivisionError), backend.open_atomic("d/f", overwrite=True) as out:
        out.write(b"partial")
        raise ZeroDivisionError
    assert backend.read_bytes("d/f") == b"streamed"
    assert on_disk(root) == {"d", "d/f"}


def test_write_refuses_folders_and_paths_through_files(backend: LocalBackend, root: Path) -> None:
    backend.write("file", b"1")
    (root / "dir").mkdir()
    for overwrite in (False, True):
        with pytest.raises(IsAFolder):
            backend.write("dir", b"2", overwrite=overwrite)
    with pytest.raises(NotAFolder):
        backend.write("file/below", b"2")
    with pytest.raises(AlreadyExists):
        backend.write("file", b"2")
    assert on_disk(root) == {"file", "dir"}


def slowly(call: Callable[..., None]) -> Callable[..., None]:
    def delayed(*args: Any, **kwargs: Any) -> None:
        time.sleep(0.01)
        call(*args, **kwargs)

    return delayed


@pytest.mark.parametrize("operation", ["write", "move"])
def test_create_only_race_has_exactly_one_winner(
    backend: LocalBackend, operation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(THREADS):
        backend.write(f"src-{n}", f"writer-{n}".encode())
    # Slow commits widen the window in which a check-then-write would let several win.
    for name in ("link", "replace"):
        monkeypatch.setattr(os, name, slowly(getattr(os, name)))
    barrier = threading.Barrier(THREADS)

    def attempt(n: int) -> int | None:
        barrier.wait(timeout=10)
        try:
            if operation == "write":
                backend.write("contested", f"writer-{n}".encode())
            else:
                backend.move(f"src-{n}", "contested")
        except AlreadyExists:
            return None
        return n

    with ThreadPoolExecutor(THREADS) as pool:
        winners = [n for n in pool.map(attempt, range(THREADS)) if n is not None]
    assert len(winners) == 1
    assert backend.read_bytes("contested") == f"writer-{winners[0]}".encode()
    assert not [e for e in os.listdir(backend.native_path("")) if e.startswith(TEMP_PREFIX)]


# ------------------------------------------------------------------ metadata


def test_metadata_round_trips_through_xattrs(xattr_backend: LocalBackend, root: Path) -> None:
    backend = xattr_backend
    result = backend.write("f", b"1", metadata={"owner": "ana", "note": "naïve"})
    assert dict(result.metadata or {}) == {"owner": "ana", "note": "naïve"}
    assert os.getxattr(root / "f", "user.remote_store.owner") == b"ana"
    assert backend.get_file_info("f").metadata == {"owner": "ana", "note": "naïve"}
    backend.copy("f", "copied")
    backend.move("copied", "moved")
    assert backend.get_file_info("moved").metadata == {"owner": "ana", "note": "naïve"}
    assert [i.metadata for i in backend.list_files("")] == [
        {"owner": "ana", "note": "naïve"},
        {"owner": "ana", "note": "naïve"},
    ]
    backend.write("f", b"2", overwrite=True)
    assert backend.get_file_info("f").metadata == {}


def test_oversized_metadata_is_refused_without_a_trace(
    xattr_backend: LocalBackend, root: Path
) -> None:
    with pytest.raises(InvalidArgument, match="too large"):
        xattr_backend.write("f", b"1", metadata={"big": "x" * 100_000})
    assert on_disk(root) == set()


# ------------------------------------------------------------------ folders, moves, deletes


def test_empty_directories_are_real_folders(backend: LocalBackend, root: Path) -> None:
    (root / "empty").mkdir()
    assert backend.is_folder("empty")
    assert list(backend.iter_children("")) == [FolderEntry("empty")]
    backend.delete_folder("empty")
    assert not (root / "empty").exists()


def test_delete_folder_rules(backend: LocalBackend, root: Path) -> None:
    backend.write("a/x", b"1")
    backend.write("a/deep/y", b"1")
    with pytest.raises(InvalidPath):
        backend.delete_folder("", recursive=True)
    with pytest.raises(NotAFolder):
        backend.delete_folder("a/x", missing_ok=True)
    with pytest.raises(DirectoryNotEmpty):
        backend.delete_folder("a")
    with pytest.raises(NotFound):
        backend.delete_folder("missing")
    backend.delete_folder("a/x/below", missing_ok=True)
    backend.delete_folder("a", recursive=True)
    assert on_disk(root) == set()
    assert root.is_dir()


def test_delete_and_info_on_the_wrong_kind(backend: LocalBackend) -> None:
    backend.write("dir/file", b"1")
    with pytest.raises(IsAFolder):
        backend.delete("dir")
    with pytest.raises(IsAFolder):
        backend.get_file_info("dir")
    with pytest.raises(NotFound):
        backend.delete("dir/missing")
    backend.delete("dir/missing", missing_ok=True)
    backend.delete("dir/file/below", missing_ok=True)


def test_move_is_a_rename_and_refuses_folders(backend: LocalBackend, root: Path) -> None:
    backend.write("a", b"1")
    inode = (root / "a").stat().st_ino
    backend.move("a", "new/deep/b")
    assert (root / "new" / "deep" / "b").stat().st_ino == inode
    assert not (root / "a").exists()
    with pytest.raises(IsAFolder):
        backend.move("new", "elsewhere")
    with pytest.raises(NotFound):
        backend.move("a", "c")
    backend.write("c", b"2")
    with pytest.raises(AlreadyExists):
        backend.move("c", "new/deep/b")
    backend.move("c", "new/deep/b", overwrite=True)
    assert backend.read_bytes("new/deep/b") == b"2"


def test_reads_are_lazy_seekable_file_streams(backend: LocalBackend) -> None:
    backend.write("f", b"0123456789")
    with backend.read("f") as stream:
        assert isinstance(stream, io.BufferedReader)
        stream.seek(5)
        assert stream.read() == b"56789"


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (errno.ENOENT, NotFound),
        (errno.EEXIST, AlreadyExists),
        (errno.EACCES, PermissionDenied),
        (errno.EPERM, PermissionDenied),
        (errno.EISDIR, IsAFolder),
        (errno.ENOTDIR, NotAFolder),
        (errno.ENOTEMPTY, DirectoryNotEmpty),
        (errno.ENAMETOOLONG, InvalidPath),
        (errno.EIO, RemoteStoreError),
    ],
)
def test_os_errors_map_onto_the_error_model(code: int, kind: type[Exception]) -> None:
    error = _map_os_error(OSError(code, os.strerror(code)), "a/b")
    assert type(error) is kind
    assert error.path == "a/b"
    assert "'a/b'" in str(error)


def test_unreadable_file_is_permission_denied(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Root reads every file, so as root the read runs in a forked child as 'nobody'."""
    base = tmp_path_factory.mktemp("perm")
    backend = LocalBackend(base)
    backend.write("f", b"1")
    (base / "f").chmod(0)
    if os.geteuid() != 0:
        with pytest.raises(PermissionDenied):
            backend.read("f")
        return
    for folder in (base, *base.parents):
        if folder == Path("/tmp"):
            break
        folder.chmod(0o755)
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.close(reader)
        verdict = b"read"
        try:
            os.setuid(65534)
            backend.read("f")
        except PermissionDenied as error:
            verdict = f"denied {error.path}".encode()
        except BaseException as error:
            verdict = repr(error).encode()
        os.write(writer, verdict)
        os._exit(0)
    os.close(writer)
    os.waitpid(child, 0)
    with os.fdopen(reader, "rb") as pipe:
        assert pipe.read() == b"denied f"
