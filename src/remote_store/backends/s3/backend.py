"""S3Backend: options, credentials, the client, names and lifecycle; the operations are the
object-store core over the primitives in `remote_store.backends.s3.objects`."""

from __future__ import annotations

import ipaddress
import re
import threading
from contextlib import AbstractContextManager, suppress
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import urlsplit

from remote_store.backend import Backend
from remote_store.backends.s3.clients import build_client
from remote_store.backends.s3.clients import secret as as_secret
from remote_store.backends.s3.errors import translate
from remote_store.backends.s3.model import (
    DEFAULT_CHUNK_GET_SIZE,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_PART_SIZE,
    DEFAULT_SINGLE_PUT_SIZE,
    Settings,
)
from remote_store.backends.s3.objects import S3Objects
from remote_store.backends.s3.retry import DEFAULT_RETRY, Requests
from remote_store.capabilities import CapabilitySet
from remote_store.config import RetryPolicy
from remote_store.errors import (
    CapabilityNotSupported,
    ConfigError,
    InvalidPath,
    NotFound,
    RemoteStoreError,
)
from remote_store.frozen import FrozenMap
from remote_store.models import ResolutionPlan
from remote_store.objectstore import OBJECT_STORE_CAPABILITIES
from remote_store.transfer.deadline import call_scope

if TYPE_CHECKING:
    from remote_store.store import Store

T = TypeVar("T")

_SCHEME = "s3://"
# Bucket names as S3 accepts them (3-63 of lower-case letters, digits, '.', '-').
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def check_bucket(bucket: object) -> str:
    if not isinstance(bucket, str) or not _BUCKET.match(bucket):
        raise ConfigError(
            f"bucket must be an S3 bucket name (3-63 lower-case letters, digits, '.', '-'), "
            f"got {bucket!r}"
        )
    return bucket


def check_endpoint(endpoint_url: object, *, allow_insecure: bool) -> None:
    """Refuse an endpoint that is not http(s), and plain http to anything but loopback
    (the local servers) unless *allow_insecure*: the content would travel in clear."""
    if endpoint_url is None:
        return
    if not isinstance(endpoint_url, str):
        raise ConfigError(f"endpoint_url must be an http(s):// URL, got {endpoint_url!r}")
    parts = urlsplit(endpoint_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"endpoint_url must be an http(s):// URL, got {endpoint_url!r}")
    if parts.scheme == "http" and not allow_insecure and not _loopback(parts.hostname):
        raise ConfigError(
            f"endpoint_url {endpoint_url!r} is plain http to a remote host; use https, or "
            "pass allow_insecure=True"
        )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_url(url: str) -> tuple[str, str]:
    """``s3://bucket/key/prefix`` -> ``("bucket", "key/prefix")``."""
    if not isinstance(url, str) or not url.startswith(_SCHEME):
        raise InvalidPath(f"not an s3:// URL: {url!r}", path=str(url))
    bucket, _, key = url[len(_SCHEME) :].partition("/")
    return check_bucket(bucket), key.strip("/")


