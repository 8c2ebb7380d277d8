"""Amazon S3 and S3-compatible stores, through boto3 (``pip install "remote-store[s3]"``)."""

from typing import TYPE_CHECKING, Any

from remote_store.backends.s3 import redact
from remote_store.backends.s3.backend import S3Backend

redact.install()

if TYPE_CHECKING:
    from remote_store.backends.s3.arrow import S3PyArrowBackend

__all__ = ["S3Backend", "S3PyArrowBackend"]


def __getattr__(name: str) -> Any:
    if name == "S3PyArrowBackend":  # imports pyarrow only when asked for
        from remote_store.backends.s3.arrow import S3PyArrowBackend

        return S3PyArrowBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
