"""Backend types and the Registry: lazy types, install hints, entry points, lazy build, close
(REG-* in 004)."""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import pytest

import remote_store
from remote_store import (
    Backend,
    BackendConfig,
    ConfigError,
    InvalidArgument,
    Registry,
    RegistryConfig,
    RemoteStoreError,
    Secret,
    Store,
    StoreProfile,
    register_backend,
)
from remote_store import registry as registry_module
from remote_store.errors import NotFound
from remote_store.models import FileInfo, FolderEntry, WriteResult
from remote_store.registry import known_backend_types, load_backend_class

KEY = "c2VjcmV0LWtleS12YWx1ZQ=="  # a credential that must never be printed or logged


class FakeBackend(Backend):
    """A test-only backend that records how it was built and closed."""

    name = "fake"
    built: ClassVar[list[FakeBackend]] = []
    closed_order: ClassVar[list[str]] = []

    def __init__(
        self,
        label: str = "fake",
        base_path: str = "",
        account_key: Secret | None = None,
        fail_close: bool = False,
    ) -> None:
        self.label, self.base_path, self.account_key = label, base_path, account_key
        self.fail_close = fail_close
        self.close_calls = 0
        FakeBackend.built.append(self)

    def _close(self) -> None:
        self.close_calls += 1
        FakeBackend.closed_order.append(self.label)
        if self.fail_close:
            raise RuntimeError(f"close of {self.label} failed")

    def _read(self, path: str) -> BinaryIO:
        raise NotFound(path, path=path)

    def _write(self, path: str, content: Any, **options: Any) -> WriteResult:  # type: ignore[override]
        raise NotImplementedError

    def _delete(self, path: str, *, missing_ok: bool, if_match: str | None) -> None:
        raise NotFound(path, path=path)

    def _get_file_info(self, path: str) -> FileInfo:
        raise NotFound(path, path=path)

    def _is_folder(self, path: str) -> bool:
        return path == ""

    def _iter_children(self, path: str) -> Iterator[FileInfo | FolderEntry]:
        return iter(())

    def _delete_folder(self, path: str, *, recursive: bool, missing_ok: bool) -> None:
        raise NotFound(path, path=path)


class SlowBackend(FakeBackend):
    """Takes a while to build, so concurrent first calls overlap."""

    def __init__(self, **options: Any) -> None:
        time.sleep(0.05)
        super().__init__(**options)


class GatedBackend(FakeBackend):
    """Blocks in its constructor until the test lets it finish."""

    started = threading.Event()
    release = threading.Event()

    def __init__(self, **options: Any) -> None:
        GatedBackend.started.set()
        GatedBackend.release.wait(5)
        super().__init__(**options)


class NeedsContainer(FakeBackend):
    def __init__(self, container: str, *, max_concurrency: int = 1) -> None:
        if not container:
            raise InvalidArgument("container must not be empty")
        super().__init__()


