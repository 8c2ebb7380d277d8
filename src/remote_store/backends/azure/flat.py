"""The flat (Blob) strategy: folders are name prefixes, move is copy + delete.

Correct on every account kind. On an HNS account seen through the Blob API, directories
show up as zero-length blobs with ``hdi_isfolder=true``; they are reported as folders,
never as files.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import BlobPrefix, BlobProperties

from remote_store import paths
from remote_store.backends.azure import errors as azerr
from remote_store.backends.azure import retry
from remote_store.backends.azure.blobdata import DATA_CAPABILITIES, BlobDataStrategy
from remote_store.backends.azure.errors import translate
from remote_store.backends.azure.folders import BATCH_SIZE, delete_markers, delete_names
from remote_store.backends.azure.reconcile import landed_copy
from remote_store.backends.azure.strategy import (
    file_info,
    folder_prefix,
    is_folder_marker,
    service_etag,
)
from remote_store.errors import (
    AlreadyExists,
    DirectoryNotEmpty,
    IsAFolder,
    NotAFolder,
    NotFound,
    PreconditionFailed,
    RemoteStoreError,
)
from remote_store.models import FileInfo, FolderEntry, FolderInfo

#: Delete Blob on an HNS account: a directory with children, and a path below a file.
_HNS_DIRECTORY_NOT_EMPTY = frozenset({"DirectoryIsNotEmpty", "DirectoryNotEmpty"})
_HNS_BELOW_A_FILE = "OperationNotAllowedInCurrentState"


class _Missing(Exception):
    """Delete Blob found no blob."""


class FlatStrategy(BlobDataStrategy):
    """Blob Storage without a hierarchical namespace (and the fallback on any account)."""

    kind = "flat"
    capabilities = DATA_CAPABILITIES

    # ------------------------------------------------------------------ probes

    def _has_children(self, path: str) -> bool:
        """One listing of at most one name below *path*."""
        with translate("list", path):
            pages = self.ctx.container.list_blobs(
                name_starts_with=folder_prefix(path), results_per_page=1
            ).by_page()
            return any(True for _ in next(pages, []))

    def _missing(self, op: str, path: str) -> RemoteStoreError:
        """The error for a file operation that found no blob: a folder, or nothing."""
        if path and self._has_children(path):
            return IsAFolder(f"{op} {path!r}: is a folder, not a file", path=path, backend="azure")
        return NotFound(f"{op} {path!r}: no such file", path=path, backend="azure")

    def _before_write(self, op: str, path: str) -> None:
        """Opt-in (``reject_write_under_file_ancestor``): one HEAD per ancestor, and one
        listing, so no file is written below a file or over a folder."""
        if not self.ctx.reject_write_under_file_ancestor:
            return
        parent = paths.parent(path)
        while parent:
            props = self._properties(op, parent)
            if props is not None and not is_folder_marker(props):
                raise NotAFolder(
                    f"{op} {path!r}: ancestor {parent!r} is a file", path=path, backend="azure"
                )
            parent = paths.parent(parent)
        if self._has_children(path):
            raise IsAFolder(f"{op} {path!r}: is a folder, not a file", path=path, backend="azure")

    # ------------------------------------------------------------------ file queries

    def _get_file_info(self, path: str) -> FileInfo:
        props = self._properties("get_file_info", path)
        if props is None:
            raise self._missing("get_file_info", path)
        if is_folder_marker(props):
            raise IsAFolder(f"get_file_info {path!r}: is a folder", path=path, backend="azure")
        return file_info(path, props)

    def _head(self, path: str) -> FileInfo | None:
        # One request when a file is there; a miss costs a listing to tell a folder apart.
        props = self._properties("head", path)
        if props is None:
            if path and self._has_children(path):
                raise IsAFolder(f"head {path!r}: is a folder", path=path, backend="azure")
            return None
        if is_folder_marker(props):
            raise IsAFolder(f"head {path!r}: is a folder", path=path, backend="azure")
        return file_info(path, props)

    def _is_file(self, path: str) -> bool:
        if not path:
            return False
        props = self._properties("is_file", path)
        return props is not None and not is_folder_marker(props)

    def _exists(self, path: str) -> bool:
        if not path:
            return True
        # A folder marker (an empty HNS directory seen through the Blob API) alone is no
        # folder here: folders are prefixes, and exist while something is below them.
        props = self._properties("exists", path)
        return (props is not None and not is_folder_marker(props)) or self._has_children(path)

    def _delete(self, path: str, *, missing_ok: bool, if_match: str | None = None) -> None:
        swap: dict[str, Any] = {}
        if if_match is not None:
            swap = {
                "etag": service_etag(if_match),
                "match_condition": MatchConditions.IfNotModified,
            }
        try:
            self._delete_blob(path, swap)
            return
        except PreconditionFailed as error:
            refined = self._swap_refused("delete", path, error)
            if refined is error:
                raise
            if missing_ok and isinstance(refined, NotFound):
                return
            raise refined from error
        except _Missing:
            pass
        missing = self._missing("delete", path)
        if isinstance(missing, IsAFolder) or not missing_ok:
            raise missing

    def _delete_blob(self, path: str, swap: dict[str, Any]) -> None:
        """One Delete Blob; `_Missing` when no blob is there."""
        with translate("delete", path):
            try:
                self.ctx.blob(path).delete_blob(**swap)
                return
            except HttpResponseError as exc:
                code = azerr.error_code(exc)
                if code in _HNS_DIRECTORY_NOT_EMPTY:
                    # An HNS account seen through the Blob API refuses to delete a
                    # directory that has children: the path is a folder.
                    raise IsAFolder(
                        f"delete {path!r}: is a folder", path=path, backend="azure"
                    ) from None
                if not azerr.is_missing(exc) and code != _HNS_BELOW_A_FILE:
                    raise
        raise _Missing

    # ------------------------------------------------------------------ copy, move

    def _copy_verified(
        self, op: str, src: str, dst: str, *, overwrite: bool, if_match: str | None = None
    ) -> BlobProperties:
        """Server-side copy, polled to completion. Returns the source's properties."""
        source = self._properties(op, src)
        if source is None:
            raise self._missing(op, src)
        if is_folder_marker(source):
            raise IsAFolder(f"{op} {src!r}: is a folder", path=src, backend="azure")
        self._check_if_match(op, src, source, if_match)
        # Like a write, a copy checks the target's ancestors only when asked to: on a flat
        # namespace that check is a listing (BC-010, reject_write_under_file_ancestor).
        self._before_write(op, dst)
        try:
            self._server_copy(op, source, src, dst, overwrite=overwrite)
        except AlreadyExists:
            # A retried Copy Blob may have met its own first attempt: see reconcile.py.
            if not landed_copy(self.ctx.blob(dst), dst, source, self.ctx.blob(src).url):
                raise
        return source

    def _copy(self, src: str, dst: str, *, overwrite: bool) -> None:
        self._copy_verified("copy", src, dst, overwrite=overwrite)

    def _move(self, src: str, dst: str, *, overwrite: bool, if_match: str | None = None) -> None:
        # Not atomic: copy, confirm it succeeded, then delete the source only if it is still
        # the version that was copied (*if_match*, when given, is checked on that version).
        # A failure in between leaves both, never neither.
        source = self._copy_verified("move", src, dst, overwrite=overwrite, if_match=if_match)
        try:
            with translate("move", src):
                self.ctx.blob(src).delete_blob(
                    etag=source.etag, match_condition=MatchConditions.IfNotModified
                )
        except (NotFound, PreconditionFailed):
            # The copy is verified; a retried delete whose first attempt landed finds the
            # source already gone (404, or 412 for its If-Match), which is what a move wants.
            if not retry.maybe_landed() or self._properties("move", src) is not None:
                raise

    # ------------------------------------------------------------------ folders

    def _is_folder(self, path: str) -> bool:
        return not path or self._has_children(path)

    def _iter_children(self, path: str) -> Iterator[FileInfo | FolderEntry]:
        prefix = folder_prefix(path)
        seen: set[str] = set()
        with translate("iter_children", path):
            for item in self.ctx.container.walk_blobs(
                name_starts_with=prefix or None, delimiter="/", include=["metadata"]
            ):
                name = item.name
                if not isinstance(item, BlobPrefix) and is_folder_marker(item):
                    # Never a file; a folder only if something is below it, and then the
                    # delimiter reports its prefix too.
                    continue
                if isinstance(item, BlobPrefix):
                    folder = name.rstrip("/")
                    if folder not in seen and folder != path:
                        seen.add(folder)
                        yield FolderEntry(folder)
                elif name != prefix:  # "path/" itself: a folder marker some tools write
                    yield file_info(name, item)

    def _list_files(self, path: str, *, recursive: bool) -> Iterator[FileInfo]:
        if not recursive:
            for entry in self._iter_children(path):
                if isinstance(entry, FileInfo):
                    yield entry
            return
        with translate("list_files", path):
            for props in self.ctx.container.list_blobs(
                name_starts_with=folder_prefix(path) or None, include=["metadata"]
            ):
                if not is_folder_marker(props) and not props.name.endswith("/"):
                    yield file_info(props.name, props)

    def _get_folder_info(self, path: str) -> FolderInfo:
        count = total = 0
        newest = None
        for info in self._list_files(path, recursive=True):
            count += 1
            total += info.size
            if info.modified is not None and (newest is None or info.modified > newest):
                newest = info.modified
        if count == 0 and path and not self._has_children(path):
            if self._is_file(path):
                raise NotAFolder(f"{path!r} is a file, not a folder", path=path, backend="azure")
            raise NotFound(f"folder {path!r} does not exist", path=path, backend="azure")
        return FolderInfo(path=path, file_count=count, total_size=total, modified=newest)

    def _delete_folder(self, path: str, *, recursive: bool, missing_ok: bool) -> None:
        prefix = folder_prefix(path)
        pending: list[str] = []
        markers: list[str] = []
        deleted = 0
        with translate("delete_folder", path):
            for props in self.ctx.container.list_blobs(
                name_starts_with=prefix, include=["metadata"]
            ):
                if props.name == prefix or is_folder_marker(props):
                    markers.append(props.name)
                    continue
                if not recursive:
                    raise DirectoryNotEmpty(
                        f"delete_folder {path!r}: folder is not empty", path=path, backend="azure"
                    )
                pending.append(props.name)
                if len(pending) == BATCH_SIZE:
                    deleted += delete_names(self.ctx, pending, path)
                    pending = []
        if pending:
            deleted += delete_names(self.ctx, pending, path)
        if not deleted and not markers:
            own = self._properties("delete_folder", path)
            if own is None:
                if missing_ok:
                    return
                raise NotFound(f"folder {path!r} does not exist", path=path, backend="azure")
            if not is_folder_marker(own):
                raise NotAFolder(f"delete_folder {path!r}: is a file", path=path, backend="azure")
            # A lone folder marker is no folder on this strategy (see exists): missing.
            if missing_ok:
                return
            raise NotFound(f"folder {path!r} does not exist", path=path, backend="azure")
        if any(marker != prefix for marker in markers):
            # HNS directories seen as blobs: then *path* is one too, and goes last.
            markers.append(path)
        if markers:
            delete_markers(self.ctx, markers, path)
