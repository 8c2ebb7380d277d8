"""S3 servers for the test session (MiniStack and moto on loopback), and the helpers the S3
tests share: a client, a fresh bucket, a request counter.

The session fixtures in ``tests/conftest.py`` start each server on a free 127.0.0.1 port
(``BIND_HOST=127.0.0.1 GATEWAY_PORT=P SERVICES=s3 ministack``; ``moto_server -H 127.0.0.1
-p P``) and stop it by PID. Set ``S3_TEST_ENDPOINT`` to use a server you run yourself
instead of MiniStack.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # boto3 is an extra: importing this module must not need it
    from remote_store.backends.s3 import S3Backend

# Any key works on both servers (they do not check signatures); these are placeholders.
ACCESS_KEY = "test"
SECRET_KEY = "test"
REGION = "us-east-1"


@dataclass
class S3Server:
    """A running S3 server's endpoint."""

    endpoint: str
    kind: str
    _client: Any = field(default=None, repr=False)
    _buckets: set[str] = field(default_factory=set, repr=False)

    def client(self) -> Any:
        """A plain boto3 client (one per server: clients are thread-safe)."""
        if self._client is not None:
            return self._client
        import boto3
        from botocore.config import Config

        self._client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
            config=Config(retries={"total_max_attempts": 1}),
        )
        return self._client

    def new_bucket(self, prefix: str = "t") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:20]}"
        self.client().create_bucket(Bucket=name)
        return name

    def ensure_bucket(self, name: str) -> str:
        if name in self._buckets:
            return name
        self._buckets.add(name)
        client = self.client()
        try:
            client.head_bucket(Bucket=name)
        except Exception:
            client.create_bucket(Bucket=name)
        return name

    def backend(self, bucket: str, *, arrow: bool = False, **options: Any) -> S3Backend:
        from remote_store.backends.s3 import S3Backend, S3PyArrowBackend

        cls = S3PyArrowBackend if arrow else S3Backend
        return cls(
            bucket,
            endpoint_url=options.pop("endpoint_url", self.endpoint),
            key=ACCESS_KEY,
            secret=SECRET_KEY,
            region_name=REGION,
            **options,
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tool(name: str) -> str:
    here = Path(sys.executable).parent / name
    found = str(here) if here.is_file() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[dev]' (scripts/test.sh does)")
    return found


@contextmanager
def run_server(kind: str, timeout: float = 30.0) -> Iterator[S3Server]:
    """Start MiniStack (``kind="ministack"``) or moto (``"moto"``), yield it, stop it by
    PID. Fails (never skips) when the server is not installed."""
    external = os.environ.get("S3_TEST_ENDPOINT") if kind == "ministack" else None
    if external:
        yield S3Server(external.rstrip("/"), kind)
        return
    port = _free_port()
    if kind == "ministack":
        env = {**os.environ, "BIND_HOST": "127.0.0.1", "GATEWAY_PORT": str(port), "SERVICES": "s3"}
        command = [_tool("ministack")]
    else:
        env = dict(os.environ)
        command = [_tool("moto_server"), "-H", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                err = process.stderr.read().decode(errors="replace") if process.stderr else ""
                pytest.fail(f"{kind} exited with code {process.returncode}:\n{err[-2000:]}")
            with socket.socket() as sock:
                sock.settimeout(0.2)
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"{kind} did not listen on 127.0.0.1:{port} within {timeout:.0f}s")
            time.sleep(0.05)
        yield S3Server(f"http://127.0.0.1:{port}", kind)
    finally:
        process.kill()
        process.wait()
        if process.stderr:
            process.stderr.close()


@dataclass
class RequestCounter:
    """Counts every HTTP request a botocore client sends (retries included), by operation,
    through botocore's ``before-send`` event."""

    sent: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, client: Any) -> RequestCounter:
        client.meta.events.register("before-send.s3", self._on_send)
        return self

    def _on_send(self, request: Any, **kwargs: Any) -> None:
        operation = request.context.get("operation_name") if hasattr(request, "context") else None
        with self._lock:
            self.sent.append(str(kwargs.get("event_name", "")).rpartition(".")[2] or str(operation))

    def clear(self) -> None:
        with self._lock:
            self.sent.clear()

    def __len__(self) -> int:
        return len(self.sent)


_CONFORMANCE_BUCKET = "conformance"


def conformance_backend(request: pytest.FixtureRequest) -> Any:
    """An `S3Backend` on the session's MiniStack, for the conformance factory table. Every
    conformance test roots its Store in a fresh folder, so they share one bucket; BC-010
    and BC-011 (a listing and HEADs per write) are opt-in, and the suite runs with them on."""
    server: S3Server = request.getfixturevalue("ministack")
    server.ensure_bucket(_CONFORMANCE_BUCKET)
    return server.backend(_CONFORMANCE_BUCKET, reject_write_under_file_ancestor=True)


def pyarrow_conformance_backend(request: pytest.FixtureRequest) -> Any:
    """An `S3PyArrowBackend` on the session's MiniStack, for the conformance table."""
    server: S3Server = request.getfixturevalue("ministack")
    server.ensure_bucket(_CONFORMANCE_BUCKET)
    return server.backend(_CONFORMANCE_BUCKET, arrow=True, reject_write_under_file_ancestor=True)


def moto_conformance_backend(request: pytest.FixtureRequest) -> Any:
    """The same on moto (which ignores If-Match on complete and CopySourceIfMatch)."""
    server: S3Server = request.getfixturevalue("moto")
    server.ensure_bucket(_CONFORMANCE_BUCKET)
    return server.backend(_CONFORMANCE_BUCKET, reject_write_under_file_ancestor=True)
