"""The hooks a backend implements: what the kernel (`remote_store.backend.Backend`) calls
once it has checked a call.

Every hook receives canonical keys (`remote_store.paths`) relative to the backend's own root
and arguments the kernel has validated: a file hook never gets the root (``""``),
`_delete_folder` never gets the root either, ``if_match`` arrives only on a backend that
declares ``CONDITIONAL_WRITE`` and always with ``overwrite=True``, ``metadata`` only with
``USER_METADATA``. A hook raises `remote_store.errors` exceptions; anything else it lets
escape is wrapped by the kernel's error boundary.

A backend is its own `Operations`; a backend whose behaviour depends on what it finds at
run time (Azure: flat or hierarchical namespace) hands the kernel another `Operations`
object, chosen once (`Backend._operations`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any, BinaryIO, ClassVar, Literal, TypeVar, cast

from remote_store import globbing
from remote_store.capabilities import Capability
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


class Operations:
    """What a backend can do, on canonical keys. Implement the core hooks your capabilities
    need; every other hook has a default built on them, whose docstring states its
    guarantee, and is worth overriding where the service does better."""

    #: Short identifier of the backend type, for error messages.
    name: ClassVar[str] = "backend"

    def _unsupported(
        self, capability: Capability, key: str | None = None
    ) -> CapabilityNotSupported:
        return CapabilityNotSupported(capability.name, backend=self.name, path=key)

    # ================================================================== core hooks

    def _read(self, key: str) -> BinaryIO:
        """The file at *key* as a forward-only binary stream (``READ``)."""
        raise self._unsupported(Capability.READ, key)

    def _write(
        self,
        key: str,
        content: WritableContent,
        *,
        overwrite: bool,
        metadata: Mapping[str, str] | None,
        if_match: str | None,
    ) -> WriteResult:
        """Write *content* to *key* (``WRITE``): with ``overwrite=False`` fail with
        `AlreadyExists` if a file is there, decided atomically; with *if_match* replace
        only the file with that etag (`PreconditionFailed`, or `NotFound` when none)."""
        raise self._unsupported(Capability.WRITE, key)

    def _delete(self, key: str, *, missing_ok: bool, if_match: str | None) -> None:
        """Delete the file at *key* (``DELETE``), only if its etag is *if_match* when given."""
        raise self._unsupported(Capability.DELETE, key)

    def _get_file_info(self, key: str) -> FileInfo:
        """Describe the file at *key*; a folder there is `IsAFolder`, nothing `NotFound`."""
        raise self._unsupported(Capability.METADATA, key)

    def _is_folder(self, key: str) -> bool:
        """Whether a folder exists at *key* (never the root: the kernel answers that)."""
        raise self._unsupported(Capability.LIST, key)

    def _iter_children(self, key: str) -> Iterator[FileInfo | FolderEntry]:
        """Immediate children of the folder *key* (``LIST``); a missing folder yields none."""
        raise self._unsupported(Capability.LIST, key)

    def _delete_folder(self, key: str, *, recursive: bool, missing_ok: bool) -> None:
        """Delete the folder *key* (never the root); non-recursive only when empty."""
        raise self._unsupported(Capability.DELETE, key)

    # ================================================================== derived hooks

    def _is_file(self, key: str) -> bool:
        """Whether a file exists at *key*. Default: one `_get_file_info`."""
        try:
            self._get_file_info(key)
        except (NotFound, InvalidPath):
            return False
        return True

    def _head(self, key: str) -> FileInfo | None:
        """`_get_file_info`, or ``None`` when no file can be at *key* (missing, or below a
        file). Default: one `_get_file_info`."""
        try:
            return self._get_file_info(key)
        except (NotFound, NotAFolder):
            return None

    def _exists(self, key: str) -> bool:
        """Whether a file or folder exists at *key*. Default: `_is_file`, then `_is_folder`."""
        return self._is_file(key) or self._is_folder(key)

    def _read_bytes(self, key: str) -> bytes:
        """The whole content of the file at *key*. Default: `_read`, read to the end."""
        with self._read(key) as stream:
            return stream.read()

    def _read_to(self, key: str, sink: Sink) -> int:
        """Write the file at *key* into *sink*; the number of bytes written. Default: `_read`,
        copied a chunk at a time. Exceptions raised by *sink* must propagate unchanged."""
        with self._read(key) as stream:
            return copy_stream(stream, sink)

    def _read_seekable(self, key: str) -> BinaryIO:
        """A seekable stream over the file. Default: spools the whole file to memory or disk."""
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_LIMIT)  # noqa: SIM115
        try:
            self._read_to(key, spool)
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        return cast(BinaryIO, spool)

    def _write_atomic(
        self,
        key: str,
        content: WritableContent,
        *,
        overwrite: bool,
        metadata: Mapping[str, str] | None,
        if_match: str | None,
    ) -> WriteResult:
        """Write so readers see the old content or the new, never a part. Default: `_write`,
        which is atomic only on backends whose single write already is (``ATOMIC_WRITE``)."""
        return self._write(key, content, overwrite=overwrite, metadata=metadata, if_match=if_match)

    @contextmanager
    def _open_atomic(
        self,
        key: str,
        *,
        overwrite: bool,
        metadata: Mapping[str, str] | None,
        if_match: str | None,
    ) -> Iterator[BinaryIO]:
        """A writable stream committed with `_write_atomic` only if the block exits cleanly.
        Default: spools to memory or a temporary file."""
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_LIMIT) as spool:
            yield cast(BinaryIO, spool)
            spool.seek(0)
            self._write_atomic(
                key,
                cast(BinaryIO, spool),
                overwrite=overwrite,
                metadata=metadata,
                if_match=if_match,
            )

    def _copy(self, src: str, dst: str, *, overwrite: bool) -> None:
        """Copy the file *src* to *dst* with its metadata (never onto itself: the kernel
        answers that). Default: streams through `_read` and `_write`."""
        info = self._get_file_info(src)
        with self._read(src) as stream:
            self._write(
                dst, stream, overwrite=overwrite, metadata=info.metadata or None, if_match=None
            )

    def _move(self, src: str, dst: str, *, overwrite: bool, if_match: str | None) -> None:
        """Move the file *src* to *dst*. Default: `_copy` then `_delete`, not atomic: a
        failure between the two leaves both files, never neither. A backend declaring
        ``CONDITIONAL_WRITE`` overrides it to honour *if_match* (on the source)."""
        if if_match is not None:
            raise self._unsupported(Capability.CONDITIONAL_WRITE, src)
        self._copy(src, dst, overwrite=overwrite)
        self._delete(src, missing_ok=False, if_match=None)

    def _copies_natively(self) -> bool:
        """Whether `_copy` runs on the service, not by streaming the content through
        this process."""
        return type(self)._copy is not Operations._copy

    def _moves_natively(self) -> bool:
        """Whether `_move` runs on the service (a rename, or a native copy and a delete)."""
        return type(self)._move is not Operations._move or self._copies_natively()

    def _list_files(self, key: str, *, recursive: bool) -> Iterator[FileInfo]:
        """Files below the folder *key*, one level or every level. Default: walks
        `_iter_children`, one listing per folder."""
        pending = [key]
        while pending:
            folder = pending.pop()
            for entry in self._iter_children(folder):
                if isinstance(entry, FileInfo):
                    yield entry
                elif recursive:
                    pending.append(entry.path)

    def _glob(self, pattern: str) -> Iterator[FileInfo]:
        """Files whose key matches the normalised *pattern*. Default: lists only below the
        pattern's literal prefix, one level when the pattern allows it."""
        prefix = globbing.literal_prefix(pattern)
        matcher = globbing.compile_pattern(pattern)
        recursive = globbing.needs_recursion(pattern, prefix)
        for info in self._list_files(prefix, recursive=recursive):
            if matcher.match(info.path):
                yield info

    def _get_folder_info(self, key: str, *, max_depth: int | None = None) -> FolderInfo:
        """Count and size of the files below the folder *key*, down to *max_depth* levels
        (``None``: all). Default: checks the folder exists, then adds up a `_list_files`."""
        if key and not self._is_folder(key):
            if self._is_file(key):
                raise NotAFolder(f"{key!r} is a file, not a folder", path=key)
            raise NotFound(f"folder {key!r} does not exist", path=key)
        return folder_info(key, self._list_files(key, recursive=max_depth != 1), max_depth)


