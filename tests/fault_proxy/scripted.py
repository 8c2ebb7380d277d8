"""A scripted upstream for protocol corners Azurite and the HNS emulator never produce:
a chunked body, a close-delimited body, a HEAD with a length; it records each PUT it gets
(request line, headers in order, body) and counts the connections made to it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Handler(BaseHTTPRequestHandler):
    """Answers the corners Azurite and the emulator do not produce; counts connections."""

    protocol_version = "HTTP/1.1"
    server: ScriptedUpstream

    def log_message(self, format: str, *args: Any) -> None:
        return

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def do_GET(self) -> None:
        self.send_response(200)
        if self.path == "/chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"hello ", b"chunked ", b"world", b""):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        else:  # no length, no chunking: the body ends when the connection does
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"until close")
            self.close_connection = True

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.end_headers()

    def do_PUT(self) -> None:
        if self.headers.get("Transfer-Encoding") == "chunked":
            body = b""
            while size := int(self.rfile.readline(), 16):
                body += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
        else:
            body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.seen.append((self.requestline, list(self.headers.items()), body))
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()


class ScriptedUpstream(ThreadingHTTPServer):
    daemon_threads = True
    connections = 0
    seen: list[tuple[str, list[tuple[str, str]], bytes]]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextmanager
def scripted_upstream() -> Iterator[ScriptedUpstream]:
    server = ScriptedUpstream(("127.0.0.1", 0), _Handler)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
