"""LocalBackend: files in a directory of the local filesystem."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import stat
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from io import BufferedWriter
from typing import Any, BinaryIO, ClassVar, cast

from remote_store import paths
from remote_store.backend import Backend
from remote_store.backends._local_cas import check_etag as _check_etag
from remote_store.backends._local_cas import etag as _etag
from remote_store.backends._local_cas import locked as _locked
from remote_store.capabilities import ALL_CAPABILITIES, Capability, CapabilitySet
from remote_store.errors import (
    AlreadyExists,
    CapabilityNotSupported,
    ConfigError,
    DirectoryNotEmpty,
    InvalidArgument,
    InvalidPath,
    IsAFolder,
    NotAFolder,
    NotFound,
    PermissionDenied,
    RemoteStoreError,
)
from remote_store.models import FileInfo, FolderEntry, WriteResult, WriteSource
from remote_store.streams import WritableContent, iter_chunks

#: Names of in-flight temporary files start with this; listings never show them.
TEMP_PREFIX = ".~rs-tmp-"
_XATTR_PREFIX = "user.remote_store."

_ERRNO_ERRORS: dict[int, tuple[type[RemoteStoreError], str]] = {
    errno.ENOENT: (NotFound, "{key!r} does not exist"),
    errno.EEXIST: (AlreadyExists, "{key!r} already exists"),
    errno.EACCES: (PermissionDenied, "permission denied on {key!r}"),
    errno.EPERM: (PermissionDenied, "operation not permitted on {key!r}"),
    errno.EROFS: (PermissionDenied, "{key!r} is on a read-only filesystem"),
    errno.EISDIR: (IsAFolder, "{key!r} is a folder, not a file"),
    errno.ENOTDIR: (NotAFolder, "{key!r} is not a folder or runs through a file"),
    errno.ENOTEMPTY: (DirectoryNotEmpty, "folder {key!r} is not empty"),
    errno.ENAMETOOLONG: (InvalidPath, "{key!r} is too long for the local filesystem"),
}


def _map_os_error(exc: OSError, key: str) -> RemoteStoreError:
    """The error-model equivalent of *exc*, raised while working on *key*."""
    kind, template = _ERRNO_ERRORS.get(
        exc.errno or 0, (RemoteStoreError, "local filesystem error on {key!r}")
    )
    return kind(f"{template.format(key=key)} ({exc.strerror or exc})", path=key)


@contextlib.contextmanager
def _os_errors(key: str) -> Iterator[None]:
    try:
        yield
    except RemoteStoreError:
        raise
    except OSError as exc:
        raise _map_os_error(exc, key) from exc


class _Staging:
    """A hidden temporary file beside the target, created exclusively."""

    stat: os.stat_result  # set once the content is flushed to disk

    def __init__(self, directory: str) -> None:
        self.path = os.path.join(directory, TEMP_PREFIX + secrets.token_hex(8))
        # Mode "x" (O_EXCL) with the process umask: the final file gets normal permissions,
        # unlike mkstemp's 0600.
        self.file: BufferedWriter = open(self.path, "xb")  # noqa: SIM115


def _base_directory(
    base_path: str | os.PathLike[str] | None, root: str | os.PathLike[str] | None
) -> str:
    # remote-store 0.33 named the directory root=; both spellings are accepted, not both.
    if (base_path is None) == (root is None):
        raise ConfigError("LocalBackend needs its directory as base_path= (or root=), once")
    given = base_path if base_path is not None else root
    if not isinstance(given, str | os.PathLike):
        raise ConfigError(f"base_path must be a path, got {type(given).__name__}")
    return os.fspath(given)


class LocalBackend(Backend):
    """Keys map to files below *base_path*; every path is confined to it, symlinks included.

    Writes go to a hidden temporary file that is moved into place, so every write is
    atomic, and ``overwrite=False`` uses a hard link, which fails if the target exists.
    Every change of a name (place, move, delete) holds an exclusive ``flock`` on its
    directory, so an ``if_match`` check and the change it guards are one step for every
    thread and process using this backend.
    """

    name: ClassVar[str] = "local"
    close_is_terminal: ClassVar[bool] = False  # nothing to release: usable after close()
    supported_capabilities: ClassVar[CapabilitySet] = ALL_CAPABILITIES

    def __init__(
        self,
        base_path: str | os.PathLike[str] | None = None,
        *,
        root: str | os.PathLike[str] | None = None,
        create: bool = True,
    ) -> None:
        if not isinstance(create, bool):
            raise ConfigError(f"create must be True or False, got a {type(create).__name__}")
        base = os.path.abspath(_base_directory(base_path, root))
        if not os.path.isdir(base):
            if os.path.lexists(base):
                raise NotAFolder(f"base_path {base!r} is not a directory", path=base)
            if not create:
                raise NotFound(f"base_path {base!r} does not exist", path=base)
            with _os_errors(base):
                os.makedirs(base, exist_ok=True)
        self._base = base
        self._create = create
        self._root = os.path.realpath(base)
        self._root_prefix = self._root.rstrip(os.sep) + os.sep
        self._xattrs = _xattrs_work(self._root)
        caps = self.supported_capabilities
        self._capabilities = (
            caps if self._xattrs else CapabilitySet(caps - {Capability.USER_METADATA})
        )

    def __repr__(self) -> str:
        return f"LocalBackend({self._root!r})"

    def _rebuild_options(self) -> Mapping[str, Any] | None:
        # Absolute: a worker's current directory may differ from ours.
        return {"base_path": self._base, "create": self._create}

    @property
    def capabilities(self) -> CapabilitySet:
        """USER_METADATA only where the filesystem keeps extended attributes."""
        return self._capabilities

    # ------------------------------------------------------------------ reading

    def _read(self, path: str) -> BinaryIO:
        key, full = self._locate(path, file=True)
        with _os_errors(key):
            return cast(BinaryIO, open(full, "rb"))

    def _read_seekable(self, path: str) -> BinaryIO:
        return self._read(path)

    def _get_file_info(self, path: str) -> FileInfo:
        key, full = self._locate(path, file=True)
        with _os_errors(key):
            st = os.stat(full)
            if stat.S_ISDIR(st.st_mode):
                raise IsAFolder(f"{key!r} is a folder, not a file", path=key)
            return self._info(key, full, st)

    def _is_folder(self, path: str) -> bool:
        return os.path.isdir(self._locate(path)[1])

    def _iter_children(self, path: str) -> Iterator[FileInfo | FolderEntry]:
        key, full = self._locate(path)
        with _os_errors(key):
            try:
                with os.scandir(full) as scan:
                    entries = sorted(scan, key=lambda e: e.name)
            except (FileNotFoundError, NotADirectoryError):
                return
            for entry in entries:
                child = self._child(key, entry)
                if child is not None:
                    yield child

    # ------------------------------------------------------------------ writing

    def _write(
        self,
        path: str,
        content: WritableContent,
        *,
        overwrite: bool,
        metadata: Mapping[str, str] | None,
        if_match: str | None,
    ) -> WriteResult:
        """Stream *content* to a temporary file, fsync it, then move it into place."""
        key, full = self._locate(path, file=True)
        with self._staged(key, full, overwrite, metadata, if_match) as staging:
            # Only our own disk errors are mapped; the source stream's propagate as they are.
            for chunk in iter_chunks(content):
                with _os_errors(key):
                    staging.file.write(chunk)
        st = staging.stat
        # No digest: get_file_info cannot report one without hashing, and the two must agree.
        return WriteResult(
            path=key,
            size=st.st_size,
            source=WriteSource.NATIVE,
            etag=_etag(st),
            last_modified=_mtime(st),
            metadata=None if metadata is None else dict(metadata),
        )

    @contextlib.contextmanager
    def _open_atomic(
        self,
        path: str,
        *,
        overwrite: bool,
        metadata: Mapping[str, str] | None,
        if_match: str | None,
    ) -> Iterator[BinaryIO]:
        """Write straight into the temporary file; it is moved into place on a clean exit."""
        key, full = self._locate(path, file=True)
        with self._staged(key, full, overwrite, metadata, if_match) as staging:
            yield cast(BinaryIO, staging.file)

    def _move(self, src: str, dst: str, *, overwrite: bool, if_match: str | None) -> None:
        """Rename *src* to *dst*: ``os.replace``, or a hard link then unlink when not
        overwriting, so *dst* appears whole and an existing one is never replaced."""
        src_key, src_full = self._locate(src, file=True)
        dst_key, dst_full = self._locate(dst, file=True)
        with _os_errors(src_key):
            if stat.S_ISDIR(os.stat(src_full).st_mode):
                raise IsAFolder(f"cannot move {src_key!r}: it is a folder", path=src_key)
        with _os_errors(dst_key):
            self._make_parents(dst_key, dst_full)
        with _os_errors(dst_key), _locked(os.path.dirname(src_full), os.path.dirname(dst_full)):
            with _os_errors(src_key):
                _check_etag(src_key, src_full, if_match)
            self._place(src_full, dst_full, dst_key, overwrite)

    # ------------------------------------------------------------------ deleting

    def _delete(self, path: str, *, missing_ok: bool, if_match: str | None) -> None:
        key, full = self._locate(path, file=True)
        try:
            with _locked(os.path.dirname(full)):
                if if_match is not None and os.path.lexists(full):
                    _check_etag(key, full, if_match)
                os.unlink(full)
        except RemoteStoreError:
            raise
        except (FileNotFoundError, NotADirectoryError) as exc:
            if not missing_ok:
                raise _map_os_error(exc, key) from exc
        except OSError as exc:
            raise _map_os_error(exc, key) from exc

    def _delete_folder(self, path: str, *, recursive: bool, missing_ok: bool) -> None:
        key, full = self._locate(path)
        if os.path.isfile(full):
            raise NotAFolder(f"{key!r} is a file, not a folder", path=key)
        try:
            if recursive:
                shutil.rmtree(full)
            else:
                os.rmdir(full)
        except (FileNotFoundError, NotADirectoryError) as exc:
            # Nothing there, or the path runs through a file: the folder is missing.
            if not missing_ok:
                raise NotFound(f"folder {key!r} does not exist", path=key) from exc
        except OSError as exc:
            raise _map_os_error(exc, key) from exc

    # ------------------------------------------------------------------ native paths

    def _native_path(self, key: str) -> str:
        return self._join(key)

    def _to_key(self, native_path: str) -> str:
        """The key of a filesystem path below the root; relative paths use the cwd."""
        full = os.path.abspath(native_path)
        for base in (self._root, self._base):
            if full == base:
                return ""
            prefix = base.rstrip(os.sep) + os.sep
            if full.startswith(prefix):
                return full[len(prefix) :].replace(os.sep, "/")
        raise InvalidPath(
            f"{native_path!r} is outside the local root {self._root!r}", path=native_path
        )

    # ------------------------------------------------------------------ internals

    def _join(self, key: str) -> str:
        return os.path.join(self._root, *key.split("/")) if key else self._root

    def _inside(self, real: str) -> bool:
        return real == self._root or real.startswith(self._root_prefix)

    def _locate(self, path: str, *, file: bool = False) -> tuple[str, str]:
        """The key and filesystem path for the key *path*, refusing anything that leaves
        the root."""
        key = path
        if any(segment.startswith(TEMP_PREFIX) for segment in key.split("/")):
            raise InvalidPath(f"names starting with {TEMP_PREFIX!r} are reserved", path=key)
        full = self._join(key)
        # Checked before use, not held: a symlink swapped in afterwards can still race us.
        if not self._inside(os.path.realpath(full)):
            raise InvalidPath(f"{key!r} leads outside the root through a symlink", path=key)
        return key, full

    def _child(self, folder: str, entry: os.DirEntry[str]) -> FileInfo | FolderEntry | None:
        """The listing entry for *entry*, or None for what a listing must not show."""
        if entry.name.startswith(TEMP_PREFIX):
            return None
        if entry.is_symlink() and not self._inside(os.path.realpath(entry.path)):
            return None
        key = paths.join(folder, entry.name)
        try:
            if entry.is_dir():
                return FolderEntry(key)
            if not entry.is_file():  # sockets, FIFOs, devices, dangling symlinks
                return None
            return self._info(key, entry.path, entry.stat())
        except FileNotFoundError:  # removed while we listed
            return None

    def _info(self, key: str, full: str, st: os.stat_result) -> FileInfo:
        return FileInfo(
            path=key,
            size=st.st_size,
            modified=_mtime(st),
            etag=_etag(st),
            metadata=_read_metadata(full) if self._xattrs else None,
        )

    @contextlib.contextmanager
    def _staged(
        self,
        key: str,
        full: str,
        overwrite: bool,
        metadata: Mapping[str, str] | None,
        if_match: str | None = None,
    ) -> Iterator[_Staging]:
        """A temporary file for *key*, committed to *full* when the block exits cleanly
        and removed when it does not."""
        if metadata and not self._xattrs:
            raise CapabilityNotSupported("USER_METADATA", backend=self.name, path=key)
        with _os_errors(key):
            self._make_parents(key, full)
            staging = _Staging(os.path.dirname(full))
        try:
            with staging.file:
                yield staging
                with _os_errors(key):
                    staging.file.flush()
                    # A nanosecond stamp of our own, not the kernel's coarse clock, so
                    # the etag (inode, mtime, size) of two quick writes differs.
                    now = time.time_ns()
                    os.utime(staging.path, ns=(now, now))
                    os.fsync(staging.file.fileno())
                    staging.stat = os.fstat(staging.file.fileno())
            with _os_errors(key):
                if metadata:
                    _write_metadata(staging.path, key, metadata)
                with _locked(os.path.dirname(full)):
                    _check_etag(key, full, if_match)
                    self._place(staging.path, full, key, overwrite)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(staging.path)
            raise

    def _make_parents(self, key: str, full: str) -> None:
        if os.path.isdir(full):
            raise IsAFolder(f"cannot write {key!r}: it is a folder", path=key)
        try:
            os.makedirs(os.path.dirname(full), exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise NotAFolder(f"cannot write {key!r}: a parent of it is a file", path=key) from exc

    def _place(self, source: str, target: str, key: str, overwrite: bool) -> None:
        """Rename *source* to *target*; without *overwrite* fail, atomically, if it exists."""
        if overwrite:
            os.replace(source, target)
            return
        try:
            os.link(source, target)
        except FileExistsError as exc:
            if os.path.isdir(target):
                raise IsAFolder(f"cannot write {key!r}: it is a folder", path=key) from exc
            raise AlreadyExists(f"{key!r} already exists", path=key) from exc
        os.unlink(source)


def _mtime(st: os.stat_result) -> datetime:
    return datetime.fromtimestamp(st.st_mtime, tz=UTC)


def _read_metadata(full: str) -> dict[str, str]:
    names = [n for n in os.listxattr(full) if n.startswith(_XATTR_PREFIX)]
    return {n[len(_XATTR_PREFIX) :]: os.getxattr(full, n).decode("utf-8", "replace") for n in names}


def _write_metadata(full: str, key: str, metadata: Mapping[str, str]) -> None:
    for name, value in metadata.items():
        try:
            os.setxattr(full, _XATTR_PREFIX + name, value.encode("utf-8"))
        except ValueError as exc:  # an embedded NUL
            raise InvalidArgument(f"metadata key {name!r} contains NUL", path=key) from exc
        except OSError as exc:
            if exc.errno not in (errno.E2BIG, errno.ENOSPC, errno.ERANGE):
                raise
            raise InvalidArgument(
                f"metadata {name!r} is too large for this filesystem's extended attributes",
                path=key,
            ) from exc


def _xattrs_work(directory: str) -> bool:
    """Whether files in *directory* keep user extended attributes (probed once)."""
    if not hasattr(os, "setxattr"):
        return False
    probe = os.path.join(directory, f"{TEMP_PREFIX}probe-{secrets.token_hex(4)}")
    try:
        with open(probe, "xb"):
            pass
        try:
            os.setxattr(probe, _XATTR_PREFIX + "probe", b"1")
            return os.getxattr(probe, _XATTR_PREFIX + "probe") == b"1"
        finally:
            os.unlink(probe)
    except OSError:
        return False
