"""A loopback TCP proxy that can cut a request in the middle of its body.

Sits between the SDK and the emulator. When armed with `cut_after(n)`, it forwards the
next *n* bytes the client sends, then closes both sides of that connection: the server
sees a request body cut short, the client a dropped connection, as when a network path
dies during an upload.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress


class CuttingProxy:
    def __init__(self, upstream_port: int) -> None:
        self._upstream = ("127.0.0.1", upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._budget: int | None = None
        self.cuts = 0
        self._closed = False
        threading.Thread(target=self._accept, name="cutting-proxy", daemon=True).start()

    def cut_after(self, n: int) -> None:
        """Cut the connection that carries the *n*-th client byte from now on (once)."""
        with self._lock:
            self._budget = n

    def _take(self, size: int) -> int | None:
        """How many of the next *size* client bytes pass before the cut; None: all."""
        with self._lock:
            if self._budget is None or size <= self._budget:
                if self._budget is not None:
                    self._budget -= size
                return None
            allowed, self._budget = self._budget, None
            self.cuts += 1
            return allowed

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self._upstream)
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._upload, args=(client, server), daemon=True).start()
            threading.Thread(target=self._download, args=(server, client), daemon=True).start()

    def _upload(self, client: socket.socket, server: socket.socket) -> None:
        try:
            while data := client.recv(65536):
                allowed = self._take(len(data))
                if allowed is not None:
                    server.sendall(data[:allowed])
                    break  # cut: drop both sides
                server.sendall(data)
        except OSError:
            pass
        for sock in (client, server):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _download(self, server: socket.socket, client: socket.socket) -> None:
        with suppress(OSError):
            while data := server.recv(65536):
                client.sendall(data)
        with suppress(OSError):
            client.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._closed = True
        self._listener.close()


@contextmanager
def cutting_proxy(upstream_port: int) -> Iterator[CuttingProxy]:
    proxy = CuttingProxy(upstream_port)
    try:
        yield proxy
    finally:
        proxy.close()
