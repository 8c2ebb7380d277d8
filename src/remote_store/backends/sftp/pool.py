"""SFTP sessions: paramiko's client keeping the server's status codes and extensions, and a
bounded pool of them over one SSH transport, reconnected when the transport dies.

paramiko's `SFTPClient` keeps only two status codes (as errno) and drops the extensions the
server announces; `Session` keeps both, so errors are classified on the code and
``copy-data`` / ``posix-rename@openssh.com`` are used only when offered. One `Session` is
used by one thread at a time: the pool hands it out and takes it back.
"""

from __future__ import annotations

import collections
import errno
import logging
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

import paramiko
from paramiko import SFTPClient, Transport
from paramiko.message import Message
from paramiko.sftp import CMD_EXTENDED, CMD_INIT, CMD_VERSION, SFTPError, int64

from remote_store.errors import BackendUnavailable, RemoteStoreError

log = logging.getLogger("remote_store.sftp")

SFTP_OK, SFTP_EOF, SFTP_NO_SUCH_FILE, SFTP_PERMISSION_DENIED, SFTP_FAILURE = range(5)
SFTP_BAD_MESSAGE, SFTP_NO_CONNECTION, SFTP_CONNECTION_LOST, SFTP_OP_UNSUPPORTED = range(5, 9)

#: Each channel's receive window and largest packet: paramiko's 2 MiB window caps a
#: download at what fits in it per round trip (measured: 8 MiB read 64 MiB 2-3x faster).
WINDOW = 8 * 1024 * 1024
MAX_PACKET = 256 * 1024

_ERRNO = {SFTP_NO_SUCH_FILE: errno.ENOENT, SFTP_PERMISSION_DENIED: errno.EACCES}


class StatusError(IOError):
    """The server answered a request with an SFTP status other than OK and EOF."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(_ERRNO.get(code, errno.EIO), text)
        self.code = code


class Session(SFTPClient):
    """One SFTP channel. Raises `StatusError` carrying the status code, and records the
    extensions the server announced in its VERSION packet."""

    extensions: dict[str, bytes]
    generation: int = 0

    #: Requests sent per SFTP packet type, shared by the pool's sessions (tests and
    #: benchmarks read it; increments from several threads may race, harmlessly).
    sent: collections.Counter[int]

    def _async_request(self, fileobj: Any, t: int, *args: Any) -> int:
        self.sent[t] += 1
        return int(super()._async_request(fileobj, t, *args))  # type: ignore[misc]

    if TYPE_CHECKING:  # paramiko internals the stubs leave out

        def _request(self, t: int, *args: Any) -> tuple[int, Message]: ...
        def _read_response(self, waitfor: int | None = None) -> Any: ...
        def _send_packet(self, t: int, packet: Message) -> None: ...
        def _read_packet(self) -> tuple[int, bytes]: ...

    def _send_version(self) -> int:
        packet = Message()
        packet.add_int(3)
        self._send_packet(CMD_INIT, packet)
        kind, data = self._read_packet()
        if kind != CMD_VERSION:
            raise SFTPError("Incompatible sftp protocol")
        self.extensions = _extensions(data)
        return int(struct.unpack(">I", data[:4])[0])

    def _convert_status(self, msg: Message) -> None:
        code = msg.get_int()
        text = msg.get_text()
        if code == SFTP_OK:
            return
        if code == SFTP_EOF:
            raise EOFError(text)
        raise StatusError(code, text)

    def offers(self, extension: str) -> bool:
        return extension in self.extensions

    def copy_data(self, source: bytes, target: bytes) -> None:
        """Server-side copy of the whole open file *source* into the open file *target*
        (the ``copy-data`` extension: read offset 0, length 0 meaning "to the end")."""
        self._request(CMD_EXTENDED, "copy-data", source, int64(0), int64(0), target, int64(0))

    def is_usable(self) -> bool:
        channel = self.get_channel()
        return channel is not None and not channel.closed and channel.get_transport().is_active()


def connection_failed(error: BaseException) -> bool:
    """Whether *error* came from the connection (the session is unusable), not the server's
    answer or the library's own checks."""
    if isinstance(error, StatusError | RemoteStoreError | paramiko.AuthenticationException):
        return isinstance(error, BackendUnavailable) and error.retryable
    # SFTPError: a garbled packet, as read from the remains of a cut connection.
    return isinstance(error, EOFError | paramiko.SSHException | OSError | SFTPError)


def _extensions(data: bytes) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    offset = 4
    try:
        while offset < len(data):
            values = []
            for _ in range(2):
                (size,) = struct.unpack(">I", data[offset : offset + 4])
                values.append(data[offset + 4 : offset + 4 + size])
                offset += 4 + size
            found[values[0].decode("ascii", "replace")] = values[1]
    except struct.error:
        pass  # a truncated list: keep what was readable
    return found


