"""A file replaced while it is read: `PreconditionFailed`, never bytes of two versions
(HTTP-007); servers that ignore Range, always or after a while: the right bytes or
`PreconditionFailed`, never wrong ones (HTTP-008)."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator

import pytest

from remote_store.backends.http import HttpBackend
from remote_store.errors import PreconditionFailed
from remote_store.store import Store
from tests.fault_proxy import Fault, FaultKind, FaultProxy, Match, RequestInfo
from tests.http.conftest import Site
from tests.http.scripted import Behaviour, scripted_server

pytestmark = pytest.mark.http

CHUNK = 64 * 1024
FAST = {"attempts": 2, "backoff_base": 0.0, "backoff_max": 0.0, "timeout": 20.0}


def payload(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def replace(site: Site, name: str, data: bytes) -> None:
    """Replace the file, its mtime moved on: nginx's ETag is mtime-size, so a same-size
    file written within the same second would keep the ETag (no client can tell)."""
    site.put(name, data)
    later = time.time() + 10
    os.utime(site.server.root / site.path(name), (later, later))


@pytest.mark.parametrize("same_size", [True, False], ids=["same-size", "other-size"])
def test_forward_read_of_a_replaced_file_raises(site: Site, same_size: bool) -> None:
    """HTTP-007: the bytes before the failure are all the old version's."""
    old = payload(4 * CHUNK, seed=1)
    new = payload(4 * CHUNK if same_size else 3 * CHUNK, seed=2)
    site.put("file.bin", old)
    store = Store(site.backend(max_concurrency=1))
    with store.read("file.bin") as stream:
        head = stream.read(CHUNK)
        assert head == old[:CHUNK]
        replace(site, "file.bin", new)
        with pytest.raises(PreconditionFailed) as caught:
            stream.read()
    assert caught.value.path == "file.bin"
    assert store.read_bytes("file.bin") == new  # a new read sees the new version


def test_seekable_read_of_a_replaced_file_raises(site: Site) -> None:
    """HTTP-007: a seek to bytes not yet fetched, after the file changed, raises."""
    old = payload(8 * CHUNK, seed=3)
    site.put("file.bin", old)
    with Store(site.backend()).read_seekable("file.bin") as stream:
        assert stream.read(100) == old[:100]
        replace(site, "file.bin", payload(8 * CHUNK, seed=4))
        stream.seek(6 * CHUNK)
        with pytest.raises(PreconditionFailed):
            stream.read(10)


def test_read_ahead_of_a_replaced_file_raises(site: Site) -> None:
    """HTTP-007: read-ahead threads' ranges are pinned too."""
    old = payload(40 * CHUNK, seed=5)
    site.put("file.bin", old)
    received = bytearray()
    with Store(site.backend(max_concurrency=4)).read("file.bin") as stream:
        received += stream.read(CHUNK)
        replace(site, "file.bin", payload(40 * CHUNK, seed=6))
        with pytest.raises(PreconditionFailed):
            while piece := stream.read(CHUNK):
                received += piece
    assert bytes(received) == old[: len(received)]


def test_every_later_range_carries_if_range_and_if_match(
    site: Site, nginx_proxy: FaultProxy
) -> None:
    """HTTP-007: the ranges after the first name the first answer's ETag in If-Range and
    If-Match (a zero-second delay fault counts the requests that match)."""
    data = payload(5 * CHUNK, seed=7)
    site.put("file.bin", data)
    etag = Store(site.backend()).get_file_info("file.bin").etag
    assert etag is not None

    def pinned_request(request: RequestInfo) -> bool:
        headers = request.headers
        return headers.get("if-range") == etag and headers.get("if-match") == etag

    nginx_proxy.add(Fault.delay(0.0, times=None, match=Match(predicate=pinned_request)))
    store = Store(site.backend(via=nginx_proxy, max_concurrency=1))
    assert store.read_bytes("file.bin") == data
    pinned = [e for e in nginx_proxy.log() if e.fault is FaultKind.DELAY]
    assert len(pinned) == 4, nginx_proxy.show()  # all but the first of 5


# ---------------------------------------------------------------- servers ignoring Range


