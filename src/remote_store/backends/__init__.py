"""Built-in backends. Optional ones are imported on first use, so the core needs no extras."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from remote_store.backends.local import LocalBackend
from remote_store.backends.memory import MemoryBackend

if TYPE_CHECKING:
    from remote_store.backends.azure import AzureBackend, AzureUtils
    from remote_store.backends.http import HttpBackend, ReadOnlyHttpBackend
    from remote_store.backends.s3 import S3Backend, S3PyArrowBackend
    from remote_store.backends.sftp import SFTPBackend
    from remote_store.backends.sql import SQLBlobBackend, SQLQueryBackend

__all__ = [
    "AzureBackend",
    "AzureUtils",
    "HttpBackend",
    "LocalBackend",
    "MemoryBackend",
    "ReadOnlyHttpBackend",
    "S3Backend",
    "S3PyArrowBackend",
    "SFTPBackend",
    "SQLBlobBackend",
    "SQLQueryBackend",
]

#: Lazily imported names: attribute -> the registered backend type whose package has it.
_LAZY = {
    "AzureBackend": "azure",
    "AzureUtils": "azure",
    "HttpBackend": "http",
    "ReadOnlyHttpBackend": "http",
    "S3Backend": "s3",
    "S3PyArrowBackend": "s3-pyarrow",
    "SQLBlobBackend": "sql-blob",
    "SQLQueryBackend": "sql-query",
    "SFTPBackend": "sftp",
}
#: Backend type -> its package below this one, where the two names differ.
_PACKAGES = {"sql-blob": "sql", "sql-query": "sql", "s3-pyarrow": "s3"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        from remote_store.errors import ConfigError
        from remote_store.registry import load_backend_class

        try:
            # Imports the package, or says which extra is missing.
            load_backend_class(_LAZY[name])
        except ConfigError as error:
            # An attribute that cannot be imported is an ImportError to `from ... import`.
            raise ImportError(str(error)) from error
        package = _PACKAGES.get(_LAZY[name], _LAZY[name])
        return getattr(importlib.import_module(f"{__name__}.{package}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
