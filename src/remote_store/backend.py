"""The Backend contract: a small required core, and optional operations derived from it.

Backends receive canonical keys (see `remote_store.paths`) relative to their own root and
raise only errors from `remote_store.errors`. The `Store` facade adds root confinement,
capability gating and conveniences on top.
"""

from __future__ import annotations

import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, BinaryIO, ClassVar, TypeVar, cast

from remote_store import globbing, paths
from remote_store.capabilities import CapabilitySet
from remote_store.errors import (
    CapabilityNotSupported,
    InvalidPath,
    NotAFolder,
    NotFound,
)
from remote_store.models import FileInfo, FolderEntry, FolderInfo, ResolutionPlan, WriteResult
from remote_store.streams import Sink, WritableContent, copy_stream

T = TypeVar("T")

#: Bytes an in-memory spool holds before it moves to a temporary file on disk.
SPOOL_LIMIT = 8 * 1024 * 1024


class Backend(ABC):
    """A storage adapter. Subclass it, implement the required core, override what you can do
    better, and declare what you honour in `capabilities`."""

    #: Short identifier of the backend type (``"local"``, ``"azure"``, ...).
    name: ClassVar[str] = "backend"
    #: Every capability an instance of this class may declare.
    supported_capabilities: ClassVar[CapabilitySet] = CapabilitySet()

    @property
    def capabilities(self) -> CapabilitySet:
        """What this instance honours; a subset of `supported_capabilities`."""
        return self.supported_capabilities

    # ------------------------------------------------------------------ required core

    @abstractmethod
    def read(self, path: str) -> BinaryIO:
        """Open the file at *path* as a forward-only binary stream."""

    @abstractmethod
    def write(
        self,
        path: str,
        content: WritableContent,
        *,
        overwrite: bool = False,
        metadata: Mapping[str, str] | None = None,
        if_match: str | None = None,
    ) -> WriteResult:
        """Write *content* to *path*; with ``overwrite=False`` fail if it exists.

        *if_match* (only passed to backends declaring ``CONDITIONAL_WRITE``, always with
        ``overwrite=True``): replace the file only if its etag still equals it, decided
        atomically; otherwise `PreconditionFailed`, or `NotFound` when no file is there."""

    @abstractmethod
    def delete(self, path: str, *, missing_ok: bool = False, if_match: str | None = None) -> None:
        """Delete the file at *path* (only if its etag equals *if_match*, when given)."""

    @abstractmethod
    def get_file_info(self, path: str) -> FileInfo:
        """Describe the file at *path*; a folder there raises `IsAFolder`."""

    @abstractmethod
    def is_folder(self, path: str) -> bool:
        """Whether a folder exists at *path* (the root always does)."""

    @abstractmethod
    def iter_children(self, path: str) -> Iterator[FileInfo | FolderEntry]:
        """Immediate children of the folder *path*; a missing folder yields nothing."""

    @abstractmethod
    def delete_folder(
        self, path: str, *, recursive: bool = False, missing_ok: bool = False
    ) -> None:
        """Delete the folder *path*; non-recursive deletes only an empty folder."""

    # ------------------------------------------------------------------ optional, derived

    def is_file(self, path: str) -> bool:
        """Whether a file exists at *path*. Default: one `get_file_info`."""
        try:
            self.get_file_info(path)
        except (NotFound, InvalidPath):
            return False
        return True

    def head(self, path: str) -> FileInfo | None:
        """`get_file_info`, or ``None`` when no file can be at *path* (missing, or below a
        file). Default: one `get_file_info`."""
        try:
            return self.get_file_info(path)
        except (NotFound, NotAFolder):
            return None

    def exists(self, path: str) -> bool:
        """Whether a file or folder exists at *path*. Default: `is_file`, then `is_folder`."""
        return self.is_file(path) or self.is_folder(path)

    def read_bytes(self, path: str) -> bytes:
        """The whole content of the file at *path*."""
        with self.read(path) as stream:
            return stream.read()

    def read_to(self, path: str, sink: Sink) -> int:
        """Write the content of the file at *path* into *sink*; the number of bytes written.
        Default: `read`, copied a chunk at a time. Errors raised by *sink* must propagate
        unchanged (the Store hands them back to its caller as they are)."""
        with self.read(path) as stream:
            return copy_stream(stream, sink)

    def read_seekable(self, path: str) -> BinaryIO:
        """A seekable stream over the file. Default: spools the whole file to memory or disk."""
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_LIMIT)  # noqa: SIM115
        try:
            self.read_to(path, spool)
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        return cast(BinaryIO, spool)

    def write_atomic(
        self,
        path: str,
        content: WritableContent,
        *,
        overwrite: bool = False,
        metadata: Mapping[str, str] | None = None,
        if_match: str | None = None,
    ) -> WriteResult:
        """Write so readers see the old content or the new, never a part. Default: `write`,
        which is atomic only on backends whose single write already is."""
        return self.write(
            path, content, overwrite=overwrite, metadata=metadata, **if_match_kwargs(if_match)
        )

    @contextmanager
    def open_atomic(
        self,
        path: str,
        *,
        overwrite: bool = False,
        metadata: Mapping[str, str] | None = None,
        if_match: str | None = None,
    ) -> Iterator[BinaryIO]:
        """Yield a writable stream committed with `write_atomic` only if the block exits
        cleanly (*if_match* is checked then). Default: spools to memory or a temporary file."""
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_LIMIT) as spool:
            yield cast(BinaryIO, spool)
            spool.seek(0)
            self.write_atomic(
                path,
                cast(BinaryIO, spool),
                overwrite=overwrite,
                metadata=metadata,
                **if_match_kwargs(if_match),
            )

    def copy(self, src: str, dst: str, *, overwrite: bool = False) -> None:
        """Copy the file *src* to *dst* with its metadata. Default: streams through the client."""
        info = self.get_file_info(src)
        with self.read(src) as stream:
            self.write(dst, stream, overwrite=overwrite, metadata=info.metadata or None)

    def move(
        self, src: str, dst: str, *, overwrite: bool = False, if_match: str | None = None
    ) -> None:
        """Move the file *src* to *dst*. Default: copy then delete, not atomic: a failure
        between the two leaves both files in place, never neither. A backend declaring
        ``CONDITIONAL_WRITE`` overrides it to honour *if_match* (on the source)."""
        if if_match is not None:
            raise CapabilityNotSupported("CONDITIONAL_WRITE", backend=self.name, path=src)
        self.copy(src, dst, overwrite=overwrite)
        self.delete(src)

    def list_files(self, path: str, *, recursive: bool = False) -> Iterator[FileInfo]:
        """Files below the folder *path* (one level, or every level). Default: walks
        `iter_children`, one listing per folder."""
        pending = [path]
        while pending:
            folder = pending.pop()
            for entry in self.iter_children(folder):
                if isinstance(entry, FileInfo):
                    yield entry
                elif recursive:
                    pending.append(entry.path)

    def list_folders(self, path: str) -> Iterator[str]:
        """Names of the immediate subfolders of *path*."""
        for entry in self.iter_children(path):
            if isinstance(entry, FolderEntry):
                yield entry.name

    def glob(self, pattern: str) -> Iterator[FileInfo]:
        """Files whose key matches *pattern*. Default: lists only below the pattern's literal
        prefix, one level when the pattern allows it."""
        prefix = globbing.literal_prefix(pattern)
        matcher = globbing.compile_pattern(pattern)
        recursive = globbing.needs_recursion(pattern, prefix)
        for info in self.list_files(prefix, recursive=recursive):
            if matcher.match(info.path):
                yield info

    def get_folder_info(self, path: str) -> FolderInfo:
        """Count and size of every file below the folder *path*."""
        if not self.is_folder(path):
            if path and self.is_file(path):
                raise NotAFolder(f"{path!r} is a file, not a folder", path=path)
            raise NotFound(f"folder {path!r} does not exist", path=path)
        count = total = 0
        newest = None
        for info in self.list_files(path, recursive=True):
            count += 1
            total += info.size
            if info.modified is not None and (newest is None or info.modified > newest):
                newest = info.modified
        return FolderInfo(path=path, file_count=count, total_size=total, modified=newest)

    def native_path(self, path: str) -> str:
        """The backend's own name for *path* (a filesystem path, a URL, ...)."""
        return path

    def to_key(self, native_path: str) -> str:
        """Inverse of `native_path`: the key for a native path of this backend."""
        return paths.normalize(native_path)

    def resolve(self, path: str) -> ResolutionPlan:
        """How *path* maps onto this backend. Never contains credentials."""
        return ResolutionPlan(backend=self.name, kind=self.name, native_path=self.native_path(path))

    def unwrap(self, type_hint: type[T]) -> T:
        """The underlying native client of type *type_hint*, for features we do not wrap."""
        raise CapabilityNotSupported(f"unwrap to {type_hint.__name__}", backend=self.name)

    def ping(self) -> None:
        """Check the backend answers; raise `BackendUnavailable` or `PermissionDenied` if not."""
        self.is_folder("")

    def close(self) -> None:  # noqa: B027 - deliberately a no-op default
        """Release what the backend created (clients, connections). Idempotent."""

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


def if_match_kwargs(if_match: str | None) -> dict[str, Any]:
    """``{"if_match": etag}``, or nothing: a backend without ``CONDITIONAL_WRITE`` may not
    accept the keyword at all."""
    return {} if if_match is None else {"if_match": if_match}
