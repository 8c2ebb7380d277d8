"""A scripted HTTP server on loopback: real HTTP responses for the real SDK to parse."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.azure_support import ACCOUNT, ACCOUNT_KEY


@dataclass
class Reply:
    status: int
    code: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    #: Send only this many body bytes, then drop the connection.
    cut_after: int | None = None


Script = Callable[[str, str], Reply]  # (method, path) -> reply


def error_body(code: str) -> bytes:
    return (
        f'\ufeff<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code>'
        f"<Message>scripted\nRequestId:0\nTime:0</Message></Error>"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    script: Script
    seen: list[tuple[str, str]]
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.seen.append((self.command, self.path))
        reply = self.script(self.command, self.path)
        body = reply.body
        if body is None and reply.code and self.command != "HEAD":
            body = error_body(reply.code)
        self.send_response(reply.status)
        if reply.code:
            self.send_header("x-ms-error-code", reply.code)
        for name, value in reply.headers:
            self.send_header(name, value)
        self.send_header("x-ms-version", "2026-02-06")
        self.send_header("Content-Length", str(len(body or b"")))
        if body and reply.code:
            self.send_header("Content-Type", "application/xml")
        self.end_headers()
        if body and self.command != "HEAD":
            if reply.cut_after is not None:
                self.wfile.write(body[: reply.cut_after])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.wfile.write(body)

    do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = _answer  # noqa: N815 (http.server names)


@dataclass
class Loopback:
    endpoint: str
    seen: list[tuple[str, str]]

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={self.endpoint};"
        )


@contextmanager
def serve(script: Script) -> Iterator[Loopback]:
    seen: list[tuple[str, str]] = []
    handler = type("Handler", (_Handler,), {"script": staticmethod(script), "seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Loopback(f"http://127.0.0.1:{server.server_address[1]}/{ACCOUNT}", seen)
    finally:
        server.shutdown()
        server.server_close()
