"""Built-in backends. Optional ones are imported on first use, so the core needs no extras."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from remote_store.backends.local import LocalBackend
from remote_store.backends.memory import MemoryBackend

if TYPE_CHECKING:
    from remote_store.backends.azure import AzureBackend
    from remote_store.backends.s3 import S3Backend, S3PyArrowBackend

__all__ = ["AzureBackend", "LocalBackend", "MemoryBackend", "S3Backend", "S3PyArrowBackend"]

#: Exported names of the backends with optional dependencies -> their registry type.
_LAZY = {"AzureBackend": "azure", "S3Backend": "s3", "S3PyArrowBackend": "s3-pyarrow"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from remote_store.errors import ConfigError
        from remote_store.registry import load_backend_class

        try:
            return load_backend_class(_LAZY[name])
        except ConfigError as error:
            # An attribute that cannot be imported is an ImportError to `from ... import`.
            raise ImportError(str(error)) from error
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
