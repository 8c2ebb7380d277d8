"""Reading through nginx: every byte right, in the number of requests the chunk size
implies (HTTP-004, HTTP-005, HTTP-006)."""

from __future__ import annotations

import io
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from remote_store.backends.http import HttpBackend
from remote_store.errors import IsAFolder, NotFound
from remote_store.store import Store
from tests.fault_proxy import FaultProxy
from tests.http.conftest import Site
from tests.http_support import run_nginx

pytestmark = pytest.mark.http

CHUNK = 64 * 1024


def payload(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


@pytest.mark.parametrize(
    "size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK + 17], ids=lambda n: f"{n}B"
)
def test_every_read_returns_the_file(site: Site, size: int) -> None:
    """HTTP-006: read_bytes, read, read_to and read_seekable agree with the file."""
    data = payload(size, seed=size)
    site.put("file.bin", data)
    store = Store(site.backend())
    assert store.read_bytes("file.bin") == data
    with store.read("file.bin") as stream:
        assert stream.read() == data
    sink = io.BytesIO()
    assert store.read_to("file.bin", sink) == size
    assert sink.getvalue() == data
    with store.read_seekable("file.bin") as stream:
        assert stream.read() == data


def test_sequential_read_is_one_ranged_request_per_chunk(
    site: Site, nginx_proxy: FaultProxy
) -> None:
    """HTTP-006: a 10-chunk file read to the end costs 10 GETs and moves its size once."""
    data = payload(10 * CHUNK, seed=1)
    site.put("file.bin", data)
    store = Store(site.backend(via=nginx_proxy, max_concurrency=1))
    nginx_proxy.clear()
    assert store.read_bytes("file.bin") == data
    log = nginx_proxy.log()
    assert [e.method for e in log] == ["GET"] * 10, nginx_proxy.show()
    assert all(e.status == 206 for e in log), nginx_proxy.show()
    assert sum(e.bytes_down for e in log) == len(data)


def test_read_ahead_fetches_the_same_bytes(site: Site, nginx_proxy: FaultProxy) -> None:
    """HTTP-006: with read-ahead threads the bytes and the requests are the same."""
    data = payload(12 * CHUNK + 5, seed=2)
    site.put("file.bin", data)
    store = Store(site.backend(via=nginx_proxy, max_concurrency=4))
    nginx_proxy.clear()
    assert store.read_bytes("file.bin") == data
    assert sum(e.bytes_down for e in nginx_proxy.log()) == len(data)
    assert len(nginx_proxy.log()) == 13


def test_random_reads_fetch_only_near_what_is_read(site: Site, nginx_proxy: FaultProxy) -> None:
    """HTTP-006: 50 random 4 KiB reads from a 4 MiB file move far less than the file."""
    data = payload(64 * CHUNK, seed=3)
    site.put("file.bin", data)
    store = Store(site.backend(via=nginx_proxy, chunk_size=1024 * 1024))
    rng = random.Random(4)
    with store.read_seekable("file.bin") as stream:
        nginx_proxy.clear()
        for _ in range(50):
            offset = rng.randrange(len(data) - 4096)
            stream.seek(offset)
            assert stream.read(4096) == data[offset : offset + 4096]
    log = nginx_proxy.log()
    assert len(log) <= 50
    assert sum(e.bytes_down for e in log) <= 50 * 64 * 1024


def test_seeks_read_like_a_file(site: Site) -> None:
    """HTTP-006: SEEK_SET, SEEK_CUR, SEEK_END, reading past the end."""
    data = payload(3 * CHUNK + 100, seed=5)
    site.put("file.bin", data)
    with Store(site.backend()).read_seekable("file.bin") as stream:
        assert stream.seek(CHUNK * 2 + 7) == CHUNK * 2 + 7
        assert stream.read(10) == data[CHUNK * 2 + 7 : CHUNK * 2 + 17]
        assert stream.seek(-5, io.SEEK_END) == len(data) - 5
        assert stream.read(100) == data[-5:]
        assert stream.read(1) == b""
        assert stream.seek(-CHUNK, io.SEEK_CUR) == len(data) - CHUNK
        assert stream.read() == data[-CHUNK:]


def test_metadata_is_one_head(site: Site, nginx_proxy: FaultProxy) -> None:
    """HTTP-004: size, ETag, Last-Modified and Content-Type from one HEAD."""
    site.put("notes.txt", b"hello")
    store = Store(site.backend(via=nginx_proxy))
    nginx_proxy.clear()
    info = store.get_file_info("notes.txt")
    assert [e.method for e in nginx_proxy.log()] == ["HEAD"]
    assert info.size == 5
    assert info.etag and info.etag.startswith('"')
    assert info.modified is not None
    assert info.content_type == "text/plain"
    assert info.path == "notes.txt"


def test_missing_files_and_folders(site: Site, nginx_proxy: FaultProxy) -> None:
    """HTTP-005: NotFound for nothing, IsAFolder for a folder (nginx redirects KEY to
    KEY/), and exists/is_file/is_folder from one HEAD each."""
    site.put("dir/inner.txt", b"x")
    store = Store(site.backend(via=nginx_proxy))
    with pytest.raises(NotFound) as caught:
        store.read_bytes("missing.bin")
    assert caught.value.path == "missing.bin"
    with pytest.raises(NotFound):
        store.get_file_info("dir/missing.txt")
    with pytest.raises(NotFound):
        store.read_seekable("missing.bin")
    for call in (store.read_bytes, store.get_file_info, store.read_seekable):
        with pytest.raises(IsAFolder):
            call("dir")
    nginx_proxy.clear()
    assert (store.exists("dir"), store.is_folder("dir"), store.is_file("dir")) == (
        True,
        True,
        False,
    )
    assert (store.exists("dir/inner.txt"), store.is_file("dir/inner.txt")) == (True, True)
    assert not store.is_folder("dir/inner.txt")
    assert not store.exists("nothing") and not store.is_folder("nothing")
    assert [e.method for e in nginx_proxy.log()] == ["HEAD"] * 8
    assert store.head("missing.bin") is None


def test_names_are_percent_encoded(site: Site) -> None:
    """HTTP-005: a key with spaces, '#', '?' and '%' reaches the right file."""
    site.put("odd name #1?%.txt", b"odd")
    backend = site.backend()
    assert Store(backend).read_bytes("odd name #1?%.txt") == b"odd"
    url = backend.native_path("odd name #1?%.txt")
    assert url.endswith("/odd%20name%20%231%3F%25.txt")
    assert backend.to_key(url) == "odd name #1?%.txt"


def test_threads_share_one_backend(site: Site) -> None:
    """HTTP-012: one backend (one pool) serves concurrent readers correctly."""
    files = {f"f{i}.bin": payload(3 * CHUNK + i, seed=i) for i in range(8)}
    for name, data in files.items():
        site.put(name, data)
    store = Store(site.backend(max_concurrency=3))

    def check(name: str) -> bool:
        with store.read_seekable(name) as stream:
            stream.seek(CHUNK)
            tail = stream.read()
        return store.read_bytes(name) == files[name] and tail == files[name][CHUNK:]

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(check, list(files) * 4))


def test_one_connection_serves_a_thread(tmp_path: Path) -> None:
    """HTTP-012: HEADs, misses and reads from one thread reuse one kept-alive connection
    (an answer's unread body never forces a new one), counted in nginx's access log."""
    with run_nginx(tmp_path, access_log=True) as server:
        server.put("f.bin", payload(1_000_000, seed=6))
        with HttpBackend(server.url("files"), max_concurrency=1) as backend:
            for _ in range(3):
                assert backend.get_file_info("f.bin").size == 1_000_000
                assert not backend.exists("missing.bin")
                assert backend.is_folder("")
            with pytest.raises(NotFound):
                backend.read_bytes("missing.bin")
            assert len(backend.read_bytes("f.bin")) == 1_000_000
    lines = (tmp_path / "access.log").read_text().split("\n")
    entries = [line.split() for line in lines if line]
    assert len(entries) == 8
    assert len({entry[3] for entry in entries}) == 1, entries
