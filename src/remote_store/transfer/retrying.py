"""When to send a request again, and how long to wait first: one loop for every backend.

`call_with_retries` sends a request until it succeeds, fails for good, exhausts the
`RetryPolicy`'s attempts, or would cross the deadline of the call it belongs to (see
`remote_store.transfer.deadline`). What counts as retryable is the backend's to say: its
*classify* looks at each answer (or exception) and returns a `Retry`, or ``None`` for an
outcome to hand back as it is. A backend that sends its own requests (SFTP, HTTP, S3
through botocore with botocore's retries turned off) calls the loop directly; a service SDK
with a pipeline (Azure) calls it from its retry hook.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TypeVar

from remote_store.config import RetryPolicy
from remote_store.errors import RemoteStoreError
from remote_store.transfer import deadline
from remote_store.transfer.deadline import DeadlineExceeded, call_scope

T = TypeVar("T")

#: 5xx statuses that say "this request will never work", not "try again".
_PERMANENT_5XX = frozenset({501, 505})


@dataclass(frozen=True)
class Retry:
    """*classify*'s verdict on an outcome worth another attempt.

    *landed*: the request may already have taken effect (its answer was lost, or is an
    error status a gateway or the service may send after acting), so the retry may meet
    its own first attempt; see `remote_store.transfer.reconcile`. *after*: seconds the
    service asked us to wait (``Retry-After``), if it said."""

    landed: bool = False
    after: float | None = None


def retryable_status(status: int | None) -> bool:
    """408, 429 and 5xx but 501/505: the HTTP statuses that say "try again"."""
    if status is None:
        return False
    return status in (408, 429) or (status >= 500 and status not in _PERMANENT_5XX)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the service asked us to wait (``retry-after-ms``, ``x-ms-retry-after-ms``,
    ``Retry-After`` in seconds or as an HTTP date), or ``None``. *headers* must look names
    up case-insensitively, as HTTP clients' header mappings do."""
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        value = headers.get(name)
        if value:
            try:
                return max(float(value) / 1000.0, 0.0)
            except ValueError:
                pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def call_with_retries(
    send: Callable[[float | None], T],
    *,
    policy: RetryPolicy,
    classify: Callable[[T | Exception], Retry | None],
    rewind: Callable[[], bool] = lambda: True,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> T:
    """Send a request with ``send(remaining)`` until *classify* accepts the outcome, and
    return it (or raise it, if it is an exception).

    *remaining* is the seconds left before the call's deadline (``None``: unbounded); the
    request's own timeouts should not exceed it. The loop runs in the current call (see
    `call_scope`), or opens one bounded by *policy*. Between attempts it sleeps the next
    of ``policy.delays(rng)``, or what the service asked if longer (capped at
    ``policy.backoff_max``). It gives up, handing back the last outcome, after
    ``policy.attempts`` attempts, when *rewind* (called before each re-send, to put a
    streamed body back where it started) returns False, or when the wait would reach the
    deadline; the call records why (`Call.describe`). A request is never sent past the
    deadline: `DeadlineExceeded` is raised instead."""
    with call_scope(policy) as call:
        assert call is not None
        delays = policy.delays(rng)
        attempt = 0
        while True:
            attempt += 1
            call.sent(retry=attempt > 1)
            remaining = call.remaining()
            if remaining is not None and remaining <= 0:
                call.give_up(attempt - 1, "deadline")
                raise DeadlineExceeded(f"the call's deadline of {policy.timeout:g} s has passed")
            outcome: T | Exception
            try:
                outcome = send(remaining)
            except Exception as error:
                outcome = error
            verdict = classify(outcome)
            if verdict is None:
                return _settle(outcome)
            exhausted = attempt >= policy.attempts or not rewind()
            delay = 0.0 if exhausted else next(delays)
            if verdict.after is not None:
                delay = max(delay, min(verdict.after, policy.backoff_max))
            remaining = call.remaining()
            if not exhausted and remaining is not None and delay >= remaining:
                call.give_up(attempt, "deadline")
                exhausted = True
            elif exhausted:
                call.give_up(attempt, "attempts")
            if exhausted:
                return _settle(outcome)
            if verdict.landed:
                call.may_have_landed()
            if delay > 0:
                sleep(delay)


def _settle(outcome: T | Exception) -> T:
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def with_attempts(error: RemoteStoreError) -> RemoteStoreError:
    """*error*, if retryable, with how many attempts the call made and over how long (and
    the endpoint, when the transport noted it); its `service_code` kept."""
    call = deadline.current()
    if call is None or not error.retryable:
        return error
    described = type(error)(
        f"{error.message}; {call.describe()}",
        path=error.path,
        backend=error.backend,
        retryable=error.retryable,
    )
    described.service_code = error.service_code
    return described
