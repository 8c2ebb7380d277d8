"""A backend called directly keeps the contract a `Store` keeps (ST-002, ST-003, ST-004,
ST-009, PTH-001 to PTH-003, ERR-007, BC-*).

Every built-in backend (memory, local, azure flat on Azurite, azure-hns on the HNS emulator,
SQLBlob on SQLite, HTTP on nginx, SFTP on sshd, S3 on MiniStack, and the example backend
of docs/writing-a-backend.md) is driven through every public path-taking method, with the
root, hostile spellings and odd-but-harmless spellings of the seed's file and folder. For
each (backend, method, spelling):

- the direct call answers as ``Store(backend)`` does: the same exception type (exactly,
  messages aside), naming the same path unless it is a plain `InvalidPath` (so a missing
  ``/dir/new.txt`` is not excused for being missing under another name), or an equal
  result (iterators materialised: an exception raised while iterating is the call's
  answer). The Store gates capabilities first (ST-005); so is the direct call judged;
- on Azure and S3, a call the Store refuses before any request (ST-003) sends none directly;
- only `remote_store.errors` come out of a direct call, never the bare `RemoteStoreError`
  a Store uses as the catch-all for an untranslated native error;
- a refused call (any exception) and a query leave the storage exactly as seeded, on both
  routes; a change that succeeds has the same effect on both routes. Each route starts on
  the seed tree and the storage is photographed from outside the backend (`sites.py`).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import Any

import pytest

from remote_store.backend import Backend
from remote_store.backends import MemoryBackend
from remote_store.errors import InvalidPath, RemoteStoreError
from remote_store.models import FileInfo, FolderEntry, FolderInfo, ResolutionPlan, WriteResult
from remote_store.store import Store
from tests.docs.test_doc_backend import DOCUMENTED
from tests.kernel.sites import (
    AzureSite,
    HttpSite,
    InProcessSite,
    LocalSite,
    Requests,
    S3Site,
    SftpSite,
    Site,
    Snapshot,
    dict_objects,
    memory_files,
    sqlite_site,
)

#: The root, hostile spellings, and odd spellings of the seed's file, its folders and a new file.
SPELLINGS = [
    "",
    ".",
    "/",
    "./",
    "..",
    "a/../..",
    "../x",
    "a\x00b",
    "a\\b",
    "\\..\\x",
    "//",
    "/dir/f.txt",
    "./dir//f.txt",
    "dir/",
    "/dir//sub/",
    "/dir/new.txt",
]
NEW = b"new content"
#: More items than any listing of the seed holds: a longer iterator is a runaway.
LIMIT = 1000

Call = Callable[[Any, str], object]


def _read(target: Any, path: str) -> object:
    with target.read(path) as stream:
        return stream.read()


def _read_to(target: Any, path: str) -> object:
    sink = io.BytesIO()
    count = target.read_to(path, sink)
    return count, sink.getvalue()


def _read_seekable(target: Any, path: str) -> object:
    stream = target.read_seekable(path)
    try:
        return stream.read()
    finally:
        stream.close()


def _open_atomic(target: Any, path: str) -> object:
    with target.open_atomic(path, overwrite=True) as out:
        out.write(NEW)
    return None


#: Method -> (the call on a Store or a backend with the spelling, whether it may change data).
CALLS: dict[str, tuple[Call, bool]] = {
    "read": (_read, False),
    "read_bytes": (lambda t, p: t.read_bytes(p), False),
    "read_to": (_read_to, False),
    "read_seekable": (_read_seekable, False),
    "write": (lambda t, p: t.write(p, NEW), True),
    "write-overwrite": (lambda t, p: t.write(p, NEW, overwrite=True), True),
    "write_atomic": (lambda t, p: t.write_atomic(p, NEW, overwrite=True), True),
    "open_atomic": (_open_atomic, True),
    "delete": (lambda t, p: t.delete(p), True),
    "delete-missing_ok": (lambda t, p: t.delete(p, missing_ok=True), True),
    "delete_folder": (lambda t, p: t.delete_folder(p), True),
    "delete_folder-missing_ok": (lambda t, p: t.delete_folder(p, missing_ok=True), True),
    "delete_folder-recursive": (lambda t, p: t.delete_folder(p, recursive=True), True),
    "delete_folder-recursive-missing_ok": (
        lambda t, p: t.delete_folder(p, recursive=True, missing_ok=True),
        True,
    ),
    "get_file_info": (lambda t, p: t.get_file_info(p), False),
    "head": (lambda t, p: t.head(p), False),
    "exists": (lambda t, p: t.exists(p), False),
    "is_file": (lambda t, p: t.is_file(p), False),
    "is_folder": (lambda t, p: t.is_folder(p), False),
    "iter_children": (lambda t, p: t.iter_children(p), False),
    "list_files": (lambda t, p: t.list_files(p), False),
    "list_files-recursive": (lambda t, p: t.list_files(p, recursive=True), False),
    "list_folders": (lambda t, p: t.list_folders(p), False),
    "glob": (lambda t, p: t.glob(p), False),
    "get_folder_info": (lambda t, p: t.get_folder_info(p), False),
    "copy-from": (lambda t, p: t.copy(p, "copied.txt"), True),
    "copy-to": (lambda t, p: t.copy("top.txt", p, overwrite=True), True),
    "move-from": (lambda t, p: t.move(p, "moved.txt"), True),
    "move-to": (lambda t, p: t.move("top.txt", p, overwrite=True), True),
    "native_path": (lambda t, p: t.native_path(p), False),
    "resolve": (lambda t, p: t.resolve(p), False),
}


# ---------------------------------------------------------------------------- sites


def _memory(request: pytest.FixtureRequest) -> Site:
    return InProcessSite("memory", MemoryBackend, memory_files)


def _local(request: pytest.FixtureRequest) -> Site:
    factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
    return LocalSite(factory.mktemp("direct-local"))


def _azure(request: pytest.FixtureRequest) -> Site:
    emulator = request.getfixturevalue("azurite")
    return AzureSite("azure", emulator.connection_string, hns=False)


def _azure_hns(request: pytest.FixtureRequest) -> Site:
    emulator = request.getfixturevalue("hns_emulator")
    return AzureSite("azure-hns", emulator.connection_string, hns=True)


def _http(request: pytest.FixtureRequest) -> Site:
    server = request.getfixturevalue("nginx")
    return HttpSite(server.root / "direct-calls", server.url("listed/direct-calls"))


def _sftp(request: pytest.FixtureRequest) -> Site:
    server = request.getfixturevalue("sshd")
    outer = Path(server.new_base("direct-calls"))
    outer.mkdir(parents=True)
    return SftpSite(outer, lambda folder: server.backend(base_path=str(folder)))


def _sql_blob(request: pytest.FixtureRequest) -> Site:
    factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
    return sqlite_site(factory.mktemp("direct-sql"))


def _s3(request: pytest.FixtureRequest) -> Site:
    return S3Site(request.getfixturevalue("ministack"))


def _documented(request: pytest.FixtureRequest) -> Site:
    factory: Callable[[], Backend] = DOCUMENTED.DictBackend
    return InProcessSite("documented", factory, dict_objects)


SITES: dict[str, Callable[[pytest.FixtureRequest], Site]] = {
    "memory": _memory,
    "local": _local,
    "azure": _azure,
    "azure-hns": _azure_hns,
    "documented": _documented,
    "sql-blob-sqlite": _sql_blob,
    "http": _http,
    "sftp": _sftp,
    "s3": _s3,
}
MARKS: dict[str, list[pytest.MarkDecorator]] = {
    "azure": [pytest.mark.azure],
    "http": [pytest.mark.http],
    "sftp": [pytest.mark.sftp],
    "s3": [pytest.mark.s3],
}


@pytest.fixture(
    scope="module",
    params=[pytest.param(name, marks=MARKS.get(name, [])) for name in SITES],
)
def site(request: pytest.FixtureRequest) -> Iterator[Site]:
    """One site per backend for the whole module: its storage is re-seeded as needed."""
    built = SITES[request.param](request)
    yield built
    built.close()


# ---------------------------------------------------------------------------- outcomes


class RunawayIterator(Exception):
    """A listing yielded more than `LIMIT` items from a three-file tree."""


@dataclass(frozen=True)
class Outcome:
    """What a call answered: an exception type, or a plain, comparable value."""

    error: type[Exception] | None = None
    value: object = None
    exception: Exception | None = field(default=None, compare=False)
    #: HTTP responses the call received (Azure), else None.
    requests: int | None = field(default=None, compare=False)

    @property
    def path(self) -> object:
        """The path the exception names: the key the backend looked at."""
        return getattr(self.exception, "path", None)

    def answers_as(self, other: Outcome) -> bool:
        """The same exception type naming the same path (but for a malformed path, which
        may be quoted as given or normalised), or an equal value."""
        if self.error is not None and self.error is other.error and self.error is not InvalidPath:
            return self.path == other.path
        return self == other

    def __str__(self) -> str:
        if self.error is None:
            return f"returned {_short(self.value)}"
        cause = self.exception.__cause__ if self.exception is not None else None
        caused = f" (from {type(cause).__name__}: {_short(cause)})" if cause is not None else ""
        return f"raised {self.error.__name__}: {_short(self.exception)}{caused}"


def _short(value: object, limit: int = 160) -> str:
    """The first line of *value*'s text (its repr for a result), at most *limit* characters."""
    text = str(value) if isinstance(value, BaseException) else repr(value)
    line = text.strip().splitlines()[0] if text.strip() else text
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _plain(value: object) -> object:
    """*value* as something `==` compares meaningfully, iterators materialised."""
    if isinstance(value, Iterator):
        items = list(islice(value, LIMIT + 1))
        if len(items) > LIMIT:
            raise RunawayIterator(f"more than {LIMIT} items")
        return sorted((_plain(item) for item in items), key=repr)
    if isinstance(value, FileInfo):
        return ("FileInfo", value.path, value.name, value.size)
    if isinstance(value, FolderEntry):
        return ("FolderEntry", value.path, value.name)
    if isinstance(value, FolderInfo):
        return ("FolderInfo", value.path, value.file_count, value.total_size)
    if isinstance(value, WriteResult):
        return ("WriteResult", value.path, value.size)
    if isinstance(value, ResolutionPlan):
        return ("ResolutionPlan", value.backend, value.kind, value.native_path, dict(value.details))
    if isinstance(value, tuple):
        return tuple(_plain(item) for item in value)
    return value


