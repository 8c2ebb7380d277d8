"""Redirects, bounded and held to the plain-http rule (HTTP-009); transient failures
retried within the policy, bodies cut mid-way resumed, the content verified (HTTP-010)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import pytest

from remote_store.backends.http import HttpBackend
from remote_store.config import Secret
from remote_store.errors import BackendUnavailable, NotFound
from remote_store.store import Store
from tests.fault_proxy import Fault, FaultProxy, Match
from tests.http.conftest import Site
from tests.http.scripted import Behaviour, scripted_server

pytestmark = pytest.mark.http

CHUNK = 64 * 1024
TOKEN = "Bearer tok-9f3a1c77e5"


def payload(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


# ---------------------------------------------------------------- redirects


def test_a_moved_location_is_followed(site: Site, nginx_proxy: FaultProxy) -> None:
    """HTTP-009: /moved/... answers 301 to /files/...: each request follows it."""
    data = payload(3 * CHUNK, seed=1)
    site.put("file.bin", data)
    backend = site.backend(max_concurrency=1)
    moved = HttpBackend(site.base(nginx_proxy.url.rstrip("/"), "moved"), chunk_size=CHUNK)
    with moved:
        nginx_proxy.clear()
        assert Store(moved).read_bytes("file.bin") == data
        assert moved.get_file_info("file.bin").size == len(data)
    statuses = [e.status for e in nginx_proxy.log()]
    assert statuses.count(301) == 4 and statuses.count(206) == 3, nginx_proxy.show()
    assert Store(backend).read_bytes("file.bin") == data


@pytest.mark.parametrize("limit", [0, 3])
def test_redirects_are_bounded(site: Site, nginx_proxy: FaultProxy, limit: int) -> None:
    """HTTP-009: /loop/ redirects forever: max_redirects + 1 requests, then a
    non-retryable BackendUnavailable."""
    base = site.base(nginx_proxy.url.rstrip("/"), "loop")
    with HttpBackend(base, max_redirects=limit) as backend:
        nginx_proxy.clear()
        with pytest.raises(BackendUnavailable, match="max_redirects") as caught:
            backend.read_bytes("file.bin")
    assert caught.value.retryable is False
    assert len(nginx_proxy.log()) == limit + 1


def test_credentials_stay_with_the_configured_origin(plain_site: Site) -> None:
    """HTTP-002, HTTP-009: a redirect to another origin (127.0.0.1 -> localhost) is
    followed without the credential headers; other headers still go."""
    plain_site.put("file.bin", b"payload")
    requests = plain_site.server.requests
    headers: dict[str, str | Secret] = {
        "Authorization": Secret(TOKEN),
        "X-Api-Key": "key-55aa",
        "Accept": "*/*",
    }
    base = plain_site.base(location="hop")
    with HttpBackend(base, headers=headers) as backend:
        start = len(requests)
        assert backend.read_bytes("file.bin") == b"payload"
    first, second = requests[start], requests[start + 1]
    assert first[1].startswith("/hop/")
    assert first[2]["Authorization"] == TOKEN and first[2]["X-Api-Key"] == "key-55aa"
    assert second[2]["Host"].startswith("localhost:")
    assert "Authorization" not in second[2] and "X-Api-Key" not in second[2]
    assert second[2]["Accept"] == "*/*"


@pytest.fixture
def scripted() -> Iterator[tuple[str, Behaviour]]:
    behaviour = Behaviour()
    with scripted_server(behaviour) as origin:
        yield origin, behaviour


def test_a_redirect_to_plain_http_elsewhere_is_refused(scripted: tuple[str, Behaviour]) -> None:
    """HTTP-009: the plain-http rule holds for redirect targets too."""
    origin, behaviour = scripted
    behaviour.redirects["/d/file.bin"] = "http://files.example.org/file.bin"
    with HttpBackend(f"{origin}/d") as backend, pytest.raises(BackendUnavailable) as caught:
        backend.read_bytes("file.bin")
    assert "http://" in str(caught.value) and caught.value.retryable is False
    assert len(behaviour.requests) == 1


# ---------------------------------------------------------------- faults


def test_5xx_answers_are_retried(site: Site, nginx_proxy: FaultProxy) -> None:
    """HTTP-010: two 503s, then the answer; the content is right."""
    data = payload(2 * CHUNK, seed=2)
    site.put("file.bin", data)
    nginx_proxy.add(Fault.status(503, times=2, match=Match(method="GET")))
    assert Store(site.backend(via=nginx_proxy)).read_bytes("file.bin") == data
    assert [e.status for e in nginx_proxy.log()][:3] == [503, 503, 206]


def test_a_reset_before_the_answer_is_retried(site: Site, nginx_proxy: FaultProxy) -> None:
    """HTTP-010: a connection reset with no answer: sent again (reads are idempotent)."""
    site.put("notes.txt", b"hello")
    nginx_proxy.add(Fault.reset(match=Match(method="HEAD")))
    nginx_proxy.add(Fault.reset(match=Match(method="GET")))
    store = Store(site.backend(via=nginx_proxy))
    assert store.get_file_info("notes.txt").size == 5
    assert store.read_bytes("notes.txt") == b"hello"
    assert [e.status for e in nginx_proxy.log()] == [None, 200, None, 206]


@pytest.mark.parametrize("kind", ["reset", "truncate"])
def test_a_body_cut_mid_way_is_resumed(site: Site, nginx_proxy: FaultProxy, kind: str) -> None:
    """HTTP-010: the rest of a cut body is asked for (pinned), not the whole file again.
    After a clean close every byte received is kept (the bytes moved equal the size); a
    reset may discard what the kernel had buffered, so at most the cut bytes are moved
    twice."""
    data = payload(4 * CHUNK, seed=3)
    site.put("file.bin", data)
    cut = Fault.reset_mid_body if kind == "reset" else Fault.truncate
    nginx_proxy.add(cut(10_000, skip=1, match=Match(method="GET")))
    assert Store(site.backend(via=nginx_proxy, max_concurrency=1)).read_bytes("file.bin") == data
    log = nginx_proxy.log()
    assert len(log) == 5, nginx_proxy.show()
    moved = sum(e.bytes_down for e in log)
    if kind == "truncate":
        assert moved == len(data)
    else:
        assert len(data) <= moved <= len(data) + 10_000


def test_persistent_5xx_ends_in_backend_unavailable(site: Site, nginx_proxy: FaultProxy) -> None:
    """HTTP-010: attempts exhausted: BackendUnavailable (retryable), saying so."""
    site.put("file.bin", b"x")
    nginx_proxy.add(Fault.status(500, times=None))
    with pytest.raises(BackendUnavailable, match="attempts") as caught:
        site.backend(via=nginx_proxy).read_bytes("file.bin")
    assert caught.value.retryable is True
    assert len(nginx_proxy.log()) == 3


def test_a_missing_file_is_not_retried(site: Site, nginx_proxy: FaultProxy) -> None:
    """HTTP-010: 404 is an answer, not a failure: one request."""
    with pytest.raises(NotFound):
        site.backend(via=nginx_proxy).read_bytes("missing.bin")
    assert len(nginx_proxy.log()) == 1


def test_a_slow_server_meets_the_deadline(site: Site, nginx_proxy: FaultProxy) -> None:
    """HTTP-010: a request never runs past the call's deadline (retry.timeout)."""
    site.put("file.bin", b"x")
    nginx_proxy.add(Fault.delay(5.0, times=None))
    backend = site.backend(
        via=nginx_proxy, retry={"attempts": 5, "backoff_base": 0.0, "timeout": 0.5}
    )
    with pytest.raises(BackendUnavailable, match="deadline"):
        backend.read_bytes("file.bin")


def test_a_whole_body_cut_is_an_error_not_short_data(
    plain_site: Site, fault_proxy: Callable[..., FaultProxy]
) -> None:
    """HTTP-008, HTTP-010: without Range a cut body cannot be resumed: the read fails
    with BackendUnavailable rather than returning fewer bytes; a new read succeeds."""
    data = payload(3 * CHUNK, seed=4)
    plain_site.put("file.bin", data)
    proxy = fault_proxy(plain_site.server.origin)
    proxy.add(Fault.truncate(50_000, match=Match(method="GET")))
    store = Store(plain_site.backend(via=proxy))
    with pytest.raises(BackendUnavailable):
        store.read_bytes("file.bin")
    assert store.read_bytes("file.bin") == data
