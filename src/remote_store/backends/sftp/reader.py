"""Reading a remote file with read-ahead: a window of READ requests in flight, answered in
the reading thread, so memory stays bounded and no thread outlives the stream.

paramiko's own ``prefetch`` is not used: it sends from a thread of its own that keeps
running (and spinning, with a request limit) after the file is closed early, on a session
the pool may already have handed to someone else.
"""

from __future__ import annotations

import io
import stat
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import suppress
from typing import Any, cast

from paramiko.message import Message
from paramiko.sftp import (
    CMD_CLOSE,
    CMD_DATA,
    CMD_FSTAT,
    CMD_HANDLE,
    CMD_OPENDIR,
    CMD_READ,
    CMD_READDIR,
    CMD_STATUS,
    int64,
)
from paramiko.sftp_attr import SFTPAttributes
from paramiko.sftp_file import SFTPFile

from remote_store.backends.sftp.errors import translate
from remote_store.backends.sftp.pool import Session, connection_failed
from remote_store.errors import BackendUnavailable, IsAFolder
from remote_store.streams import seek_target

#: Bytes asked for per READ (OpenSSH answers up to 255 KiB; a server answering less
#: teaches the stream its size).
CHUNK = 128 * 1024
#: READ requests in flight: up to 4 MiB read ahead.
DEPTH = 32


class _Answers:
    """Receives the answers paramiko's dispatcher hands to a file object."""

    def __init__(self) -> None:
        self.got: dict[int, tuple[int, Message]] = {}

    def _async_response(self, kind: int, msg: Message, num: int) -> None:
        self.got[num] = (kind, msg)


class RemoteFile(io.RawIOBase):
    """A file opened on a leased session; closing it closes the handle and hands the
    session back (*release* with ``broken=True`` when the connection failed)."""

    @classmethod
    def open(
        cls,
        session: Session,
        handle: SFTPFile,
        key: str,
        release: Callable[[Session, bool], None],
        *,
        read_ahead: bool,
    ) -> RemoteFile:
        """The stream over the just-opened *handle*: its FSTAT and (reading ahead) the
        first READ go out together. A folder is `IsAFolder`; on any failure the handle is
        closed and the session left to the caller."""
        stream = cls(session, handle, key, 0, release, read_ahead=read_ahead)
        try:
            fstat = session._async_request(stream._answers, CMD_FSTAT, _handle(handle))
            if read_ahead:
                stream._fill()  # size 0 so far: one READ, at offset 0
            kind, msg = stream._answer(fstat)
            if kind == CMD_STATUS:
                session._convert_status(msg)
            attrs = SFTPAttributes._from_msg(msg)  # type: ignore[attr-defined]  # no stub
            check_regular(attrs.st_mode, key)
            stream._size = attrs.st_size or 0
        except BaseException:
            with suppress(Exception):
                stream._drain()
                handle.close()
            io.RawIOBase.close(stream)  # closed without handing the session back
            raise
        return stream

    def __init__(
        self,
        session: Session,
        handle: SFTPFile,
        key: str,
        size: int,
        release: Callable[[Session, bool], None],
        *,
        read_ahead: bool,
    ) -> None:
        super().__init__()
        self._session = session
        self._file = handle
        self._key = key
        self._size = size
        self._release = release
        self._read_ahead = read_ahead
        self._position = 0
        self._answers = _Answers()
        self._pending: deque[tuple[int, int, int]] = deque()  # (request, offset, length)
        self._next = 0  # offset of the next READ to send
        self._eof = False
        self._broken = False
        self._buffer = memoryview(b"")
        self._chunk = CHUNK

    # ------------------------------------------------------------------ io protocol

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return not self._read_ahead

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if self._read_ahead:
            raise io.UnsupportedOperation("this stream reads forward only")
        target = seek_target(offset, whence, self._position, self._size)
        self._position = target
        return target

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if not len(view):
            return 0
        with self._failures():
            if not self._read_ahead:
                data: bytes | memoryview = self._at(len(view))
            else:
                if not self._buffer:
                    self._buffer = memoryview(self._fetch())
                data, self._buffer = self._buffer[: len(view)], self._buffer[len(view) :]
        view[: len(data)] = data
        self._position += len(data)
        return len(data)

    def close(self) -> None:
        if self.closed:
            return
        try:
            if not self._broken:
                with self._failures():
                    self._drain()
                    # Not waited for: the answer is skipped by the session's next request.
                    self._file._close(async_=True)  # type: ignore[attr-defined]  # no stub
        except BackendUnavailable:
            pass  # closing a read loses nothing; the session is dropped, not reused
        finally:
            super().close()
            self._release(self._session, self._broken or not self._session.is_usable())

    def chunks(self) -> Iterator[bytes]:
        """The rest of the file, as the READ answers arrive (read-ahead streams)."""
        while True:
            with self._failures():
                data = self._fetch()
            if not data:
                return
            self._position += len(data)
            yield data

    # ------------------------------------------------------------------ reading

    def _at(self, size: int) -> bytes:
        """One READ at the current position (a seekable stream)."""
        try:
            _, msg = self._session._request(
                CMD_READ, self._file.handle, int64(self._position), min(size, CHUNK)
            )
        except EOFError:
            return b""
        return bytes(msg.get_string())

    def _fetch(self) -> bytes:
        """The next bytes in order (``b""`` at the end), keeping the window of READs full."""
        while not self._eof:
            self._fill()
            request, offset, length = self._pending.popleft()
            kind, msg = self._answer(request)
            if kind == CMD_STATUS:
                try:
                    self._session._convert_status(msg)
                except EOFError:
                    self._eof = True
                    self._drain()
                    return b""
            if kind != CMD_DATA:
                raise EOFError("unexpected answer to READ")
            data = bytes(msg.get_string())
            if len(data) < length:
                self._drain()
                self._next = offset + len(data)
                if data and self._next < self._size:
                    # A server sending less than asked: go on from there, asking for that.
                    self._chunk = len(data)
                elif data:
                    # A short answer ending at the size seen at open: the end, no probe.
                    self._eof = True
            if data:
                return data
        return b""

    def _fill(self) -> None:
        # Up to the size seen at open, plus one READ past it to find the end (the file may
        # have grown).
        while len(self._pending) < DEPTH and (self._next <= self._size or not self._pending):
            num = self._session._async_request(
                self._answers, CMD_READ, self._file.handle, int64(self._next), self._chunk
            )
            self._pending.append((num, self._next, self._chunk))
            self._next += self._chunk

    def _answer(self, request: int) -> tuple[int, Message]:
        while request not in self._answers.got:
            self._session._read_response()
        return self._answers.got.pop(request)

    def _drain(self) -> None:
        """Collect the answers still in flight, so the session is clean for its next user."""
        while self._pending:
            request, _, _ = self._pending.popleft()
            self._answer(request)

    def _failures(self) -> _Guard:
        return _Guard(self)