@pytest.fixture(autouse=True)
def isolated_types(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test registers its own types and starts with no built fakes."""
    monkeypatch.setattr(registry_module, "_types", dict(registry_module._types))
    monkeypatch.setattr(FakeBackend, "built", [])
    monkeypatch.setattr(FakeBackend, "closed_order", [])
    register_backend("fake", FakeBackend)
    register_backend("slow", SlowBackend)
    register_backend("gated", GatedBackend)
    register_backend("needs-container", NeedsContainer)


def config_of(backends: dict[str, Any], stores: dict[str, Any] | None = None) -> RegistryConfig:
    return RegistryConfig.from_dict({"backends": backends, "stores": stores or {}})


# --------------------------------------------------------------------------- backend types


def test_reg_001_builtin_types_are_known() -> None:
    assert {"local", "memory", "azure"} <= set(known_backend_types())


def test_reg_001_importing_and_validating_imports_no_backend_module() -> None:
    """Building a Registry for azure config must not import the Azure SDK or our backends."""
    src = str(Path(remote_store.__file__).parents[1])
    code = (
        "import sys\n"
        "from remote_store import Registry, RegistryConfig\n"
        "c = RegistryConfig.from_dict({'backends': {'a': {'type': 'azure', 'container': 'c'}},"
        " 'stores': {'s': {'backend': 'a'}}})\n"
        "Registry(c)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('remote_store.backends', 'azure'))))"
    )
    env = {**os.environ, "PYTHONPATH": src}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_reg_002_unknown_type_lists_known_types() -> None:
    with pytest.raises(ConfigError, match=r"unknown backend type 'gcs'.*known types:.*local"):
        load_backend_class("gcs")


def test_reg_002_seed_prod_toml_fails_only_at_registry(tmp_path: Path) -> None:
    (tmp_path / "prod.toml").write_text(
        '[backends.storage]\ntype = "gcs"\nbucket = "my-bucket"\n\n'
        '[stores.default]\nbackend = "storage"\n'
    )
    config = RegistryConfig.from_toml(tmp_path / "prod.toml")  # loading is fine
    with pytest.raises(ConfigError) as caught:
        Registry(config)
    message = str(caught.value)
    assert "backend 'storage' has unknown type 'gcs'" in message
    assert "azure, fake" in message and "memory" in message


def test_reg_003_missing_module_gives_install_hint_chained() -> None:
    register_backend("cloud", "rs_missing_sdk_zz.backend:Cloud", install_hint="pip install cloudx")
    with pytest.raises(ConfigError) as caught:
        load_backend_class("cloud")
    assert "pip install cloudx" in str(caught.value)
    assert "rs_missing_sdk_zz" in str(caught.value)
    assert isinstance(caught.value.__cause__, ImportError)


def test_reg_003_missing_dependency_of_existing_module_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "rs_plugin_zz.py").write_text("import rs_absent_dependency_zz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    register_backend("plug", "rs_plugin_zz:Plug", install_hint='pip install "plug[all]"')
    registry = Registry(config_of({"p": {"type": "plug"}}, {"s": {"backend": "p"}}))
    with pytest.raises(
        ConfigError, match=r"'rs_absent_dependency_zz'.*pip install \"plug\[all\]\""
    ):
        registry.get_store("s")


def test_reg_003_target_must_name_a_backend_class() -> None:
    register_backend("not-a-class", "json:loads")
    register_backend("absent-attr", "json:NoSuchThing")
    with pytest.raises(ConfigError, match="not a Backend class"):
        load_backend_class("not-a-class")
    with pytest.raises(ConfigError, match="names nothing"):
        load_backend_class("absent-attr")


def _fake_entry_points(*points: tuple[str, str]) -> Any:
    def entry_points(*, group: str) -> list[importlib.metadata.EntryPoint]:
        assert group == "remote_store.backends"
        return [importlib.metadata.EntryPoint(n, v, group) for n, v in points]

    return entry_points


def test_reg_004_entry_point_types_are_found_and_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        importlib.metadata,
        "entry_points",
        _fake_entry_points(("plugin", f"{__name__}:FakeBackend")),
    )
    assert "plugin" in known_backend_types()
    registry = Registry(
        config_of({"p": {"type": "plugin", "label": "ep"}}, {"s": {"backend": "p"}})
    )
    backend = registry.get_store("s").backend
    assert isinstance(backend, FakeBackend)
    assert backend.label == "ep"


def test_reg_004_entry_points_load_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    """A broken plugin module only fails when a backend of its type is built."""
    monkeypatch.setattr(
        importlib.metadata, "entry_points", _fake_entry_points(("broken", "rs_broken_zz:B"))
    )
    registry = Registry(config_of({"b": {"type": "broken"}}))
    with pytest.raises(ConfigError, match="rs_broken_zz"):
        registry.get_backend("b")


def test_reg_004_precedence_register_then_builtin_then_entry_point(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        importlib.metadata,
        "entry_points",
        _fake_entry_points(("memory", f"{__name__}:FakeBackend"), ("mine", "x_zz:Mine")),
    )
    memory = registry_module._lookup("memory")
    assert memory is not None and memory.target == "remote_store.backends.memory:MemoryBackend"
    register_backend("mine", SlowBackend)
    assert load_backend_class("mine") is SlowBackend


@pytest.mark.parametrize(
    ("type_name", "target"),
    [("", FakeBackend), ("ok", "no_colon"), ("ok", ":Cls"), ("ok", object), ("ok", 3)],
)
def test_reg_005_register_backend_validates(type_name: str, target: Any) -> None:
    with pytest.raises(InvalidArgument):
        register_backend(type_name, target)


# --------------------------------------------------------------------------- Registry


def test_reg_006_registry_needs_a_registry_config() -> None:
    with pytest.raises(InvalidArgument, match="RegistryConfig"):
        Registry({"backends": {}})  # type: ignore[arg-type]


def test_reg_007_nothing_is_built_until_needed() -> None:
    config = config_of(
        {"a": {"type": "fake", "label": "a"}, "b": {"type": "fake", "label": "b"}},
        {"one": {"backend": "a", "root_path": "x"}, "two": {"backend": "a", "root_path": "y"}},
    )
    registry = Registry(config)
    assert FakeBackend.built == []
    one, two = registry.get_store("one"), registry.get_store("two")
    assert one.backend is two.backend is registry.get_backend("a")
    assert [b.label for b in FakeBackend.built] == ["a"]


def test_reg_007_built_exactly_once_under_16_threads() -> None:
    registry = Registry(config_of({"a": {"type": "slow"}}, {"s": {"backend": "a"}}))
    barrier = threading.Barrier(16)
    seen: list[Backend] = []

    def worker() -> None:
        barrier.wait()
        seen.append(registry.get_store("s").backend)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(FakeBackend.built) == 1
    assert len(seen) == 16 and all(b is FakeBackend.built[0] for b in seen)


def test_reg_007_failed_build_is_not_cached() -> None:
    registry = Registry(config_of({"c": {"type": "needs-container", "container": ""}}))
    with pytest.raises(ConfigError, match=r"'c'.*container must not be empty") as caught:
        registry.get_backend("c")
    assert isinstance(caught.value.__cause__, InvalidArgument)
    with pytest.raises(ConfigError):
        registry.get_backend("c")  # retried, not a cached failure
    assert FakeBackend.built == []


def test_reg_008_options_are_keyword_arguments_secrets_stay_wrapped() -> None:
    config = config_of({"a": {"type": "fake", "base_path": "/b", "account_key": KEY}})
    backend = Registry(config).get_backend("a")
    assert isinstance(backend, FakeBackend)
    assert backend.base_path == "/b"
    assert isinstance(backend.account_key, Secret)
    assert backend.account_key.reveal() == KEY


def test_reg_009_unknown_option_names_backend_option_and_accepted() -> None:
    config = config_of(
        {"prod": {"type": "fake", "base_pth": "VALUE-NOT-SHOWN", "account_key": KEY}}
    )
    with pytest.raises(ConfigError) as caught:
        Registry(config).get_backend("prod")
    message = str(caught.value)
    assert "'prod'" in message and "FakeBackend" in message
    assert "unknown option 'base_pth' (did you mean 'base_path'?)" in message
    assert "accepted options: label, base_path, account_key, fail_close" in message
    assert "VALUE-NOT-SHOWN" not in message and KEY not in message


def test_reg_009_missing_required_option() -> None:
    with pytest.raises(ConfigError, match=r"missing required option.*container.*accepted options"):
        Registry(config_of({"n": {"type": "needs-container"}})).get_backend("n")


def test_reg_010_get_store_applies_root_and_lists_unknown_names() -> None:
    registry = Registry(
        config_of({"a": {"type": "fake"}}, {"s": {"backend": "a", "root_path": "r/"}})
    )
    store = registry.get_store("s")
    assert isinstance(store, Store)
    assert store.root_path == "r"
    with pytest.raises(ConfigError, match="unknown store 'nope'; defined stores: s"):
        registry.get_store("nope")
    with pytest.raises(ConfigError, match="unknown backend 'nope'; defined backends: a"):
        registry.get_backend("nope")


def test_reg_011_close_closes_only_what_was_built_once() -> None:
    registry = Registry(config_of({"a": {"type": "fake", "label": "a"}, "b": {"type": "slow"}}))
    built = registry.get_backend("a")
    registry.close()
    registry.close()
    assert FakeBackend.built == [built]  # 'b' was never constructed just to be closed
    assert isinstance(built, FakeBackend) and built.close_calls == 1


def test_reg_011_close_continues_past_errors_and_raises_the_first() -> None:
    backends = {
        "a": {"type": "fake", "label": "a"},
        "b": {"type": "fake", "label": "b", "fail_close": True},
        "c": {"type": "fake", "label": "c", "fail_close": True},
    }
    registry = Registry(config_of(backends))
    for name in "abc":
        registry.get_backend(name)
    with pytest.raises(RemoteStoreError, match="failed unexpectedly") as caught:
        registry.close()
    assert str(caught.value.__cause__) == "close of c failed"  # the kernel's boundary wraps it
    assert FakeBackend.closed_order == ["c", "b", "a"]  # newest first, none skipped
    registry.close()  # idempotent even after a failure
    assert FakeBackend.closed_order == ["c", "b", "a"]


def test_reg_011_use_after_close_and_context_manager() -> None:
    with Registry(config_of({"a": {"type": "fake"}}, {"s": {"backend": "a"}})) as registry:
        backend = registry.get_store("s").backend
    assert isinstance(backend, FakeBackend) and backend.close_calls == 1
    with pytest.raises(RemoteStoreError, match="closed"):
        registry.get_store("s")
    with pytest.raises(RemoteStoreError, match="closed"):
        registry.get_backend("a")


def test_reg_011_close_during_a_build_closes_the_new_backend() -> None:
    GatedBackend.started.clear()
    GatedBackend.release.clear()
    registry = Registry(config_of({"g": {"type": "gated"}}))
    errors: list[BaseException] = []

    def build() -> None:
        try:
            registry.get_backend("g")
        except RemoteStoreError as error:
            errors.append(error)

    thread = threading.Thread(target=build)
    thread.start()
    assert GatedBackend.started.wait(5)
    registry.close()
    GatedBackend.release.set()
    thread.join(5)
    assert len(errors) == 1 and "closed" in str(errors[0])
    assert [b.close_calls for b in FakeBackend.built] == [1]


def test_reg_012_repr_shows_names_only() -> None:
    registry = Registry(
        config_of({"prod": {"type": "fake", "account_key": KEY}}, {"s": {"backend": "prod"}})
    )
    assert repr(registry) == "Registry(stores=['s'], backends=['prod'])"
    registry.close()
    assert repr(registry).endswith(", closed)")


def test_reg_012_secrets_never_reach_logs_reprs_or_errors(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    (tmp_path / "app.toml").write_text(
        '[backends.prod]\ntype = "fake"\naccount_key = "${KEY}"\nfail_close = true\n\n'
        '[backends.typo]\ntype = "fake"\naccount_key = "${KEY}"\nbase_pth = "x"\n\n'
        '[stores.s]\nbackend = "prod"\n'
    )
    config = RegistryConfig.from_toml(tmp_path / "app.toml", env={"KEY": KEY})
    texts = [repr(config), str(config.to_dict())]
    registry = Registry(config)
    store = registry.get_store("s")
    texts += [repr(registry), repr(store), repr(store.resolve("x"))]
    with pytest.raises(ConfigError) as bad_option:
        registry.get_backend("typo")
    with pytest.raises(RemoteStoreError) as bad_close:
        registry.close()
    texts += [str(bad_option.value), str(bad_close.value), str(bad_close.value.__cause__)]
    assert "building backend 'prod'" in caplog.text  # the debug log did run
    assert all(KEY not in text for text in [*texts, caplog.text])


# --------------------------------------------------------------------------- real backends


def _real_backends() -> None:
    try:
        importlib.import_module("remote_store.backends")
    except ImportError:
        pytest.skip("local/memory backends are not written yet")


def test_reg_001_seed_003_dev_toml_runs_on_local_disk(tmp_path: Path) -> None:
    _real_backends()
    (tmp_path / "dev.toml").write_text(
        f'[backends.storage]\ntype = "local"\nbase_path = "{tmp_path / "data"}"\n\n'
        '[stores.default]\nbackend = "storage"\n'
    )
    with Registry(RegistryConfig.from_toml(str(tmp_path / "dev.toml"))) as registry:
        store = registry.get_store("default")
        store.write("report.csv", b"col1,col2\n1,2\n")
        assert store.read_bytes("report.csv") == b"col1,col2\n1,2\n"
    assert (tmp_path / "data" / "report.csv").read_bytes() == b"col1,col2\n1,2\n"


def test_reg_001_seed_000_shape_on_memory() -> None:
    _real_backends()
    config = RegistryConfig(
        backends={"mem": BackendConfig(type="memory")},
        stores={"data": StoreProfile(backend="mem", root_path="datasets")},
    )
    with Registry(config) as registry:
        store = registry.get_store("data")
        store.write("report.csv", b"col1,col2\n1,2\n")
        assert store.read_bytes("report.csv") == b"col1,col2\n1,2\n"
        assert registry.get_store("data").exists("report.csv")


def test_reg_009_real_local_backend_option_typo() -> None:
    _real_backends()
    config = config_of({"disk": {"type": "local", "base_pth": "/tmp"}})
    with pytest.raises(ConfigError, match="did you mean 'base_path'"):
        Registry(config).get_backend("disk")
