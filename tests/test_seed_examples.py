"""CMP-001: seed 003's "switching backends at runtime" example runs as written (dev.toml).

The prod.toml half names an S3 bucket; it runs in tests/s3 against the S3 test server.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from remote_store import Registry, RegistryConfig

DEV_TOML = """\
# dev.toml
[backends.storage]
type = "local"
base_path = "./data"

[stores.default]
backend = "storage"
"""


def test_dev_toml_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dev.toml").write_text(DEV_TOML)

    config = RegistryConfig.from_toml("dev.toml")  # or "prod.toml"
    registry = Registry(config)
    store = registry.get_store("default")
    # Same API regardless of backend
    store.write("hello.txt", b"hi")

    assert (tmp_path / "data" / "hello.txt").read_bytes() == b"hi"
    registry.close()


def test_the_same_file_with_root_the_0_33_spelling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dev.toml").write_text(DEV_TOML.replace("base_path", "root"))
    with Registry(RegistryConfig.from_toml("dev.toml")) as registry:
        registry.get_store("default").write("hello.txt", b"hi")
    assert (tmp_path / "data" / "hello.txt").read_bytes() == b"hi"
