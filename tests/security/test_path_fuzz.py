"""Hostile paths (PTH-*, ST-001, ST-003): every path-taking Store method, fed arbitrary
strings, either stays inside the store root or raises `InvalidPath`; nothing outside the
root is written, read back, deleted or listed."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from remote_store.backend import Backend
from remote_store.backends import LocalBackend, MemoryBackend
from remote_store.errors import RemoteStoreError
from remote_store.models import FileInfo, WriteResult
from remote_store.store import Store
from tests.azure_support import conformance_backend, hns_conformance_backend

ROOT = "fuzz-root"
SENTINEL = b"outside the root: must never change"
#: Examples per backend: the services cost a few requests per example.
EXAMPLES = {"memory": 300, "local": 200, "azure": 25, "azure-hns": 100}
COUNTS: dict[str, int] = {}

_HOSTILE = [
    "..",
    "../x",
    "a/../../x",
    "/etc/passwd",
    "\\..\\x",
    "a\\..\\..\\x",
    "C:\\x",
    "C:/x",
    "//server/share",
    "a/\x00/b",
    "\x00",
    "a\x00",
    "\x1b[2J",
    "\n",
    "a\rb",
    "\u202e..",
    "\uff0e\uff0e/x",
    "%2e%2e/x",
    "a/./../..",
    ".",
    "/",
    "",
    "~",
    "~/x",
    "a" * 5000,
    "/".join(["d"] * 60),
    "é/ü/中文",
    "\ud7ff",
    "sentinel.txt",
    "../sentinel.txt",
    f"../{ROOT}-sibling/x",
    "a/b/",
    " a ",
    "a//b",
    ".hidden",
    ".~rs-tmp-x",
]
_SEGMENT = st.sampled_from(["..", ".", "", "a", "b", "\\", "\x00", "C:", "~", "é", "..\\.."])
PATHS = st.one_of(
    st.sampled_from(_HOSTILE),
    st.text(max_size=40),
    st.lists(_SEGMENT, max_size=8).map("/".join),
    st.lists(_SEGMENT, max_size=8).map("\\".join),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=10),
    st.text(min_size=256, max_size=1200),
)


def _calls(store: Store, p: str, q: str) -> list[Callable[[], object]]:
    def atomic() -> None:
        with store.open_atomic(p, overwrite=True) as out:
            out.write(b"x")

    def stream() -> bytes:
        with store.read(p) as handle:
            return handle.read()

    return [
        lambda: store.write(p, b"x", overwrite=True),
        lambda: store.write_atomic(p, b"x", overwrite=True),
        atomic,
        lambda: store.write_text(q, "y"),
        lambda: store.read_bytes(p),
        stream,
        lambda: store.read_seekable(p).close(),
        lambda: store.read_to(p, io.BytesIO()),
        lambda: store.exists(p),
        lambda: store.is_file(p),
        lambda: store.is_folder(p),
        lambda: store.get_file_info(p),
        lambda: store.head(p),
        lambda: store.get_folder_info(p),
        lambda: store.list_files(p, recursive=True),
        lambda: store.list_folders(p),
        lambda: store.iter_children(p),
        lambda: store.glob(p),
        lambda: store.copy(p, q, overwrite=True),
        lambda: store.move(q, p, overwrite=True),
        lambda: store.native_path(p),
        lambda: store.to_key(p),
        lambda: store.resolve(p),
        lambda: store.child(p),
        lambda: store.delete(p, missing_ok=True),
        lambda: store.delete_folder(p, recursive=True, missing_ok=True),
    ]


def _check_result(result: object, root: str) -> None:
    items = list(result) if isinstance(result, Iterator) else [result]
    for item in items:
        if isinstance(item, FileInfo | WriteResult):
            assert not item.path.startswith(("/", "..")), item
        if isinstance(item, Store):
            assert item.root_path.startswith(root), item


class Sandbox:
    """A store rooted at ROOT with a sentinel file beside the root (and, on local disk,
    one outside the backend's directory)."""

    def __init__(self, backend: Backend, outside: Path | None = None) -> None:
        self.backend = backend
        self.top = Store(backend, root_path=f"top-{uuid.uuid4().hex[:8]}")
        self.top.write("sentinel.txt", SENTINEL, overwrite=True)
        self.top.write(f"{ROOT}-sibling/x", SENTINEL, overwrite=True)
        self.store = self.top.child(ROOT)
        self.outside = outside
        if outside is not None:
            (outside / "sentinel.txt").write_bytes(SENTINEL)

    def check(self) -> None:
        assert self.top.read_bytes("sentinel.txt") == SENTINEL
        assert self.top.read_bytes(f"{ROOT}-sibling/x") == SENTINEL
        for info in self.top.list_files("", recursive=True):
            assert info.path.startswith(f"{ROOT}/") or info.path in (
                "sentinel.txt",
                f"{ROOT}-sibling/x",
            ), info.path
        if self.outside is not None:
            assert sorted(p.name for p in self.outside.iterdir()) == ["sentinel.txt", "store"]
            assert (self.outside / "sentinel.txt").read_bytes() == SENTINEL

    def run(self, p: str, q: str) -> None:
        for call in _calls(self.store, p, q):
            try:
                _check_result(call(), self.store.root_path)
            except RemoteStoreError as error:
                # InvalidPath, or for a valid path a typed answer (missing, a folder, ...);
                # never the Store's catch-all for a native exception that slipped through.
                if type(error) is RemoteStoreError:
                    raise AssertionError(f"untyped failure for {p!r}, {q!r}") from error
        self.check()
        self.top.delete_folder(ROOT, recursive=True, missing_ok=True)


def _fuzz(name: str, sandbox: Sandbox) -> None:
    COUNTS[name] = 0

    @settings(
        max_examples=EXAMPLES[name],
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(p=PATHS, q=PATHS)
    def fuzz(p: str, q: str) -> None:
        COUNTS[name] += 1
        sandbox.run(p, q)

    fuzz()
    print(f"\npath fuzz {name}: {COUNTS[name]} examples x {len(_calls(sandbox.store, '', ''))}")


def test_memory() -> None:
    _fuzz("memory", Sandbox(MemoryBackend()))


def test_local(tmp_path: Path) -> None:
    _fuzz("local", Sandbox(LocalBackend(tmp_path / "store"), outside=tmp_path))


@pytest.mark.azure
def test_azure(request: pytest.FixtureRequest) -> None:
    backend: Any = conformance_backend(request)
    with backend:
        _fuzz("azure", Sandbox(backend))


def test_azure_hns(request: pytest.FixtureRequest) -> None:
    backend: Any = hns_conformance_backend(request)
    with backend:
        _fuzz("azure-hns", Sandbox(backend))
