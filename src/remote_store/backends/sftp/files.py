"""The SFTP backend's operations: the kernel's hooks on a remote filesystem.

Each hook takes a session from the pool for its requests (`retry.Runner`); a stream holds
its session until it is closed. Where OpenSSH answers only "Failure", the hook stats the
path to say what it found (IsAFolder, AlreadyExists, DirectoryNotEmpty, NotAFolder).
"""

from __future__ import annotations

import io
import logging
import posixpath
import stat
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import BinaryIO, ClassVar, cast

from paramiko.sftp_attr import SFTPAttributes
from paramiko.sftp_file import SFTPFile

from remote_store import paths
from remote_store.backends.sftp import move, stage, upload
from remote_store.backends.sftp.errors import translate
from remote_store.backends.sftp.pool import (
    SFTP_FAILURE,
    SFTP_NO_SUCH_FILE,
    Session,
    StatusError,
)
from remote_store.backends.sftp.reader import CHUNK, RemoteFile, check_regular, list_folder
from remote_store.backends.sftp.retry import Runner
from remote_store.backends.sftp.upload import TEMP_PREFIX
from remote_store.errors import (
    DirectoryNotEmpty,
    InvalidPath,
    IsAFolder,
    NotAFolder,
    NotFound,
)
from remote_store.models import FileInfo, FolderEntry, WriteResult, WriteSource
from remote_store.operations import Operations
from remote_store.streams import (
    DEFAULT_CHUNK_SIZE,
    Sink,
    WritableContent,
    iter_chunks,
    known_length,
    rewinder,
    write_all,
)
from remote_store.transfer.reconcile import landed

log = logging.getLogger("remote_store.sftp")

#: Create-only writes of at most this many bytes (known before they start) are decided by
#: the create-only rename after the upload instead of a claim first (SFTP-050).
LATE_CLAIM_SIZE = 64 * 1024

Fill = stage.Fill


def _rewinder(content: WritableContent) -> Callable[[], bool] | None:
    """How to send *content* again from its start (`streams.rewinder`), or None when it
    cannot be: a rewind before the first attempt moves nothing and says which."""
    rewind = rewinder(content)
    return rewind if rewind() else None


def _is_dir(attrs: SFTPAttributes) -> bool:
    return attrs.st_mode is not None and stat.S_ISDIR(attrs.st_mode)


def _etag(attrs: SFTPAttributes) -> str:
    # SFTP v3 gives size and whole-second mtime only: a same-size rewrite within the same
    # second keeps this etag, which is why CONDITIONAL_WRITE is not declared.
    return f"{attrs.st_size or 0:x}-{int(attrs.st_mtime or 0):x}"


def _modified(attrs: SFTPAttributes) -> datetime | None:
    return None if attrs.st_mtime is None else datetime.fromtimestamp(attrs.st_mtime, tz=UTC)


def file_info(key: str, attrs: SFTPAttributes) -> FileInfo:
    return FileInfo(path=key, size=attrs.st_size or 0, modified=_modified(attrs), etag=_etag(attrs))


