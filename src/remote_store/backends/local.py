"""LocalBackend: files in a directory of the local filesystem."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO, ClassVar, TypeVar, cast

from remote_store.backend import Backend
from remote_store.backends._local_cas import Etags, check_etag, locked
from remote_store.backends._local_errors import map_os_error, os_errors
from remote_store.backends._local_fs import (
    DIR_FLAGS,
    SUPPORTED,
    Tree,
    Vanished,
    Walk,
    check_regular,
    distinct,
    is_dir,
    open_regular,
    retry_stale,
    same_file,
)
from remote_store.backends._local_list import Listing, mtime
from remote_store.backends._local_meta import probe, write_metadata
from remote_store.backends._local_place import TEMP_PREFIX, Staging, place, sweep
from remote_store.capabilities import ALL_CAPABILITIES, Capability, CapabilitySet
from remote_store.errors import (
    AlreadyExists,
    CapabilityNotSupported,
    ConfigError,
    InvalidPath,
    IsAFolder,
    NotAFolder,
    NotFound,
    RemoteStoreError,
)
from remote_store.models import FileInfo, WriteResult, WriteSource
from remote_store.streams import WritableContent, iter_chunks

__all__ = ["TEMP_PREFIX", "LocalBackend", "map_os_error"]
_map_os_error = map_os_error  # the name tests and older callers use
T = TypeVar("T")


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


class LocalBackend(Listing, Backend):
    """Keys map to files below *base_path*; every path is confined to it, symlinks included.

    Every path is walked from a descriptor of the root, one folder at a time without
    following links, and used relative to the last folder's descriptor: a folder swapped
    for a symlink meanwhile cannot lead outside. Writes go to a hidden temporary file that
    is moved into place, so every write is atomic; ``overwrite=False`` renames with
    ``RENAME_NOREPLACE``, which fails if the target exists. Every change of a name holds
    an exclusive ``flock`` on its folder, so an ``if_match`` check and the change it guards
    are one step for every thread and process using this backend.
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
        if not SUPPORTED:
            raise ConfigError(
                "LocalBackend needs descriptor-relative file calls (O_NOFOLLOW, dir_fd) to "
                "confine its paths, and this platform has none"
            )
        if not isinstance(create, bool):
            raise ConfigError(f"create must be True or False, got a {type(create).__name__}")
        base = os.path.abspath(_base_directory(base_path, root))
        if not os.path.isdir(base):
            if os.path.lexists(base):
                raise NotAFolder(f"base_path {base!r} is not a directory", path=base)
            if not create:
                raise NotFound(f"base_path {base!r} does not exist", path=base)
            with os_errors(base):
                os.makedirs(base, exist_ok=True)
        self._base = base
        self._create = create
        self._root = os.path.realpath(base)
        self._tree = Tree(self._root, base)
        self._xattrs, fine_mtime = probe(self._root)
        self._etags = Etags(fine_mtime=fine_mtime, xattrs=self._xattrs)
        missing = set()
        if not self._xattrs:
            missing.add(Capability.USER_METADATA)
        if not self._etags.conditional:
            missing.add(Capability.CONDITIONAL_WRITE)
        self._capabilities = CapabilitySet(self.supported_capabilities - missing)

    def __repr__(self) -> str:
        return f"LocalBackend({self._root!r})"

    def _rebuild_options(self) -> Mapping[str, Any] | None:
        # Absolute: a worker's current directory may differ from ours.
        return {"base_path": self._base, "create": self._create}

    @property
    def capabilities(self) -> CapabilitySet:
        """USER_METADATA only where the filesystem keeps extended attributes;
        CONDITIONAL_WRITE only where it keeps nanosecond mtimes or extended attributes."""
        return self._capabilities

    # ------------------------------------------------------------------ reading

    def _read(self, path: str) -> BinaryIO:
        def attempt() -> int:
            with self._walk(path, follow=True) as walk:
                if walk.name is None:
                    raise IsAFolder(f"{path!r} is a folder, not a file", path=path)
                return open_regular(walk.dir, walk.name)

        with os_errors(path):
            return cast(BinaryIO, os.fdopen(retry_stale(attempt), "rb"))

    def _read_seekable(self, path: str) -> BinaryIO:
        return self._read(path)

    def _get_file_info(self, path: str) -> FileInfo:
        def attempt() -> FileInfo:
            with self._walk(path, follow=True) as walk:
                if walk.name is None:
                    raise IsAFolder(f"{path!r} is a folder, not a file", path=path)
                st = os.stat(walk.name, dir_fd=walk.dir, follow_symlinks=False)
                check_regular(st, walk.name)
                return self._info(path, walk.dir, walk.name, st)

        with os_errors(path):
            return retry_stale(attempt)

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
        with self._staged(path, overwrite, metadata, if_match) as staging:
            # Only our own disk errors are mapped; the source stream's propagate as they are.
            for chunk in iter_chunks(content):
                with os_errors(path):
                    staging.file.write(chunk)
        st = cast(os.stat_result, staging.stat)
        # No digest: get_file_info cannot report one without hashing, and the two must agree.
        return WriteResult(
            path=path,
            size=st.st_size,
            source=WriteSource.NATIVE,
            etag=self._etags.format(st, staging.nonce),
            last_modified=mtime(st),
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
        with self._staged(path, overwrite, metadata, if_match) as staging:
            yield cast(BinaryIO, staging.file)

    def _move(self, src: str, dst: str, *, overwrite: bool, if_match: str | None) -> None:
        """Rename *src* to *dst*, atomically; without *overwrite* an existing *dst* is
        never replaced (``RENAME_NOREPLACE``: no moment with two links)."""
        with os_errors(src), self._walk(src, follow=False) as source:
            assert source.name is not None
            if stat.S_ISDIR(os.stat(source.name, dir_fd=source.dir, follow_symlinks=False).st_mode):
                raise IsAFolder(f"cannot move {src!r}: it is a folder", path=src)
            with os_errors(dst):
                target = retry_stale(lambda: self._walk(dst, follow=False, make=True))
            with target, os_errors(dst):
                assert target.name is not None
                with locked(source.dir, target.dir):
                    with os_errors(src):
                        check_etag(self._etags, source.dir, source.name, src, if_match)
                    if not distinct(source, target):
                        return  # two keys, one name (through a symlink): nothing to move
                    if overwrite and (same_file(source, target) or self._links_to(src, target)):
                        # rename() between two links of one file does nothing at all, and
                        # a symlink renamed over its own target would lose the file
                        os.unlink(source.name, dir_fd=source.dir)
                        return
                    self._place(source, source.name, target, dst, overwrite)

    # ------------------------------------------------------------------ deleting

    def _delete(self, path: str, *, missing_ok: bool, if_match: str | None) -> None:
        try:
            with self._walk(path, follow=False) as walk, locked(walk.dir):
                assert walk.name is not None
                check_etag(self._etags, walk.dir, walk.name, path, if_match)
                os.unlink(walk.name, dir_fd=walk.dir)
        except RemoteStoreError:
            raise
        except (FileNotFoundError, NotADirectoryError) as exc:
            if not missing_ok:
                raise map_os_error(exc, path) from exc
        except OSError as exc:
            raise map_os_error(exc, path) from exc

    def _delete_folder(self, path: str, *, recursive: bool, missing_ok: bool) -> None:
        try:
            with self._walk(path, follow=False) as walk:
                assert walk.name is not None
                st = os.stat(walk.name, dir_fd=walk.dir, follow_symlinks=False)
                if not stat.S_ISDIR(st.st_mode):
                    kind = "a symlink" if stat.S_ISLNK(st.st_mode) else "a file"
                    raise NotAFolder(f"{path!r} is {kind}, not a folder", path=path)
                if recursive:
                    shutil.rmtree(walk.name, dir_fd=walk.dir)
                    return
                with contextlib.suppress(OSError):
                    fd = os.open(walk.name, DIR_FLAGS, dir_fd=walk.dir)
                    try:
                        sweep(fd)
                    finally:
                        os.close(fd)
                os.rmdir(walk.name, dir_fd=walk.dir)
        except RemoteStoreError:
            raise
        except (FileNotFoundError, NotADirectoryError) as exc:
            # Nothing there, or the path runs through a file: the folder is missing.
            if not missing_ok:
                raise NotFound(f"folder {path!r} does not exist", path=path) from exc
        except OSError as exc:
            raise map_os_error(exc, path) from exc

    # ------------------------------------------------------------------ native paths

    def _native_path(self, key: str) -> str:
        return os.path.join(self._root, *key.split("/")) if key else self._root

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

    def _links_to(self, key: str, target: Walk) -> bool:
        """Whether *key* is a symlink to the entry *target* names."""
        try:
            with self._tree.walk(key, follow=True) as resolved:
                return resolved.name is not None and not distinct(resolved, target)
        except (OSError, InvalidPath):
            return False

    @contextlib.contextmanager
    def _staged(
        self,
        key: str,
        overwrite: bool,
        metadata: Mapping[str, str] | None,
        if_match: str | None,
    ) -> Iterator[Staging]:
        """A temporary file for *key*, committed when the block exits cleanly and removed
        when it does not."""
        if metadata and not self._xattrs:
            raise CapabilityNotSupported("USER_METADATA", backend=self.name, path=key)
        with os_errors(key):
            walk, staging = retry_stale(lambda: self._stage(key))
        with walk:
            try:
                yield staging
                with os_errors(key):
                    staging.file.flush()
                    fd = staging.file.fileno()
                    staging.nonce = self._etags.stamp(fd)
                    if metadata:
                        write_metadata(fd, key, metadata)
                    os.fsync(fd)
                    assert walk.name is not None
                    with _folder_deleted(walk, key, fd), locked(walk.dir):
                        check_etag(self._etags, walk.dir, walk.name, key, if_match)
                        self._etags.succeed(fd, walk.dir, walk.name)
                        staging.stat = os.fstat(fd)
                        self._place(walk, staging.name, walk, key, overwrite)
            except BaseException:
                staging.discard()
                raise
            finally:
                staging.file.close()

    def _stage(self, key: str) -> tuple[Walk, Staging]:
        walk = self._walk(key, follow=False, make=True)
        try:
            assert walk.name is not None
            if is_dir(walk.dir, walk.name):
                raise IsAFolder(f"cannot write {key!r}: it is a folder", path=key)
            try:
                return walk, Staging(walk.dir)
            except FileNotFoundError as exc:  # the folder was deleted since the walk
                raise Vanished(key) from exc
        except BaseException:
            walk.close()
            raise

    def _place(self, source: Walk, name: str, target: Walk, key: str, overwrite: bool) -> None:
        """Rename *name* in *source* to the last name of *target*."""
        assert target.name is not None
        try:
            place(source.dir, name, target.dir, target.name, overwrite)
        except FileExistsError as exc:
            if is_dir(target.dir, target.name):
                raise IsAFolder(f"cannot write {key!r}: it is a folder", path=key) from exc
            raise AlreadyExists(f"{key!r} already exists", path=key) from exc


@contextlib.contextmanager
def _folder_deleted(walk: Walk, key: str, staged: int) -> Iterator[None]:
    """Say so when a missing name is due to the folder being deleted under a write (the
    folder, or first the temporary file in it)."""
    try:
        yield
    except FileNotFoundError as exc:
        if 0 in (os.fstat(walk.dir).st_nlink, os.fstat(staged).st_nlink):
            raise NotFound(
                f"cannot write {key!r}: its folder was deleted while the write ran", path=key
            ) from exc
        raise
