"""A small web server whose behaviour a test sets: which files it has, whether it honours
Range, what ETag it sends, whether it answers HEAD and sends Content-Length. For the
corners nginx and http.server do not show (a server that stops honouring Range)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Behaviour:
    files: dict[str, bytes] = field(default_factory=dict)
    etags: dict[str, str] = field(default_factory=dict)
    #: Ranged GETs answered with 206 before Range is ignored (None: always honoured).
    ranges_honoured: int | None = None
    head_allowed: bool = True
    content_length: bool = True
    #: Path -> Location answered with 302.
    redirects: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    behaviour: Behaviour
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def do_GET(self) -> None:
        self._answer(head=False)

    def _answer(self, *, head: bool) -> None:
        b = self.behaviour
        with b.lock:
            b.requests.append((self.command, self.path, dict(self.headers)))
            data = b.files.get(self.path)
            location = b.redirects.get(self.path)
            etag = b.etags.get(self.path)
            ranged = self.headers.get("Range") if not head else None
            if ranged and b.ranges_honoured is not None:
                if b.ranges_honoured <= 0:
                    ranged = None
                else:
                    b.ranges_honoured -= 1
        if location is not None:
            return self._send(302, b"", {"Location": location}, head=head)
        if head and not b.head_allowed:
            return self._send(405, b"", {}, head=False)
        if data is None:
            return self._send(404, b"missing", {}, head=head)
        headers = {"ETag": etag} if etag else {}
        if ranged and ranged.startswith("bytes="):
            start_text, _, end_text = ranged[6:].partition("-")
            start, end = int(start_text), min(int(end_text), len(data) - 1)
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            return self._send(206, data[start : end + 1], headers, head=head)
        return self._send(200, data, headers, head=head)

    def _send(self, status: int, data: bytes, headers: dict[str, str], *, head: bool) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if self.behaviour.content_length or status != 200:
            self.send_header("Content-Length", str(len(data)))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if not head:
            self.wfile.write(data)


@contextmanager
def scripted_server(behaviour: Behaviour) -> Iterator[str]:
    """Serve *behaviour* on a free 127.0.0.1 port; yields its origin."""
    handler = type("Handler", (_Handler,), {"behaviour": behaviour})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="scripted-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