class SftpFiles(Operations):
    """Keys map to paths below *base* on the server."""

    name: ClassVar[str] = "sftp"

    def __init__(self, runner: Runner, base: str) -> None:
        self._runner = runner
        self._base = base

    def path(self, key: str) -> str:
        if any(part.startswith(TEMP_PREFIX) for part in key.split("/")):
            raise InvalidPath(f"names starting with {TEMP_PREFIX!r} are reserved", path=key)
        return posixpath.join(self._base, key) if key else self._base

    def _stat(self, key: str) -> SFTPAttributes:
        target = self.path(key)
        with translate("stat", key):
            return self._runner.idempotent(lambda s: s.stat(target))

    # ------------------------------------------------------------------ queries

    def _get_file_info(self, key: str) -> FileInfo:
        attrs = self._stat(key)
        if _is_dir(attrs):
            raise IsAFolder(f"{key!r} is a folder, not a file", path=key, backend=self.name)
        return file_info(key, attrs)

    def _is_folder(self, key: str) -> bool:
        try:
            return _is_dir(self._stat(key))
        except NotFound:
            return False

    def _exists(self, key: str) -> bool:
        try:
            self._stat(key)
        except NotFound:
            return False
        return True

    def _iter_children(self, key: str) -> Iterator[FileInfo | FolderEntry]:
        folder = self.path(key)
        try:
            with translate("list", key):
                entries = self._runner.idempotent(lambda s: list_folder(s, folder))
        except NotFound:
            return  # missing, or a file: no children
        for attrs in sorted(entries, key=lambda a: a.filename):
            name = attrs.filename
            if name.startswith(TEMP_PREFIX):
                continue
            child = paths.join(key, name) if key else name
            if attrs.st_mode is not None and stat.S_ISLNK(attrs.st_mode):
                try:
                    attrs = self._stat(child)  # what the link points at
                except NotFound:
                    continue  # dangling
            if _is_dir(attrs):
                yield FolderEntry(child)
            elif attrs.st_mode is None or stat.S_ISREG(attrs.st_mode):
                yield file_info(child, attrs)

    # ------------------------------------------------------------------ reading

    def _open(self, key: str, *, read_ahead: bool) -> RemoteFile:
        target = self.path(key)

        def opened(session: Session) -> RemoteFile:
            handle = session.open(target, "r")
            return RemoteFile.open(session, handle, key, self._release, read_ahead=read_ahead)

        with translate("read", key):
            return self._runner.leased(opened)

    def _release(self, session: Session, broken: bool) -> None:
        self._runner.pool.release(session, broken=broken)

    def _read(self, key: str) -> BinaryIO:
        return cast(BinaryIO, io.BufferedReader(self._open(key, read_ahead=True), CHUNK))

    def _read_seekable(self, key: str) -> BinaryIO:
        return cast(BinaryIO, io.BufferedReader(self._open(key, read_ahead=False), CHUNK))

    def _read_bytes(self, key: str) -> bytes:
        with self._open(key, read_ahead=True) as stream:
            return b"".join(stream.chunks())

    def _read_to(self, key: str, sink: Sink) -> int:
        # Handed on in DEFAULT_CHUNK_SIZE pieces, as copy_stream does: fewer, larger writes.
        total = 0
        batch = bytearray()
        with self._open(key, read_ahead=True) as stream:
            for chunk in stream.chunks():
                batch += chunk
                if len(batch) >= DEFAULT_CHUNK_SIZE:
                    write_all(sink, memoryview(batch))
                    total += len(batch)
                    batch = bytearray()
        if batch:
            write_all(sink, memoryview(batch))
            total += len(batch)
        return total

    # ------------------------------------------------------------------ writing

    def _write(
        self,
        key: str,
        content: WritableContent,
        *,
        overwrite: bool,
        metadata: Mapping[str, str] | None,
        if_match: str | None,
    ) -> WriteResult:
        # A claim saves a loser its upload; content this small costs a loser less than the
        # claim's own round trips cost every winner.
        length = known_length(content)
        return self._upload(
            key, content, overwrite, early=length is None or length > LATE_CLAIM_SIZE
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
        # No claim: readers must see the old state (no file) or the new one, not an empty
        # file; the create-only RENAME decides instead, after the upload.
        return self._upload(key, content, overwrite, early=False)

    def _upload(
        self, key: str, content: WritableContent, overwrite: bool, *, early: bool
    ) -> WriteResult:
        def fill(writer: upload.Writer) -> None:
            writer.send(iter_chunks(content))

        return self._staged(key, overwrite, fill, _rewinder(content), early=early)

    def _staged(
        self,
        key: str,
        overwrite: bool,
        fill: Fill,
        rewind: Callable[[], bool] | None = None,
        *,
        early: bool = True,
    ) -> WriteResult:
        """Sent once, or, from a replayable source (*rewind* puts it back at its start),
        again on a new connection after the old one dropped."""
        with translate("write", key):
            if rewind is None:
                return self._runner.once(lambda s: self._stage(s, key, overwrite, fill, early))
            return self._runner.replayable(
                lambda s: self._stage(s, key, overwrite, fill, early), rewind
            )

    def _stage(
        self, session: Session, key: str, overwrite: bool, fill: Fill, early: bool = True
    ) -> WriteResult:
        """`stage.run`; after a failure `stage.settle` removes what the attempt left (on a
        new connection if the old one broke), or finds that its rename landed."""
        attempt = stage.Attempt(self.path(key), key, overwrite, early)
        try:
            attrs = stage.run(session, attempt, fill)
        except BaseException as error:
            landed = stage.settle(self._runner.pool, session, attempt, error, self._runner.wait)
            if landed is None:
                raise
            attrs = landed
        return WriteResult(
            path=key,
            size=attrs.st_size or 0,
            source=WriteSource.NATIVE,
            etag=_etag(attrs),
            last_modified=_modified(attrs),
        )

    # ------------------------------------------------------------------ copy, move

    def _copy(self, src: str, dst: str, *, overwrite: bool) -> None:
        """``copy-data`` on the server when it offers it, else streamed through one
        session; either way into a temporary file renamed into place. The source is
        opened first: a missing one is NotFound whatever the destination. Repeatable like
        a write from bytes: the source is read again from the server, and a failed
        attempt is settled first (`stage.settle`: its rename landed, or its temporary
        file and claim are removed)."""
        source = self.path(src)

        def copy(session: Session) -> None:
            with translate("copy", src):
                original = session.open(source, "r")
            try:
                with translate("copy", src):
                    attrs = original.stat()
                    check_regular(attrs.st_mode, src)

                def fill(writer: upload.Writer) -> None:
                    if session.offers(upload.COPY_DATA):
                        session.copy_data(_handle(original), _handle(writer.handle))
                        return
                    size = attrs.st_size or 0
                    stream = RemoteFile(session, original, src, size, _keep, read_ahead=True)
                    writer.send(stream.chunks())

                self._stage(session, dst, overwrite, fill)
            finally:
                original.close()

        with translate("copy", dst):
            self._runner.replayable(copy, _again)

    def _move(self, src: str, dst: str, *, overwrite: bool, if_match: str | None) -> None:
        """One rename on the server: create-only (RENAME) or replacing (posix-rename);
        after a lost answer reconciled on a new connection (`move.run`)."""
        attempt = move.Move(self.path(src), self.path(dst), src, dst, overwrite)
        runner = self._runner
        with translate("move", dst):
            runner.replayable(lambda s: move.run(runner.pool, s, attempt, runner.wait), _again)

    # ------------------------------------------------------------------ deleting

    def _delete(self, key: str, *, missing_ok: bool, if_match: str | None) -> None:
        target = self.path(key)

        def remove(session: Session) -> None:
            try:
                session.remove(target)
            except StatusError as error:
                if error.code == SFTP_FAILURE and _is_dir(session.stat(target)):
                    raise IsAFolder(f"{key!r} is a folder, not a file", path=key) from None
                raise

        try:
            with translate("delete", key):
                self._runner.idempotent(remove)
        except NotFound:
            if missing_ok or landed(lambda: True, f"delete {key!r}", log):
                return
            raise

    def _delete_folder(self, key: str, *, recursive: bool, missing_ok: bool) -> None:
        folder = self.path(key)

        def remove(session: Session) -> None:
            if recursive:
                if not _is_dir(session.stat(folder)):
                    raise NotAFolder(f"{key!r} is a file, not a folder", path=key)
                _remove_tree(session, folder)
                return
            try:
                session.rmdir(folder)
            except StatusError as error:
                if error.code not in (SFTP_FAILURE, SFTP_NO_SUCH_FILE):
                    raise
                # rmdir of a file is ENOTDIR, which OpenSSH reports as NO_SUCH_FILE.
                if _is_dir(session.stat(folder)):
                    raise DirectoryNotEmpty(f"folder {key!r} is not empty", path=key) from None
                raise NotAFolder(f"{key!r} is a file, not a folder", path=key) from None

        try:
            with translate("delete folder", key):
                self._runner.idempotent(remove)
        except NotFound:
            if not missing_ok:
                raise NotFound(f"folder {key!r} does not exist", path=key) from None


def _remove_tree(session: Session, folder: str) -> None:
    for attrs in list_folder(session, folder):
        child = f"{folder.rstrip('/')}/{attrs.filename}"
        try:
            if _is_dir(attrs):
                _remove_tree(session, child)
            else:
                session.remove(child)
        except StatusError as error:
            if error.code != SFTP_NO_SUCH_FILE:  # removed meanwhile: fine for rm -r
                raise
    session.rmdir(folder)


def _again() -> bool:
    """A copy or a move works on what is on the server: nothing to put back first."""
    return True


def _keep(session: Session, broken: bool) -> None:
    """A stream that shares its caller's session: nothing to hand back."""


def _handle(opened: SFTPFile) -> bytes:
    # The stubs type it as a server-side SFTPHandle; on a client it is the handle's bytes.
    return cast(bytes, opened.handle)


__all__ = ["SftpFiles", "file_info"]
