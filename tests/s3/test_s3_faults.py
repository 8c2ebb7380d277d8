"""S3-020..S3-026: faults injected between the client and a real MiniStack through the
fault proxy (5xx, SlowDown, resets, dropped answers, truncated bodies); every test checks
the content that landed or was read, byte for byte."""

from __future__ import annotations

import hashlib

import pytest

from remote_store.config import RetryPolicy
from remote_store.errors import BackendUnavailable
from remote_store.store import Store
from tests.fault_proxy import Fault, FaultProxy, Match
from tests.fault_proxy.fixtures import ProxyFactory
from tests.s3.conftest import MakeBackend
from tests.s3_support import S3Server

pytestmark = pytest.mark.s3

MiB = 1024 * 1024
FAST = RetryPolicy(attempts=4, backoff_base=0.0, backoff_max=0.0, jitter=False, timeout=30.0)


def s3_error(code: str) -> bytes:
    """An error body as S3 sends it (botocore reads the code from it)."""
    return f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code></Error>".encode()


def _data(size: int) -> bytes:
    return (hashlib.sha256(b"fault").digest() * (size // 32 + 1))[:size]


@pytest.fixture
def proxy(ministack: S3Server, fault_proxy: ProxyFactory) -> FaultProxy:
    return fault_proxy(ministack.endpoint)


@pytest.fixture
def proxied(make_backend: MakeBackend, proxy: FaultProxy) -> Store:
    return Store(make_backend(endpoint_url=proxy.url, retry=FAST))


@pytest.fixture
def direct(make_backend: MakeBackend) -> Store:
    return Store(make_backend())


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (503, "SlowDown"),
        (500, "InternalError"),
        (400, "RequestTimeout"),
        (409, "ConditionalRequestConflict"),
    ],
)
def test_transient_answers_are_retried(
    proxy: FaultProxy, proxied: Store, direct: Store, status: int, code: str
) -> None:
    """S3-020: SlowDown, 5xx, RequestTimeout and AWS's 409 ConditionalRequestConflict (on
    a create-only write) are retried; the content lands once."""
    proxy.add(
        Fault.status(
            status, error_code=code, body=s3_error(code), times=2, match=Match(method="PUT")
        )
    )
    data = _data(1000)
    proxied.write("k.bin", data)
    assert proxy.stats().faults["status"] == 2
    assert direct.read_bytes("k.bin") == data


def test_slowdown_past_the_attempts_is_backend_unavailable(
    proxy: FaultProxy, proxied: Store, direct: Store
) -> None:
    """S3-021: once the attempts are spent the error is BackendUnavailable, retryable,
    naming the attempts; nothing was written."""
    proxy.add(
        Fault.status(
            503,
            error_code="SlowDown",
            body=s3_error("SlowDown"),
            times=None,
            match=Match(method="PUT"),
        )
    )
    with pytest.raises(BackendUnavailable, match=r"SlowDown.*4 attempts") as raised:
        proxied.write("k.bin", b"x")
    assert raised.value.retryable
    assert not direct.exists("k.bin")


def test_dropped_answer_of_a_create_only_put_is_reconciled(
    proxy: FaultProxy, proxied: Store, direct: Store
) -> None:
    """S3-022: the first PutObject lands but its answer is lost; the retry meets its own
    object (412) and one HEAD shows it is ours: a success, not AlreadyExists."""
    proxy.add(Fault.drop_response(match=Match(method="PUT")))
    data = _data(5000)
    result = proxied.write("k.bin", data)
    assert result.etag == hashlib.md5(data).hexdigest()
    assert direct.read_bytes("k.bin") == data


def test_create_only_still_refuses_another_writers_object(
    proxy: FaultProxy, proxied: Store, direct: Store
) -> None:
    """S3-022: after a retry, a conflict with someone else's content is still reported."""
    from remote_store.errors import AlreadyExists

    direct.write("k.bin", b"theirs")
    proxy.add(
        Fault.status(
            503, error_code="SlowDown", body=s3_error("SlowDown"), match=Match(method="PUT")
        )
    )
    with pytest.raises(AlreadyExists):
        proxied.write("k.bin", b"mine")
    assert direct.read_bytes("k.bin") == b"theirs"


