"""The names and signatures remote-store 0.33 documented, as code written for it uses them."""

from __future__ import annotations

import logging
import pickle
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import ClassVar

import pytest

import remote_store
from remote_store import (
    BackendUnavailable,
    CapabilityNotSupported,
    CapabilitySet,
    ConfigError,
    ContentDigest,
    FileInfo,
    FolderEntry,
    InvalidPath,
    PathEntry,
    PreconditionFailed,
    ProxyStore,
    Registry,
    RegistryConfig,
    RemotePath,
    ResolutionPlan,
    ResourceLocked,
    Secret,
    SecretRedactionFilter,
    Store,
    WriteResult,
    WriteSource,
    resolve_env,
)
from remote_store.backend import Backend
from remote_store.backends import LocalBackend, MemoryBackend
from remote_store.capabilities import Capability


@pytest.fixture
def store() -> Iterator[Store]:
    with Store(MemoryBackend()) as opened:
        yield opened


# ---------------------------------------------------------------------- constructors


def test_local_backend_takes_root_or_base_path(tmp_path: Path) -> None:
    """CMP-001."""
    LocalBackend(root=tmp_path / "a").write("f", b"1")
    LocalBackend(base_path=tmp_path / "b").write("f", b"2")
    assert (tmp_path / "a" / "f").read_bytes() == b"1"
    assert (tmp_path / "b" / "f").read_bytes() == b"2"
    with pytest.raises(ConfigError, match="once"):
        LocalBackend(tmp_path, root=tmp_path)
    with pytest.raises(ConfigError, match="once"):
        LocalBackend()
    with pytest.raises(ConfigError, match="path"):
        LocalBackend(root=3)  # type: ignore[arg-type]


def test_local_root_in_toml(tmp_path: Path) -> None:
    """CMP-001."""
    config = RegistryConfig.from_toml_string(
        f'[backends.disk]\ntype = "local"\nroot = "{tmp_path}"\n'
        '[stores.data]\nbackend = "disk"\nroot_path = "in"\n'
    )
    with Registry(config) as registry:
        registry.get_store("data").write("x.txt", b"x")
    assert (tmp_path / "in" / "x.txt").read_bytes() == b"x"


# ---------------------------------------------------------------------- models


def test_models_carry_the_documented_fields(store: Store) -> None:
    """CMP-002."""
    result = store.write("dir/a.csv", b"abc", metadata={"k": "v"})
    assert isinstance(result, WriteResult)
    assert (result.size, result.source) == (3, WriteSource.NATIVE)
    for name in ("etag", "last_modified", "digest", "version_id", "metadata"):
        assert hasattr(result, name)
    assert result.digest == ContentDigest("md5", "900150983cd24fb0d6963f7d28e17f72")
    info = store.get_file_info("dir/a.csv")
    assert (info.name, info.path) == ("a.csv", "dir/a.csv")
    assert isinstance(info.modified_at, datetime)
    assert info.modified_at == info.modified
    folder = store.get_folder_info("dir")
    assert (folder.path, folder.name, folder.file_count, folder.total_size) == ("dir", "dir", 1, 3)
    assert folder.modified_at == info.modified_at


def test_resolution_plan_fields_in_documented_order(tmp_path: Path) -> None:
    """CMP-002."""
    plan = ResolutionPlan("file", "local", "a/b", "/x/a/b", {"k": 1})
    assert (plan.kind, plan.backend, plan.key, plan.native_path) == (
        "file",
        "local",
        "a/b",
        "/x/a/b",
    )
    with Store(LocalBackend(tmp_path), "root") as store:
        resolved = store.resolve("a/b")
        assert (resolved.backend, resolved.key) == ("local", "root/a/b")
        assert resolved.native_path == store.native_path("a/b") == str(tmp_path / "root/a/b")
        assert store.to_key(resolved.native_path) == "a/b"


def test_path_entry_is_what_listings_yield(store: Store) -> None:
    """CMP-002."""
    store.write("d/f.txt", b"x")
    entries = [*store.iter_children(""), *store.iter_children("d")]
    assert {type(e) for e in entries} == {FolderEntry, FileInfo}
    assert all(isinstance(e, PathEntry) for e in entries)
    assert [(e.path, e.name) for e in entries] == [("d", "d"), ("d/f.txt", "f.txt")]


# ---------------------------------------------------------------------- backends


