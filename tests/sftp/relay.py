"""A raw TCP relay in front of sshd that can cut its connections: the fault proxy in
``tests/fault_proxy`` speaks HTTP/1.1 only, and an SSH stream has no requests to fault."""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time
from types import TracebackType


class Relay:
    """Forwards 127.0.0.1:`port` to *upstream*. `cut` resets every connection it carries;
    `cut_after` does so once that many more bytes went upstream (mid-transfer). While
    `refusing`, new connections are reset at once (the server looks down). With
    *idle_cut*, a connection that carried nothing either way for that many seconds is
    reset, as a NAT or firewall that forgets idle connections does; `idle_cuts` counts
    those."""

    def __init__(self, upstream: tuple[str, int], *, idle_cut: float | None = None) -> None:
        self._upstream = upstream
        self._idle_cut = idle_cut
        self.refusing = False
        self.idle_cuts = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)  # close() must not wait on a blocked accept
        self.port: int = self._listener.getsockname()[1]
        self.accepted = 0
        self.bytes_up = 0
        self._cut_at: int | None = None
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            if self.refusing:
                _reset(client)
                continue
            upstream = socket.create_connection(self._upstream)
            with self._lock:
                self.accepted += 1
                self._pairs.append((client, upstream))
            thread = threading.Thread(target=self._pump, args=(client, upstream), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        peers = {client: upstream, upstream: client}
        last = time.monotonic()
        try:
            while True:
                ready, _, _ = select.select(list(peers), [], [], 0.05)
                if self._closed:
                    return
                if ready:
                    last = time.monotonic()
                elif self._idle_cut is not None and time.monotonic() - last > self._idle_cut:
                    self.idle_cuts += 1
                    for sock in (client, upstream):
                        _reset(sock, close=False)  # closed below
                    return
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
                    if sock is client and self._count_up(len(data)):
                        self.cut()
                        return
        except OSError:
            return
        finally:
            for sock in (client, upstream):
                with contextlib.suppress(OSError):
                    sock.close()

    def _count_up(self, size: int) -> bool:
        with self._lock:
            self.bytes_up += size
            return self._cut_at is not None and self.bytes_up >= self._cut_at

    def cut_after(self, more_bytes: int) -> None:
        with self._lock:
            self._cut_at = self.bytes_up + more_bytes

    def cut(self) -> None:
        """Reset every connection now (RST, as a dropped link or a crashed peer looks)."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
            self._cut_at = None
        for pair in pairs:
            for sock in pair:
                _reset(sock, close=False)  # the pump closes it

    def close(self) -> None:
        self._closed = True
        self.cut()
        with contextlib.suppress(OSError):
            self._listener.close()
        self._accepting.join(timeout=5)
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> Relay:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _reset(sock: socket.socket, *, close: bool = True) -> None:
    """Reset (RST), as a dropped link or a crashed peer looks."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    if close:
        with contextlib.suppress(OSError):
            sock.close()