class BackendHooks(Operations):
    """The hooks of a backend object itself, beside its `Operations`: which object runs the
    operations, the scope of a call, names, and the lifecycle."""

    def _operations(self) -> Operations:
        """The object whose hooks run the operations: the backend itself, or a strategy
        chosen once (Azure picks one after detecting the namespace)."""
        return self

    def _call_scope(self) -> AbstractContextManager[object] | None:
        """A context every public call runs in (a deadline, say); ``None`` for none."""
        return None

    def _native_path(self, key: str) -> str:
        return key

    def _to_key(self, native_path: str) -> str:
        return native_path

    def _resolve(self, key: str) -> ResolutionPlan:
        return ResolutionPlan(
            kind=self.name, backend=self.name, key=key, native_path=self._native_path(key)
        )

    def _unwrap(self, type_hint: type[T]) -> T:
        raise CapabilityNotSupported(f"unwrap to {type_hint.__name__}", backend=self.name)

    def _ping(self) -> None:
        for _ in self._operations()._iter_children(""):
            break

    def _close(self) -> None:
        """Release what the backend created (clients, connections); called once."""

    def _rebuild_options(self) -> Mapping[str, Any] | None:
        """The keyword arguments that build an equivalent instance of this class in another
        process (a pickled `Store` carries them), or ``None`` when the backend cannot say.
        Raise `InvalidArgument` when a rebuilt instance would not be the same store (its
        data lives in this process)."""
        return None


def folder_info(key: str, files: Iterator[FileInfo], max_depth: int | None = None) -> FolderInfo:
    """The `FolderInfo` of the folder *key* holding *files*, counting those at most
    *max_depth* levels below it (``None``: every one)."""
    count = total = 0
    newest = None
    base = key.count("/") + 1 if key else 0
    for info in files:
        if max_depth is not None and info.path.count("/") + 1 - base > max_depth:
            continue
        count += 1
        total += info.size
        if info.modified is not None and (newest is None or info.modified > newest):
            newest = info.modified
    return FolderInfo(path=key, file_count=count, total_size=total, modified=newest)


def runs_natively(backend: BackendHooks, operation: Literal["copy", "move"]) -> bool:
    """Whether *backend* does *operation* on the service itself, rather than by streaming
    the content through this process."""
    operations = backend._operations()
    return operations._copies_natively() if operation == "copy" else operations._moves_natively()