@pytest.mark.parametrize("cls", [LocalBackend, MemoryBackend])
def test_capabilities_class_attribute(cls: type[Backend]) -> None:
    """CMP-003."""
    assert cls.supported_capabilities == cls.CAPABILITIES
    assert Capability.READ in cls.CAPABILITIES


def test_a_backend_may_declare_capabilities_under_either_name() -> None:
    """CMP-003."""

    class Declared(MemoryBackend):
        CAPABILITIES: ClassVar[CapabilitySet] = CapabilitySet({Capability.READ})

    class Inherited(Declared):
        pass

    for cls in (Declared, Inherited):
        assert cls.supported_capabilities == cls.CAPABILITIES == CapabilitySet({Capability.READ})
    with Store(Declared()) as store, pytest.raises(CapabilityNotSupported) as refused:
        store.write("x", b"1")
    assert refused.value.capability == "WRITE"


def test_check_health_is_what_store_ping_calls() -> None:
    """CMP-003."""

    class Down(MemoryBackend):
        def _ping(self) -> None:
            raise BackendUnavailable("down", backend=self.name)

    backend = Down()
    with pytest.raises(BackendUnavailable, match="down"):
        backend.check_health()
    with pytest.raises(BackendUnavailable, match="down"):
        Store(backend).ping()
    MemoryBackend().check_health()


def test_a_terminal_backend_refuses_calls_after_close() -> None:
    """CMP-003."""

    class Terminal(MemoryBackend):
        close_is_terminal: ClassVar[bool] = True

    backend = Terminal()
    backend.write("a", b"1")
    backend.close()
    assert (Terminal.name, MemoryBackend.close_is_terminal) == ("memory", False)
    for call in (lambda: backend.read_bytes("a"), backend.check_health):
        with pytest.raises(BackendUnavailable, match="closed"):
            call()


# ---------------------------------------------------------------------- RemotePath


def test_remote_path_normalises_and_takes_apart() -> None:
    """CMP-004."""
    path = RemotePath("/data//2026/./q1.csv.gz/")
    assert path == "data/2026/q1.csv.gz"
    assert isinstance(path, str)
    assert (path.name, path.suffix, path.stem) == ("q1.csv.gz", ".gz", "q1.csv")
    assert path.parts == ("data", "2026", "q1.csv.gz")
    assert path.parent == RemotePath("data/2026")
    assert isinstance(path.parent, RemotePath)
    assert RemotePath("data") / "2026" / "q1.csv" == "data/2026/q1.csv"
    assert "data" / RemotePath("x") == "data/x"
    assert (RemotePath("").parts, RemotePath("").parent, RemotePath(".hidden").suffix) == (
        (),
        "",
        "",
    )
    assert repr(path) == "RemotePath('data/2026/q1.csv.gz')"
    assert pickle.loads(pickle.dumps(path)) == path
    with pytest.raises(AttributeError):
        path.extra = 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("bad", ["a/../b", "a\\b", "a\x00b", 3])
def test_remote_path_refuses_what_every_call_refuses(bad: object) -> None:
    """CMP-004."""
    with pytest.raises(InvalidPath):
        RemotePath(bad)
    # Joining a non-str is a TypeError, as for any `/` operand Python cannot use.
    with pytest.raises(InvalidPath if isinstance(bad, str) else TypeError):
        RemotePath("a") / bad


def test_remote_path_works_wherever_a_path_does(store: Store) -> None:
    """CMP-004."""
    path = RemotePath("reports") / "q1.csv"
    store.write(path, b"1,2")
    assert store.read_bytes(path) == b"1,2"
    assert [info.path for info in store.list_files(path.parent)] == [path]


# ---------------------------------------------------------------------- ProxyStore


class Counting(ProxyStore):
    def __init__(self, inner: Store, seen: list[str]) -> None:
        super().__init__(inner)
        self.seen = seen

    def write(self, path: str, content: object, **options: object) -> WriteResult:
        self.seen.append(path)
        return super().write(path, content, **options)  # type: ignore[arg-type]


