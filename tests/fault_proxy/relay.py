"""One client connection: read each request, apply its fault, relay it upstream and back.

The request head is forwarded as received (request line and header lines byte for byte,
``Host`` included): SharedKey signs the method, the canonical headers and the
``/account/path`` resource, never the host, so an unchanged request verifies upstream.
Bodies are copied in bounded chunks both ways. The answer's head is relayed as parsed by
``http.client`` (order and duplicates kept); a chunked answer is re-chunked, since
``http.client`` decodes it, so byte counts always mean body bytes.
"""

from __future__ import annotations

import contextlib
import fcntl
import http.client
import select
import socket
import struct
import termios
import time
from dataclasses import dataclass
from typing import Protocol

from .answers import error_answer
from .schedule import Fault, FaultKind, RequestInfo

MAX_LINE = 65536
MAX_HEADERS = 200
# Azurite (node) closes idle keep-alive sockets after 5 s; reusing one near that edge
# races its close, so an upstream socket idle this long is replaced instead.
UPSTREAM_IDLE = 2.0
_BODY_CUTS = (FaultKind.RESET_MID_BODY, FaultKind.TRUNCATE, FaultKind.STALL)


@dataclass
class Exchange:
    """One request as the proxy saw it. Logged when its head is read, then filled in."""

    method: str
    path: str
    query: str
    fault: FaultKind | None = None
    fired: bool = False  # False when a body fault was claimed but the body was too short
    status: int | None = None  # what the client was sent (None: reset, nothing sent)
    upstream_status: int | None = None  # None: upstream not contacted or no answer
    bytes_up: int = 0  # request-body bytes passed upstream
    bytes_down: int = 0  # response-body bytes passed to the client
    refused: bool = False  # over the proxy's request bound
    error: str | None = None


class Hub(Protocol):
    """What a relay needs from its proxy (`FaultProxy` implements it)."""

    def begin(self, info: RequestInfo) -> tuple[Exchange, Fault | None]: ...
    def fired(self, entry: Exchange, kind: FaultKind) -> None: ...
    def moved(self, entry: Exchange, *, up: int = 0, down: int = 0) -> None: ...
    def note(self, entry: Exchange, **fields: object) -> None: ...
    def wait(self, seconds: float) -> bool: ...  # False: the proxy is closing
    def track(self, sock: socket.socket) -> None: ...
    def untrack(self, sock: socket.socket) -> None: ...
    @property
    def upstream_address(self) -> tuple[str, int]: ...
    @property
    def chunk_size(self) -> int: ...
    @property
    def io_timeout(self) -> float: ...


class _Closed(Exception):
    """The exchange ended the connection on purpose (a fault, or a peer going away)."""


@dataclass
class _Request:
    line: bytes
    header_lines: list[bytes]
    info: RequestInfo
    chunked: bool
    length: int
    expect_continue: bool

    @property
    def head(self) -> bytes:
        # Expect is answered by the proxy itself (it owns the client's side of the body).
        lines = [h for h in self.header_lines if not h.lower().startswith(b"expect:")]
        return self.line + b"".join(lines) + b"\r\n"