class S3Backend(S3Objects, Backend):
    """Amazon S3 and S3-compatible stores (MinIO, Ceph, R2, ...), through boto3.

    ``overwrite=False`` and ``if_match`` ride on the one request that makes the object
    visible (``If-None-Match: *`` / ``If-Match`` on PutObject or CompleteMultipartUpload);
    large content goes up in parts with bounded memory, aborted on any failure."""

    name: ClassVar[str] = "s3"
    supported_capabilities: ClassVar[CapabilitySet] = OBJECT_STORE_CAPABILITIES

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        key: Any = None,
        secret: Any = None,
        token: Any = None,
        profile: str | None = None,
        region_name: str | None = None,
        client_options: dict[str, Any] | None = None,
        retry: RetryPolicy | dict[str, Any] | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        part_size: int = DEFAULT_PART_SIZE,
        single_put_size: int = DEFAULT_SINGLE_PUT_SIZE,
        chunk_get_size: int = DEFAULT_CHUNK_GET_SIZE,
        reject_write_under_file_ancestor: bool = False,
        allow_insecure: bool = False,
        create_bucket: bool = False,
    ) -> None:
        self._bucket = check_bucket(bucket)
        if not isinstance(create_bucket, bool):
            raise ConfigError("create_bucket must be a bool")
        self._create_on_first_use = create_bucket
        self._first_use = threading.Lock()
        check_endpoint(endpoint_url, allow_insecure=allow_insecure)
        if profile is not None and not isinstance(profile, str):
            raise ConfigError("profile must be a str")
        if not isinstance(reject_write_under_file_ancestor, bool):
            raise ConfigError("reject_write_under_file_ancestor must be a bool")
        self._settings = Settings(
            part_size=part_size,
            single_put_size=single_put_size,
            chunk_get_size=chunk_get_size,
            max_concurrency=max_concurrency,
        )
        self._retry = RetryPolicy.from_option(retry, DEFAULT_RETRY)
        self._endpoint = endpoint_url
        # BC-010/BC-011 cost a HEAD per ancestor and a listing per write: opt-in.
        self.check_namespace_on_write = reject_write_under_file_ancestor
        self._credentials = (
            as_secret("key", key),
            as_secret("secret", secret),
            as_secret("token", token),
        )
        self._session, self._client = build_client(
            endpoint_url=endpoint_url,
            key=self._credentials[0],
            secret_key=self._credentials[1],
            token=self._credentials[2],
            profile=profile,
            region_name=region_name,
            client_options=client_options,
            max_concurrency=self._settings.max_concurrency,
        )
        # The endpoint may come from AWS_ENDPOINT_URL or a profile: checked as resolved.
        check_endpoint(self._client.meta.endpoint_url, allow_insecure=allow_insecure)
        self._requests = Requests(self._client, self._retry)
        # What another process needs to build the same backend (DS-031): the credentials as
        # `Secret`, which pickles by value and never prints; none given: the receiving
        # process resolves them from its own AWS environment, profile or instance role.
        self._options: dict[str, Any] = {
            "bucket": bucket,
            "endpoint_url": endpoint_url,
            "key": self._credentials[0],
            "secret": self._credentials[1],
            "token": self._credentials[2],
            "profile": profile,
            "region_name": region_name,
            "client_options": client_options,
            "retry": self._retry,
            "max_concurrency": max_concurrency,
            "part_size": part_size,
            "single_put_size": single_put_size,
            "chunk_get_size": chunk_get_size,
            "reject_write_under_file_ancestor": reject_write_under_file_ancestor,
            "allow_insecure": allow_insecure,
            "create_bucket": create_bucket,
        }

    @classmethod
    def from_url(cls, url: str, **options: Any) -> Store:
        """A `Store` rooted at the key prefix of ``s3://bucket/prefix``; *options* are the
        constructor's. Endpoint, region and credentials not given come from the standard
        AWS environment variables and files (``AWS_ENDPOINT_URL``, ``AWS_PROFILE`` ...)."""
        from remote_store.store import Store

        bucket, prefix = parse_url(url)
        return Store(cls(bucket, **options), root_path=prefix)

    def __repr__(self) -> str:
        endpoint = self._endpoint or self._client.meta.endpoint_url
        return f"{type(self).__name__}(bucket={self._bucket!r}, endpoint={endpoint!r})"

    def _rebuild_options(self) -> dict[str, Any]:
        return dict(self._options)

    # ------------------------------------------------------------------ kernel hooks

    def create_bucket(self) -> bool:
        """Create the bucket; ``True`` if this call created it, ``False`` if it was there.
        A HeadBucket first (some services, and AWS in us-east-1, answer CreateBucket of an
        existing bucket with success), then CreateBucket if it is missing. For a store to
        create its bucket on first use instead, pass ``create_bucket=True``."""
        with self._own_call():
            return self._create()

    def _create(self) -> bool:
        try:
            self._requests("head_bucket", "create bucket", None, Bucket=self._bucket)
            return False
        except NotFound:
            pass
        params: dict[str, Any] = {"Bucket": self._bucket}
        region = self._client.meta.region_name
        if region and region != "us-east-1":  # the one region that takes no constraint
            params["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            self._requests("create_bucket", "create bucket", None, **params)
        except RemoteStoreError as error:
            if error.service_code == "BucketAlreadyOwnedByYou":  # created meanwhile
                return False
            raise
        return True

    def _call_scope(self) -> AbstractContextManager[object]:
        if self._create_on_first_use:
            with self._first_use:
                if self._create_on_first_use:
                    self._create()
                    self._create_on_first_use = False
        # One deadline per public call: every request it makes, retries included, shares it.
        return call_scope(self._retry)

    def _native_path(self, key: str) -> str:
        return f"{_SCHEME}{self._bucket}/{key}"

    def _to_key(self, native_path: str) -> str:
        """The key of ``s3://bucket/key`` in this backend's bucket, or of a plain key."""
        if not native_path.startswith(_SCHEME):
            return native_path
        bucket, key = parse_url(native_path)
        if bucket != self._bucket:
            raise InvalidPath(
                f"{native_path!r} is not in bucket {self._bucket!r}", path=native_path
            )
        return key

    def _resolve(self, key: str) -> ResolutionPlan:
        """Where *key* lives: URL, bucket, endpoint, region. Never credentials."""
        details = {
            "bucket": self._bucket,
            "key": key,
            "endpoint": self._client.meta.endpoint_url,
            "region": self._client.meta.region_name,
        }
        return ResolutionPlan(
            kind="s3",
            backend=self.name,
            key=key,
            native_path=self._native_path(key),
            details=FrozenMap(details),
        )

    def _unwrap(self, type_hint: type[T]) -> T:
        """The boto3 S3 client (``botocore.client.BaseClient``, or its generated class)."""
        if isinstance(self._client, type_hint):
            return self._client
        raise CapabilityNotSupported(
            f"unwrap to {getattr(type_hint, '__name__', type_hint)!r}", backend=self.name
        )

    def _ping(self) -> None:
        """One request: HeadBucket."""
        self._requests("head_bucket", "ping", None, Bucket=self._bucket)

    def _close(self) -> None:
        with suppress(Exception):
            self._client.close()


__all__ = ["S3Backend", "check_bucket", "parse_url", "translate"]
