"""Retries and deadlines for the Azure SDK clients: Azure's adapter over
`remote_store.transfer.retrying` and `remote_store.transfer.deadline`.

`ServiceRetry` replaces the storage SDK's retry policy in every client the backend builds.
It runs each request through `call_with_retries`: it retries exactly what
`remote_store.backends.azure.errors` maps to a retryable error (transport failures, 408,
429, 5xx but 501 and 505, and a copy whose source read failed transiently), sleeps a
`RetryPolicy` backoff (or the service's ``Retry-After``, capped at ``backoff_max``), and
never lets a request or a sleep run past the deadline of the call it belongs to. What is
Azure's here: which errors and answers are transient, cutting the SDK transport's timeouts
to the time left, rewinding a stream body, and which answers count as progress.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from azure.core.exceptions import ServiceRequestError, ServiceResponseError
from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import HTTPPolicy

from remote_store.config import RetryPolicy
from remote_store.streams import rewinder
from remote_store.transfer import deadline
from remote_store.transfer.deadline import Call, call_scope, current, maybe_landed
from remote_store.transfer.retrying import (
    Retry,
    call_with_retries,
    retry_after,
    retryable_status,
)

__all__ = [
    "DEFAULT_RETRY",
    "Call",
    "DeadlineExceeded",
    "ServiceRetry",
    "call_scope",
    "current",
    "is_retryable_response",
    "is_transient",
    "maybe_landed",
    "policy_of",
    "retry_after",
    "retryable_status",
]

#: The Azure backend's policy when none is configured: 4 attempts, first backoff at most
#: 0.2 s (the SDK's own default starts at 15 s), doubling to 4 s, and a 60 s deadline.
DEFAULT_RETRY = RetryPolicy(
    attempts=4, backoff_base=0.2, backoff_max=4.0, jitter=True, timeout=60.0
)

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


class DeadlineExceeded(ServiceRequestError, deadline.DeadlineExceeded):
    """The call's deadline passed before a request (or a retry) could be sent."""


def policy_of(client: Any) -> RetryPolicy | None:
    """The `RetryPolicy` behind an SDK client built by this backend, if any."""
    retry = getattr(getattr(client, "_config", None), "retry_policy", None)
    return retry.policy if isinstance(retry, ServiceRetry) else None


def is_transient(error: BaseException) -> bool:
    """A transport failure worth another attempt: nothing, or no full answer, came back."""
    return isinstance(error, ServiceRequestError | ServiceResponseError) and not isinstance(
        error, DeadlineExceeded
    )


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
        body = request.http_request.body
        rewind = rewinder(body)
        options = request.context.options
        # What the storage SDK's own retry policy would consume; the transport refuses it.
        for name in _SDK_RETRY_OPTIONS:
            options.pop(name, None)
        mode = options.pop("location_mode", "primary")
        configured = _configured_timeouts(request)

        def attempt(remaining: float | None) -> PipelineResponse[Any, Any]:
            if remaining is not None:
                options["connection_timeout"] = min(configured[0], remaining)
                options["read_timeout"] = min(configured[1], remaining)
            response = self.next.send(request)
            response.http_response.location_mode = mode  # the storage SDK reads it back
            return response

        with call_scope(self.policy) as call:
            assert call is not None
            call.reached_for(request.http_request.url)
            try:
                response = call_with_retries(
                    attempt,
                    policy=self.policy,
                    classify=_classify,
                    rewind=rewind,
                    sleep=self._sleep,
                    rng=self._rng,
                )
            except deadline.DeadlineExceeded as passed:
                if isinstance(passed, DeadlineExceeded):
                    raise
                raise DeadlineExceeded(str(passed)) from None
            if _made_progress(request, response.http_response):
                call.renew()
            return response


def _classify(outcome: PipelineResponse[Any, Any] | Exception) -> Retry | None:
    if isinstance(outcome, Exception):
        if not is_transient(outcome):
            return None
        # A lost answer: the request may have landed, and its retry may meet its effect.
        return Retry(landed=isinstance(outcome, ServiceResponseError))
    http = outcome.http_response
    if not is_retryable_response(http):
        return None
    # An error status (a gateway may send one after the service acted): as a lost answer.
    return Retry(landed=True, after=retry_after(http.headers))


def is_retryable_response(http: Any) -> bool:
    """An answer worth another attempt: a retryable status, or a copy whose source read
    failed transiently."""
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
