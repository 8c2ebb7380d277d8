"""`FaultProxy`: a loopback HTTP/1.1 proxy in front of an emulator, injecting planned faults.

Bounded on every axis so a broken test cannot hang or exhaust the session: it listens on
127.0.0.1 only, serves at most ``max_requests`` requests (later ones get a 502
``FaultProxyLimit``) and ``max_connections`` connections at once, shuts itself down after
``max_lifetime`` seconds, keeps at most ``log_size`` log entries, and copies bodies in
``chunk_size`` pieces. `close` stops every thread it started.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from .relay import Exchange, Relay
from .schedule import Fault, FaultKind, RequestInfo, Schedule

LOOPBACK = "127.0.0.1"
_POLL = 0.05  # how often the accept loop checks for close and for the lifetime bound


@dataclass(frozen=True)
class Stats:
    """Counters since start (or the last `FaultProxy.clear`)."""

    requests: int  # request heads read, refused ones included
    refused: int  # over max_requests
    connections: int  # client connections accepted
    bytes_up: int  # request-body bytes passed upstream
    bytes_down: int  # response-body bytes passed to clients
    faults: Mapping[str, int]  # faults that took effect, per `FaultKind` value (all kinds)

    @property
    def faults_total(self) -> int:
        return sum(self.faults.values())


class FaultProxy:
    """Forwarding proxy for *upstream* (``http://host:port[/path]``) on a free loopback port.

    Clients use `url` (the upstream URL with the proxy's host and port) in place of the
    upstream's, or `rewrite` a connection string; requests are forwarded unchanged, so
    SharedKey signatures stay valid. Plan faults with `add`; read `stats` and `log`.
    """

    def __init__(
        self,
        upstream: str,
        *,
        seed: int = 0,
        max_requests: int = 10_000,
        max_lifetime: float = 300.0,
        max_connections: int = 64,
        log_size: int = 10_000,
        chunk_size: int = 64 * 1024,
        io_timeout: float = 30.0,
        connection_string: str | None = None,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream must be an http:// URL, got {upstream!r}")
        self.upstream = upstream.rstrip("/")
        self._upstream_origin = f"http://{parts.netloc}"
        self._upstream_address = (parts.hostname, parts.port or 80)
        self._upstream_path = parts.path.rstrip("/")
        self._connection_string = connection_string
        self.max_requests = max_requests
        self.max_lifetime = max_lifetime
        self._chunk_size = chunk_size
        self._io_timeout = io_timeout
        self.schedule = Schedule(seed)
        self._lock = threading.Lock()
        self._log: deque[Exchange] = deque(maxlen=log_size)
        self._counts = self._zero_counts()
        self._faults = dict.fromkeys(FaultKind, 0)
        self._stop = threading.Event()
        self._slots = threading.BoundedSemaphore(max_connections)
        self._sockets: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._deadline = 0.0
        self.expired = False  # True once max_lifetime ran out (the proxy then shut down)

    @classmethod
    def for_connection_string(cls, connection_string: str, **options: Any) -> FaultProxy:
        """A proxy in front of the string's ``BlobEndpoint``; see `connection_string`."""
        fields = dict(part.split("=", 1) for part in connection_string.split(";") if "=" in part)
        if "BlobEndpoint" not in fields:
            raise ValueError("the connection string has no BlobEndpoint")
        return cls(fields["BlobEndpoint"], connection_string=connection_string, **options)

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> FaultProxy:
        if self._listener is not None:
            return self
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind((LOOPBACK, 0))  # loopback only, whatever the upstream is
        listener.listen(64)
        listener.settimeout(_POLL)
        self._listener = listener
        self._deadline = time.monotonic() + self.max_lifetime
        self._acceptor = threading.Thread(
            target=self._accept_loop, name=f"fault-proxy-{self.port}", daemon=True
        )
        self._acceptor.start()
        return self

    def close(self, timeout: float = 5.0) -> None:
        """Stop accepting, cut every connection (stalls and delays end at once), join."""
        self._halt()
        end = time.monotonic() + timeout
        if self._acceptor is not None:
            self._acceptor.join(max(0.0, end - time.monotonic()))
        for thread in list(self._threads):
            thread.join(max(0.0, end - time.monotonic()))

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._stop.is_set()

    def threads_alive(self) -> int:
        """Threads of this proxy still running (0 after `close`)."""
        threads = [*self._threads, *([self._acceptor] if self._acceptor else [])]
        return sum(1 for t in threads if t.is_alive())

    # -- addresses -------------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._listener is None:
            raise RuntimeError("the proxy is not started")
        return int(self._listener.getsockname()[1])

    @property
    def origin(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        """The upstream URL with the proxy's origin, e.g. ``http://127.0.0.1:P/devstoreaccount1``."""
        return self.origin + self._upstream_path

    def rewrite(self, text: str) -> str:
        """*text* (a URL or connection string) with the upstream's origin replaced by ours."""
        return text.replace(self._upstream_origin, self.origin)

    @property
    def connection_string(self) -> str:
        """The connection string given at construction, pointing at the proxy."""
        if self._connection_string is None:
            raise RuntimeError("no connection_string was given; use rewrite()")
        return self.rewrite(self._connection_string)

    # -- the plan --------------------------------------------------------------------------
    def add(self, *faults: Fault) -> Fault:
        """Append faults to the plan (first added, first offered); returns the last."""
        for fault in faults:
            self.schedule.add(fault)
        return faults[-1]

    def clear(self) -> None:
        """Drop the plan, the log and the counters."""
        self.schedule.clear()
        with self._lock:
            self._log.clear()
            self._counts = self._zero_counts()
            self._faults = dict.fromkeys(FaultKind, 0)

    def pending(self) -> list[Fault]:
        """Planned faults that may still fire."""
        return self.schedule.pending

    # -- observability -----------------------------------------------------------------------
    def stats(self) -> Stats:
        with self._lock:
            return Stats(**self._counts, faults={kind.value: n for kind, n in self._faults.items()})

    def log(self) -> list[Exchange]:
        """A copy of the request log, oldest first (at most ``log_size`` entries)."""
        with self._lock:
            return [dataclasses.replace(entry) for entry in self._log]

    def show(self) -> str:
        """The log, one line per request, for assertion messages."""
        return "\n".join(
            f"{e.method} {e.path}?{e.query} fault={e.fault and e.fault.value} "
            f"fired={e.fired} status={e.status} upstream={e.upstream_status} "
            f"up={e.bytes_up} down={e.bytes_down}" + (f" ({e.error})" if e.error else "")
            for e in self.log()
        )

    # -- the Hub protocol, called by relays ---------------------------------------------------
    @property
    def upstream_address(self) -> tuple[str, int]:
        return self._upstream_address

    @property
    def chunk_size(self) -> int:
        return self._chunk_size

    @property
    def io_timeout(self) -> float:
        return self._io_timeout

    def begin(self, info: RequestInfo) -> tuple[Exchange, Fault | None]:
        entry = Exchange(info.method, info.path, info.query)
        with self._lock:
            self._counts["requests"] += 1
            entry.refused = self._counts["requests"] > self.max_requests
            if entry.refused:
                self._counts["refused"] += 1
            self._log.append(entry)  # logged before any answer, so a client never outruns it
        fault = None if entry.refused else self.schedule.claim(info)
        self.note(entry, fault=fault.kind if fault is not None else None)
        return entry, fault

    def fired(self, entry: Exchange, kind: FaultKind) -> None:
        with self._lock:
            entry.fired = True
            self._faults[kind] += 1

    def moved(self, entry: Exchange, *, up: int = 0, down: int = 0) -> None:
        # Counted before the bytes are sent, so the log is complete when the client has them.
        with self._lock:
            entry.bytes_up += up
            entry.bytes_down += down
            self._counts["bytes_up"] += up
            self._counts["bytes_down"] += down

    def note(self, entry: Exchange, **fields: object) -> None:
        with self._lock:
            for name, value in fields.items():
                setattr(entry, name, value)

    def wait(self, seconds: float) -> bool:
        return not self._stop.wait(seconds)

    def track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def untrack(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)

    # -- internals -----------------------------------------------------------------------------
    @staticmethod
    def _zero_counts() -> dict[str, int]:
        return dict.fromkeys(("requests", "refused", "connections", "bytes_up", "bytes_down"), 0)

    def _halt(self) -> None:
        self._stop.set()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            # shutdown (not close) wakes a thread blocked in recv on it; the thread closes.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            if time.monotonic() > self._deadline:
                self.expired = True
                self._halt()
                return
            if not self._slots.acquire(timeout=_POLL):
                continue
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                self._slots.release()
                continue
            except OSError:
                self._slots.release()
                return  # the listener was closed
            client.settimeout(self._io_timeout)
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.track(client)
            with self._lock:
                self._counts["connections"] += 1
            thread = threading.Thread(
                target=self._serve,
                args=(client,),
                name=f"fault-proxy-{self.port}-conn",
                daemon=True,  # never holds up interpreter exit; close() joins them anyway
            )
            self._reap()
            self._threads.add(thread)
            thread.start()

    def _serve(self, client: socket.socket) -> None:
        try:
            if self._stop.is_set():  # closed between accept and start
                self.untrack(client)
                client.close()
                return
            Relay(self, client).run()
        finally:
            self._slots.release()

    def _reap(self) -> None:
        # Finished threads leave the set so a long session does not accumulate them.
        self._threads = {t for t in self._threads if t.is_alive()}
