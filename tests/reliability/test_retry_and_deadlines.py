"""REL-001..REL-008: what is retried, how long it waits, and when it gives up."""

from __future__ import annotations

import time
from typing import ClassVar

import pytest
from azure.core.exceptions import HttpResponseError, ServiceResponseError

from remote_store.backends.azure import errors as azerr
from remote_store.backends.azure.retry import DEFAULT_RETRY, retry_after, retryable_status
from remote_store.config import RetryPolicy
from remote_store.errors import AlreadyExists, BackendUnavailable, NotFound
from tests.fault_proxy import Fault, Match

from .conftest import QUICK, SMALL_TRANSFERS, Rig


def test_rel_001_default_policy_is_fast_and_bounded() -> None:
    """REL-001: sub-second first backoff (the SDK's starts at 15 s), capped, deadline set."""
    assert DEFAULT_RETRY.attempts == 4
    assert DEFAULT_RETRY.backoff_base < 1.0
    assert DEFAULT_RETRY.backoff_max <= 4.0
    assert DEFAULT_RETRY.timeout is not None
    assert all(d <= DEFAULT_RETRY.backoff_max for d in DEFAULT_RETRY.delays())


@pytest.mark.parametrize(
    "status", [400, 401, 403, 404, 408, 409, 412, 416, 429, 500, 501, 502, 503, 504, 505, 507]
)
def test_rel_002_retried_exactly_when_marked_retryable(status: int) -> None:
    """REL-002: the policy retries a status if and only if errors.py marks it retryable."""

    class Response:
        status_code = status
        headers: ClassVar[dict[str, str]] = {}
        reason = "x"

        def text(self) -> str:
            return ""

    error = HttpResponseError(response=Response())  # type: ignore[arg-type]
    mapped = azerr.map_error(error, "op", "p")
    assert retryable_status(status) is mapped.retryable


def test_rel_002_transport_errors_are_retryable() -> None:
    mapped = azerr.map_error(ServiceResponseError("cut"), "op", "p")
    assert isinstance(mapped, BackendUnavailable) and mapped.retryable


@pytest.mark.parametrize(
    ("status", "code"), [(404, "BlobNotFound"), (409, "BlobAlreadyExists"), (400, "InvalidInput")]
)
def test_rel_002_permanent_errors_are_sent_once(rig: Rig, status: int, code: str) -> None:
    store = rig.store()
    rig.put("f", b"x")
    rig.proxy.add(
        Fault.status(status, error_code=code, match=Match(method="GET", path=r"/f$"), times=None)
    )
    with pytest.raises(Exception):  # noqa: B017 - the mapping is tested elsewhere
        store.read_bytes("f")
    gets = [e for e in rig.proxy.log() if e.method == "GET" and e.path.endswith("/f")]
    assert len(gets) == 1, rig.proxy.show()
    rig.tally.operations += 1


@pytest.mark.parametrize("status", [500, 503, 408, 429])
def test_rel_003_transient_statuses_are_retried(rig: Rig, status: int) -> None:
    """REL-003: 408, 429 (which the SDK alone never retries), 500 and 503 are retried."""
    store = rig.store()
    rig.proxy.add(Fault.status(status, times=2, match=Match(method="PUT")))
    store.write("f", b"payload")
    rig.verify(rig.blob("f"), b"payload")
    assert rig.proxy.stats().faults["status"] == 2


def test_rel_003_retry_after_is_honoured_up_to_backoff_max(rig: Rig) -> None:
    """REL-003: Retry-After: 1 with backoff_max 0.2 waits 0.2 s; with backoff_max 2, 1 s."""
    capped = rig.store(RetryPolicy(attempts=3, backoff_base=0, backoff_max=0.2, jitter=False))
    rig.proxy.add(Fault.status(429, retry_after=1, times=2, match=Match(method="PUT")))
    started = time.monotonic()
    capped.write("a", b"a")
    assert time.monotonic() - started < 0.9
    honoured = rig.store(RetryPolicy(attempts=2, backoff_base=0, backoff_max=2, jitter=False))
    rig.proxy.add(Fault.status(429, retry_after=1, times=1, match=Match(method="PUT")))
    started = time.monotonic()
    honoured.write("b", b"b")
    assert time.monotonic() - started >= 1.0
    rig.verify(rig.blob("a"), b"a")
    rig.verify(rig.blob("b"), b"b")


