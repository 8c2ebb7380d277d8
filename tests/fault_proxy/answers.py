"""Answers the proxy makes up itself, shaped like the service's so the SDK parses them as
it would a real error: ``x-ms-error-code``, request ids, and an XML (Blob) or JSON (DFS)
body carrying the same code."""

from __future__ import annotations

import http.client
import json
import uuid
from email.utils import formatdate

from .schedule import RequestInfo

DEFAULT_VERSION = "2026-04-06"


def error_body(info: RequestInfo, code: str, request_id: str) -> bytes:
    message = f"Injected by the fault proxy.\nRequestId:{request_id}\nTime:{formatdate()}"
    if info.is_dfs:
        return json.dumps({"error": {"code": code, "message": message}}).encode()
    return (
        '\ufeff<?xml version="1.0" encoding="utf-8"?>'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    ).encode()


def error_answer(
    info: RequestInfo,
    status: int,
    code: str,
    extra: tuple[tuple[str, str], ...] = (),
    body: bytes | None = None,
    *,
    close: bool = False,
) -> bytes:
    """The whole answer (head and body) to *info*: *status*, *code*, then *extra* headers."""
    request_id = str(uuid.uuid4())
    if body is None:
        body = error_body(info, code, request_id)
    if info.method == "HEAD":
        body = b""  # the service sends HEAD errors without a body, as HTTP requires
    headers = [
        ("Content-Length", str(len(body))),
        ("Content-Type", "application/json;charset=utf-8" if info.is_dfs else "application/xml"),
        ("Date", formatdate(usegmt=True)),
        ("x-ms-error-code", code),
        ("x-ms-request-id", request_id),
        ("x-ms-version", info.headers.get("x-ms-version", DEFAULT_VERSION)),
        *extra,
    ]
    if "x-ms-client-request-id" in info.headers:
        headers.append(("x-ms-client-request-id", info.headers["x-ms-client-request-id"]))
    if close:
        headers.append(("Connection", "close"))
    reason = http.client.responses.get(status, "Error")
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{n}: {v}\r\n" for n, v in headers)
    return head.encode("latin-1") + b"\r\n" + body
