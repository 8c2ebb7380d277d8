"""The test servers themselves: nginx answers ranges with ETags and lists folders as JSON
where configured; http.server ignores Range and sends no ETag (the fallback's premise)."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.http_support import WebServer

pytestmark = pytest.mark.http


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


def test_nginx_answers_a_range_with_206_and_an_etag(nginx: WebServer) -> None:
    nginx.put("rig/file.bin", bytes(range(256)))
    status, headers, body = _get(nginx.url("files/rig/file.bin"), {"Range": "bytes=10-19"})
    assert status == 206
    assert body == bytes(range(10, 20))
    assert headers["Content-Range"] == "bytes 10-19/256"
    assert headers["ETag"].startswith('"')


def test_nginx_lists_one_location_as_json(nginx: WebServer) -> None:
    nginx.put("rig/listed/a.txt", b"abc")
    (nginx.root / "rig/listed/sub").mkdir(exist_ok=True)
    status, headers, body = _get(nginx.url("listed/rig/listed/"))
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    entries = {entry["name"]: entry for entry in json.loads(body)}
    assert entries["a.txt"]["type"] == "file" and entries["a.txt"]["size"] == 3
    assert entries["sub"]["type"] == "directory"


def test_plain_server_ignores_range_and_sends_no_etag(plain_http: WebServer) -> None:
    plain_http.put("rig/file.bin", bytes(range(256)))
    status, headers, body = _get(plain_http.url("rig/file.bin"), {"Range": "bytes=10-19"})
    assert status == 200
    assert body == bytes(range(256))
    assert "ETag" not in headers