def test_rel_003_retry_after_forms() -> None:
    assert retry_after({"retry-after": "2"}) == 2.0
    assert retry_after({"retry-after-ms": "250"}) == 0.25
    assert retry_after({"x-ms-retry-after-ms": "100"}) == 0.1
    assert retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_after({}) is None


def test_rel_004_exhausted_policy_says_attempts_and_time(rig: Rig) -> None:
    """REL-004: BackendUnavailable names the attempts made and the time they took."""
    store = rig.store(RetryPolicy(attempts=3, backoff_base=0.05, backoff_max=0.1, jitter=False))
    rig.proxy.add(Fault.status(503, times=None, match=Match(method="PUT")))
    with pytest.raises(BackendUnavailable, match=r"gave up after 3 attempts over \d+\.\d s"):
        store.write("f", b"x")
    assert rig.proxy.stats().faults["status"] == 3
    rig.verify(rig.blob("f"), None)


def test_rel_005_deadline_bounds_retries(rig: Rig) -> None:
    """REL-005: with attempts to spare, the deadline ends the call, and says so."""
    policy = RetryPolicy(attempts=50, backoff_base=0.2, backoff_max=0.2, jitter=False, timeout=1)
    store = rig.store(policy)
    rig.proxy.add(Fault.status(503, times=None, match=Match(method="PUT")))
    started = time.monotonic()
    with pytest.raises(BackendUnavailable, match=r"deadline of 1 s reached after \d+ attempts"):
        store.write("f", b"x")
    assert time.monotonic() - started < 1.5
    rig.tally.operations += 1


@pytest.mark.parametrize("how", ["read_bytes", "read"])
def test_rel_006_stalled_download_ends_at_the_deadline(rig: Rig, how: str) -> None:
    """REL-006: a body that stalls mid-way for 30 s ends with BackendUnavailable within the
    2 s deadline plus the SDK's 1 s pause before it re-requests a cut body."""
    data = bytes(range(256)) * 1024  # 256 KiB
    rig.put("f", data)
    policy = RetryPolicy(attempts=3, backoff_base=0.05, backoff_max=0.1, jitter=False, timeout=2)
    store = rig.store(policy, **SMALL_TRANSFERS)
    skip = 0 if how == "read_bytes" else 1  # read(): stall the second 64 KiB chunk
    rig.proxy.add(Fault.stall(16 * 1024, 30, skip=skip, times=None, match=Match(method="GET")))
    started = time.monotonic()
    with pytest.raises(BackendUnavailable, match=r"deadline|did not answer"):
        if how == "read_bytes":
            store.read_bytes("f")
        else:
            with store.read("f") as stream:
                assert stream.read(64 * 1024) == data[: 64 * 1024]
                started = time.monotonic()
                stream.read()
    elapsed = time.monotonic() - started
    assert elapsed < 2 + 1.8, elapsed
    rig.tally.operations += 1


def test_rel_007_retried_create_is_not_a_conflict_with_itself(rig: Rig) -> None:
    """REL-007: overwrite=False whose first Put Blob landed but whose answer was lost: the
    retry meets our own blob, which we recognise (size, MD5, metadata): success."""
    store = rig.store()
    rig.proxy.add(Fault.drop_response(match=Match(method="PUT")))
    result = store.write("f", b"mine", metadata={"k": "v"})
    assert rig.proxy.stats().faults["drop_response"] == 1
    rig.verify(rig.blob("f"), b"mine")
    assert result.etag == store.get_file_info("f").etag


def test_rel_007_a_real_conflict_stays_a_conflict_under_retries(rig: Rig) -> None:
    store = rig.store()
    rig.put("f", b"theirs")
    rig.proxy.add(Fault.drop_response(match=Match(method="PUT")))
    with pytest.raises(AlreadyExists):
        store.write("f", b"mine")
    rig.verify(rig.blob("f"), b"theirs")
    rig.put("g", b"same")
    with pytest.raises(AlreadyExists):  # identical content, but no retry: still a conflict
        store.write("g", b"same")


def test_rel_008_no_retry_after_the_answer_arrived(rig: Rig) -> None:
    """REL-008: a 404 is an answer: NotFound at once, one GET, no deadline spent."""
    store = rig.store(QUICK)
    with pytest.raises(NotFound):
        store.read_bytes("missing")
    assert len([e for e in rig.proxy.log() if e.path.endswith("/missing")]) == 1