def _run(target: Any, call: Call, spelling: str, log: Requests | None) -> Outcome:
    if log is not None:
        log.clear()
    try:
        outcome = Outcome(value=_plain(call(target, spelling)))
    except Exception as error:
        outcome = Outcome(error=type(error), exception=error)
    return replace(outcome, requests=None if log is None else len(log))


def _route(site: Site, direct: bool, call: Call, spelling: str) -> tuple[Outcome, Snapshot]:
    """Make the call on the seed tree, through the backend itself or `Store(backend)`."""
    backend = site.fresh()
    outcome = _run(backend if direct else Store(backend), call, spelling, site.requests)
    after = site.snapshot()
    site.settle(after)
    return outcome, after


def _changes(before: Snapshot, after: Snapshot) -> str:
    def shown(keys: set[str]) -> str:
        return ", ".join(repr(k) for k in sorted(keys)[:6]) + (" ..." if len(keys) > 6 else "")

    if len(after) == 1 and next(iter(after)).startswith("<"):  # the site could not look
        return next(iter(after))
    parts = []
    if removed := set(before) - set(after):
        parts.append(f"removed {shown(removed)}")
    if added := set(after) - set(before):
        parts.append(f"added {shown(added)}")
    if changed := {k for k in set(before) & set(after) if before[k] != after[k]}:
        parts.append(f"changed {shown(changed)}")
    return "; ".join(parts) or "no change"


