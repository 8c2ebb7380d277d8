"""Writing: content goes to a hidden temporary file beside the target, which a rename then
puts in place, so the target never holds part of a file (`stage` runs a whole write).

- create-only (``overwrite=False``): the name is claimed by an exclusive OPEN first where
  the server offers posix-rename (`stage`); otherwise the plain SFTP RENAME decides, which
  refuses to replace (OpenSSH: ``link(2)`` then ``unlink(2)``, one atomic step on the
  server): either way of concurrent writers exactly one wins, and nothing is stat'ed first.
- replace: ``posix-rename@openssh.com`` (``rename(2)``), atomic; without it
  `replace_in_steps`.

WRITE requests are pipelined in the writing thread (a window of `DEPTH`), and every
answer's status is checked (paramiko's own pipelined writes drop the last answers) before
the rename: a failed WRITE never lets a partial file be put in place.
"""

from __future__ import annotations

import secrets
import stat
from collections import deque
from collections.abc import Iterable
from typing import cast

from paramiko.message import Message
from paramiko.sftp import CMD_FSTAT, CMD_STATUS, CMD_WRITE, int64
from paramiko.sftp_attr import SFTPAttributes
from paramiko.sftp_file import SFTPFile

from remote_store.backends.sftp.pool import (
    SFTP_FAILURE,
    SFTP_NO_SUCH_FILE,
    Session,
    StatusError,
    connection_failed,
)
from remote_store.backends.sftp.reader import _Answers
from remote_store.errors import AlreadyExists, IsAFolder, NotAFolder, RemoteStoreError

#: Names of in-flight temporary files start with this; listings never show them.
TEMP_PREFIX = ".~rs-tmp-"
#: Bytes per WRITE request (every SFTP server accepts 32 KiB).
PIECE = 32 * 1024
#: WRITE requests in flight: up to 2 MiB.
DEPTH = 64
POSIX_RENAME = "posix-rename@openssh.com"
COPY_DATA = "copy-data"
HARDLINK = "hardlink@openssh.com"
#: Replacing without posix-rename: how often to try when other writers keep interfering.
_SWAP_TRIES = 5


def temp_beside(path: str) -> str:
    directory = path.rsplit("/", 1)[0] or "/"
    return f"{directory.rstrip('/')}/{TEMP_PREFIX}{secrets.token_hex(8)}"


def parent(path: str) -> str:
    return path.rsplit("/", 1)[0] or "/"


def open_temp(session: Session, temp: str, key: str) -> SFTPFile:
    """Create *temp* exclusively, creating its missing parent folders."""
    try:
        return session.open(temp, "wx")
    except StatusError as error:
        if error.code != SFTP_NO_SUCH_FILE:
            raise
    make_folders(session, parent(temp), key)
    return session.open(temp, "wx")


def make_folders(session: Session, folder: str, key: str) -> None:
    """``mkdir -p`` *folder*, from the deepest missing level; a file in the way is
    `NotAFolder`."""
    missing = []
    current = folder
    while current not in ("", "/"):
        try:
            session.mkdir(current)
            break
        except StatusError as error:
            if error.code == SFTP_NO_SUCH_FILE:
                missing.append(current)
                current = parent(current)
                continue
            if error.code != SFTP_FAILURE:
                raise
            _existing_folder(session, current, key)
            break
    for folder_path in reversed(missing):
        try:
            session.mkdir(folder_path)
        except StatusError as error:
            if error.code != SFTP_FAILURE:
                raise
            _existing_folder(session, folder_path, key)


def _existing_folder(session: Session, folder: str, key: str) -> None:
    """mkdir said only "Failure": fine if a folder is there (another writer made it)."""
    try:
        mode = session.stat(folder).st_mode
    except StatusError as error:
        if error.code == SFTP_NO_SUCH_FILE:
            # ENOTDIR higher up comes back as NO_SUCH_FILE: a parent is a file.
            raise NotAFolder(f"cannot write {key!r}: a parent of it is a file", path=key) from None
        raise
    if mode is None or not stat.S_ISDIR(mode):
        raise NotAFolder(f"cannot write {key!r}: a parent of it is a file", path=key)


