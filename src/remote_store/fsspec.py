"""An fsspec filesystem over any store: ``rstore://STORE/path`` for pandas, dask, PyArrow.

The store names come from the configuration the command line discovers (``config=``,
``$REMOTE_STORE_CONFIG``, ``./remote-store.toml``, ``[tool.remote-store]``); a filesystem
built on one `Store` addresses that store's paths directly. Registered through the
``fsspec.specs`` entry point, so ``fsspec.filesystem("rstore")`` and a dask worker find it
without an import. Spec: sdd/specs/021-data-science.md (DS-010..).
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, BinaryIO, cast

from fsspec.spec import AbstractFileSystem

from remote_store import _pickling, paths
from remote_store._atomic_file import AtomicFile, AtomicText
from remote_store._listing import known_size
from remote_store.capabilities import Capability
from remote_store.config import RegistryConfig
from remote_store.errors import CapabilityNotSupported, InvalidArgument, IsAFolder, NotFound
from remote_store.models import FileInfo
from remote_store.store import Store

__all__ = ["RemoteStoreFileSystem"]

_MAGIC = frozenset("*?[")


class RemoteStoreFileSystem(AbstractFileSystem):  # type: ignore[misc]
    """fsspec over the stores of a configuration (paths ``STORE/key``), or over one `Store`
    (paths are its keys).

    ``RemoteStoreFileSystem(config="remote-store.toml")``, ``RemoteStoreFileSystem()``
    (discovered as the CLI does), ``RemoteStoreFileSystem(registry_config=config)``,
    ``RemoteStoreFileSystem(store=store)`` or, without a configuration file,
    ``RemoteStoreFileSystem(backend="s3", options={"bucket": ...}, root_path="")`` (one
    store built from a backend type and its options; paths are its keys). It pickles by
    configuration, as a `Store` does.
    """

    protocol = "rstore"
    root_marker = ""
    # Instances are cheap (backends are shared per configuration); a cache keyed on the
    # arguments' text could hand back a filesystem over another store with the same repr.
    cachable = False

    def __init__(
        self,
        config: str | None = None,
        *,
        store: Store | None = None,
        registry_config: RegistryConfig | None = None,
        backend: str | None = None,
        options: Mapping[str, Any] | None = None,
        root_path: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        given = [
            name
            for name, value in (
                ("config", config),
                ("store", store),
                ("registry_config", registry_config),
                ("backend", backend),
            )
            if value
        ]
        if len(given) > 1:
            raise InvalidArgument(
                f"pass one of config, store, registry_config, backend; got {given}"
            )
        if backend is None and (options is not None or root_path):
            raise InvalidArgument("options= and root_path= go with backend= (a backend type)")
        if backend is not None:
            store = _backend_store(backend, options, root_path)
        self._store = store
        if store is not None:
            if not isinstance(store, Store):
                raise InvalidArgument(f"store must be a Store, got {type(store).__name__}")
            self._config: RegistryConfig | None = None
        elif registry_config is not None:
            if not isinstance(registry_config, RegistryConfig):
                raise InvalidArgument("registry_config must be a RegistryConfig")
            self._config = registry_config
        else:
            from remote_store.cli.discovery import discover

            self._config = discover(config).config

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # By configuration (DS-001/DS-002), not by the config file's path: a worker's
        # current directory and environment may find another file.
        if self._store is not None:
            return (_with_store, (self._store,))
        assert self._config is not None
        _pickling.shared_registry(self._config).__reduce__()  # refuses as the registry would
        return (_with_config, (self._config,))

    # ------------------------------------------------------------------ addressing

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]
        text = str(path)
        for prefix in ("rstore://", "rstore::"):
            if text.startswith(prefix):
                text = text[len(prefix) :]
        return text.strip("/")

    def _locate(self, path: str) -> tuple[Store, str, str]:
        """(the store, the key inside it, the prefix that turns a key back into a path)."""
        path = self._strip_protocol(path)
        if self._store is not None:
            return self._store, path, ""
        name, _, key = path.partition("/")
        if not name:
            raise InvalidArgument("a path names a store first: rstore://STORE/path")
        assert self._config is not None
        if name not in self._config.stores:
            defined = ", ".join(self._config.stores) or "(none)"
            raise NotFound(f"no store {name!r} in the configuration; stores: {defined}", path=path)
        return _pickling.shared_registry(self._config).get_store(name), key, name + "/"

    @staticmethod
    def _entry(store: Store, prefix: str, info: FileInfo) -> dict[str, Any]:
        return {
            "name": prefix + info.path,
            "size": known_size(store.backend, info),
            "type": "file",
            "mtime": info.modified.timestamp() if info.modified else None,
            "etag": info.etag,
            "content_type": info.content_type,
        }

    @staticmethod
    def _folder(name: str) -> dict[str, Any]:
        return {"name": name, "size": 0, "type": "directory"}

    # ------------------------------------------------------------------ queries

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        path = self._strip_protocol(path)
        if not path and self._store is None:
            assert self._config is not None
            entries = [self._folder(name) for name in self._config.stores]
        else:
            store, key, prefix = self._locate(path)
            entries = [
                self._entry(store, prefix, child)
                if isinstance(child, FileInfo)
                else self._folder(prefix + child.path)
                for child in store.iter_children(key)
            ]
            if not entries:
                entries = [self.info(path)]  # a file lists as itself; nothing raises
                if entries[0]["type"] == "directory":
                    entries = []
        return entries if detail else [entry["name"] for entry in entries]

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        path = self._strip_protocol(path)
        if not path or (self._store is None and "/" not in path):
            if path:
                self._locate(path)  # an unknown store raises
            return self._folder(path)
        store, key, prefix = self._locate(path)
        if not key:
            return self._folder(path)
        try:
            found = store.head(key) if store.supports(Capability.METADATA) else None
        except IsAFolder:
            return self._folder(path)
        if found is not None:
            return self._entry(store, prefix, found)
        if store.is_folder(key):
            return self._folder(path)
        raise NotFound(f"{path!r} does not exist", path=path)

    def exists(self, path: str, **kwargs: Any) -> bool:
        try:
            self.info(path)
        except FileNotFoundError:
            return False
        return True

    def find(
        self,
        path: str,
        maxdepth: int | None = None,
        withdirs: bool = False,
        detail: bool = False,
        **kwargs: Any,
    ) -> Any:
        path = self._strip_protocol(path)
        found: dict[str, dict[str, Any]] = {}
        if not path and self._store is None:
            assert self._config is not None
            for name in self._config.stores:
                found.update(self.find(name, maxdepth, withdirs, detail=True))
            return found if detail else sorted(found)
        store, key, prefix = self._locate(path)
        try:
            top = self.info(path)
        except FileNotFoundError:
            top = None
        if top is not None and top["type"] == "file":
            found[top["name"]] = top
        elif top is not None:
            # One flat listing where the backend has one (DS-011).
            for info in store.list_files(key, recursive=True, max_depth=maxdepth):
                entry = self._entry(store, prefix, info)
                found[entry["name"]] = entry
                if withdirs:
                    for folder in _ancestors(prefix + info.path, prefix + key):
                        found.setdefault(folder, self._folder(folder))
        names = sorted(found)
        return {name: found[name] for name in names} if detail else names

    def glob(self, path: str, maxdepth: int | None = None, **kwargs: Any) -> Any:
        detail = kwargs.get("detail", False)
        pattern = self._strip_protocol(path)
        if not _MAGIC.intersection(pattern):
            exists = self.exists(pattern)
            if detail:
                return {pattern: self.info(pattern)} if exists else {}
            return [pattern] if exists else []
        if self._store is None and _MAGIC.intersection(pattern.partition("/")[0]):
            raise InvalidArgument("a glob cannot match store names: name the store literally")
        store, key, prefix = self._locate(pattern)
        found = {}
        for info in store.glob(key):
            if maxdepth is None or info.path.count("/") - key.count("/") < maxdepth:
                entry = self._entry(store, prefix, info)
                found[entry["name"]] = entry
        names = sorted(found)
        return {name: found[name] for name in names} if detail else names

    def ukey(self, path: str) -> str:
        info = self.info(path)
        etag = info.get("etag")
        return str(etag) if etag else str(super().ukey(path))

    def modified(self, path: str) -> datetime:
        store, key, _ = self._locate(path)
        modified = store.get_file_info(key).modified
        if modified is None:
            raise CapabilityNotSupported("this store reports no modification time")
        return modified

    # ------------------------------------------------------------------ content

    def cat_file(
        self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any
    ) -> bytes:
        store, key, _ = self._locate(path)
        if start is None and end is None:
            return store.read_bytes(key)
        start = start or 0
        if start >= 0 and end is not None and 0 <= end <= start:
            return b""
        with store.read_seekable(key) as stream:
            if start < 0 or (end is not None and end < 0):
                # The size from the stream, not from get_file_info: a store may not know a
                # file's size before reading it (sql-query reports 0 there).
                size = stream.seek(0, io.SEEK_END)
                start = max(size + start, 0) if start < 0 else start
                end = size + end if end is not None and end < 0 else end
                if end is not None and end <= start:
                    return b""
            stream.seek(start)
            return stream.read() if end is None else stream.read(end - start)

    def pipe_file(self, path: str, value: bytes, mode: str = "overwrite", **kwargs: Any) -> None:
        store, key, _ = self._locate(path)
        store.write(key, value, overwrite=mode != "create")

    def open(
        self,
        path: str,
        mode: str = "rb",
        block_size: int | None = None,
        cache_options: dict[str, Any] | None = None,
        compression: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if "b" in mode or "r" in mode:
            return super().open(path, mode, block_size, cache_options, compression, **kwargs)
        # fsspec wraps the binary writer in a TextIOWrapper, whose exit closes it (commits)
        # even when the block raised: this one discards then, as binary mode does (DS-013).
        text = {
            name: kwargs.pop(name) for name in ("encoding", "errors", "newline") if name in kwargs
        }
        binary = super().open(
            path, mode.replace("t", "") + "b", block_size, cache_options, compression, **kwargs
        )
        if isinstance(binary, AtomicFile):
            return AtomicText(cast(Any, binary), **text)  # a raw writer, as fsspec wraps it
        return io.TextIOWrapper(binary, **text)

    def _open(
        self,
        path: str,
        mode: str = "rb",
        block_size: int | None = None,
        autocommit: bool = True,
        cache_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> BinaryIO | AtomicFile:
        store, key, _ = self._locate(path)
        if mode == "rb":
            return store.read_seekable(key)
        if mode in ("wb", "xb"):
            return AtomicFile(store.open_atomic(key, overwrite=mode == "wb"))
        raise CapabilityNotSupported(f"mode {mode!r}: rstore opens files as rb, wb or xb")

    # ------------------------------------------------------------------ changes

    def cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        store, src, _ = self._locate(path1)
        target, dst, _ = self._locate(path2)
        if target.backend is not store.backend:
            target.write(dst, store.read_bytes(src), overwrite=True)
            return
        store.copy(src, dst, overwrite=True)

    def mv(
        self,
        path1: str,
        path2: str,
        recursive: bool = False,
        maxdepth: int | None = None,
        **kwargs: Any,
    ) -> None:
        store, src, _ = self._locate(path1)
        target, dst, _ = self._locate(path2)
        if target.backend is not store.backend or target.root_path != store.root_path:
            super().mv(path1, path2, recursive=recursive, maxdepth=maxdepth, **kwargs)
            return
        if store.is_file(src):
            store.move(src, dst, overwrite=True)  # native: a rename where the backend has one
            return
        if not recursive:
            raise InvalidArgument(f"{path1!r} is a folder: pass recursive=True to move it")
        for info in list(store.list_files(src, recursive=True, max_depth=maxdepth)):
            store.move(
                info.path, paths.join(dst, info.path[len(src) :].lstrip("/")), overwrite=True
            )

    def rm_file(self, path: str) -> None:
        store, key, _ = self._locate(path)
        store.delete(key)

    def rm(self, path: Any, recursive: bool = False, maxdepth: int | None = None) -> None:
        for one in path if isinstance(path, list) else [path]:
            store, key, _ = self._locate(one)
            if store.is_file(key):
                store.delete(key)
            elif store.is_folder(key):
                store.delete_folder(key, recursive=recursive)
            else:
                raise NotFound(f"{self._strip_protocol(one)!r} does not exist", path=key)

    def mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        """Folders exist by holding files: nothing to create."""

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        """Folders exist by holding files: nothing to create."""


def _ancestors(name: str, top: str) -> Iterator[str]:
    top = top.rstrip("/")
    folder = name.rsplit("/", 1)[0]
    while folder and folder != top and len(folder) > len(top):
        yield folder
        folder = folder.rsplit("/", 1)[0]


def _backend_store(backend: object, options: object, root_path: object) -> Store:
    """The store of a one-backend configuration: built (and checked) now, pickled as that
    configuration (DS-001, DS-002)."""
    if not isinstance(backend, str) or not backend:
        raise InvalidArgument(f"backend must be a backend type name, got {backend!r}")
    if options is None:
        options = {}
    if not isinstance(options, Mapping):
        raise InvalidArgument(
            f"options must be a mapping of the backend's options, got {type(options).__name__}"
        )
    if "type" in options:
        raise InvalidArgument("options must not hold 'type': the backend type is backend=")
    if not isinstance(root_path, str):
        raise InvalidArgument(f"root_path must be a str, got {type(root_path).__name__}")
    config = RegistryConfig.from_dict(
        {
            "backends": {_NAME: {"type": backend, **options}},
            "stores": {_NAME: {"backend": _NAME, "root_path": root_path}},
        }
    )
    return _pickling.shared_registry(config).get_store(_NAME)


_NAME = "rstore"


def _with_store(store: Store) -> RemoteStoreFileSystem:
    return RemoteStoreFileSystem(store=store)


def _with_config(config: RegistryConfig) -> RemoteStoreFileSystem:
    return RemoteStoreFileSystem(registry_config=config)
