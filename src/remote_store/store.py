"""Store: the facade application code uses.

A Store is a backend seen through a root folder. It keeps every path inside the root,
refuses calls the backend has no capability for, and reports paths (in results and in
errors) relative to the root. Everything else a call must satisfy (valid arguments, only
library errors escaping) the backend's kernel checks, once (`remote_store.backend`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from typing import BinaryIO, TypeVar

from remote_store import _pickling, globbing, paths
from remote_store._guard import CallerSink, SinkFailed, gated, relative_errors
from remote_store._store_source import StoreSource
from remote_store.backend import Backend
from remote_store.capabilities import Capability
from remote_store.errors import InvalidArgument, InvalidPath
from remote_store.models import FileInfo, FolderEntry, FolderInfo, ResolutionPlan, WriteResult
from remote_store.streams import Sink, WritableContent

T = TypeVar("T")
Located = TypeVar("Located", FileInfo, WriteResult)


class Store(StoreSource):
    """A backend seen through *root_path*: every path is relative to it and stays inside it."""

    def __init__(self, backend: Backend, root_path: str = "", *, owns_backend: bool = True) -> None:
        if not isinstance(backend, Backend):
            raise InvalidArgument(f"backend must be a Backend, got {type(backend).__name__}")
        self._source: Backend | _pickling.LazyBackend = backend
        self._root = paths.normalize(root_path)
        # A Registry shares one backend between stores and closes it itself.
        self._owns_backend = owns_backend
        # Set for a store a Registry handed out: it pickles as that configuration.
        self._origin: _pickling.RegistryOrigin | None = None

    def __repr__(self) -> str:
        built = self._built()
        name = built.name if built is not None else "(not built yet)"
        return f"Store(backend={name!r}, root_path={self._root!r})"

    @property
    def backend(self) -> Backend:
        return self._backend

    @property
    def root_path(self) -> str:
        return self._root

    # ------------------------------------------------------------------ paths

    def _key(self, path: str, *, allow_root: bool = False) -> str:
        # Marked canonical: the backend's kernel does not validate it a second time.
        return paths.canonical(self._root, paths.normalize(path, allow_root=allow_root))

    def _store_path(self, key: str) -> str:
        return paths.relative_to(self._root, key)

    def _require(self, capability: Capability) -> None:
        self._backend.capabilities.require(capability, backend=self._backend.name)

    def _translated(self) -> AbstractContextManager[None]:
        return relative_errors(self._root)

    def _iter(self, source: Iterator[T]) -> Iterator[T]:
        with self._translated():
            yield from source

    def child(self, subpath: str) -> Store:
        """A Store rooted at *subpath* below this one, sharing the backend."""
        root = self._key(subpath, allow_root=True)
        return Store._lazy(self._source, root, self._origin, owns=False)

    def to_key(self, native_path: str) -> str:
        """The store path of a backend-native path (inverse of `native_path`)."""
        with self._translated():
            key = self._backend.to_key(native_path)
            if not paths.is_within(self._root, key):
                raise InvalidPath(
                    f"{native_path!r} is outside the store root {self._root!r}", path=native_path
                )
            return self._store_path(key)

    def native_path(self, path: str) -> str:
        """The backend-native path (filesystem path, URL) of *path*."""
        with self._translated():
            return self._backend.native_path(self._key(path, allow_root=True))

    def resolve(self, path: str) -> ResolutionPlan:
        """How *path* maps onto the backend. Never includes credentials."""
        with self._translated():
            return self._backend.resolve(self._key(path, allow_root=True))

    # ------------------------------------------------------------------ capabilities, lifecycle

    def supports(self, capability: Capability | str) -> bool:
        """Whether the backend declares *capability*."""
        try:
            return self._backend.capabilities.supports(capability)
        except ValueError:
            raise InvalidArgument(f"unknown capability {capability!r}") from None

    def unwrap(self, type_hint: type[T]) -> T:
        """The backend's native client of type *type_hint*."""
        with self._translated():
            return self._backend.unwrap(type_hint)

    def ping(self) -> None:
        """Raise if the backend cannot be reached with the configured credentials
        (the backend's `check_health`)."""
        with self._translated():
            self._backend.check_health()

    def close(self) -> None:
        """Close the backend if this store owns it; a Registry closes the backends it built."""
        if self._owns_backend:
            with self._translated():
                self._backend.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ queries

    @gated(None)
    def exists(self, path: str) -> bool:
        """Whether a file or folder exists at *path*."""
        return self._backend.exists(self._key(path, allow_root=True))

    @gated(None)
    def is_file(self, path: str) -> bool:
        """Whether a file exists at *path*."""
        return self._backend.is_file(self._key(path, allow_root=True))

    @gated(None)
    def is_folder(self, path: str) -> bool:
        """Whether a folder exists at *path*."""
        return self._backend.is_folder(self._key(path, allow_root=True))

    @gated(Capability.METADATA)
    def get_file_info(self, path: str) -> FileInfo:
        """Size, modification time, etag, digest and metadata of the file at *path*."""
        return self._out(self._backend.get_file_info(self._key(path)))

    @gated(Capability.METADATA)
    def head(self, path: str) -> FileInfo | None:
        """`get_file_info`, or ``None`` when no file is at *path*: one request either way."""
        info = self._backend.head(self._key(path))
        return None if info is None else self._out(info)

    @gated(Capability.METADATA)
    def get_folder_info(self, path: str = "", *, max_depth: int | None = None) -> FolderInfo:
        """File count, total size and newest modification of the files below the folder
        *path*: at every depth, or down to *max_depth* levels (1 = its own files)."""
        key = self._key(path, allow_root=True)
        info = self._backend.get_folder_info(key, max_depth=max_depth)
        return replace(info, path=self._store_path(info.path))

    def _out(self, info: Located) -> Located:
        return replace(info, path=self._store_path(info.path)) if self._root else info

    # ------------------------------------------------------------------ reading

    @gated(Capability.READ)
    def read(self, path: str) -> BinaryIO:
        """Open the file at *path* as a forward-only stream; use it as a context manager."""
        return self._backend.read(self._key(path))

    @gated(Capability.READ)
    def read_bytes(self, path: str) -> bytes:
        """The whole content of the file at *path*."""
        return self._backend.read_bytes(self._key(path))

    def read_to(self, path: str, sink: Sink) -> int:
        """Write the content of the file at *path* into *sink* (a binary file object, or
        anything with ``write``); the number of bytes written. The backend writes what it
        receives straight to *sink*, with no copy through a buffer of the caller's, and
        completes short writes. An exception raised by *sink* reaches the caller as it
        was; if the read fails part-way, *sink* holds the bytes before the failure."""
        self._require(Capability.READ)
        try:
            with self._translated():
                return self._backend.read_to(self._key(path), CallerSink(sink))
        except SinkFailed as failed:
            error = failed.error
        raise error  # outside the handler: the sink's exception keeps its own cause

    def read_text(self, path: str, *, encoding: str = "utf-8", errors: str = "strict") -> str:
        """The content of the file at *path*, decoded."""
        data = self.read_bytes(path)
        try:
            return data.decode(encoding, errors)
        except (UnicodeDecodeError, LookupError) as error:
            raise InvalidArgument(f"cannot decode {path!r} as {encoding}: {error}") from None

    @gated(Capability.SEEKABLE_READ)
    def read_seekable(self, path: str) -> BinaryIO:
        """Open the file at *path* as a seekable stream."""
        return self._backend.read_seekable(self._key(path))

    # ------------------------------------------------------------------ writing

    @gated(Capability.WRITE)
    def write(
        self,
        path: str,
        content: WritableContent,
        *,
        overwrite: bool = False,
        metadata: Mapping[str, str] | None = None,
        if_match: str | None = None,
    ) -> WriteResult:
        """Write bytes or a binary stream to *path*. With ``overwrite=False`` (the default) an
        existing file raises `AlreadyExists`, decided atomically by the backend. With
        ``overwrite=True, if_match=etag`` the file is replaced only if its etag is still
        *etag* (compare-and-swap): else `PreconditionFailed`, or `NotFound` if it is gone."""
        return self._write(path, content, overwrite, metadata, if_match, atomic=False)

    def write_text(
        self,
        path: str,
        text: str,
        *,
        encoding: str = "utf-8",
        overwrite: bool = False,
        metadata: Mapping[str, str] | None = None,
        if_match: str | None = None,
    ) -> WriteResult:
        """Encode *text* and `write` it."""
        if not isinstance(text, str):
            raise InvalidArgument(f"text must be a str, got {type(text).__name__}")
        try:
            data = text.encode(encoding)
        except (UnicodeEncodeError, LookupError) as error:
            raise InvalidArgument(f"cannot encode text as {encoding}: {error}") from None
        return self.write(path, data, overwrite=overwrite, metadata=metadata, if_match=if_match)

    @gated(Capability.ATOMIC_WRITE)
    def write_atomic(
        self,
        path: str,
        content: WritableContent,
        *,
        overwrite: bool = False,
        metadata: Mapping[str, str] | None = None,
        if_match: str | None = None,
    ) -> WriteResult:
        """Write so that readers see the previous content or the new, never a part of it;
        *if_match* as for `write`."""
        return self._write(path, content, overwrite, metadata, if_match, atomic=True)

    def _write(
        self,
        path: str,
        content: WritableContent,
        overwrite: bool,
        metadata: Mapping[str, str] | None,
        if_match: str | None,
        *,
        atomic: bool,
    ) -> WriteResult:
        backend_write = self._backend.write_atomic if atomic else self._backend.write
        result = backend_write(
            self._key(path), content, overwrite=overwrite, metadata=metadata, if_match=if_match
        )
        return self._out(result)

    def open_atomic(
        self,
        path: str,
        *,
        overwrite: bool = False,
        metadata: Mapping[str, str] | None = None,
        if_match: str | None = None,
    ) -> AbstractContextManager[BinaryIO]:
        """A writable stream whose content lands at *path* atomically when the block exits
        cleanly; an exception inside the block leaves *path* untouched. *if_match* is
        decided when the content lands."""
        self._require(Capability.ATOMIC_WRITE)
        with self._translated():
            manager = self._backend.open_atomic(
                self._key(path), overwrite=overwrite, metadata=metadata, if_match=if_match
            )
        return self._relative(manager)

    @contextmanager
    def _relative(self, manager: AbstractContextManager[BinaryIO]) -> Iterator[BinaryIO]:
        """*manager* with the backend's errors relative to the root; the caller's own
        exception inside the block passes untouched."""
        with self._translated():
            stream = manager.__enter__()
        try:
            yield stream
        except BaseException as error:
            try:
                suppressed = manager.__exit__(type(error), error, error.__traceback__)
            except BaseException as cleanup_error:
                if cleanup_error is error:
                    raise
                with self._translated():
                    raise cleanup_error
            if not suppressed:
                raise
        else:
            with self._translated():
                manager.__exit__(None, None, None)

    # ------------------------------------------------------------------ deleting

    @gated(Capability.DELETE)
    def delete(self, path: str, *, missing_ok: bool = False, if_match: str | None = None) -> None:
        """Delete the file at *path*; a missing file raises `NotFound` unless *missing_ok*.
        With *if_match*, only if its etag still equals it (else `PreconditionFailed`)."""
        self._backend.delete(self._key(path), missing_ok=missing_ok, if_match=if_match)

    @gated(Capability.DELETE)
    def delete_folder(
        self, path: str, *, recursive: bool = False, missing_ok: bool = False
    ) -> None:
        """Delete the folder *path*: only if empty, or with everything below it (*recursive*)."""
        self._backend.delete_folder(self._key(path), recursive=recursive, missing_ok=missing_ok)

    # ------------------------------------------------------------------ moving, copying

    @gated(Capability.MOVE)
    def move(
        self, src: str, dst: str, *, overwrite: bool = False, if_match: str | None = None
    ) -> None:
        """Move the file *src* to *dst* (atomic where the backend declares ATOMIC_MOVE).
        With *if_match*, only if the source's etag still equals it (else `PreconditionFailed`);
        *overwrite* is about the destination."""
        self._backend.move(self._key(src), self._key(dst), overwrite=overwrite, if_match=if_match)

    @gated(Capability.COPY)
    def copy(self, src: str, dst: str, *, overwrite: bool = False) -> None:
        """Copy the file *src*, with its metadata, to *dst*."""
        self._backend.copy(self._key(src), self._key(dst), overwrite=overwrite)

    # ------------------------------------------------------------------ listing

    def list_files(
        self,
        path: str = "",
        *,
        recursive: bool = False,
        max_depth: int | None = None,
        pattern: str | None = None,
    ) -> Iterator[FileInfo]:
        """Files below the folder *path*, lazily. *max_depth* limits how many levels a
        recursive listing descends (1 = direct children); *pattern* filters file names."""
        self._require(Capability.LIST)
        if recursive:
            self._require(Capability.RECURSIVE_LIST)
        with self._translated():
            listed = self._backend.list_files(
                self._key(path, allow_root=True),
                recursive=recursive,
                pattern=pattern,
                max_depth=max_depth,
            )
        return self._iter(map(self._out, listed))

    def list_folders(
        self, path: str = "", *, pattern: str | None = None, max_depth: int | None = None
    ) -> Iterator[FolderEntry]:
        """Subfolders of the folder *path*, lazily: its own, or down to *max_depth* levels
        (1 = its own, the default); *pattern* filters folder names."""
        self._require(Capability.LIST)
        if isinstance(max_depth, int) and max_depth > 1:
            self._require(Capability.RECURSIVE_LIST)
        with self._translated():
            folders = self._backend.list_folders(
                self._key(path, allow_root=True), pattern=pattern, max_depth=max_depth
            )
        return self._iter(FolderEntry(self._store_path(f.path)) for f in folders)

    def iter_children(self, path: str = "") -> Iterator[FileInfo | FolderEntry]:
        """Files and folders directly below *path*, lazily, with store-relative paths."""
        self._require(Capability.LIST)
        with self._translated():
            children = self._backend.iter_children(self._key(path, allow_root=True))
        return self._iter(self._children(children))

    def _children(
        self, children: Iterator[FileInfo | FolderEntry]
    ) -> Iterator[FileInfo | FolderEntry]:
        for entry in children:
            if isinstance(entry, FileInfo):
                yield self._out(entry)
            else:
                yield FolderEntry(self._store_path(entry.path))

    def glob(self, pattern: str) -> Iterator[FileInfo]:
        """Files matching *pattern* (``*``, ``?``, ``[...]``, ``**``), relative to the root;
        only the listing below the pattern's literal prefix is read."""
        self._require(Capability.GLOB)
        if not isinstance(pattern, str):
            raise InvalidArgument(f"pattern must be a str, got {type(pattern).__name__}")
        with self._translated():
            full = paths.join(globbing.escape(self._root), globbing.normalize_pattern(pattern))
            matches = self._backend.glob(full)
        return self._iter(map(self._out, matches))
