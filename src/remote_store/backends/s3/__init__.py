"""Amazon S3 and S3-compatible stores, through boto3 (``pip install "remote-store[s3]"``)."""

from remote_store.backends.s3.backend import S3Backend

__all__ = ["S3Backend"]
