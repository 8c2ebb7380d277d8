"""Retries and deadlines for the Azure SDK clients: one pipeline policy, one call scope.

`ServiceRetry` replaces the storage SDK's retry policy in every client the backend builds.
It retries exactly what `remote_store.backends.azure.errors` maps to a retryable error
(transport failures, 408, 429, and 5xx but 501 and 505), sleeps a `RetryPolicy` backoff (or the
service's ``Retry-After``, capped at ``backoff_max``), and never lets a request or a sleep
run past the deadline of the call it belongs to.

A *call* is one public operation: `call_scope` opens it (the facade does, for each method)
and stores it in a context variable, so every request the operation makes, and the SDK's
own re-requests of a cut download body, share one deadline. A request made outside any
call (a lazy listing page, a write on an ``open_atomic`` stream) gets a call of its own.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

from azure.core.exceptions import AzureError, ServiceRequestError, ServiceResponseError
from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import HTTPPolicy

from remote_store.config import RetryPolicy

#: The Azure backend's policy when none is configured: 4 attempts, first backoff at most
#: 0.2 s (the SDK's own default starts at 15 s), doubling to 4 s, and a 60 s deadline.
DEFAULT_RETRY = RetryPolicy(
    attempts=4, backoff_base=0.2, backoff_max=4.0, jitter=True, timeout=60.0
)

#: 5xx statuses that say "this request will never work", not "try again".
_PERMANENT_5XX = frozenset({501, 505})
#: A Copy Blob whose *source* read failed transiently says so in this header.
_COPY_SOURCE_TRANSIENT = frozenset({"OperationTimedOut", "InternalError", "ServerBusy"})


_SDK_RETRY_OPTIONS = (
    "retry_total",
    "retry_connect",
    "retry_read",
    "retry_status",
    "retry_to_secondary",
    "hosts",
    "retry_hook",
)


class DeadlineExceeded(ServiceRequestError):
    """The call's deadline passed before a request (or a retry) could be sent."""


@dataclass
class Call:
    """One public call: its deadline, and what the retries did during it."""

    policy: RetryPolicy
    started: float
    deadline: float | None
    clock: Callable[[], float] = time.monotonic
    requests: int = 0
    retries: int = 0
    #: Retries of a request that may already have taken effect (its answer was lost, or
    #: was an error status that a proxy or the service may send after acting).
    uncertain: int = 0
    #: ``(attempts, elapsed, reason)`` of the request that exhausted the policy, if any.
    gave_up: tuple[int, float, str] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - self.clock()

    def elapsed(self) -> float:
        return self.clock() - self.started

    def renew(self) -> None:
        """Data moved (a block staged, a range received): the deadline starts again."""
        if self.policy.timeout is not None:
            with self._lock:
                self.deadline = self.clock() + self.policy.timeout

    def sent(self, *, retry: bool) -> None:
        with self._lock:
            if retry:
                self.retries += 1
            else:
                self.requests += 1

    def may_have_landed(self) -> None:
        with self._lock:
            self.uncertain += 1

    def give_up(self, attempts: int, reason: str) -> None:
        with self._lock:
            self.gave_up = (attempts, self.elapsed(), reason)

    def describe(self) -> str:
        """How the call ended, for a `BackendUnavailable` message."""
        gave_up = self.gave_up
        if gave_up is not None:
            attempts, elapsed, reason = gave_up
            tried = f"{attempts} attempt{'s' if attempts != 1 else ''} over {elapsed:.1f} s"
            if reason == "deadline":
                return f"deadline of {self.policy.timeout:g} s reached after {tried}"
            return f"gave up after {tried} (retry.attempts={self.policy.attempts})"
        sent = self.requests + self.retries
        return f"after {sent} request{'s' if sent != 1 else ''} over {self.elapsed():.1f} s"


_current: ContextVar[Call | None] = ContextVar("remote_store_azure_call", default=None)


def current() -> Call | None:
    """The call in progress in this context, if any."""
    return _current.get()


def maybe_landed() -> bool:
    """Whether a request of the current call was retried after it may have taken effect:
    then a conflict may be with our own first attempt."""
    call = _current.get()
    return call is not None and call.uncertain > 0


@contextmanager
def call_scope(
    policy: RetryPolicy | None, clock: Callable[[], float] = time.monotonic
) -> Iterator[Call | None]:
    """Open a call bounded by *policy*'s timeout, or join the one already open."""
    outer = _current.get()
    if outer is not None or policy is None:
        yield outer
        return
    now = clock()
    deadline = None if policy.timeout is None else now + policy.timeout
    call = Call(policy, now, deadline, clock)
    token = _current.set(call)
    try:
        yield call
    finally:
        _current.reset(token)


def policy_of(client: Any) -> RetryPolicy | None:
    """The `RetryPolicy` behind an SDK client built by this backend, if any."""
    retry = getattr(getattr(client, "_config", None), "retry_policy", None)
    return retry.policy if isinstance(retry, ServiceRetry) else None