class _Guard:
    """Translates a failure and remembers whether it broke the connection."""

    def __init__(self, stream: RemoteFile) -> None:
        self._stream = stream
        self._inner = translate("read", stream._key)

    def __enter__(self) -> None:
        self._inner.__enter__()

    def __exit__(self, *exc: Any) -> bool | None:
        if exc[1] is not None and connection_failed(exc[1]):
            self._stream._broken = True
        return self._inner.__exit__(*exc)


#: READDIR requests in flight while listing (OpenSSH answers up to 100 names each).
LIST_DEPTH = 8


def list_folder(session: Session, path: str) -> list[SFTPAttributes]:
    """Every entry of the folder *path* but ``.`` and ``..``, with up to `LIST_DEPTH`
    READDIRs in flight; answers are matched by request id, not by arrival order."""
    kind, msg = session._request(CMD_OPENDIR, path)
    if kind != CMD_HANDLE:
        raise EOFError("unexpected answer to OPENDIR")
    handle = msg.get_binary()
    answers = _Answers()
    pending: deque[int] = deque()
    found: list[SFTPAttributes] = []
    done = False
    try:
        while not done:
            while len(pending) < LIST_DEPTH:
                pending.append(session._async_request(answers, CMD_READDIR, handle))
            kind, msg = _wait(session, answers, pending.popleft())
            if kind == CMD_STATUS:
                try:
                    session._convert_status(msg)
                except EOFError:
                    done = True
                continue
            for _ in range(msg.get_int()):
                name = msg.get_text()
                longname = msg.get_text()
                attrs = SFTPAttributes._from_msg(msg, name, longname)  # type: ignore[attr-defined]
                if name not in (".", ".."):
                    found.append(attrs)
    finally:
        while pending:
            _wait(session, answers, pending.popleft())
        session._async_request(type(None), CMD_CLOSE, handle)  # not waited for
    return found


def _wait(session: Session, answers: _Answers, request: int) -> tuple[int, Message]:
    while request not in answers.got:
        session._read_response()
    return answers.got.pop(request)


def check_regular(mode: int | None, key: str) -> None:
    if mode is not None and stat.S_ISDIR(mode):
        raise IsAFolder(f"{key!r} is a folder, not a file", path=key, backend="sftp")


def _handle(opened: SFTPFile) -> bytes:
    # The stubs type it as a server-side SFTPHandle; on a client it is the handle's bytes.
    return cast(bytes, opened.handle)