@pytest.fixture
def scripted() -> Iterator[tuple[str, Behaviour]]:
    behaviour = Behaviour()
    with scripted_server(behaviour) as origin:
        yield origin, behaviour


def test_a_server_without_range_is_read_whole(plain_site: Site) -> None:
    """HTTP-008: http.server answers a ranged GET with 200 and the whole file: read once,
    forward or (spooled) seekable, every byte right."""
    data = payload(5 * CHUNK + 3, seed=8)
    plain_site.put("file.bin", data)
    store = Store(plain_site.backend())
    requests = plain_site.server.requests
    start = len(requests)
    assert store.read_bytes("file.bin") == data
    with store.read_seekable("file.bin") as stream:
        stream.seek(3 * CHUNK)
        assert stream.read(100) == data[3 * CHUNK : 3 * CHUNK + 100]
        stream.seek(0)
        assert stream.read() == data
    assert [m for m, _, _ in requests[start:]] == ["GET", "GET"]


def test_a_server_that_stops_honouring_range_gives_the_right_bytes(
    scripted: tuple[str, Behaviour],
) -> None:
    """HTTP-008: a 200 (whole body) to a later range, same ETag: the range is cut out of
    it; the bytes are right."""
    origin, behaviour = scripted
    data = payload(6 * CHUNK, seed=9)
    behaviour.files["/d/file.bin"] = data
    behaviour.etags["/d/file.bin"] = '"v1"'
    behaviour.ranges_honoured = 2
    backend = HttpBackend(f"{origin}/d", chunk_size=CHUNK, max_concurrency=1, retry=FAST)
    with backend:
        assert Store(backend).read_bytes("file.bin") == data
        with Store(backend).read_seekable("file.bin") as stream:
            stream.seek(4 * CHUNK + 1)
            assert stream.read(10) == data[4 * CHUNK + 1 : 4 * CHUNK + 11]


def test_a_whole_body_of_another_version_raises(scripted: tuple[str, Behaviour]) -> None:
    """HTTP-008: a 200 to a later range with another ETag is never used."""
    origin, behaviour = scripted
    behaviour.files["/d/file.bin"] = payload(4 * CHUNK, seed=10)
    behaviour.etags["/d/file.bin"] = '"v1"'
    with HttpBackend(f"{origin}/d", chunk_size=CHUNK, max_concurrency=1, retry=FAST) as backend:
        stream = Store(backend).read("file.bin")
        with stream:
            stream.read(CHUNK)
            behaviour.files["/d/file.bin"] = payload(4 * CHUNK, seed=11)
            behaviour.etags["/d/file.bin"] = '"v2"'
            behaviour.ranges_honoured = 0
            with pytest.raises(PreconditionFailed):
                stream.read()


def test_a_weak_etag_is_not_pinned_on(scripted: tuple[str, Behaviour]) -> None:
    """HTTP-008: If-Range cannot use a weak ETag: the file is read in one whole GET."""
    origin, behaviour = scripted
    data = payload(3 * CHUNK, seed=12)
    behaviour.files["/d/file.bin"] = data
    behaviour.etags["/d/file.bin"] = 'W/"v1"'
    with HttpBackend(f"{origin}/d", chunk_size=CHUNK, max_concurrency=1, retry=FAST) as backend:
        assert Store(backend).read_bytes("file.bin") == data
    ranges = [h.get("Range") for _, _, h in behaviour.requests]
    assert ranges == [f"bytes=0-{CHUNK - 1}", None]


def test_metadata_without_content_length_or_head(scripted: tuple[str, Behaviour]) -> None:
    """HTTP-004: no Content-Length on HEAD: a one-byte range gives the size; a server
    refusing HEAD (405) is asked with a ranged GET instead."""
    origin, behaviour = scripted
    behaviour.files["/d/file.bin"] = payload(1000, seed=13)
    behaviour.content_length = False
    with HttpBackend(f"{origin}/d", retry=FAST) as backend:
        assert backend.get_file_info("file.bin").size == 1000
        behaviour.head_allowed = False
        assert backend.get_file_info("file.bin").size == 1000
        behaviour.ranges_honoured = 0  # nor Range: the body is counted
        assert backend.get_file_info("file.bin").size == 1000
