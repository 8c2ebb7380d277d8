"""The HTTP front end: a ``ThreadingHTTPServer`` on 127.0.0.1 serving both endpoints.

Both the Blob and the DFS endpoint live on one port, path-style
(``http://127.0.0.1:{port}/{account}/{container}/{path}``), because the
DataLake SDK derives its Blob URL from the DFS URL by replacing ``.dfs.``
with ``.blob.`` in the host name, which leaves an IP-address URL unchanged.
A request is a DFS request when it carries a DFS-only marker (``resource=``,
``action=``, ``recursive=``, ``continuation=``, ``mode=``,
``x-ms-rename-source``) or, failing that, ``Accept: application/json`` (the
SDKs send ``application/xml`` to Blob and ``application/json`` to DFS, as
every recording shows); everything else is a Blob request.
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from . import auth, blob_api, dfs_api
from .common import Request
from .errors import NotModified, Response, StorageError, render
from .namespace import Namespace

DEFAULT_VERSION = "2026-04-06"
_DFS_QUERY_MARKERS = ("resource", "action", "recursive", "continuation", "mode")
MAX_LOG = 100_000  # request-log entries kept (oldest dropped first)


@dataclass(frozen=True)
class LoggedRequest:
    """One served request, for round-trip budget assertions."""

    method: str
    service: str  # "blob" | "dfs"
    path: str  # raw URL path, account prefix included
    query: dict[str, str]
    status: int
    error_code: str | None


def _split_query(raw: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for part in raw.split("&"):
        if part:
            name, _, value = part.partition("=")
            out.append((unquote(name), value))
    return out


class EmulatorServer(ThreadingHTTPServer):
    """Holds the namespace, settings and request log for the handler threads."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, account: str, key: str, *, auth_enabled: bool) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.account = account
        self.key = key
        self.auth_enabled = auth_enabled
        self.namespace = Namespace()
        self.settings: dict[str, int | None] = {
            "list_blobs_page_size": None,
            "list_paths_page_size": None,
            "delete_page_size": None,
        }
        # Test control: GetAccountInfo answers this error code instead (e.g. a 403 for a
        # container-scoped SAS, a 503 for an outage), see HnsEmulator.fail_account_info.
        self.account_info_error: str | None = None
        self.log: deque[LoggedRequest] = deque(maxlen=MAX_LOG)
        self.log_lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the SDK reuses connections
    # Headers and body go out in separate writes; without TCP_NODELAY, Nagle
    # plus the client's delayed ACK adds ~40 ms to every answer with a body.
    disable_nagle_algorithm = True
    server: EmulatorServer

    def log_message(self, format: str, *args: Any) -> None:
        return  # the request log replaces stderr chatter

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        if len(data) < length:
            # The client went away mid-body. A real server never acts on an incomplete
            # request, so neither do we (a cut Put Blob must not store a partial blob).
            raise ConnectionResetError("request body cut short")
        return data

    def _serve(self) -> None:
        srv = self.server
        url = urlsplit(self.path)
        raw_query = _split_query(url.query)
        query = {name: unquote(value) for name, value in raw_query}
        headers = {k.lower(): v for k, v in self.headers.items()}
        meta = {
            k[len("x-ms-meta-") :]: v
            for k, v in self.headers.items()
            if k.lower().startswith("x-ms-meta-")
        }
        dfs = any(m in query for m in _DFS_QUERY_MARKERS) or "x-ms-rename-source" in headers
        if not dfs and "x-ms-copy-source" not in headers and "comp" not in query:
            dfs = headers.get("accept", "").startswith("application/json")
        try:
            body = self._body()
        except ConnectionResetError:
            self.close_connection = True
            return
        segments = url.path.lstrip("/").split("/", 2)
        account = unquote(segments[0]) if segments else ""
        req = Request(
            method=self.command,
            container=unquote(segments[1]) if len(segments) > 1 else "",
            name=unquote(segments[2]).strip("/") if len(segments) > 2 else "",
            query=query,
            headers=headers,
            body=body,
            raw_path=url.path,
            meta_headers=meta,
            settings=dict(srv.settings),
        )
        head = self.command == "HEAD"
        try:
            if account != srv.account:
                raise StorageError("InvalidUri")
            if srv.auth_enabled and not auth.verify(
                headers.get("authorization"),
                self.command,
                url.path,
                raw_query,
                headers,
                srv.account,
                srv.key,
            ):
                raise StorageError("AuthenticationFailed")
            if (
                srv.account_info_error is not None
                and query.get("restype") == "account"
                and query.get("comp") == "properties"
            ):
                raise StorageError(srv.account_info_error)
            if dfs:
                resp = dfs_api.handle(srv.namespace, req)
            else:
                resp = blob_api.handle(srv.namespace, req, srv.account)
        except StorageError as err:
            resp = render(err, dfs=dfs, head=head)
        except NotModified:
            resp = Response(304)
        entry = LoggedRequest(
            self.command,
            "dfs" if dfs else "blob",
            url.path,
            query,
            resp.status,
            resp.headers.get("x-ms-error-code"),
        )
        # Logged before answering so a client that saw the answer also sees the entry.
        with srv.log_lock:
            srv.log.append(entry)
        self._send(resp, headers, head)

    def _send(self, resp: Response, req_headers: dict[str, str], head: bool) -> None:
        self.send_response_only(resp.status, resp.reason)
        self.send_header("Date", self.date_time_string())
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        self.send_header("x-ms-version", req_headers.get("x-ms-version", DEFAULT_VERSION))
        if "x-ms-client-request-id" in req_headers:
            self.send_header("x-ms-client-request-id", req_headers["x-ms-client-request-id"])
        if resp.chunked_empty:
            # Recorded HEAD errors: no Content-Length, chunked, and (HEAD) no body.
            self.send_header("Transfer-Encoding", "chunked")
        elif "Content-Length" not in resp.headers:
            self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if not head and resp.body:
            self.wfile.write(resp.body)

    do_GET = do_PUT = do_HEAD = do_DELETE = do_PATCH = do_POST = _serve  # noqa: N815