def is_transient(error: BaseException) -> bool:
    """A transport failure worth another attempt: nothing, or no full answer, came back."""
    return isinstance(error, ServiceRequestError | ServiceResponseError) and not isinstance(
        error, DeadlineExceeded
    )


def retry_after(headers: Any) -> float | None:
    """Seconds the service asked us to wait (``retry-after-ms``, ``x-ms-retry-after-ms``,
    ``Retry-After`` in seconds or as an HTTP date), or ``None``."""
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


class ServiceRetry(HTTPPolicy[Any, Any]):
    """The SDK pipeline's retry policy, shaped by a `RetryPolicy` and bounded by the call."""

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__()
        self.policy = policy
        self._sleep = sleep
        self._rng = rng

    def send(self, request: PipelineRequest[Any]) -> PipelineResponse[Any, Any]:
        with call_scope(self.policy) as call:
            assert call is not None
            return self._send(request, call)

    def _send(self, request: PipelineRequest[Any], call: Call) -> PipelineResponse[Any, Any]:
        body = request.http_request.body
        position = _position(body)
        delays = self.policy.delays(self._rng)
        options = request.context.options
        # What the storage SDK's own retry policy would consume; the transport refuses it.
        for name in _SDK_RETRY_OPTIONS:
            options.pop(name, None)
        mode = options.pop("location_mode", "primary")
        configured = _configured_timeouts(request)
        attempt = 0
        while True:
            attempt += 1
            call.sent(retry=attempt > 1)
            remaining = call.remaining()
            if remaining is not None:
                if remaining <= 0:
                    call.give_up(attempt - 1, "deadline")
                    raise DeadlineExceeded(
                        f"the call's deadline of {self.policy.timeout:g} s has passed"
                    )
                options["connection_timeout"] = min(configured[0], remaining)
                options["read_timeout"] = min(configured[1], remaining)
            error: AzureError | None = None
            response: PipelineResponse[Any, Any] | None = None
            try:
                response = self.next.send(request)
            except AzureError as caught:
                if not is_transient(caught):
                    raise
                error = caught
            if response is not None:
                http = response.http_response
                http.location_mode = mode  # the storage SDK reads it back (always primary)
                if not is_retryable_response(http):
                    if _made_progress(request, http):
                        call.renew()
                    return response
            exhausted = attempt >= self.policy.attempts or not _rewind(body, position)
            delay = 0.0 if exhausted else next(delays)
            if response is not None:
                asked = retry_after(response.http_response.headers)
                if asked is not None:
                    delay = max(delay, min(asked, self.policy.backoff_max))
            remaining = call.remaining()
            if not exhausted and remaining is not None and delay >= remaining:
                call.give_up(attempt, "deadline")
                exhausted = True
            elif exhausted:
                call.give_up(attempt, "attempts")
            if exhausted:
                if error is not None:
                    raise error
                assert response is not None
                return response
            # A lost answer, or an error status (a gateway may send one after the service
            # acted): the request may have landed, and its retry may meet its own effect.
            if error is None or isinstance(error, ServiceResponseError):
                call.may_have_landed()
            if delay > 0:
                self._sleep(delay)


def retryable_status(status: int | None) -> bool:
    """408, 429 and 5xx but 501/505: errors.py maps exactly these to retryable errors."""
    if status is None:
        return False
    return status in (408, 429) or (status >= 500 and status not in _PERMANENT_5XX)


def is_retryable_response(http: Any) -> bool:
    status = int(http.status_code)
    if retryable_status(status):
        return True
    return 400 <= status < 500 and (
        http.headers.get("x-ms-copy-source-error-code") in _COPY_SOURCE_TRANSIENT
    )


def _made_progress(request: PipelineRequest[Any], http: Any) -> bool:
    """A staged block that landed or a range that arrived: the transfer is moving."""
    if not 200 <= int(http.status_code) < 300:
        return False
    if int(http.status_code) == 206:
        return True
    return request.http_request.method == "PUT" and "comp=block&" in (
        request.http_request.url.split("?", 1)[-1] + "&"
    )


def _configured_timeouts(request: PipelineRequest[Any]) -> tuple[float, float]:
    options = request.context.options
    config = getattr(request.context.transport, "connection_config", None)
    connect = options.get("connection_timeout", getattr(config, "timeout", None))
    read = options.get("read_timeout", getattr(config, "read_timeout", None))
    return _seconds(connect), _seconds(read)


def _seconds(value: object) -> float:
    return float(value) if isinstance(value, int | float) else float("inf")


def _position(body: Any) -> int | None:
    if body is None or not hasattr(body, "read"):
        return None
    try:
        return int(body.tell())
    except (AttributeError, OSError, ValueError):
        return None


def _rewind(body: Any, position: int | None) -> bool:
    """Put a stream body back where the first attempt started; False if it cannot be."""
    if body is None or not hasattr(body, "read"):
        return True
    if position is None:
        return False
    try:
        body.seek(position)
    except (AttributeError, OSError, ValueError):
        return False
    return True