def _foreign(route: str, outcome: Outcome) -> str | None:
    """Why *outcome*'s exception may not leave a call, if it may not."""
    if outcome.error is None:
        return None
    if not issubclass(outcome.error, RemoteStoreError):
        return f"{route} raised {outcome.error.__name__}, not a remote_store error: {outcome}"
    if outcome.error is RemoteStoreError:
        return f"{route} raised the bare RemoteStoreError (an untranslated error): {outcome}"
    return None


# ---------------------------------------------------------------------------- the test


@pytest.mark.parametrize("spelling", SPELLINGS, ids=lambda s: f"'{s}'")
@pytest.mark.parametrize("method", list(CALLS))
def test_direct_call_answers_as_the_store(site: Site, method: str, spelling: str) -> None:
    call, mutates = CALLS[method]
    store, store_after = _route(site, False, call, spelling)
    direct, direct_after = _route(site, True, call, spelling)
    seed = site.seed
    where = f"{site.name}: {method}({spelling!r})"
    problems = [p for p in (_foreign("direct", direct), _foreign("Store", store)) if p]

    if not direct.answers_as(store):
        detail = f"direct {direct} [data: {_changes(seed, direct_after)}]; Store {store}"
        if direct == store:  # the same type, about another path
            detail += f" [error path: direct {direct.path!r}, Store {store.path!r}]"
        problems.append(detail)
    if store.error and store.requests == 0 and direct.requests:
        problems.append(f"direct sent {direct.requests} request(s); the Store refuses before I/O")
    for route, outcome, after in (("Store", store, store_after), ("direct", direct, direct_after)):
        kind = "refused call" if outcome.error else None if mutates else "query"
        if kind and after != seed:
            problems.append(f"{route}: {kind} changed the data: {_changes(seed, after)}")
    if mutates and store.error is None and direct.error is None and store_after != direct_after:
        problems.append(
            f"effects differ: Store {_changes(seed, store_after)}; "
            f"direct {_changes(seed, direct_after)}"
        )
    if problems:
        pytest.fail(f"{where}\n  " + "\n  ".join(problems), pytrace=False)