class Writer:
    """Pipelined WRITEs into an open temporary file, then its FSTAT and CLOSE sent together:
    a small write costs the round trips of OPEN, WRITE+FSTAT+CLOSE and the rename."""

    def __init__(self, session: Session, handle: SFTPFile) -> None:
        self.session = session
        self.handle = handle
        self._answers = _Answers()
        self._pending: deque[int] = deque()
        self.offset = 0

    def send(self, chunks: Iterable[bytes]) -> None:
        """Write *chunks* from the current offset, with up to `DEPTH` WRITEs in flight. An
        exception raised by *chunks* (the caller's stream) propagates as it is, after the
        answers in flight are collected."""
        try:
            for chunk in chunks:
                view = memoryview(chunk)
                for start in range(0, len(view), PIECE):
                    piece = bytes(view[start : start + PIECE])
                    self._pending.append(
                        self.session._async_request(
                            self._answers,
                            CMD_WRITE,
                            _handle(self.handle),
                            int64(self.offset),
                            piece,
                        )
                    )
                    self.offset += len(piece)
                    while len(self._pending) >= DEPTH:
                        self._check(self._pending.popleft())
        except BaseException as error:
            # On a dead connection the answers in flight will never come (reading on
            # would only meet the remains of a cut packet).
            if not connection_failed(error) and self.session.is_usable():
                self._collect()
            raise

    def finish(self) -> SFTPAttributes:
        """FSTAT and CLOSE the file; every WRITE's answer checked. The attributes."""
        fstat = self.session._async_request(self._answers, CMD_FSTAT, _handle(self.handle))
        self.handle.close()  # waits for CLOSE, so every earlier answer has arrived
        self._collect()
        kind, msg = self._answer(fstat)
        if kind == CMD_STATUS:
            self.session._convert_status(msg)
        parsed = SFTPAttributes._from_msg(msg)  # type: ignore[attr-defined]  # no stub
        return cast(SFTPAttributes, parsed)

    def _collect(self) -> None:
        failed: StatusError | None = None
        while self._pending:
            try:
                self._check(self._pending.popleft())
            except StatusError as error:
                failed = failed or error
        if failed is not None:
            raise failed

    def _answer(self, request: int) -> tuple[int, Message]:
        while request not in self._answers.got:
            self.session._read_response()
        return self._answers.got.pop(request)

    def _check(self, request: int) -> None:
        _, msg = self._answer(request)
        self.session._convert_status(msg)


def _handle(opened: SFTPFile) -> bytes:
    # The stubs type it as a server-side SFTPHandle; on a client it is the handle's bytes.
    return cast(bytes, opened.handle)


def place(
    session: Session,
    temp: str,
    path: str,
    key: str,
    *,
    overwrite: bool,
    aside: list[str] | None = None,
) -> None:
    """Rename *temp* to *path*: replacing (posix-rename, or `replace_in_steps` without
    it), or create-only (RENAME). Old files moved aside are noted in *aside*."""
    try:
        if not overwrite:
            session.rename(temp, path)
        elif session.offers(POSIX_RENAME):
            session.posix_rename(temp, path)
        else:
            replace_in_steps(session, temp, path, key, [] if aside is None else aside)
    except StatusError as error:
        if error.code != SFTP_FAILURE:
            raise
        raise what_is_in_the_way(session, path, key, overwrite=overwrite) from None


def replace_in_steps(session: Session, temp: str, path: str, key: str, aside: list[str]) -> None:
    """Replace without posix-rename, never losing the old file: create-only RENAME of
    *temp*; if a file is there, RENAME it aside (to a hidden name), RENAME *temp* in, then
    REMOVE the old one. Readers see the old file, no file (between the two renames), or
    the new one; never part of one. A failure puts the old file back (`stage.settle`)."""
    for _ in range(_SWAP_TRIES):
        try:
            session.rename(temp, path)
            return
        except StatusError as error:
            if error.code != SFTP_FAILURE:
                raise
        problem = what_is_in_the_way(session, path, key, overwrite=True)
        if isinstance(problem, IsAFolder):
            raise problem
        old = temp_beside(path)
        aside.append(old)  # before the RENAME: its answer may be lost after it moved the file
        try:
            session.rename(path, old)
        except StatusError as error:
            aside.pop()
            if error.code == SFTP_NO_SUCH_FILE:
                continue  # removed meanwhile: the name is free again
            raise
        try:
            session.rename(temp, path)
        except StatusError as error:
            if error.code != SFTP_FAILURE:
                raise
            continue  # another writer took the name between our renames: go again
        while aside:  # the new file is in place: the old ones go
            try:
                session.remove(aside[-1])
            except StatusError as error:
                if error.code != SFTP_NO_SUCH_FILE:
                    raise
            aside.pop()
        return
    raise RemoteStoreError(
        f"could not replace {key!r}: other writers kept taking its name", path=key, backend="sftp"
    )


def what_is_in_the_way(
    session: Session, path: str, key: str, *, overwrite: bool
) -> RemoteStoreError:
    """A rename to *path* said only "Failure": look at *path* and say why."""
    try:
        mode = session.stat(path).st_mode
    except StatusError:
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        return IsAFolder(f"cannot write {key!r}: it is a folder", path=key, backend="sftp")
    if mode is not None and not overwrite:
        return AlreadyExists(f"{key!r} already exists", path=key, backend="sftp")
    return RemoteStoreError(
        f"the SFTP server could not put {key!r} in place (status {SFTP_FAILURE})",
        path=key,
        backend="sftp",
    )
