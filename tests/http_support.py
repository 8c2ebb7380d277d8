"""Web servers for the HTTP backend's tests: nginx (Range, ETag, a JSON index) and
Python's ``http.server`` (no Range, no ETag), each on a free 127.0.0.1 port."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from remote_store.backend import Backend

NGINX = "/usr/sbin/nginx"

#: ``/files/`` serves the root without an index; ``/listed/`` serves it with nginx's JSON
#: index; ``/moved/...`` answers 301 to ``/files/...``; ``/loop/`` redirects forever.
_CONFIG = """
daemon off;
master_process off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    log_format counts '$request_method $status $body_bytes_sent $connection';
    access_log {access_log};
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    types {{ text/plain txt; application/json json; application/octet-stream bin; }}
    default_type application/octet-stream;
    etag on;
    absolute_redirect off;
    sendfile on;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        root {root};
        location /files/ {{ alias {root}/; }}
        location /listed/ {{ alias {root}/; autoindex on; autoindex_format json; }}
        location /moved/ {{ rewrite ^/moved/(.*)$ /files/$1 permanent; }}
        location /loop/ {{ rewrite ^/loop/(.*)$ /loop/$1 redirect; }}
    }}
    server {{
        listen 127.0.0.1:{tls_port} ssl;
        server_name localhost;
        ssl_certificate {prefix}/cert.pem;
        ssl_certificate_key {prefix}/key.pem;
        location /files/ {{ alias {root}/; }}
    }}
}}
"""


@dataclass(frozen=True)
class WebServer:
    """A running server: its origin (``http://127.0.0.1:PORT``) and the folder it serves;
    *requests* lists ``(method, path, headers)`` where the server records them."""

    origin: str
    root: Path
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    #: nginx also serves ``/files/`` over TLS here, with a self-signed certificate.
    tls_origin: str | None = None
    ca_file: Path | None = None

    def url(self, location: str = "") -> str:
        return f"{self.origin}/{location.lstrip('/')}"

    def put(self, path: str, data: bytes) -> None:
        """Place a file (atomically: written beside it, then renamed over it)."""
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        partial_file = target.with_name(f".{target.name}.part")
        partial_file.write_bytes(data)
        os.replace(partial_file, target)


def self_signed(cert: Path, key: Path) -> None:
    """A certificate for 127.0.0.1 and localhost, signed by its own key (it is its CA)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "remote-store test")])
    now = datetime.datetime.now(datetime.UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes] | None, log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            text = log.read_text(errors="replace") if log.exists() else ""
            pytest.fail(f"nginx exited with {process.returncode}: {text[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    pytest.fail(f"nothing listens on 127.0.0.1:{port} after 15 s")


@contextlib.contextmanager
def run_nginx(prefix: Path, *, access_log: bool = False) -> Iterator[WebServer]:
    """Start nginx in the foreground with a config of its own under *prefix*, yield it,
    stop it by PID. Fails (never skips) when nginx is not installed. With *access_log*,
    ``PREFIX/access.log`` gets one line per request: method, status, body bytes sent,
    connection number."""
    if not Path(NGINX).is_file() and shutil.which("nginx") is None:
        pytest.fail("nginx is not installed: run `bash scripts/install-debian.sh` (nginx-light)")
    binary = NGINX if Path(NGINX).is_file() else str(shutil.which("nginx"))
    root = prefix / "root"
    root.mkdir(parents=True)
    port, tls_port = free_port(), free_port()
    self_signed(prefix / "cert.pem", prefix / "key.pem")
    config = prefix / "nginx.conf"
    log_to = f"{prefix}/access.log counts" if access_log else "off"
    config.write_text(
        _CONFIG.format(prefix=prefix, port=port, tls_port=tls_port, root=root, access_log=log_to)
    )
    log = prefix / "error.log"
    command = [binary, "-p", str(prefix), "-e", str(log), "-c", str(config)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        _wait_for_port(port, process, log)
        _wait_for_port(tls_port, process, log)
        yield WebServer(
            f"http://127.0.0.1:{port}",
            root,
            tls_origin=f"https://127.0.0.1:{tls_port}",
            ca_file=prefix / "cert.pem",
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class _PlainHandler(SimpleHTTPRequestHandler):
    """http.server's file handler, quiet, recording each request's method, path and
    headers; ``/hop/REST`` answers 302 to ``http://localhost:PORT/REST`` (another origin
    than ``127.0.0.1``)."""

    requests: list[tuple[str, str, dict[str, str]]]

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _record(self) -> bool:
        self.requests.append((self.command, self.path, dict(self.headers)))
        if not self.path.startswith("/hop/"):
            return False
        port = self.server.server_address[1]  # type: ignore[index]
        self.send_response(302)
        self.send_header("Location", f"http://localhost:{port}/{self.path[5:]}")
        self.send_header("Content-Length", "0")
        self.end_headers()
        return True

    def do_GET(self) -> None:
        if not self._record():
            super().do_GET()

    def do_HEAD(self) -> None:
        if not self._record():
            super().do_HEAD()


@contextlib.contextmanager
def run_plain_server(root: Path) -> Iterator[WebServer]:
    """Python's ``http.server`` over *root* in a thread: answers every GET with 200 and the
    whole file, sends no ETag."""
    root.mkdir(parents=True, exist_ok=True)
    requests: list[tuple[str, str, dict[str, str]]] = []
    handler = type("Handler", (_PlainHandler,), {"requests": requests})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="plain-http", daemon=True)
    thread.start()
    try:
        yield WebServer(f"http://127.0.0.1:{server.server_address[1]}", root, requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture(scope="session")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    """A running nginx (started once per session, stopped at its end by PID)."""
    with run_nginx(tmp_path_factory.mktemp("nginx")) as server:
        yield server


@pytest.fixture(scope="session")
def plain_http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    """Python's ``http.server`` (no Range, no ETag), for the fallback paths."""
    with run_plain_server(tmp_path_factory.mktemp("plain-http")) as server:
        yield server


def http_conformance_backend(request: pytest.FixtureRequest) -> Backend:
    """The conformance suite's ``http`` backend: nginx's JSON-indexed location, so the
    suite checks listing too, and that every write is refused."""
    from remote_store.backends.http import HttpBackend

    server: WebServer = request.getfixturevalue("nginx")
    return HttpBackend(server.url("listed"), listing="nginx-json")
