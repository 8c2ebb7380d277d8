"""The hierarchical-namespace (ADLS Gen2) strategy: real directories, atomic rename.

Bytes travel over the Blob endpoint, which is cheapest on HNS too: a small write is one
Put Blob (it creates missing parent directories), a large one staged blocks and one Put
Block List, reads are ranged GETs, file properties one HEAD. The namespace travels over
DFS: rename, recursive delete and listings.

What the service tells us natively, and what it does not (recordings README 4-6):

* A blob HEAD of a directory answers 200 with ``hdi_isfolder=true``, so one HEAD tells a
  file, a directory and nothing apart; a miss is a miss (no listing to look for a folder).
* A write below a file is refused (Put Blob 404 ``BlobNotFound``, Put Block / Put Block
  List 409 ``OperationNotAllowedInCurrentState``); a write onto a directory is refused
  too. Which of the two it was costs one HEAD, on the failure path only.
* Delete Blob and Path - Delete both remove an *empty directory*, Path - Delete with
  ``recursive=true`` removes a *file*, and Path - Create (rename) moves a *directory*:
  none of them can be told to act on one resource type only. So ``delete``,
  ``delete_folder`` and ``move`` HEAD first and pin the request to the ETag they saw
  (``If-Match`` / ``x-ms-source-if-match``): one HEAD plus one request, and never the
  wrong kind of entry even under races.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from azure.core import MatchConditions
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import BlobProperties

from remote_store import paths
from remote_store.backends.azure import dfs_listing
from remote_store.backends.azure import errors as azerr
from remote_store.backends.azure.blobdata import DATA_CAPABILITIES, BlobObjects, object_meta
from remote_store.backends.azure.container import ContainerGuard
from remote_store.backends.azure.errors import translate
from remote_store.backends.azure.reconcile import landed_copy, landed_rename
from remote_store.backends.azure.strategy import is_folder_marker, normalize_etag
from remote_store.capabilities import Capability, CapabilitySet
from remote_store.errors import (
    AlreadyExists,
    InvalidPath,
    IsAFolder,
    NotAFolder,
    NotFound,
    PreconditionFailed,
    RemoteStoreError,
)
from remote_store.models import FileInfo, FolderEntry, FolderInfo
from remote_store.operations import folder_info

#: Service codes of a write refused by the namespace: a file ancestor, or a directory at
#: the target (Put Blob, Put Block, Put Block List, Copy Blob, rename).
_REFUSED_BY_NAMESPACE = frozenset(
    {
        "BlobNotFound",
        "OperationNotAllowedInCurrentState",
        "PathConflict",
        "InvalidSourceOrDestinationResourceType",
    }
)
#: Times a HEAD-then-act operation starts over when its target changed in between.
_ATTEMPTS = 3


class HierarchicalNamespace(BlobObjects):
    """ADLS Gen2: a hierarchical namespace over the Blob (data) and DFS (namespace) APIs."""

    kind = "hierarchical"
    capabilities = CapabilitySet(DATA_CAPABILITIES | {Capability.ATOMIC_MOVE})

    # ------------------------------------------------------------------ probes

    def _missing(self, key: str) -> RemoteStoreError:
        # A directory answers HEAD and GET: what is not found is not there (or below a file).
        return NotFound(f"{key!r}: no such file", path=key, backend="azure")

    def _blob_file(self, op: str, path: str) -> BlobProperties:
        """One HEAD that must find a file."""
        props = self._properties(op, path)
        if props is None:
            raise self._missing(path)
        if is_folder_marker(props):
            raise IsAFolder(f"{op} {path!r}: is a folder, not a file", path=path, backend="azure")
        return props

    def _check_if_match(
        self, op: str, path: str, props: BlobProperties, if_match: str | None
    ) -> None:
        """`PreconditionFailed` unless *props* (a HEAD of *path*) has the etag *if_match*."""
        if if_match is not None and normalize_etag(props.etag) != if_match:
            raise PreconditionFailed(
                f"{op} {path!r}: the file changed (etag no longer {if_match!r})",
                path=path,
                backend="azure",
            )

    def _filesystem(self) -> Any:
        assert self.ctx.filesystem is not None, "the backend supplies the Data Lake client"
        return self.ctx.filesystem()

    def _write_refused(
        self, path: str, error: RemoteStoreError, op: str = "write"
    ) -> RemoteStoreError:
        """The precise error for a write to *path* the service refused with *error*.

        ``AlreadyExists`` or a namespace refusal may mean a directory sits at *path*
        (`IsAFolder`); a namespace refusal otherwise means an ancestor is a file
        (`NotAFolder`). Costs one HEAD, only when the write has already failed."""
        refused = azerr.cause_code(error) in _REFUSED_BY_NAMESPACE
        if not (refused or isinstance(error, AlreadyExists)):
            return error
        props = self._properties(op, path)
        if props is not None and is_folder_marker(props):
            return IsAFolder(f"{op} {path!r}: is a folder, not a file", path=path, backend="azure")
        if not refused:
            return error
        return NotAFolder(f"{op} {path!r}: an ancestor is a file", path=path, backend="azure")

    # ------------------------------------------------------------------ file queries

    def _get_file_info(self, path: str) -> FileInfo:
        return object_meta(path, self._blob_file("get_file_info", path)).file_info()

    def _head(self, path: str) -> FileInfo | None:
        props = self._properties("head", path)
        if props is None:
            return None
        if is_folder_marker(props):
            raise IsAFolder(f"head {path!r}: is a folder", path=path, backend="azure")
        return object_meta(path, props).file_info()

    def _is_file(self, path: str) -> bool:
        if not path:
            return False
        props = self._properties("is_file", path)
        return props is not None and not is_folder_marker(props)

    def _exists(self, path: str) -> bool:
        return not path or self._properties("exists", path) is not None

    def _is_folder(self, path: str) -> bool:
        if not path:
            return True
        props = self._properties("is_folder", path)
        return props is not None and is_folder_marker(props)

    # ------------------------------------------------------------------ delete

    def _delete(self, path: str, *, missing_ok: bool, if_match: str | None = None) -> None:
        for _ in range(_ATTEMPTS):
            props = self._properties("delete", path)
            if props is None:
                if missing_ok:
                    return
                raise self._missing(path)
            if is_folder_marker(props):
                raise IsAFolder(f"delete {path!r}: is a folder", path=path, backend="azure")
            self._check_if_match("delete", path, props, if_match)
            with translate("delete", path):
                try:
                    # Pinned to the file the HEAD saw: Delete Blob would also remove an
                    # empty directory that took its place.
                    self.ctx.blob(path).delete_blob(
                        etag=props.etag, match_condition=MatchConditions.IfNotModified
                    )
                    return
                except HttpResponseError as exc:
                    if azerr.is_missing(exc):
                        if missing_ok:
                            return
                        raise self._missing(path) from None
                    if azerr.status_of(exc) != 412 or if_match is not None:
                        raise
            # 412: the file was replaced since the HEAD; look again.
        raise PreconditionFailed(
            f"delete {path!r}: kept changing while being deleted", path=path, backend="azure"
        )

    def _delete_folder(self, path: str, *, recursive: bool, missing_ok: bool) -> None:
        if not path:
            raise InvalidPath("the root folder cannot be deleted", path=path, backend="azure")
        for _ in range(_ATTEMPTS):
            props = self._properties("delete_folder", path)
            if props is None:
                if missing_ok:
                    return
                raise NotFound(f"folder {path!r} does not exist", path=path, backend="azure")
            if not is_folder_marker(props):
                raise NotAFolder(f"delete_folder {path!r}: is a file", path=path, backend="azure")
            directory = self._filesystem().get_directory_client(path)
            with translate("delete_folder", path):
                try:
                    # One Path - Delete. The public delete_directory() always sends
                    # recursive=true, so the non-recursive form (which the service refuses
                    # on a non-empty directory with 409 DirectoryNotEmpty, no listing
                    # needed) goes through the client's own _delete. The SDK follows
                    # x-ms-continuation itself when the service pages a large delete.
                    directory._delete(
                        recursive=recursive,
                        etag=props.etag,
                        match_condition=MatchConditions.IfNotModified,
                    )
                    return
                except HttpResponseError as exc:
                    if azerr.is_missing(exc):
                        if missing_ok:
                            return
                        raise NotFound(
                            f"folder {path!r} does not exist", path=path, backend="azure"
                        ) from None
                    if azerr.status_of(exc) != 412:
                        raise
            # 412: the directory was replaced (or, on services that re-stamp directories,
            # changed below) since the HEAD; look again.
        raise PreconditionFailed(
            f"delete_folder {path!r}: kept changing while being deleted",
            path=path,
            backend="azure",
        )

    # ------------------------------------------------------------------ copy, move

    def _copy(self, src: str, dst: str, *, overwrite: bool) -> None:
        source = self._blob_file("copy", src)
        try:
            self._server_copy("copy", object_meta(src, source), dst, overwrite=overwrite)
        except AlreadyExists as error:
            # A retried Copy Blob may have met its own first attempt: see reconcile.py.
            if landed_copy(self.ctx.blob(dst), dst, source, self.ctx.blob(src).url):
                return
            refined = self._write_refused(dst, error, "copy")
            if refined is error:
                raise
            raise refined from error
        except (NotFound, InvalidPath) as error:
            refined = self._write_refused(dst, error, "copy")
            if refined is error:
                raise
            raise refined from error

    def _move(self, src: str, dst: str, *, overwrite: bool, if_match: str | None = None) -> None:
        """One DFS rename, atomic. The HEAD before it refuses a directory source (a rename
        would move the whole subtree) and pins the rename to the file it saw (which must
        have the etag *if_match*, when given)."""
        source: BlobProperties | None = None
        for _ in range(_ATTEMPTS):
            try:
                source = self._blob_file("move", src)
                self._check_if_match("move", src, source, if_match)
                if self._rename(src, dst, source, overwrite=overwrite):
                    return
            except (NotFound, AlreadyExists):
                # A retried rename whose first attempt landed finds its source gone, or
                # its own result at the destination: see reconcile.py.
                if source is None or not landed_rename(
                    self.ctx.blob(src), self.ctx.blob(dst), dst, source
                ):
                    raise
                return
        raise PreconditionFailed(
            f"move {src!r}: kept changing while being moved", path=src, backend="azure"
        )

    def _rename(self, src: str, dst: str, source: BlobProperties, *, overwrite: bool) -> bool:
        """Rename *src* (as *source* describes it) to *dst*; False if *src* changed since."""
        # rename_file() builds the source header from quote(unquote(path)): pre-quote the
        # key so names holding '%' reach the service unchanged.
        client = self._filesystem().get_file_client(quote(src, safe=""))
        conditions: dict[str, Any] = {
            "source_etag": source.etag,
            "source_match_condition": MatchConditions.IfNotModified,
        }
        if not overwrite:
            conditions["match_condition"] = MatchConditions.IfMissing  # If-None-Match: *
        target = f"{self.ctx.container_name}/{dst}"
        made_parent = False
        while True:
            try:
                with translate("move", dst):
                    try:
                        client.rename_file(target, **conditions)
                        return True
                    except HttpResponseError as exc:
                        code = azerr.error_code(exc)
                        if code == "RenameDestinationParentPathNotFound" and not made_parent:
                            made_parent = True
                        elif azerr.status_of(exc) == 412:
                            return self._source_changed(src, dst, source, overwrite=overwrite)
                        else:
                            raise
            except (InvalidPath, AlreadyExists) as error:
                refined = self._write_refused(dst, error, "move")
                if refined is error:
                    raise
                raise refined from error
            # Unlike a blob write, a rename does not create the destination's parents.
            self._make_directory("move", paths.parent(dst))

    def _source_changed(
        self, src: str, dst: str, source: BlobProperties, *, overwrite: bool
    ) -> bool:
        """After a 412 on a rename: which condition failed? Raise `AlreadyExists` when it
        was the destination's ``If-None-Match: *`` (the service may answer that with 412
        as well as 409); return False when it was the source's ETag."""
        if not overwrite:
            now = self._properties("move", src)
            if now is not None and now.etag == source.etag:
                raise AlreadyExists(
                    f"move {src!r} -> {dst!r}: the destination exists", path=dst, backend="azure"
                )
        return False

    def _make_directory(self, op: str, path: str) -> None:
        """Create the directory *path* and its missing ancestors (one Path - Create)."""
        directory = self._filesystem().get_directory_client(path)
        try:
            with translate(op, path, create_only=True):
                # If-None-Match: * leaves a directory someone else just made untouched.
                directory.create_directory(match_condition=MatchConditions.IfMissing)
        except AlreadyExists:
            if not self._is_folder(path):
                raise NotAFolder(f"{op}: {path!r} is a file", path=path, backend="azure") from None
        except InvalidPath as error:
            raise NotAFolder(
                f"{op}: {path!r} is or is below a file", path=path, backend="azure"
            ) from error

    # ------------------------------------------------------------------ folders

    def _iter_children(self, path: str) -> Iterator[FileInfo | FolderEntry]:
        return dfs_listing.children(self.ctx, path)

    def _list_files(self, path: str, *, recursive: bool) -> Iterator[FileInfo]:
        return dfs_listing.files(self.ctx, path, recursive=recursive)

    def _get_folder_info(self, path: str, *, max_depth: int | None = None) -> FolderInfo:
        if path:
            props = self._properties("get_folder_info", path)
            if props is None:
                raise NotFound(f"folder {path!r} does not exist", path=path, backend="azure")
            if not is_folder_marker(props):
                raise NotAFolder(f"{path!r} is a file, not a folder", path=path, backend="azure")
        return folder_info(path, self._list_files(path, recursive=max_depth != 1), max_depth)


class HierarchicalStrategy(ContainerGuard, HierarchicalNamespace):
    """The hierarchical strategy the backend picks: `HierarchicalNamespace` with the
    missing-container rules of `ContainerGuard` around every hook."""
