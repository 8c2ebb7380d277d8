"""SQL-001, SQL-007: the ``sql-blob`` type from configuration, the lazy export, refused
options, and credentials that never show."""

from __future__ import annotations

from pathlib import Path

import pytest

from remote_store.config import RegistryConfig, Secret
from remote_store.errors import ConfigError, InvalidArgument
from remote_store.registry import Registry


def test_built_from_toml(tmp_path: Path) -> None:
    text = f"""
    [backends.db]
    type = "sql-blob"
    url = "sqlite:///{tmp_path / "files.db"}"
    table_name = "files"
    chunk_size = 65536

    [stores.reports]
    backend = "db"
    root_path = "reports"
    """
    with Registry(RegistryConfig.from_toml_string(text)) as registry:
        store = registry.get_store("reports")
        store.write("2026/q1.csv", b"a,b\n1,2\n")
        assert store.read_bytes("2026/q1.csv") == b"a,b\n1,2\n"
        assert [f.path for f in store.list_files("", recursive=True)] == ["2026/q1.csv"]


def test_lazy_export_is_the_registered_class() -> None:
    from remote_store.backends import SQLBlobBackend
    from remote_store.backends.sql.backend import SQLBlobBackend as Direct
    from remote_store.registry import load_backend_class

    assert SQLBlobBackend is Direct is load_backend_class("sql-blob")


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({}, ConfigError),
        ({"url": "sqlite://", "engine": object()}, ConfigError),
        ({"url": "mysql+pymysql://u@h/db"}, ConfigError),
        ({"url": "not a url"}, ConfigError),
        ({"url": 42}, InvalidArgument),
        ({"url": "sqlite://", "table_name": "x; DROP TABLE y"}, ConfigError),
        ({"url": "sqlite://", "schema": "a.b"}, ConfigError),
        ({"url": "sqlite://", "chunk_size": 10}, InvalidArgument),
        ({"url": "sqlite://", "create_table": "yes"}, InvalidArgument),
        ({"url": "sqlite://", "password": 5}, InvalidArgument),
    ],
)
def test_bad_options_are_typed_errors(options: dict[str, object], error: type[Exception]) -> None:
    from remote_store.backends import SQLBlobBackend

    with pytest.raises(error):
        SQLBlobBackend(**options)  # type: ignore[arg-type]


def test_password_option_is_a_secret_and_never_shows(tmp_path: Path) -> None:
    text = """
    [backends.db]
    type = "sql-blob"
    url = "postgresql+psycopg://app@127.0.0.1:1/db"
    password = "hunter2"
    create_table = false
    """
    config = RegistryConfig.from_toml_string(text)
    assert isinstance(config.backends["db"].options["password"], Secret)
    with Registry(config) as registry:
        backend = registry.get_backend("db")
        assert "hunter2" not in repr(backend)
        assert "hunter2" not in repr(config)