@pytest.mark.parametrize(
    "fault",
    [
        Fault.truncate(after_bytes=300_000, match=Match(method="GET")),
        Fault.reset_mid_body(after_bytes=300_000, match=Match(method="GET")),
        Fault.reset(match=Match(method="GET")),
        Fault.status(
            503, error_code="SlowDown", body=s3_error("SlowDown"), match=Match(method="GET")
        ),
    ],
    ids=["truncate", "reset_mid_body", "reset", "slowdown"],
)
def test_reads_survive_cut_bodies(
    proxy: FaultProxy, proxied: Store, direct: Store, fault: Fault
) -> None:
    """S3-023: a body cut mid-way is re-requested from where it stopped (pinned to the
    first ETag); a reset or 503 before it is retried; 0 bytes lost or duplicated."""
    data = _data(2 * MiB + 17)
    direct.write("k.bin", data)
    proxy.add(fault)
    assert proxied.read_bytes("k.bin") == data
    assert proxy.stats().faults_total == 1


def test_multipart_survives_a_reset_part(
    make_backend: MakeBackend, proxy: FaultProxy, direct: Store
) -> None:
    """S3-024: a part upload cut mid-body is sent again; the object is whole."""
    store = Store(
        make_backend(endpoint_url=proxy.url, retry=FAST, part_size=5 * MiB, single_put_size=5 * MiB)
    )
    proxy.add(
        Fault.reset_mid_upload(after_bytes=MiB, match=Match(method="PUT", query="partNumber=2"))
    )
    data = _data(11 * MiB)
    store.write("big.bin", data)
    assert proxy.stats().faults_total == 1
    assert direct.read_bytes("big.bin") == data


def test_failed_multipart_is_aborted(
    ministack: S3Server, bucket: str, make_backend: MakeBackend, proxy: FaultProxy, direct: Store
) -> None:
    """S3-025: a part that keeps failing ends the write with an error, the upload is
    aborted (ListMultipartUploads is empty) and nothing is visible."""
    store = Store(
        make_backend(endpoint_url=proxy.url, retry=FAST, part_size=5 * MiB, single_put_size=5 * MiB)
    )
    proxy.add(
        Fault.status(
            500,
            error_code="InternalError",
            body=s3_error("InternalError"),
            times=None,
            match=Match(method="PUT", query="partNumber=2"),
        )
    )
    with pytest.raises(BackendUnavailable):
        store.write("big.bin", _data(11 * MiB))
    assert not direct.exists("big.bin")
    assert ministack.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_dropped_answer_of_an_if_match_delete(
    proxy: FaultProxy, proxied: Store, direct: Store
) -> None:
    """S3-026: a conditional delete that landed but lost its answer is a success."""
    etag = direct.write("k.bin", b"x").etag
    proxy.add(Fault.drop_response(match=Match(method="DELETE")))
    proxied.delete("k.bin", if_match=etag)
    assert not direct.exists("k.bin")


def test_delete_objects_reports_per_key_errors(
    ministack: S3Server, bucket: str, proxy: FaultProxy, proxied: Store, direct: Store
) -> None:
    """S3-027: DeleteObjects answers 200 with per-key errors; they are raised as the
    library's error for their code (here AccessDenied -> PermissionDenied), not dropped."""
    from remote_store.errors import PermissionDenied

    direct.write("d/a.txt", b"a")
    direct.write("d/b.txt", b"b")
    body = (
        b"<?xml version='1.0' encoding='UTF-8'?><DeleteResult>"
        b"<Error><Key>d/b.txt</Key><Code>AccessDenied</Code><Message>no</Message></Error>"
        b"</DeleteResult>"
    )
    proxy.add(
        Fault.status(200, error_code="", body=body, match=Match(method="POST", query="delete"))
    )
    with pytest.raises(PermissionDenied, match=r"d/b\.txt"):
        proxied.delete_folder("d", recursive=True)


def test_a_server_that_is_not_there_is_backend_unavailable() -> None:
    """S3-021: a refused connection (botocore's EndpointConnectionError, no answer at all)
    maps to BackendUnavailable, not to an unexpected error."""
    from remote_store.backends.s3 import S3Backend
    from tests.s3_support import ACCESS_KEY, REGION, SECRET_KEY, _free_port

    backend = S3Backend(
        "nowhere",
        endpoint_url=f"http://127.0.0.1:{_free_port()}",
        key=ACCESS_KEY,
        secret=SECRET_KEY,
        region_name=REGION,
        retry=RetryPolicy(attempts=1),
    )
    with pytest.raises(BackendUnavailable, match="did not answer"):
        Store(backend).get_file_info("k.bin")
