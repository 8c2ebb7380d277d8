"""The deadline of one public call, shared by every request the call makes.

A *call* is one public operation: `call_scope` opens it (a backend's facade does, for each
method) and stores it in a context variable, so every request the operation makes, and a
backend's own re-requests (a cut download body, a retried part), share one deadline. A
request made outside any call (a lazy listing page, a write on an ``open_atomic`` stream)
gets a call of its own. Threads that work for a call (read-ahead, part uploads) run in a
copy of the caller's context, so they see the same `Call` object.

There is one context variable for the whole library: a service SDK's retry hook and any
backend's own retry loop find the same call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from remote_store.config import RetryPolicy


class DeadlineExceeded(Exception):
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
    #: ``scheme://host:port`` of the service the last request went to (never a path or a
    #: query, which may hold a signature), so that "did not answer" can name it.
    endpoint: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def remaining(self) -> float | None:
        """Seconds left before the deadline (negative once past), ``None`` if unbounded."""
        return None if self.deadline is None else self.deadline - self.clock()

    def elapsed(self) -> float:
        """Seconds since the call started."""
        return self.clock() - self.started

    def renew(self) -> None:
        """Data moved (a part staged, a range received): the deadline starts again."""
        if self.policy.timeout is not None:
            with self._lock:
                self.deadline = self.clock() + self.policy.timeout

    def reached_for(self, url: str) -> None:
        """Note the service *url* belongs to (only its scheme, host and port are kept)."""
        parts = urlsplit(url)
        if parts.scheme and parts.hostname:
            port = f":{parts.port}" if parts.port else ""
            host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
            self.endpoint = f"{parts.scheme}://{host}{port}"

    def sent(self, *, retry: bool) -> None:
        """Count one request (*retry*: a re-send of a request already counted)."""
        with self._lock:
            if retry:
                self.retries += 1
            else:
                self.requests += 1

    def may_have_landed(self) -> None:
        """A request is about to be re-sent though its first attempt may have taken effect."""
        with self._lock:
            self.uncertain += 1

    def give_up(self, attempts: int, reason: str) -> None:
        """Record why a request stopped being retried: ``"deadline"`` or ``"attempts"``."""
        with self._lock:
            self.gave_up = (attempts, self.elapsed(), reason)

    def describe(self) -> str:
        """How the call ended, for a `BackendUnavailable` message."""
        where = f" (endpoint {self.endpoint})" if self.endpoint else ""
        return self._how_it_ended() + where

    def _how_it_ended(self) -> str:
        gave_up = self.gave_up
        if gave_up is not None:
            attempts, elapsed, reason = gave_up
            tried = f"{attempts} attempt{'s' if attempts != 1 else ''} over {elapsed:.1f} s"
            if reason == "deadline":
                return f"deadline of {self.policy.timeout:g} s reached after {tried}"
            return f"gave up after {tried} (retry.attempts={self.policy.attempts})"
        sent = self.requests + self.retries
        return f"after {sent} request{'s' if sent != 1 else ''} over {self.elapsed():.1f} s"


_current: ContextVar[Call | None] = ContextVar("remote_store_call", default=None)


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
    """Open a call bounded by *policy*'s timeout, or join the one already open (then
    *policy* and *clock* are ignored). Without a policy and outside a call: ``None``."""
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
