"""The contract kernel: every public method of every backend checks its call once, the same
way for a `Store` and for a backend called directly, then calls a hook
(`remote_store.operations`). What it checks: sdd/specs/005-object-store-core.md, KRN-*.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any, BinaryIO, ClassVar, TypeVar, final

from remote_store import _listing, globbing, paths
from remote_store._boundary import atomic_writer, translated_lazily
from remote_store._guard import CallerSink, SinkFailed
from remote_store._lifecycle import BackendLifecycle
from remote_store._preconditions import check_flag, check_if_match, check_write_options
from remote_store.capabilities import Capability, CapabilitySet
from remote_store.errors import (
    InvalidArgument,
    InvalidPath,
    PreconditionFailed,
)
from remote_store.models import FileInfo, FolderEntry, FolderInfo, WriteResult
from remote_store.operations import SPOOL_LIMIT
from remote_store.streams import Sink, WritableContent, as_source, check_content

T = TypeVar("T")
Item = TypeVar("Item")

__all__ = ["SPOOL_LIMIT", "Backend"]


class Backend(BackendLifecycle):
    """A storage adapter. Subclass it, implement the hooks (`Operations`, `BackendHooks`)
    your capabilities need, and declare what you honour in `supported_capabilities` (per
    instance: override `capabilities`). The public methods check and then call the hooks;
    they cannot be overridden."""

    #: Every capability an instance of this class may declare.
    supported_capabilities: ClassVar[CapabilitySet] = CapabilitySet()
    #: The same set, under the name remote-store 0.33 used; a subclass may declare either.
    CAPABILITIES: ClassVar[CapabilitySet] = CapabilitySet()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = vars(cls)
        if "CAPABILITIES" in own and "supported_capabilities" not in own:
            cls.supported_capabilities = CapabilitySet(cls.CAPABILITIES)
        cls.CAPABILITIES = cls.supported_capabilities
        overridden = sorted(_KERNEL.intersection(vars(cls)))
        if overridden:
            raise TypeError(
                f"{cls.__name__} overrides {', '.join(overridden)}: the public methods of "
                "Backend are the contract kernel; implement the hooks (_read, _write, ...) "
                "instead"
            )

    @property
    def capabilities(self) -> CapabilitySet:
        """What this instance honours; a subset of `supported_capabilities`."""
        return self.supported_capabilities

    # ------------------------------------------------------------------ kernel helpers

    def __require(self, capability: Capability) -> None:
        self.capabilities.require(capability, backend=self.name)

    def __gated(self, path: object, *capabilities: Capability, allow_root: bool = False) -> str:
        """*path* as a key, once the call's capabilities are declared: refused first, as a
        `Store` refuses (ST-005), unless a Store built the key and gated the call itself."""
        if not paths.is_canonical(path):
            for capability in capabilities:
                self.__require(capability)
        return paths.normalize(path, allow_root=allow_root)

    def __lazy(self, produce: Callable[[], Iterator[Item]]) -> Iterator[Item]:
        # Each page a lazy listing fetches later is its own call.
        return translated_lazily(self.name, produce)

    # ================================================================== files: reading

    @final
    def read(self, path: str) -> BinaryIO:
        """Open the file at *path* as a forward-only binary stream."""
        key = self.__gated(path, Capability.READ)
        with self._own_call():
            return self._operations()._read(key)

    @final
    def read_bytes(self, path: str) -> bytes:
        """The whole content of the file at *path*."""
        key = self.__gated(path, Capability.READ)
        with self._own_call():
            return self._operations()._read_bytes(key)

    @final
    def read_to(self, path: str, sink: Sink) -> int:
        """Write the content of the file at *path* into *sink*; the number of bytes written.
        An exception raised by *sink* reaches the caller as it was."""
        key = self.__gated(path, Capability.READ)
        if isinstance(sink, CallerSink):  # a Store marked it, and unwraps its failures
            with self._own_call():
                return self._operations()._read_to(key, sink)
        try:
            with self._own_call():
                return self._operations()._read_to(key, CallerSink(sink))
        except SinkFailed as failed:
            error = failed.error
        raise error  # outside the handler: the sink's exception keeps its own cause

    @final
    def read_seekable(self, path: str) -> BinaryIO:
        """A seekable binary stream over the file at *path*."""
        key = self.__gated(path, Capability.SEEKABLE_READ)
        with self._own_call():
            return self._operations()._read_seekable(key)

    # ================================================================== files: writing

    @final
    def write(
        self,
        path: str,
        content: WritableContent,
        *,
        overwrite: bool = False,
        metadata: Mapping[str, str] | None = None,
        if_match: str | None = None,
    ) -> WriteResult:
        """Write *content* (bytes or a binary stream) to *path*. ``overwrite=False`` fails
        with `AlreadyExists` if a file is there, decided atomically; ``if_match=etag`` (with
        ``overwrite=True``) replaces only that version of the file."""
        return self.__write(path, content, overwrite, metadata, if_match, atomic=False)

    @final
    def write_atomic(
        self,
        path: str,
        content: WritableContent,
        *,
        overwrite: bool = False,
        metadata: Mapping[str, str] | None = None,
        if_match: str | None = None,
    ) -> WriteResult:
        """`write`, so that readers see the old content or the new, never a part."""
        return self.__write(path, content, overwrite, metadata, if_match, atomic=True)

    def __write(
        self,
        path: str,
        content: WritableContent,
        overwrite: bool,
        metadata: Mapping[str, str] | None,
        if_match: str | None,
        *,
        atomic: bool,
    ) -> WriteResult:
        key = self.__gated(path, Capability.ATOMIC_WRITE if atomic else Capability.WRITE)
        check_content(content)
        content = as_source(content)
        check_write_options(overwrite, metadata, if_match, self.__require)
        with self._own_call():
            operations = self._operations()
            hook = operations._write_atomic if atomic else operations._write
            return hook(key, content, overwrite=overwrite, metadata=metadata, if_match=if_match)

    @final
    def open_atomic(
        self,
        path: str,
        *,
        overwrite: bool = False,
        metadata: Mapping[str, str] | None = None,
        if_match: str | None = None,
    ) -> AbstractContextManager[BinaryIO]:
        """A writable stream whose content lands at *path* atomically when the block exits
        cleanly; an exception inside the block leaves *path* untouched and reaches the
        caller unchanged."""
        key = self.__gated(path, Capability.ATOMIC_WRITE)
        check_write_options(overwrite, metadata, if_match, self.__require)
        opened = functools.partial(
            self._operations()._open_atomic,
            key,
            overwrite=overwrite,
            metadata=metadata,
            if_match=if_match,
        )
        return atomic_writer(self._own_call, opened, key)

    # ================================================================== files: the rest

    @final
    def delete(self, path: str, *, missing_ok: bool = False, if_match: str | None = None) -> None:
        """Delete the file at *path*; `NotFound` when missing unless *missing_ok*. With
        *if_match*, only if its etag still equals it (else `PreconditionFailed`)."""
        key = self.__gated(path, Capability.DELETE)
        check_flag("missing_ok", missing_ok)
        check_if_match(if_match, self.__require)
        with self._own_call():
            self._operations()._delete(key, missing_ok=missing_ok, if_match=if_match)

    @final
    def get_file_info(self, path: str) -> FileInfo:
        """Size, modification time, etag, digest and metadata of the file at *path*."""
        key = self.__gated(path, Capability.METADATA)
        with self._own_call():
            return self._operations()._get_file_info(key)

    @final
    def head(self, path: str) -> FileInfo | None:
        """`get_file_info`, or ``None`` when no file is at *path*."""
        key = self.__gated(path, Capability.METADATA)
        with self._own_call():
            return self._operations()._head(key)

    @final
    def exists(self, path: str) -> bool:
        """Whether a file or folder exists at *path* (the root always does)."""
        key = paths.normalize(path)
        with self._own_call():
            return not key or self._operations()._exists(key)

    @final
    def is_file(self, path: str) -> bool:
        """Whether a file exists at *path*."""
        key = paths.normalize(path)
        with self._own_call():
            return bool(key) and self._operations()._is_file(key)

    @final
    def is_folder(self, path: str) -> bool:
        """Whether a folder exists at *path* (the root always does)."""
        key = paths.normalize(path)
        with self._own_call():
            return not key or self._operations()._is_folder(key)

    @final
    def copy(self, src: str, dst: str, *, overwrite: bool = False) -> None:
        """Copy the file *src*, with its metadata, to *dst*. Onto itself: a no-op once *src*
        is known to be a file."""
        src_key = self.__gated(src, Capability.COPY)
        dst_key = paths.normalize(dst, allow_root=False)
        with self._own_call():
            if self.__same_file(src_key, dst_key, None):
                return
            check_write_options(overwrite, None, None, self.__require)
            self._operations()._copy(src_key, dst_key, overwrite=overwrite)

    @final
    def move(
        self, src: str, dst: str, *, overwrite: bool = False, if_match: str | None = None
    ) -> None:
        """Move the file *src* to *dst* (atomic where the backend declares ATOMIC_MOVE).
        With *if_match*, only if the source's etag still equals it; *overwrite* is about
        the destination."""
        src_key = self.__gated(src, Capability.MOVE)
        dst_key = paths.normalize(dst, allow_root=False)
        check_if_match(if_match, self.__require)
        with self._own_call():
            if self.__same_file(src_key, dst_key, if_match):
                return
            check_write_options(overwrite, None, None, self.__require)
            self._operations()._move(src_key, dst_key, overwrite=overwrite, if_match=if_match)

    def __same_file(self, src: str, dst: str, if_match: str | None) -> bool:
        """A move or copy onto itself is a no-op once *src* is known to be a file (with
        the etag *if_match*, when given)."""
        if src != dst:
            return False
        info = self._operations()._get_file_info(src)
        if if_match is not None and info.etag != if_match:
            raise PreconditionFailed(
                f"{src!r} changed: etag {info.etag!r}, expected {if_match!r}",
                path=src,
                backend=self.name,
            )
        return True

    # ================================================================== folders

    @final
    def iter_children(self, path: str = "") -> Iterator[FileInfo | FolderEntry]:
        """Files and folders directly below the folder *path*, lazily."""
        key = self.__gated(path, Capability.LIST, allow_root=True)
        self._check_open()
        return self.__lazy(lambda: self._operations()._iter_children(key))

    @final
    def list_files(
        self,
        path: str = "",
        *,
        recursive: bool = False,
        pattern: str | None = None,
        max_depth: int | None = None,
    ) -> Iterator[FileInfo]:
        """Files below the folder *path*, lazily: its own, or with *recursive* every level
        (at most *max_depth* levels, 1 = its own); *pattern* filters file names."""
        deep_gates = (Capability.RECURSIVE_LIST,) if recursive is True else ()
        key = self.__gated(path, Capability.LIST, *deep_gates, allow_root=True)
        check_flag("recursive", recursive)
        _listing.check_max_depth(max_depth)
        keep = _listing.file_filter(key, max_depth, pattern)
        deep = recursive and max_depth != 1
        self._check_open()
        return self.__lazy(
            lambda: filter(keep, self._operations()._list_files(key, recursive=deep))
        )

    @final
    def list_folders(
        self, path: str = "", *, pattern: str | None = None, max_depth: int | None = None
    ) -> Iterator[FolderEntry]:
        """Subfolders of the folder *path*, lazily: its own, or down to *max_depth* levels
        (1 = its own, the default); *pattern* filters folder names."""
        deep = isinstance(max_depth, int) and max_depth > 1
        deep_gates = (Capability.RECURSIVE_LIST,) if deep else ()
        key = self.__gated(path, Capability.LIST, *deep_gates, allow_root=True)
        _listing.check_max_depth(max_depth)
        _listing.name_matcher(pattern)  # a bad pattern fails now, not at the first item
        self._check_open()
        return self.__lazy(
            lambda: _listing.walk_folders(
                self._operations()._iter_children, key, max_depth or 1, pattern
            )
        )

    @final
    def glob(self, pattern: str) -> Iterator[FileInfo]:
        """Files whose path matches *pattern* (``*``, ``?``, ``[...]``, ``**``), lazily;
        only the listing below the pattern's literal prefix is read."""
        self.__require(Capability.GLOB)
        if not isinstance(pattern, str):
            raise InvalidArgument(f"pattern must be a str, got {type(pattern).__name__}")
        normalized = globbing.normalize_pattern(pattern)
        globbing.compile_pattern(normalized)  # a malformed pattern fails here, typed
        self._check_open()
        return self.__lazy(lambda: self._operations()._glob(normalized))

    @final
    def get_folder_info(self, path: str = "", *, max_depth: int | None = None) -> FolderInfo:
        """File count, total size and newest modification of the files below the folder
        *path*: at every depth, or down to *max_depth* levels (1 = its own files)."""
        key = self.__gated(path, Capability.METADATA, allow_root=True)
        _listing.check_max_depth(max_depth)
        with self._own_call():
            return self._operations()._get_folder_info(key, max_depth=max_depth)

    @final
    def delete_folder(
        self, path: str, *, recursive: bool = False, missing_ok: bool = False
    ) -> None:
        """Delete the folder *path*: only if empty, or with everything below it
        (*recursive*). The root is never deleted."""
        key = self.__gated(path, Capability.DELETE, allow_root=True)
        if not key:
            raise InvalidPath("refusing to delete the root folder", path=key, backend=self.name)
        check_flag("recursive", recursive)
        check_flag("missing_ok", missing_ok)
        with self._own_call():
            self._operations()._delete_folder(key, recursive=recursive, missing_ok=missing_ok)


#: The public methods: subclasses implement hooks instead (`Backend.__init_subclass__`).
_KERNEL = frozenset(
    name
    for kernel in (BackendLifecycle, Backend)
    for name, member in vars(kernel).items()
    if getattr(member, "__final__", False) and not name.startswith("_")
)
