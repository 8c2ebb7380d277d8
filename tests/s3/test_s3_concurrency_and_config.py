"""S3-030..S3-034: races decided by S3 (one winner of eight create-only writes, every
round), credentials as `Secret`, construction from TOML config and ``s3://`` URLs."""

from __future__ import annotations

import logging
import pickle
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from remote_store.backends import S3Backend
from remote_store.config import RegistryConfig, Secret
from remote_store.errors import AlreadyExists, ConfigError, InvalidPath
from remote_store.registry import Registry
from remote_store.store import Store
from tests.s3.conftest import MakeBackend
from tests.s3_support import ACCESS_KEY, REGION, S3Server

pytestmark = pytest.mark.s3

THREADS, ROUNDS = 8, 5


def test_eight_create_only_writers_one_winner(make_backend: MakeBackend) -> None:
    """S3-030: 8 threads ``overwrite=False`` on one key: exactly one wins, every round, and
    the object holds the winner's bytes."""
    store = Store(make_backend())
    for round_ in range(ROUNDS):
        key = f"race-{round_}.txt"
        barrier = threading.Barrier(THREADS)

        def attempt(n: int, key: str = key, barrier: threading.Barrier = barrier) -> int | None:
            barrier.wait()
            try:
                store.write(key, f"writer {n}".encode())
            except AlreadyExists:
                return None
            return n

        with ThreadPoolExecutor(THREADS) as pool:
            winners = [n for n in pool.map(attempt, range(THREADS)) if n is not None]
        assert len(winners) == 1, winners
        assert store.read_bytes(key) == f"writer {winners[0]}".encode()


def test_credentials_never_show(ministack: S3Server, bucket: str) -> None:
    """S3-031: the secret is wrapped in `Secret`; repr, resolve and errors never show it."""
    secret = "s3cr3t-value-never-printed"
    backend = S3Backend(
        bucket, endpoint_url=ministack.endpoint, key=ACCESS_KEY, secret=secret, region_name=REGION
    )
    with backend:
        store = Store(backend)
        store.write("a.txt", b"a")
        shown = [repr(backend), str(backend), repr(store), repr(store.resolve("a.txt"))]
        try:
            store.read_bytes("missing")
        except Exception as error:
            shown += [repr(error), str(error), repr(error.__cause__)]
        assert not any(secret in text for text in shown)
    # DS-031: a pickle carries the secret as a `Secret` (by value, by design); the backend
    # it rebuilds shows it no more than this one.
    rebuilt = pickle.loads(pickle.dumps(backend))
    assert isinstance(rebuilt._options["secret"], Secret)
    assert secret not in repr(rebuilt) + repr(rebuilt._options)
    rebuilt.close()
    with pytest.raises(ConfigError, match="key and secret go together"):
        S3Backend(bucket, endpoint_url=ministack.endpoint, secret=Secret(secret))


def test_config_builds_an_s3_backend(ministack: S3Server, bucket: str) -> None:
    """S3-032: type "s3" in TOML config; the secret option arrives as a `Secret`."""
    config = RegistryConfig.from_dict(
        {
            "backends": {
                "lake": {
                    "type": "s3",
                    "bucket": bucket,
                    "endpoint_url": ministack.endpoint,
                    "key": ACCESS_KEY,
                    "secret": "test",
                    "region_name": REGION,
                    "retry": {"attempts": 2},
                }
            },
            "stores": {"data": {"backend": "lake", "root_path": "data"}},
        }
    )
    assert isinstance(config.backends["lake"].options["secret"], Secret)
    with Registry(config) as registry:
        store = registry.get_store("data")
        store.write("x.txt", b"x")
        assert store.resolve("x.txt").native_path == f"s3://{bucket}/data/x.txt"


def test_from_url(ministack: S3Server, bucket: str) -> None:
    """S3-033: ``s3://bucket/prefix`` roots a Store at the prefix; the other bucket's URL
    is refused by to_key."""
    store = S3Backend.from_url(
        f"s3://{bucket}/some/prefix",
        endpoint_url=ministack.endpoint,
        key=ACCESS_KEY,
        secret="test",
        region_name=REGION,
    )
    with store:
        store.write("f.txt", b"f")
        client = ministack.client()
        assert client.get_object(Bucket=bucket, Key="some/prefix/f.txt")["Body"].read() == b"f"
    with pytest.raises(InvalidPath):
        S3Backend.from_url("https://example.com/x")
    with pytest.raises(ConfigError):
        S3Backend("Not_A_Bucket")


def test_plain_http_only_to_loopback() -> None:
    """S3-034: plain http to a remote host is refused unless allow_insecure; ftp never."""
    with pytest.raises(ConfigError, match="allow_insecure"):
        S3Backend("bucket", endpoint_url="http://s3.example.com", key="k", secret="s")
    with pytest.raises(ConfigError):
        S3Backend("bucket", endpoint_url="ftp://127.0.0.1")
    S3Backend("bucket", endpoint_url="http://s3.example.com", allow_insecure=True).close()


def test_secret_survives_pickling_masked() -> None:
    """S3-031: a `Secret` survives pickling for worker processes and still prints masked."""
    value = Secret("abc")
    assert repr(pickle.loads(pickle.dumps(value))) == "Secret('**********')"


def test_session_token_stays_out_of_debug_logs(
    ministack: S3Server, bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    """S3-031: botocore logs headers and the canonical request at DEBUG; the session token
    in them is rewritten to REDACTED before any handler sees it."""
    token = "SESSION-TOKEN-never-logged-123"
    with caplog.at_level(logging.DEBUG):
        backend = ministack.backend(bucket, token=token)
        with backend:
            Store(backend).write("t.txt", b"t")
    assert any("x-amz-security-token" in r.getMessage().lower() for r in caplog.records)
    assert not any(token in r.getMessage() for r in caplog.records)