def reset(sock: socket.socket) -> None:
    """Close with SO_LINGER 0: the kernel sends RST instead of FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _drain_send_queue(sock: socket.socket, limit: float = 1.0) -> None:
    # An RST discards whatever the kernel has not sent yet; wait (briefly) until the bytes
    # the fault promised are out, so "after N bytes" means N bytes reached the client.
    deadline = time.monotonic() + limit
    with contextlib.suppress(OSError):
        while time.monotonic() < deadline:
            queued = struct.unpack("i", fcntl.ioctl(sock, termios.TIOCOUTQ, b"\0" * 4))[0]
            if queued == 0:
                return
            time.sleep(0.005)


class Relay:
    """Serves one accepted client socket until it closes, a fault ends it, or the proxy stops."""

    def __init__(self, hub: Hub, client: socket.socket) -> None:
        self.hub = hub
        self.client = client
        self.rfile = client.makefile("rb")
        self.upstream: socket.socket | None = None
        self.upstream_used = 0.0
        self.entry: Exchange | None = None  # the exchange in progress, for error notes

    def run(self) -> None:
        try:
            while self._serve_one():
                pass
        except (OSError, _Closed, http.client.HTTPException, ValueError) as error:
            # The peer or a fault ended the connection; the log says which.
            if self.entry is not None and self.entry.error is None:
                self.hub.note(self.entry, error=f"connection ended: {error!r}")
        finally:
            self._drop_upstream()
            self.rfile.close()
            self.hub.untrack(self.client)
            with contextlib.suppress(OSError):
                self.client.close()

    # -- reading the client's request ----------------------------------------------------
    def _read_request(self) -> _Request | None:
        line = self.rfile.readline(MAX_LINE + 1)
        if not line:
            return None  # the client closed an idle keep-alive connection
        parts = line.decode("latin-1").rstrip("\r\n").split(" ")
        if len(line) > MAX_LINE or len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise _Closed("malformed request line")
        header_lines: list[bytes] = []
        headers: dict[str, str] = {}
        while True:
            raw = self.rfile.readline(MAX_LINE + 1)
            if raw in (b"\r\n", b"\n"):
                break
            if not raw or len(raw) > MAX_LINE or len(header_lines) >= MAX_HEADERS:
                raise _Closed("malformed or oversized request head")
            header_lines.append(raw)
            name, _, value = raw.decode("latin-1").partition(":")
            key = name.strip().lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        path, _, query = parts[1].partition("?")
        info = RequestInfo(parts[0], path, query, headers)
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        length = 0 if chunked else int(headers.get("content-length") or 0)
        expect = headers.get("expect", "").lower() == "100-continue"
        return _Request(line, header_lines, info, chunked, length, expect)

    def _copy_request_body(
        self, request: _Request, entry: Exchange, dst: socket.socket | None, limit: int | None
    ) -> None:
        """Stream the body to *dst* (None: read and discard), stopping after *limit* bytes."""
        if request.expect_continue:
            self.client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        if request.chunked:
            self._copy_chunked(entry, dst, limit)
            return
        remaining = request.length
        while remaining and (limit is None or entry.bytes_up < limit):
            want = min(remaining, self.hub.chunk_size)
            if limit is not None:
                want = min(want, limit - entry.bytes_up)
            data = self.rfile.read1(want)
            if not data:
                raise _Closed("client closed mid-request")
            remaining -= len(data)
            if dst is not None:
                dst.sendall(data)
                self.hub.moved(entry, up=len(data))

    def _copy_chunked(self, entry: Exchange, dst: socket.socket | None, limit: int | None) -> None:
        # The chunk framing is relayed as received; only the data bytes are counted.
        def send(data: bytes) -> None:
            if dst is not None:
                dst.sendall(data)

        while True:
            size_line = self.rfile.readline(MAX_LINE + 1)
            size = int(size_line.split(b";")[0].strip() or b"x", 16)
            send(size_line)
            if size == 0:
                while True:
                    trailer = self.rfile.readline(MAX_LINE + 1)
                    send(trailer)
                    if trailer in (b"\r\n", b"\n", b""):
                        return
            remaining = size + 2  # the data, then its CRLF
            while remaining:
                data = self.rfile.read1(min(remaining, self.hub.chunk_size))
                if not data:
                    raise _Closed("client closed mid-request")
                remaining -= len(data)
                send(data)
            if dst is not None:
                self.hub.moved(entry, up=size)
            if limit is not None and entry.bytes_up >= limit:
                return

    # -- the upstream side ---------------------------------------------------------------
    def _connect_upstream(self) -> socket.socket:
        if self.upstream is not None:
            idle = time.monotonic() - self.upstream_used > UPSTREAM_IDLE
            # Readable while idle means the server closed it (EOF) or sent junk: don't reuse.
            if idle or select.select([self.upstream], [], [], 0)[0]:
                self._drop_upstream()
        if self.upstream is None:
            sock = socket.create_connection(self.hub.upstream_address, self.hub.io_timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.hub.track(sock)
            self.upstream = sock
        return self.upstream

    def _drop_upstream(self, *, rst: bool = False) -> None:
        if self.upstream is not None:
            self.hub.untrack(self.upstream)
            if rst:
                reset(self.upstream)
            else:
                with contextlib.suppress(OSError):
                    self.upstream.close()
            self.upstream = None

    def _forward(
        self, request: _Request, entry: Exchange, limit: int | None = None
    ) -> http.client.HTTPResponse | None:
        """Send the request upstream; return its answer with the head read (None: cut)."""
        try:
            sock = self._connect_upstream()
        except OSError as error:
            # Say so in a named answer: a bare reset here would pass for an injected fault.
            self.hub.note(entry, error=f"upstream unreachable: {error!r}")
            self._copy_request_body(request, entry, None, None)
            self._send_error(request, entry, 502, "FaultProxyUpstreamUnreachable", close=True)
            raise _Closed("upstream unreachable") from error
        sock.sendall(request.head)
        self._copy_request_body(request, entry, sock, limit)
        if limit is not None:
            return None
        response = http.client.HTTPResponse(sock, method=request.info.method)
        response.begin()
        self.hub.note(entry, upstream_status=response.status)
        return response

    def _finish_upstream(self, response: http.client.HTTPResponse) -> None:
        """Mark the upstream socket reusable, or drop it if its answer ends the connection."""
        response.close()
        if response.will_close:
            self._drop_upstream()
        else:
            self.upstream_used = time.monotonic()

    # -- one exchange ----------------------------------------------------------------------
    def _serve_one(self) -> bool:
        """Handle one request; False when the connection is done."""
        request = self._read_request()
        if request is None:
            return False
        entry, fault = self.hub.begin(request.info)
        self.entry = entry
        if entry.refused:
            self._copy_request_body(request, entry, None, None)
            self._send_error(request, entry, 502, "FaultProxyLimit", close=True)
            return False
        kind = fault.kind if fault is not None else None
        if fault is not None and kind is FaultKind.STATUS and not fault.forward:
            self.hub.fired(entry, FaultKind.STATUS)
            self._copy_request_body(request, entry, None, None)
            return self._send_fault_status(request, entry, fault)
        if kind is FaultKind.RESET:
            self._copy_request_body(request, entry, None, None)
            self.hub.fired(entry, FaultKind.RESET)
            raise self._reset_client()
        if fault is not None and kind is FaultKind.RESET_MID_UPLOAD:
            self._forward(request, entry, limit=fault.after_bytes)
            if entry.bytes_up < fault.after_bytes:
                self.hub.note(entry, error="whole body sent before the reset: it may have landed")
            self.hub.fired(entry, FaultKind.RESET_MID_UPLOAD)
            self._drop_upstream(rst=True)
            raise self._reset_client()
        if fault is not None and kind is FaultKind.DELAY:
            self.hub.fired(entry, FaultKind.DELAY)
            if not self.hub.wait(fault.seconds):
                raise _Closed("proxy closing")
        response = self._forward(request, entry)
        assert response is not None
        if kind in (FaultKind.DROP_RESPONSE, FaultKind.STATUS):
            assert fault is not None
            while response.read1(self.hub.chunk_size):
                pass  # the request landed; its answer is thrown away
            self._finish_upstream(response)
            self.hub.fired(entry, fault.kind)
            if fault.kind is FaultKind.STATUS:
                return self._send_fault_status(request, entry, fault)
            raise self._reset_client()
        return self._relay_response(request, response, entry, fault)

    def _reset_client(self) -> _Closed:
        self.rfile.close()
        self.hub.untrack(self.client)
        reset(self.client)
        return _Closed("reset")

    def _relay_response(
        self,
        request: _Request,
        response: http.client.HTTPResponse,
        entry: Exchange,
        fault: Fault | None,
    ) -> bool:
        self.hub.note(entry, status=response.status)
        head = [f"HTTP/1.1 {response.status} {response.reason}\r\n"]
        head += [f"{name}: {value}\r\n" for name, value in response.getheaders()]
        self.client.sendall("".join(head).encode("latin-1") + b"\r\n")
        bodiless = request.info.method == "HEAD" or response.status in (204, 304)
        cut = fault if fault is not None and fault.kind in _BODY_CUTS else None
        if not bodiless:
            self._relay_body(response, entry, cut)
        elif cut is not None:
            self.hub.note(entry, error="fault not fired: the answer has no body")
        keep = not response.will_close and "close" not in (
            request.info.headers.get("connection", "").lower()
        )
        self._finish_upstream(response)
        return keep

    def _relay_body(
        self, response: http.client.HTTPResponse, entry: Exchange, cut: Fault | None
    ) -> None:
        chunked = bool(response.chunked)
        while True:
            want = self.hub.chunk_size
            if cut is not None:
                if entry.bytes_down >= cut.after_bytes:
                    self.hub.fired(entry, cut.kind)
                    if cut.kind is not FaultKind.STALL:
                        self._drop_upstream(rst=True)
                        if cut.kind is FaultKind.TRUNCATE:
                            raise _Closed("truncated")  # run() closes: FIN, not RST
                        _drain_send_queue(self.client)
                        raise self._reset_client()
                    if not self.hub.wait(cut.seconds):
                        raise _Closed("proxy closing")
                    cut = None
                    continue
                want = min(want, cut.after_bytes - entry.bytes_down)
            try:
                data = response.read1(want)
            except http.client.IncompleteRead:
                # The upstream cut its own body short: pass the same failure on.
                self._drop_upstream()
                raise _Closed("upstream body cut short") from None
            if not data:
                break
            self.hub.moved(entry, down=len(data))
            if chunked:
                data = b"%x\r\n%s\r\n" % (len(data), data)
            self.client.sendall(data)
        if chunked:
            self.client.sendall(b"0\r\n\r\n")
        if cut is not None:
            error = f"fault not fired: the body ended before {cut.after_bytes} bytes"
            self.hub.note(entry, error=error)

    # -- answers made by the proxy ---------------------------------------------------------
    def _send_fault_status(self, request: _Request, entry: Exchange, fault: Fault) -> bool:
        self._send_error(
            request, entry, fault.http_status, fault.error_code, fault.headers, fault.body
        )
        return "close" not in request.info.headers.get("connection", "").lower()

    def _send_error(
        self,
        request: _Request,
        entry: Exchange,
        status: int,
        code: str,
        extra: tuple[tuple[str, str], ...] = (),
        body: bytes | None = None,
        *,
        close: bool = False,
    ) -> None:
        self.hub.note(entry, status=status)
        self.client.sendall(error_answer(request.info, status, code, extra, body, close=close))
