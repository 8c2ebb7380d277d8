"""Retries and deadlines for botocore: S3's adapter over `remote_store.transfer.retrying`.

botocore's own retries are turned off in every client the backend builds; each request
goes through `call_with_retries` instead, so every request of a public call shares one
deadline, a retried request that may have landed is recorded (REL-007), and the backoff is
the configured `RetryPolicy`. What is S3's here: which answers are transient (transport
failures, 408, 429, 5xx but 501/505, ``SlowDown``, ``RequestTimeout``, and AWS's 409
``ConditionalRequestConflict``), and which of them may have taken effect.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError

from remote_store.backends.s3.errors import CONFLICT, error_code, is_transient, translate
from remote_store.config import RetryPolicy
from remote_store.transfer.retrying import Retry, call_with_retries, retry_after

#: The S3 backend's policy when none is configured (as Azure's: 4 attempts, 0.2 s first
#: backoff doubling to 4 s, a 60 s deadline per call).
DEFAULT_RETRY = RetryPolicy(
    attempts=4, backoff_base=0.2, backoff_max=4.0, jitter=True, timeout=60.0
)

#: No request left the process: a retry cannot meet its own first attempt.
_NOT_SENT = (EndpointConnectionError, ConnectTimeoutError)


def classify(outcome: object) -> Retry | None:
    """The retry verdict on one botocore outcome (an answer, or the exception raised)."""
    if not isinstance(outcome, Exception) or not is_transient(outcome):
        return None
    if isinstance(outcome, _NOT_SENT) or error_code(outcome) == CONFLICT:
        return Retry(landed=False)
    after = None
    if isinstance(outcome, ClientError):
        headers = outcome.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        after = retry_after(_Folded(headers))
    # A lost answer, or an error status a gateway may send after S3 acted.
    return Retry(landed=True, after=after)


class _Folded(dict[str, str]):
    """botocore's header dict, looked up case-insensitively (its keys are lower-case)."""

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__({k.lower(): v for k, v in headers.items()})

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


class Requests:
    """Sends one S3 request through the retry loop and translates its errors.

    ``requests("put_object", "write", key, Bucket=..., ...)``: the client method, the
    operation and path named in an error, and the method's parameters."""

    def __init__(
        self,
        client: Any,
        policy: RetryPolicy,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.policy = policy
        self._sleep = sleep
        self._rng = rng

    def raw(self, method: str, **params: Any) -> Any:
        """The call with retries, its botocore errors untranslated (the caller decides)."""
        send = getattr(self.client, method)
        return call_with_retries(
            lambda remaining: send(**params),
            policy=self.policy,
            classify=classify,
            sleep=self._sleep,
            rng=self._rng,
        )

    def __call__(
        self, method: str, op: str, path: str | None, *, create_only: bool = False, **params: Any
    ) -> Any:
        with translate(op, path, create_only=create_only):
            return self.raw(method, **params)
