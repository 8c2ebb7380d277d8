"""CMP-001: seed 003's "switching backends at runtime" example runs as written: dev.toml
on local disk, prod.toml on an S3 bucket (the session's S3 server)."""

from __future__ import annotations

from pathlib import Path

import pytest

from remote_store import Registry, RegistryConfig
from tests.s3_support import ACCESS_KEY, REGION, SECRET_KEY, S3Server

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


PROD_TOML = """\
# prod.toml
[backends.storage]
type = "s3"
bucket = "my-bucket"

[stores.default]
backend = "storage"
"""


@pytest.mark.s3
def test_prod_toml_as_written(
    ministack: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same code on prod.toml: an S3 bucket, the endpoint and credentials from the
    standard AWS environment (here the session's S3 server)."""
    ministack.ensure_bucket("my-bucket")
    for name, value in {
        "AWS_ENDPOINT_URL": ministack.endpoint,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "prod.toml").write_text(PROD_TOML)

    config = RegistryConfig.from_toml("prod.toml")
    registry = Registry(config)
    store = registry.get_store("default")
    # Same API regardless of backend
    store.write("hello.txt", b"hi", overwrite=True)

    assert store.read_bytes("hello.txt") == b"hi"
    registry.close()
