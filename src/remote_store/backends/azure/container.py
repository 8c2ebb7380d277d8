"""A container that does not exist: what each operation answers (AZ-090..AZ-094).

The container is configuration, not data. A question whose honest answer is "no" (is
there a file here? a folder?) answers no, and a deletion that only asks for absence
(``missing_ok=True``) has nothing to do. Everything that needs the container -- reading,
writing, listing, a deletion that must find its target -- raises `NotFound` naming the
container, so a mistyped name never looks like an empty folder.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import BinaryIO

from remote_store.backends.azure.errors import CONTAINER_MISSING, error_code, may_leak
from remote_store.backends.azure.strategy import AzureStrategy
from remote_store.errors import ContainerNotFound, NotFound
from remote_store.models import FileInfo, FolderEntry, FolderInfo, WriteResult
from remote_store.streams import Sink, WritableContent

#: How far down an error's cause chain the service's error is looked for: our errors wrap
#: the SDK's once, a refined error ours once more, a renamed one that once more.
_CHAIN = 4


def _service_error(error: BaseException) -> BaseException | None:
    """The first error down *error*'s cause chain that carries a service code."""
    current: BaseException | None = error
    for _ in range(_CHAIN):
        if current is None:
            return None
        if error_code(current):
            return current
        current = current.__cause__ or current.__context__
    return None


def missing_container_code(error: BaseException) -> str | None:
    """``ContainerNotFound``/``FilesystemNotFound`` when *error* is a `NotFound` that the
    service raised because the container does not exist; else None. The first service
    code found down the cause chain decides."""
    if not isinstance(error, NotFound):
        return None
    found = _service_error(error)
    code = error_code(found) if found is not None else None
    return code if code in CONTAINER_MISSING else None


@contextmanager
def naming(container: str, op: str, path: str | None) -> Iterator[None]:
    """Re-raise a missing-container `NotFound` with a message naming *container*; its
    cause is the SDK error, as for every translated error (AZ-070), unless that error's
    text may quote a SAS (then, as in `errors.translate`, no cause)."""
    try:
        yield
    except NotFound as error:
        code = missing_container_code(error)
        if code is None:
            raise
        # Hooks call hooks: the outermost, the operation the caller asked for, wins.
        where = f"{op} {path!r}" if path is not None else op
        named = ContainerNotFound(
            f"{where}: container {container!r} does not exist ({code}, HTTP 404); "
            "create it, or check the name",
            path=path,
            backend="azure",
        )
        named.service_code = code
        service = _service_error(error)
        if service is None or may_leak(service):
            raise named from None
        raise named from service


def _answer_no(error: NotFound) -> None:
    """Re-raise *error* unless the container is missing (the caller then answers "no")."""
    if missing_container_code(error) is None:
        raise error


class ContainerGuard(AzureStrategy):
    """Placed first in a strategy's bases: applies the rules above around every hook the
    kernel calls, so the strategies themselves never think about the container."""

    def _named(self, op: str, path: str | None) -> AbstractContextManager[None]:
        return naming(self.ctx.container_name, op, path)

    # ------------------------------------------------------------------ questions: "no"

    def _exists(self, key: str) -> bool:
        try:
            return super()._exists(key)
        except NotFound as error:
            _answer_no(error)
            return False

    def _is_file(self, key: str) -> bool:
        try:
            return super()._is_file(key)
        except NotFound as error:
            _answer_no(error)
            return False

    def _is_folder(self, key: str) -> bool:
        try:
            return super()._is_folder(key)
        except NotFound as error:
            _answer_no(error)
            return False

    def _head(self, key: str) -> FileInfo | None:
        try:
            return super()._head(key)
        except NotFound as error:
            _answer_no(error)
            return None

    # ------------------------------------------------------------------ deletions

    def _delete(self, key: str, *, missing_ok: bool, if_match: str | None = None) -> None:
        try:
            with self._named("delete", key):
                super()._delete(key, missing_ok=missing_ok, if_match=if_match)
        except NotFound as error:
            if not missing_ok or missing_container_code(error) is None:
                raise

    def _delete_folder(self, key: str, *, recursive: bool, missing_ok: bool) -> None:
        try:
            with self._named("delete_folder", key):
                super()._delete_folder(key, recursive=recursive, missing_ok=missing_ok)
        except NotFound as error:
            if not missing_ok or missing_container_code(error) is None:
                raise

    # ------------------------------------------------------------------ the rest: NotFound

    def _get_file_info(self, key: str) -> FileInfo:
        with self._named("get_file_info", key):
            return super()._get_file_info(key)

    def _read(self, key: str) -> BinaryIO:
        with self._named("read", key):
            return super()._read(key)

    def _read_bytes(self, key: str) -> bytes:
        with self._named("read_bytes", key):
            return super()._read_bytes(key)

    def _read_seekable(self, key: str) -> BinaryIO:
        with self._named("read_seekable", key):
            return super()._read_seekable(key)

    def _read_to(self, key: str, sink: Sink) -> int:
        with self._named("read_to", key):
            return super()._read_to(key, sink)

    def _write(
        self,
        key: str,
        content: WritableContent,
        *,
        overwrite: bool,
        metadata: Mapping[str, str] | None,
        if_match: str | None,
    ) -> WriteResult:
        with self._named("write", key):
            return super()._write(
                key, content, overwrite=overwrite, metadata=metadata, if_match=if_match
            )

    def _write_atomic(
        self,
        key: str,
        content: WritableContent,
        *,
        overwrite: bool,
        metadata: Mapping[str, str] | None,
        if_match: str | None,
    ) -> WriteResult:
        with self._named("write_atomic", key):
            return super()._write_atomic(
                key, content, overwrite=overwrite, metadata=metadata, if_match=if_match
            )

    @contextmanager
    def _open_atomic(
        self,
        key: str,
        *,
        overwrite: bool,
        metadata: Mapping[str, str] | None,
        if_match: str | None,
    ) -> Iterator[BinaryIO]:
        opened = super()._open_atomic(
            key, overwrite=overwrite, metadata=metadata, if_match=if_match
        )
        with self._named("open_atomic", key), opened as stream:
            yield stream

    def _copy(self, src: str, dst: str, *, overwrite: bool) -> None:
        with self._named("copy", src):
            super()._copy(src, dst, overwrite=overwrite)

    def _move(self, src: str, dst: str, *, overwrite: bool, if_match: str | None = None) -> None:
        with self._named("move", src):
            super()._move(src, dst, overwrite=overwrite, if_match=if_match)

    def _iter_children(self, key: str) -> Iterator[FileInfo | FolderEntry]:
        with self._named("iter_children", key):
            yield from super()._iter_children(key)

    def _list_files(self, key: str, *, recursive: bool) -> Iterator[FileInfo]:
        with self._named("list_files", key):
            yield from super()._list_files(key, recursive=recursive)

    def _glob(self, pattern: str) -> Iterator[FileInfo]:
        with self._named("glob", pattern):
            yield from super()._glob(pattern)

    def _get_folder_info(self, key: str, *, max_depth: int | None = None) -> FolderInfo:
        with self._named("get_folder_info", key):
            return super()._get_folder_info(key, max_depth=max_depth)