class Pool:
    """At most *size* sessions over one transport (sshd allows 10 per connection by
    default). A dead transport is replaced on the next acquire; sessions of the old one are
    closed as they come back."""

    def __init__(self, connect: Callable[[], Transport], size: int, where: str) -> None:
        self._connect = connect
        self._size = size
        self._where = where
        self._cond = threading.Condition()
        self._transport: Transport | None = None
        self._generation = 0
        self._idle: list[Session] = []
        self._leased = 0
        self._connecting = False
        self._closed = False
        self.extensions: dict[str, bytes] | None = None
        self.withheld: frozenset[str] = frozenset()
        #: Failed writes' leftovers not yet removed (`stage.tidy`); list ops are atomic.
        self.leftovers: list[Any] = []
        self.sent: collections.Counter[int] = collections.Counter()

    def acquire(self, wait: float | None) -> Session:
        """A session for this thread alone; `release` it. Waits up to *wait* seconds when
        all are in use (`BackendUnavailable` after that)."""
        deadline = None if wait is None else time.monotonic() + wait
        with self._cond:
            while True:
                if self._closed:
                    raise BackendUnavailable(
                        "the sftp backend is closed", backend="sftp", retryable=False
                    )
                while self._idle:
                    session = self._idle.pop()
                    if session.generation == self._generation and session.is_usable():
                        self._leased += 1
                        return session
                    _close_quietly(session)
                if self._leased < self._size:
                    self._leased += 1
                    break
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise BackendUnavailable(
                        f"all {self._size} SFTP sessions to {self._where} stayed busy "
                        f"for {wait:g} s (raise max_sessions, or close open read streams)",
                        backend="sftp",
                    )
                self._cond.wait(remaining)
        try:
            return self._open_session()
        except BaseException:
            with self._cond:
                self._leased -= 1
                self._cond.notify()
            raise

    def release(self, session: Session, *, broken: bool = False) -> None:
        if broken:
            until_settled(session)
        with self._cond:
            self._leased -= 1
            keep = (
                not broken
                and not self._closed
                and session.generation == self._generation
                and session.is_usable()
            )
            if keep:
                self._idle.append(session)
            self._cond.notify()
        if not keep:
            _close_quietly(session)

    @contextmanager
    def session(self, wait: float | None) -> Iterator[Session]:
        """`acquire` and `release`; a session whose request failed on the connection (not
        with a status) is dropped."""
        session = self.acquire(wait)
        broken = False
        try:
            yield session
        except Exception as error:
            broken = connection_failed(error)
            raise
        finally:
            self.release(session, broken=broken or not session.is_usable())

    def _open_session(self) -> Session:
        transport, generation = self._live_transport()
        session = Session.from_transport(transport, window_size=WINDOW, max_packet_size=MAX_PACKET)
        if session is None:
            raise BackendUnavailable(f"no SFTP channel from {self._where}", backend="sftp")
        session.generation = generation
        session.sent = self.sent
        for name in self.withheld:
            session.extensions.pop(name, None)
        if self.extensions is None:
            self.extensions = dict(session.extensions)
        return session

    def _live_transport(self) -> tuple[Transport, int]:
        with self._cond:
            while self._connecting:  # single flight: one thread connects, the others wait
                self._cond.wait()
            transport = self._transport
            if transport is not None and transport.is_active():
                return transport, self._generation
            self._connecting = True
        try:
            fresh = self._connect()
        except BaseException:
            with self._cond:
                self._connecting = False
                self._cond.notify_all()
            raise
        with self._cond:
            self._connecting = False
            old, self._transport = self._transport, fresh
            self._generation += 1
            if old is not None:
                log.info("SFTP connection to %s was lost; reconnected", self._where)
            self._cond.notify_all()
            generation = self._generation
        if old is not None:
            _close_quietly(old)
        return fresh, generation

    def withhold(self, *names: str) -> None:
        """Behave as if the server did not announce the extensions *names* (for a server
        whose extension misbehaves, and for tests of the paths taken without one). Call
        it before the first request."""
        self.withheld = frozenset(names)
        self.extensions = None

    def transport(self) -> Transport | None:
        return self._transport

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            transport, self._transport = self._transport, None
            self._cond.notify_all()
        for session in idle:
            _close_quietly(session)
        if transport is not None:
            _close_quietly(transport)


def until_settled(session: Session, *, failed: bool = False, limit: float = 1.0) -> None:
    """Wait (briefly) for a dropped connection to be marked so: paramiko wakes a channel's
    readers, and fails a write to the dead socket, before its reading thread marks the
    transport inactive; a session opened meanwhile would be opened on the dead transport.
    With *failed* (a request of this session failed on the connection) wait even while the
    channel still looks open."""
    channel = session.get_channel()
    if channel is None or not (failed or channel.closed):
        return
    transport = channel.get_transport()
    deadline = time.monotonic() + limit
    while transport.is_active() and time.monotonic() < deadline:
        time.sleep(0.005)


def _close_quietly(thing: Any) -> None:
    with suppress(Exception):
        thing.close()