def test_proxy_store_forwards_every_public_store_method(store: Store) -> None:
    """CMP-005."""
    public = {n for n, m in vars(Store).items() if not n.startswith("_") and callable(m)}
    proxy = ProxyStore(store)
    for name in public:
        forwarded = getattr(ProxyStore, name)
        assert forwarded is not getattr(Store, name), name
    proxy.write("a/b.txt", b"hi")
    assert store.read_bytes("a/b.txt") == b"hi"
    assert [f.path for f in proxy.list_folders()] == ["a"]
    assert (proxy.backend, proxy.root_path, proxy.inner) == (store.backend, "", store)
    assert isinstance(proxy, Store)


def test_proxy_store_overrides_apply_below_child(store: Store) -> None:
    """CMP-005."""
    seen: list[str] = []
    proxy = Counting(store, seen)
    proxy.write("top.txt", b"1")
    child = proxy.child("sub")
    assert isinstance(child, Counting)
    child.write("inner.txt", b"2")
    assert seen == ["top.txt", "inner.txt"]
    assert store.read_bytes("sub/inner.txt") == b"2"
    assert child.root_path == "sub"
    assert proxy.root_path == ""


def test_proxy_store_refuses_a_non_store() -> None:
    """CMP-005."""
    with pytest.raises(remote_store.InvalidArgument):
        ProxyStore(MemoryBackend())  # type: ignore[arg-type]


# ---------------------------------------------------------------------- exports, errors


def test_documented_names_are_exported() -> None:
    """CMP-006."""
    for name in [
        "RemotePath",
        "ProxyStore",
        "PathEntry",
        "ResourceLocked",
        "RetryPolicy",
        "Secret",
        "SecretRedactionFilter",
        "resolve_env",
        "register_backend",
        "CapabilitySet",
    ]:
        assert name in remote_store.__all__
        assert getattr(remote_store, name) is not None


def test_capability_set_is_immutable() -> None:
    """CMP-006."""
    caps = CapabilitySet({Capability.READ})
    with pytest.raises(AttributeError):
        caps.extra = 1  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        caps.add(Capability.WRITE)  # type: ignore[attr-defined]


def test_resource_locked_is_a_precondition_failure() -> None:
    """CMP-007."""
    error = ResourceLocked("leased", path="a", backend="azure")
    assert isinstance(error, PreconditionFailed)
    assert (error.path, error.retryable) == ("a", False)


# ---------------------------------------------------------------------- secrets, env


def _filtered(message: str, *args: object, secrets: tuple[Secret | str, ...] = ()) -> str:
    record = logging.LogRecord("t", logging.DEBUG, __file__, 1, message, args, None)
    assert SecretRedactionFilter(secrets).filter(record) is True
    return record.getMessage()


@pytest.mark.parametrize(
    ("message", "hidden"),
    [
        ("GET /c/b?sv=2023&sig=abc%2Fdef HTTP/1.1", "abc%2Fdef"),
        ("DefaultEndpointsProtocol=https;AccountKey=k3y==;EndpointSuffix=x", "k3y=="),
        ("headers {'Authorization': 'Bearer t0ken'}", "t0ken"),
        ("connect sftp://alice:pa55@host/path", "pa55"),
        ("GET /k?X-Amz-Signature=f00d&X-Amz-Credential=a", "f00d"),
    ],
)
def test_secret_redaction_filter_hides_credential_shapes(message: str, hidden: str) -> None:
    """CMP-008."""
    cleaned = _filtered(message)
    assert hidden not in cleaned
    assert "REDACTED" in cleaned


def test_secret_redaction_filter_hides_named_secrets_in_args() -> None:
    """CMP-008."""
    cleaned = _filtered("user %s used %s", "bob", "hunter2", secrets=(Secret("hunter2"), "xyz"))
    assert cleaned == "user bob used REDACTED"
    assert _filtered("nothing secret here") == "nothing secret here"


def test_resolve_env() -> None:
    """CMP-009."""
    env = {"DIR": "/data", "EMPTY": ""}
    assert resolve_env("${DIR}/x", env=env) == "/data/x"
    assert resolve_env({"a": ["${EMPTY:-d}", "$${DIR}"], "n": 3}, env=env) == {
        "a": ["d", "${DIR}"],
        "n": 3,
    }
    with pytest.raises(ConfigError, match="MISSING is not set"):
        resolve_env("${MISSING}", env=env)


def test_azure_utils_is_importable_from_backends() -> None:
    """CMP-006."""
    from remote_store.backends import AzureUtils
    from remote_store.backends.azure import AzureUtils as Defined

    assert AzureUtils is Defined
    assert callable(AzureUtils.detect_hns)
